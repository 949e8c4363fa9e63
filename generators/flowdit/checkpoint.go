package flowdit

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/tensors"
	"github.com/gomlx/gomlx/pkg/ml/context"

	"github.com/charisbench/charisbench/charis/readfile"
)

// A checkpoint is a folder (docs/flowdit.md):
//
//	checkpoint.json  format, Config, LoRA (absent for a base model), training record, and
//	                 the sha256 of each weights file
//	base.bin         the base model's weights
//	lora.bin         the LoRA adapters' weights (fine-tuned checkpoints only)
//
// A weights file is one JSON header line {"variables": [{"name": "/scope/name", "dims":
// [..]}, ...]} followed by each variable's float32 values, little-endian, in header order.
// Optimiser state is not saved: training resumed from a checkpoint starts a fresh Adam.
const (
	checkpointFile = "checkpoint.json"
	baseFile       = "base.bin"
	loraFile       = "lora.bin"
	formatVersion  = "flowdit-checkpoint-v1"
)

// CheckpointInfo is checkpoint.json.
type CheckpointInfo struct {
	Format   string            `json:"format"`
	Config   Config            `json:"config"`
	LoRA     *LoRA             `json:"lora,omitempty"`
	Training map[string]any    `json:"training,omitempty"` // steps, loss mode, seed, final loss...
	SHA256   map[string]string `json:"sha256"`
}

type varHeader struct {
	Name string `json:"name"`
	Dims []int  `json:"dims"`
}

// isWeight tells model weights (float32) from optimiser state, counters and RNG state.
// FinetuneFiles are the files a fine-tuned checkpoint folder holds.
var FinetuneFiles = []string{checkpointFile, baseFile, loraFile}

func isWeight(v *context.Variable) bool {
	s := v.ScopeAndName()
	return v.Shape().DType == x32 && !strings.HasPrefix(s, "/AdamOptimizer") && !strings.HasPrefix(s, "/optimizers") &&
		v.Name() != "global_step"
}

// Save writes the checkpoint into dir: the base weights, and the adapters when LoRA is on.
// training is stored as given.
func (m *Model) Save(dir string, training map[string]any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	info := CheckpointInfo{Format: formatVersion, Config: m.Config, LoRA: m.LoRA, Training: training, SHA256: map[string]string{}}
	files := map[string]func(string) bool{baseFile: func(n string) bool { return !isLoRA(n) }}
	if m.LoRA != nil {
		files[loraFile] = isLoRA
	}
	for file, keep := range files {
		sum, err := m.writeWeights(filepath.Join(dir, file), keep)
		if err != nil {
			return err
		}
		info.SHA256[file] = sum
	}
	data, err := json.MarshalIndent(info, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, checkpointFile), append(data, '\n'), 0o644)
}

