// Command charisbench scores subject-driven image generation with the CHARIS metric.
//
// Exit codes: 0 success; 1 a check failed (a verification, a regression gate); 2 invalid
// input or usage (bad flags, unreadable files, malformed manifests).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// checkFailed marks an error as a failed check (exit 1) rather than invalid input.
type checkFailed struct{ err error }

func (e checkFailed) Error() string { return e.err.Error() }
func (e checkFailed) Unwrap() error { return e.err }

// run executes one command line and returns its exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "charisbench: %v\n", err)
	var cf checkFailed
	if errors.As(err, &cf) {
		return exitFailed
	}
	return exitUsage
}
