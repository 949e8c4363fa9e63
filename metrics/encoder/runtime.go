// Package encoder runs the ONNX encoders of a model manifest, through ONNX Runtime
// (onnxruntime_go) or through GoMLX (the same ONNX files converted by onnx-gomlx, on the
// pure-Go backend or XLA with a PJRT CUDA plugin). It is the only charisbench package that
// imports onnxruntime_go or onnx-gomlx.
//
// A Runtime owns the engine (the process-wide ONNX Runtime environment, or a GoMLX
// backend) and the execution device; a Session wraps one encoder, created once and reused
// for every batch. Sessions read
// input and output names and shapes from the model and check them against the manifest's
// role before anything runs. Image encoders take decoded images and preprocess them
// exactly as the manifest says (package preprocess); text encoders take prompts and
// tokenize them with CLIP's tokenizer.
package encoder

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/gomlx/gomlx/backends"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/charisbench/charisbench/internal/gomlxbackend"
)

// LibraryEnv names the environment variable that points at a libonnxruntime build, for
// example one with the CUDA execution provider.
const LibraryEnv = "CHARISBENCH_ORT_LIB"

// libName is the file scripts/fetch-ort.sh installs under .deps/onnxruntime.
const libName = "libonnxruntime.so.1"

// Device is where encoders run.
type Device string

// Devices. Auto uses CUDA when the library and machine provide it, else the CPU, and
// says which it chose.
const (
	CPU  Device = "cpu"
	CUDA Device = "cuda"
	Auto Device = "auto"
)

// Engine is what runs the encoders' graphs.
type Engine string

// Engines: ONNX Runtime (the default), or GoMLX running the same files through onnx-gomlx.
const (
	ONNXRuntime Engine = "onnxruntime"
	GoMLX       Engine = "gomlx"
)

// How many images or prompts go through an encoder at once by default, per device. On the
// CPU a batch of 8 ran the real-shaped DINOv2-S/14 and CLIP-B/32 encoders 3-13% faster than
// 16 in every sweep, 1 and 2 slower (docs/models.md, make bench-score).
const (
	CPUBatchSize  = 8
	CUDABatchSize = 16
)

// Options configure a Runtime. The zero value runs on the CPU with one intra-op thread per
// core and CPUBatchSize.
type Options struct {
	Engine    Engine       // onnxruntime (default) or gomlx
	Library   string       // libonnxruntime path; empty: FindLibrary
	Device    Device       // cpu (default), cuda or auto
	GPU       int          // CUDA device id
	Threads   int          // intra-op threads per session; 0: one per core, GOMAXPROCS (ONNX Runtime only)
	BatchSize int          // 0: CPUBatchSize or CUDABatchSize, by the device it runs on
	Logger    *slog.Logger // nil: slog.Default()
}

// Runtime is an initialised engine on one device.
type Runtime struct {
	opt     Options
	device  Device           // CPU or CUDA, never Auto
	library string           // ONNX Runtime
	backend backends.Backend // GoMLX
}

// The ONNX Runtime environment is global to the process: one library, shared by every
// Runtime, destroyed when the last is closed.
var env struct {
	sync.Mutex
	library string
	users   int
}

