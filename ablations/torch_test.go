package ablations

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/internal/ortest"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// python is the interpreter the reference generator needs (Debian's, with python3-torch).
const python = "/usr/bin/python3"

// requireTorchEnv makes a missing PyTorch a failure (make test installs it) instead of a skip.
const requireTorchEnv = "CHARISBENCH_REQUIRE_TORCH"

func needTorch(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import torch, numpy, PIL").CombinedOutput(); err != nil {
		if os.Getenv(requireTorchEnv) != "" {
			t.Fatalf("%s cannot import torch, numpy and PIL (%v: %s); %s is set, so they are required", python, err, out, requireTorchEnv)
		}
		t.Skipf("PyTorch not installed for %s (make test installs python3-torch): %v", python, err)
	}
}

// TestTorchGeneratorTiny runs the reference PyTorch generator (examples/torch-generator)
// through the whole grid at a tiny size: train, generate two seeds per prompt, score,
// report, and the paper's tables.
func TestTorchGeneratorTiny(t *testing.T) {
	needTorch(t)
	rt := ortest.Runtime(t, encoder.Options{})
	gen, err := filepath.Abs("../examples/torch-generator/generator.py")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	text := fmt.Sprintf(`version: 1
name: torch-tiny
out: %s
benchmark:
  world: {subjects: 2, prompts_per_subject: 2, seed: 3, size: 32}
models: world
generators:
  - name: torch
    type: exec
    protocol: 2
    command: [%s, %s, --base-cache, %s]
    samples_per_prompt: 2
    settings: {steps: 3, batch: 4, base_steps: 4, sample_steps: 2, rank: 2, alpha: 2,
               image_size: 16, patch: 4, width: 16, depth: 1, heads: 2}
grid:
  generator: torch
  axes:
    loss: [masked, full]
    lora_layers: [attn+ffn]
`, out, python, gen, filepath.Join(out, "base-cache"))
	f, err := Load(write(t, text))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), f, Options{Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Variants) != 2 {
		t.Fatalf("variants done: %v", res.Variants)
	}
	masking := readString(t, filepath.Join(out, "report", "paper_masking.md"))
	for _, v := range []string{"lora_layers=attn+ffn,loss=masked", "lora_layers=attn+ffn,loss=full"} {
		if !strings.Contains(masking, v) {
			t.Errorf("the masking table does not name %s:\n%s", v, masking)
		}
		samples := readString(t, filepath.Join(out, "variants", v, "run", "samples.jsonl"))
		if n := strings.Count(samples, `"status":"ok"`); n != 8 {
			t.Errorf("%s: %d samples scored, want 4 prompts x 2 seeds", v, n)
		}
	}
	bases, _ := filepath.Glob(filepath.Join(out, "base-cache", "base-*.pt"))
	if len(bases) != 1 {
		t.Errorf("base models %v: want one, shared by both variants", bases)
	}
}
