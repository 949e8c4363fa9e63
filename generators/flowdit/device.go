package flowdit

import (
	"fmt"
	"os"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

// Device is where flowdit runs.
type Device string

// Devices: the pure-Go backend on the CPU, or XLA with a PJRT CUDA plugin.
const (
	CPU  Device = "cpu"
	CUDA Device = "cuda"
)

// PluginEnv points at the folder holding pjrt_c_api_cuda_plugin.so (a JAX CUDA install
// ships one, for instance under site-packages/jax_plugins/xla_cuda12).
const PluginEnv = "PJRT_PLUGIN_LIBRARY_PATH"

// BackendFor returns the backend of a device. CUDA needs a PJRT CUDA plugin already on the
// machine: nothing is downloaded, and a missing plugin is an error that says where to put
// one, never a silent fall-back to the CPU.
func BackendFor(d Device) (backends.Backend, error) {
	switch d {
	case CPU, "":
		return NewBackend()
	case CUDA:
		xla.EnableAutoInstall(false)
		var b backends.Backend
		err := catch(func() {
			var err error
			if b, err = xla.New("cuda"); err != nil {
				panic(err)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("flowdit: --device cuda needs GoMLX's XLA backend with a PJRT CUDA plugin "+
				"(pjrt_c_api_cuda_plugin.so, e.g. from a JAX CUDA install) in $%s (now %q) and a visible GPU: %v",
				PluginEnv, os.Getenv(PluginEnv), err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("flowdit: unknown device %q (want cpu or cuda)", d)
}
