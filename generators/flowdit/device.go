package flowdit

import (
	"fmt"

	"github.com/gomlx/gomlx/backends"

	"github.com/charisbench/charisbench/internal/gomlxbackend"
)

// Device is where flowdit runs.
type Device = gomlxbackend.Device

// Devices: the pure-Go backend on the CPU, or XLA with a PJRT CUDA plugin.
const (
	CPU  = gomlxbackend.CPU
	CUDA = gomlxbackend.CUDA
)

// PluginEnv points at the folder holding the PJRT CUDA plugin.
const PluginEnv = gomlxbackend.PluginEnv

// CPUBackendConfig is the CPU backend's configuration (see gomlxbackend.CPUConfig).
const CPUBackendConfig = gomlxbackend.CPUConfig

// BackendFor returns the backend of a device; a missing CUDA plugin is an error that says
// where to put one, never a silent fall-back to the CPU.
func BackendFor(d Device) (backends.Backend, error) {
	b, err := gomlxbackend.New(d)
	if err != nil {
		return nil, fmt.Errorf("flowdit: %w", err)
	}
	return b, nil
}

// NewBackend returns the CPU backend, with gomlxblas's kernels where they install.
func NewBackend() (backends.Backend, error) { return gomlxbackend.New(CPU) }

// Kernels says which kernels the CPU backend runs its matrix products with.
func Kernels() string { return gomlxbackend.Kernels() }

// catch runs fn and returns a GoMLX panic as an error.
func catch(fn func()) error { return gomlxbackend.Catch(fn) }
