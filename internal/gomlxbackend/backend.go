// Package gomlxbackend opens the GoMLX backends charisbench runs on: the pure-Go one on the
// CPU (with gomlxblas's kernels) and XLA with a PJRT CUDA plugin on a GPU. flowdit and the
// encoder runtime both call it, so both find a plugin, and fail without one, the same way.
package gomlxbackend

import (
	"fmt"
	"os"
	"sync"

	"github.com/gomlx/go-xla/pkg/pjrt"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego" // the pure-Go CPU backend
	"github.com/gomlx/gomlx/backends/xla"

	"github.com/charisbench/charisbench/internal/gomlxblas"
)

// Device is where a GoMLX computation runs.
type Device string

// Devices: the pure-Go backend on the CPU, or XLA with a PJRT CUDA plugin.
const (
	CPU  Device = "cpu"
	CUDA Device = "cuda"
)

// PluginEnv points at the folder holding pjrt_c_api_cuda_plugin.so (a JAX CUDA install
// ships one, for instance under site-packages/jax_plugins/xla_cuda12).
const PluginEnv = "PJRT_PLUGIN_LIBRARY_PATH"

// CPUConfig is GoMLX's pure-Go backend. Its ops run sequentially: the default parallel op
// execution was seen to deadlock here (workers waiting on a full pool from inside
// DotGeneral), and the matmul kernels parallelise on their own.
const CPUConfig = "go:ops_sequential"

// cuda is the process's one CUDA backend: flowdit and the encoders of one run share it.
var cuda struct {
	sync.Mutex
	b backends.Backend
}

// New returns the backend of a device. CUDA needs a PJRT CUDA plugin already on the
// machine: nothing is downloaded, and a missing plugin is an error that says where to put
// one, never a silent fall-back to the CPU.
//
// The CUDA backend is created once per process and lives as long as it. It takes GPU memory
// as it needs it instead of XLA's default of preallocating most of the GPU, so that the
// shards of a grid, or scoring beside a generator, can share one GPU.
func New(d Device) (backends.Backend, error) {
	var b backends.Backend
	switch d {
	case CPU, "":
		_ = gomlxblas.Install() // on failure simplego keeps its own kernels; Kernels says why
		err := Catch(func() {
			var err error
			if b, err = backends.NewWithConfig(CPUConfig); err != nil {
				panic(err)
			}
		})
		return b, err
	case CUDA:
		cuda.Lock()
		defer cuda.Unlock()
		if cuda.b != nil {
			return cuda.b, nil
		}
		xla.EnableAutoInstall(false)
		err := Catch(func() {
			xb, err := xla.NewWithOptions("cuda", pjrt.NamedValuesMap{"preallocate": false})
			if err != nil {
				panic(err)
			}
			b = xb
		})
		if err != nil {
			return nil, fmt.Errorf("--device cuda needs GoMLX's XLA backend with a PJRT CUDA plugin "+
				"(pjrt_c_api_cuda_plugin.so, e.g. from a JAX CUDA install) in $%s (now %q) and a visible GPU: %v",
				PluginEnv, os.Getenv(PluginEnv), err)
		}
		cuda.b = b
		return b, nil
	}
	return nil, fmt.Errorf("unknown device %q (want cpu or cuda)", d)
}

// Kernels says which kernels the CPU backend runs its matrix products and hot element-wise
// ops with: gomlxblas's (and its sgemm), or simplego's own and why.
func Kernels() string {
	if err := gomlxblas.Install(); err != nil {
		return err.Error()
	}
	return "gomlxblas fast paths, " + gomlxblas.Kernel
}

// Catch runs fn and returns a GoMLX panic (how it reports graph-building errors) as an error.
func Catch(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	fn()
	return nil
}
