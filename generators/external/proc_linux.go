package external

import "syscall"

// procAttr puts the program in its own process group and has the kernel kill it when
// charisbench dies (kill -9 included).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the program's whole process group.
func killGroup(pid int) { syscall.Kill(-pid, syscall.SIGKILL) }
