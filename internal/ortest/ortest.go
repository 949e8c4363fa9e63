// Package ortest is for tests that run encoders: they skip, saying why, when ONNX Runtime
// is not installed, and fail instead when the caller required it (make test sets
// CHARISBENCH_REQUIRE_ORT=1 after installing it).
package ortest

import (
	"os"
	"testing"

	"github.com/charisbench/charisbench/metrics/encoder"
)

// RequireEnv makes a missing ONNX Runtime a test failure instead of a skip.
const RequireEnv = "CHARISBENCH_REQUIRE_ORT"

// Need skips (or fails, under RequireEnv) a test when no ONNX Runtime library is found.
func Need(t testing.TB) {
	t.Helper()
	if _, err := encoder.FindLibrary(); err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%v (%s is set, so ONNX Runtime is required)", err, RequireEnv)
		}
		t.Skipf("ONNX Runtime not installed (run `make test`, which installs it): %v", err)
	}
}

// Runtime opens a CPU runtime for the test, closed when it ends.
func Runtime(t testing.TB, opt encoder.Options) *encoder.Runtime {
	t.Helper()
	Need(t)
	rt, err := encoder.Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}