func (m *Model) writeWeights(path string, keep func(string) bool) (string, error) {
	var vars []*context.Variable
	for v := range m.ctx.IterVariables() {
		if isWeight(v) && keep(v.ScopeAndName()) {
			vars = append(vars, v)
		}
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].ScopeAndName() < vars[j].ScopeAndName() })
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	w := bufio.NewWriter(f)
	out := &teeWriter{w: w, h: h}
	var head struct {
		Variables []varHeader `json:"variables"`
	}
	values := make([][]float32, len(vars))
	for i, v := range vars {
		t, err := v.Value()
		if err != nil {
			f.Close()
			return "", err
		}
		if values[i], err = tensors.CopyFlatData[float32](t); err != nil {
			f.Close()
			return "", fmt.Errorf("variable %s: %w", v.ScopeAndName(), err)
		}
		head.Variables = append(head.Variables, varHeader{Name: v.ScopeAndName(), Dims: v.Shape().Dimensions})
	}
	line, _ := json.Marshal(head)
	out.Write(append(line, '\n'))
	buf := make([]byte, 4)
	for _, vals := range values {
		for _, x := range vals {
			binary.LittleEndian.PutUint32(buf, math.Float32bits(x))
			out.Write(buf)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type teeWriter struct {
	w *bufio.Writer
	h interface{ Write([]byte) (int, error) }
}

func (t *teeWriter) Write(p []byte) (int, error) {
	t.h.Write(p)
	return t.w.Write(p)
}

// Load reads a checkpoint folder into a new model on backend: its config, base weights,
// and adapters (LoRA enabled, base frozen) when it has them. Files are checked against
// their recorded sha256.
func Load(dir string, backend backends.Backend) (*Model, *CheckpointInfo, error) {
	data, err := readfile.Read("flowdit checkpoint", filepath.Join(dir, checkpointFile), readfile.MaxStateBytes)
	if err != nil {
		return nil, nil, err
	}
	var info CheckpointInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, nil, fmt.Errorf("flowdit checkpoint %s: %w", filepath.Join(dir, checkpointFile), err)
	}
	if info.Format != formatVersion {
		return nil, nil, fmt.Errorf("flowdit checkpoint %s: format %q, want %q", dir, info.Format, formatVersion)
	}
	m, err := New(info.Config, backend, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := m.readWeights(filepath.Join(dir, baseFile), info.SHA256[baseFile]); err != nil {
		return nil, nil, err
	}
	if info.LoRA != nil {
		if err := m.EnableLoRA(*info.LoRA); err != nil {
			return nil, nil, err
		}
		if err := m.readWeights(filepath.Join(dir, loraFile), info.SHA256[loraFile]); err != nil {
			return nil, nil, err
		}
	}
	return m, &info, nil
}

// LoadLoRA adds the adapters of a fine-tuned checkpoint to a model holding its base.
func (m *Model) LoadLoRA(dir string) error {
	data, err := readfile.Read("flowdit checkpoint", filepath.Join(dir, checkpointFile), readfile.MaxStateBytes)
	if err != nil {
		return err
	}
	var info CheckpointInfo
	if err := json.Unmarshal(data, &info); err != nil || info.LoRA == nil {
		return fmt.Errorf("flowdit checkpoint %s: no LoRA adapters (%v)", dir, err)
	}
	if err := m.EnableLoRA(*info.LoRA); err != nil {
		return err
	}
	return m.readWeights(filepath.Join(dir, loraFile), info.SHA256[loraFile])
}

// maxWeightBytes bounds a checkpoint's weight file (base.bin, lora.bin): far past the
// Small config's ~25 MB.
const maxWeightBytes = 4 << 30

func (m *Model) readWeights(path, wantSHA string) error {
	data, err := readfile.Read("flowdit weights", path, maxWeightBytes)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != wantSHA {
		return fmt.Errorf("flowdit checkpoint %s: sha256 %s, checkpoint.json says %s", path, got, wantSHA)
	}
	nl := strings.IndexByte(string(data[:min(len(data), 1<<24)]), '\n')
	if nl < 0 {
		return fmt.Errorf("flowdit checkpoint %s: no header line", path)
	}
	var head struct {
		Variables []varHeader `json:"variables"`
	}
	if err := json.Unmarshal(data[:nl], &head); err != nil {
		return fmt.Errorf("flowdit checkpoint %s: header: %w", path, err)
	}
	body := data[nl+1:]
	for _, v := range head.Variables {
		n := 1
		for _, d := range v.Dims {
			n *= d
		}
		if len(body) < 4*n {
			return fmt.Errorf("flowdit checkpoint %s: truncated at %s", path, v.Name)
		}
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
		}
		body = body[4*n:]
		scope, name := context.SplitScope(v.Name)
		err := catch(func() {
			m.ctx.InAbsPath(scope).Checked(false).VariableWithValue(name, tensors.FromFlatDataAndDimensions(vals, v.Dims...))
		})
		if err != nil {
			return fmt.Errorf("flowdit checkpoint %s: %s: %w", path, v.Name, err)
		}
	}
	if len(body) != 0 {
		return fmt.Errorf("flowdit checkpoint %s: %d bytes after the last variable", path, len(body))
	}
	return nil
}