// Open loads the engine and settles the device. Asking for CUDA where it is missing is
// an error naming what is missing; Auto falls back to the CPU and logs why.
func Open(opt Options) (*Runtime, error) {
	if opt.Engine == "" {
		opt.Engine = ONNXRuntime
	}
	if opt.Device == "" {
		opt.Device = CPU
	}
	if opt.Device != CPU && opt.Device != CUDA && opt.Device != Auto {
		return nil, fmt.Errorf("unknown device %q (want cpu, cuda or auto)", opt.Device)
	}
	if opt.BatchSize < 0 {
		return nil, fmt.Errorf("batch size must be 0 (the device's default) or more, got %d", opt.BatchSize)
	}
	if opt.Threads < 0 {
		return nil, fmt.Errorf("threads must be 0 (one per core) or more, got %d", opt.Threads)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	switch opt.Engine {
	case GoMLX:
		return openGoMLX(opt)
	case ONNXRuntime:
	default:
		return nil, fmt.Errorf("unknown runtime %q (want onnxruntime or gomlx)", opt.Engine)
	}
	lib := opt.Library
	if lib == "" {
		var err error
		if lib, err = FindLibrary(); err != nil {
			return nil, err
		}
	}
	if err := acquireEnv(lib); err != nil {
		return nil, err
	}
	rt := &Runtime{opt: opt, device: CPU, library: lib}
	if opt.Device != CPU {
		err := rt.probeCUDA()
		switch {
		case err == nil:
			rt.device = CUDA
		case opt.Device == CUDA:
			rt.Close()
			return nil, err
		default:
			opt.Logger.Warn("device auto: CUDA unavailable, running encoders on the CPU", "reason", err)
		}
	}
	rt.settle()
	return rt, nil
}

// settle fills the options left to the device: the batch size, and for ONNX Runtime one
// intra-op thread per core Go may use (GOMAXPROCS, which follows a container's CPU quota).
// ONNX Runtime's own default counts the machine's physical cores, quota or not, and
// affinitizes its threads; set explicitly, they float and share the cores with the CPU
// stage (decoding, resizing) that scoring runs beside them. On a machine with two hardware
// threads a core, --threads at the physical core count may be faster (not measured here).
func (rt *Runtime) settle() {
	if rt.opt.BatchSize == 0 {
		rt.opt.BatchSize = CPUBatchSize
		if rt.device == CUDA {
			rt.opt.BatchSize = CUDABatchSize
		}
	}
	if rt.opt.Threads == 0 && rt.backend == nil {
		rt.opt.Threads = runtime.GOMAXPROCS(0)
	}
}

func acquireEnv(lib string) error {
	env.Lock()
	defer env.Unlock()
	if env.users > 0 {
		if env.library != lib {
			return fmt.Errorf("ONNX Runtime is already loaded from %s; one process can load one library (asked for %s)", env.library, lib)
		}
		env.users++
		return nil
	}
	if _, err := os.Stat(lib); err != nil {
		return fmt.Errorf("ONNX Runtime library: %w (set %s or run `make ort`)", err, LibraryEnv)
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("loading ONNX Runtime from %s: %w", lib, err)
	}
	env.library, env.users = lib, 1
	return nil
}

// openGoMLX opens GoMLX's backend for the device: the pure-Go one, or XLA with a PJRT CUDA
// plugin (a missing plugin is an error naming PJRT_PLUGIN_LIBRARY_PATH; Auto falls back to
// the CPU and logs why).
func openGoMLX(opt Options) (*Runtime, error) {
	if opt.Threads > 0 || opt.Library != "" {
		return nil, errors.New("--threads and --ort-lib set up ONNX Runtime; the gomlx runtime uses every core (GOMAXPROCS) and no library")
	}
	if opt.GPU != 0 {
		return nil, fmt.Errorf("--gpu %d: the gomlx runtime uses the PJRT plugin's first GPU (set CUDA_VISIBLE_DEVICES to choose)", opt.GPU)
	}
	rt := &Runtime{opt: opt, device: CPU}
	if opt.Device != CPU {
		b, err := gomlxbackend.New(gomlxbackend.CUDA)
		switch {
		case err == nil:
			rt.device, rt.backend = CUDA, b
			rt.settle()
			return rt, nil
		case opt.Device == CUDA:
			return nil, fmt.Errorf("encoders: %w", err)
		}
		opt.Logger.Warn("device auto: CUDA unavailable, running encoders on the CPU", "reason", err)
	}
	b, err := gomlxbackend.New(gomlxbackend.CPU)
	if err != nil {
		return nil, err
	}
	rt.backend = b
	rt.settle()
	return rt, nil
}

// Close releases the runtime; ONNX Runtime's environment goes when its last user closes.
func (rt *Runtime) Close() error {
	if rt.backend != nil { // GoMLX's backends live as long as the process (see gomlxbackend.New)
		return nil
	}
	env.Lock()
	defer env.Unlock()
	env.users--
	if env.users > 0 {
		return nil
	}
	return ort.DestroyEnvironment()
}

// Device is where this runtime's sessions run: CPU or CUDA.
func (rt *Runtime) Device() Device { return rt.device }

// Engine is what runs this runtime's sessions.
func (rt *Runtime) Engine() Engine { return rt.opt.Engine }

// Library is the libonnxruntime in use (empty on GoMLX).
func (rt *Runtime) Library() string { return rt.library }

// Describe names the engine, its version and the device, for logs and run summaries:
// "onnxruntime 1.23.2 on cpu", "gomlx v0.26.0 (onnx-gomlx v0.3.4, xla) on cuda".
func (rt *Runtime) Describe() string {
	if rt.backend != nil {
		return fmt.Sprintf("gomlx %s (onnx-gomlx %s, %s) on %s", moduleVersion("github.com/gomlx/gomlx"),
			moduleVersion("github.com/gomlx/onnx-gomlx"), rt.backend.Name(), rt.device)
	}
	return fmt.Sprintf("onnxruntime %s on %s", ort.GetVersion(), rt.device)
}

// CacheTag is what cached embeddings of this runtime are keyed by besides the model:
// empty for ONNX Runtime (on either device; keys from before the GoMLX runtime stay
// valid), "gomlx-cpu" or "gomlx-cuda" otherwise, so that outputs of different engines
// never mix in a cache.
func (rt *Runtime) CacheTag() string {
	if rt.backend != nil {
		return "gomlx-" + string(rt.device)
	}
	return ""
}

// CacheKey is what outputs of the model with this sha256 are cached under on this runtime.
func (rt *Runtime) CacheKey(sha256 string) string {
	if t := rt.CacheTag(); t != "" {
		return sha256 + "@" + t
	}
	return sha256
}

// moduleVersion is the version of a dependency built into this binary.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}

// probeCUDA checks that the CUDA execution provider can be attached.
func (rt *Runtime) probeCUDA() error {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer so.Destroy()
	return rt.appendCUDA(so)
}

func (rt *Runtime) appendCUDA(so *ort.SessionOptions) error {
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return cudaError(rt.library, err)
	}
	defer cuda.Destroy()
	if err := cuda.Update(map[string]string{"device_id": fmt.Sprint(rt.opt.GPU)}); err != nil {
		return cudaError(rt.library, err)
	}
	if err := so.AppendExecutionProviderCUDA(cuda); err != nil {
		return cudaError(rt.library, err)
	}
	return nil
}

