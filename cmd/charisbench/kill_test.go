package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charisbench/charisbench/internal/testprog"
)

// asCharisbench makes the test binary act as charisbench when the environment says so, so
// a test can run (and kill -9) a real charisbench process.
const asCharisbench = "CHARISBENCH_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asCharisbench) != "" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestKillDuringGeneration: charisbench is killed with SIGKILL while an exec generator is
// half-way through a variant. The generator dies with it, every image answered before the
// kill is kept, and `run --resume` asks the generator for exactly the others.
func TestKillDuringGeneration(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	bin := testprog.Build(t, root+"/generators/external/testdata/fakegen")
	out := filepath.Join(dir, "run")
	yaml := filepath.Join(dir, "ablations.yaml")
	os.WriteFile(yaml, []byte(fmt.Sprintf(`version: 1
name: kill
benchmark:
  world: {subjects: 3, prompts_per_subject: 4, seed: 5, size: 32}
models: world
generators:
  - name: slow
    type: exec
    protocol: 2
    command: [%s]
variants:
  - name: slow
    generator: slow
`, bin)), 0o644)
	reqLog, pidFile := filepath.Join(dir, "requests.log"), filepath.Join(dir, "fakegen.pid")
	start := func(resume bool, delay string) *exec.Cmd {
		args := []string{"run", yaml, "--out", out}
		if resume {
			args = append(args, "--resume")
		}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), asCharisbench+"=1", "FAKEGEN_LOG="+reqLog, "FAKEGEN_PID="+pidFile, "FAKEGEN_DELAY="+delay)
		return cmd
	}
	journal := filepath.Join(out, "variants", "slow", "generating", "journal.jsonl")
	cmd := start(false, "150ms")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(journalIDs(journal)) < 4 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the generator answered fewer than 4 images in 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	kept := journalIDs(journal)
	pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	for i := 0; syscall.Kill(pid, 0) == nil; i++ { // signal 0: does the process still exist?
		if i == 100 {
			t.Fatalf("the generator (pid %d) outlived the killed charisbench by 5 s", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	before := requestedIDs(reqLog)
	if len(kept) >= 12 {
		t.Fatalf("all 12 images answered before the kill; want a kill in the middle")
	}
	os.Remove(reqLog)
	if b, err := start(true, "0s").CombinedOutput(); err != nil {
		t.Fatalf("--resume: %v\n%s", err, b)
	}
	after := requestedIDs(reqLog)
	t.Logf("before the kill: %d requested, %d answered; --resume requested %d", len(before), len(kept), len(after))
	if len(after) != 12-len(kept) {
		t.Fatalf("--resume requested %d images %v, want the %d not answered before the kill", len(after), after, 12-len(kept))
	}
	for _, id := range after {
		if slices.Contains(kept, id) {
			t.Fatalf("--resume asked again for %s, answered before the kill", id)
		}
	}
	if n := strings.Count(readFile(t, filepath.Join(out, "variants", "slow", "run", "samples.jsonl")), `"status":"ok"`); n != 12 {
		t.Fatalf("%d of 12 samples scored after the resume", n)
	}
}

// journalIDs lists the ids an exec variant's journal records as answered.
func journalIDs(path string) []string {
	b, _ := os.ReadFile(path)
	var ids []string
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, `"id":"`); i >= 0 && strings.HasSuffix(line, "}") {
			id := line[i+6:]
			ids = append(ids, id[:strings.Index(id, `"`)])
		}
	}
	return ids
}

// requestedIDs lists the generate requests the test generator received.
func requestedIDs(path string) []string {
	b, _ := os.ReadFile(path)
	var ids []string
	for _, id := range strings.Fields(string(b)) {
		if id != "train" {
			ids = append(ids, id)
		}
	}
	return ids
}
