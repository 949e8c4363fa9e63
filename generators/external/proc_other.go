//go:build !linux

package external

import (
	"os"
	"syscall"
)

// procAttr gives the program its own process group where the system has one; only Linux
// has a parent-death signal, so elsewhere a killed charisbench leaves the program to end
// when its standard input closes.
func procAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}