func cudaError(lib string, err error) error {
	return fmt.Errorf("CUDA requested but ONNX Runtime's CUDA execution provider is unavailable (%v); "+
		"the library in use, %s, needs libonnxruntime_providers_shared.so and libonnxruntime_providers_cuda.so beside it, a CUDA 12 runtime "+
		"with cuDNN 9, and a visible GPU: point %s at a GPU build of ONNX Runtime, or use --device cpu",
		strings.TrimSpace(err.Error()), lib, LibraryEnv)
}

// sessionOptions builds the options every session of this runtime uses.
func (rt *Runtime) sessionOptions() (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	if err := so.SetIntraOpNumThreads(rt.opt.Threads); err != nil {
		so.Destroy()
		return nil, err
	}
	// Idle intra-op threads sleep instead of spinning: on the CPU they share the cores with
	// the CPU stage, and spinning took 1.3-1.9 core-seconds of 28 from it when scoring the
	// bench-score manifest, for no gain in the encoders' own speed (docs/models.md).
	if rt.device == CPU {
		if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			so.Destroy()
			return nil, err
		}
	}
	if rt.device == CUDA {
		if err := rt.appendCUDA(so); err != nil {
			so.Destroy()
			return nil, err
		}
	}
	return so, nil
}

// FindLibrary locates libonnxruntime: $CHARISBENCH_ORT_LIB, then beside the executable,
// then .deps/onnxruntime/ under the executable's parent or any parent of the working
// folder (where `make ort` installs it).
func FindLibrary() (string, error) {
	if p := os.Getenv(LibraryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", LibraryEnv, p, err)
		}
		return p, nil
	}
	var tried []string
	try := func(p string) bool {
		tried = append(tried, p)
		_, err := os.Stat(p)
		return err == nil
	}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		for _, p := range []string{filepath.Join(dir, libName), filepath.Join(dir, "..", ".deps", "onnxruntime", libName)} {
			if try(p) {
				return p, nil
			}
		}
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if p := filepath.Join(dir, ".deps", "onnxruntime", libName); try(p) {
				return p, nil
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	return "", fmt.Errorf("ONNX Runtime library (%s) not found for %s/%s; looked in: %s. Run `make ort` in the charisbench checkout or set %s",
		libName, runtime.GOOS, runtime.GOARCH, strings.Join(tried, ", "), LibraryEnv)
}

// ErrRole is returned when an encoder is asked for work its role does not do.
var ErrRole = errors.New("wrong encoder role")
