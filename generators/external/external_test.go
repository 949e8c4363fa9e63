package external

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charisbench/charisbench/internal/testprog"
)

// fakegen builds the protocol test program.
func fakegen(t *testing.T) string { return testprog.Build(t, "./testdata/fakegen") }

func requests(t *testing.T, n int) []GenerateRequest {
	t.Helper()
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref.png")
	os.WriteFile(ref, []byte("not really a png"), 0o644)
	var reqs []GenerateRequest
	for i := range n {
		id := "s" + string(rune('a'+i))
		reqs = append(reqs, GenerateRequest{ID: id, Reference: ref, Prompt: "p", Seed: uint64(i), Out: filepath.Join(dir, id+".png"),
			Settings: map[string]any{"rank": 8}})
	}
	return reqs
}

func TestTrainAndGenerate(t *testing.T) {
	bin := fakegen(t)
	var progress []int
	p := &Program{Command: []string{bin}, Protocol: V2, Progress: func(_ string, done, _ int, _ string) { progress = append(progress, done) }}
	ckpt := t.TempDir()
	if err := p.Train(context.Background(), TrainRequest{Variant: "v", Settings: map[string]any{"rank": 8, "loss": "masked"}, Checkpoint: ckpt}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(ckpt, "settings.json")); string(b) != `{"loss":"masked","rank":8}` || len(progress) != 2 {
		t.Fatalf("the program trained with %s (progress %v)", b, progress)
	}
	var got []string
	if err := p.Generate(context.Background(), requests(t, 3), func(r Result) error { got = append(got, r.ID+":"+r.Error); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "sa:,sb:,sc:" {
		t.Fatalf("answers %v", got)
	}
	t.Setenv("FAKEGEN_FAULT", "no-train")
	if err := p.Train(context.Background(), TrainRequest{Checkpoint: ckpt}); err != ErrNoTrain {
		t.Fatalf("a program without the train capability: %v, want ErrNoTrain", err)
	}
}

// TestProtocolFaults: each fault is an error that says what happened; answers given
// before it stand.
func TestProtocolFaults(t *testing.T) {
	bin := fakegen(t)
	for _, c := range []struct{ fault, want string }{
		{"malformed", "output line 2 is not a JSON message"},
		{"unknown-id", `answers unknown id "nobody"`},
		{"missing-image", "which is missing"},
		{"early-exit", "ended its output after answering 1 of 3 requests"},
		{"crash", "CUDA out of memory (simulated)"},
		{"bad-hello", "want the handshake"},
		{"silent", "no answer for 300ms (the sample timeout)"},
	} {
		t.Run(c.fault, func(t *testing.T) {
			t.Setenv("FAKEGEN_FAULT", c.fault)
			p := &Program{Command: []string{bin}, Protocol: V2, SampleTimeout: 300 * time.Millisecond}
			answers := 0
			err := p.Generate(context.Background(), requests(t, 3), func(Result) error { answers++; return nil })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			if (c.fault == "early-exit" || c.fault == "crash") && answers != 1 {
				t.Fatalf("%d answers passed on before the fault, want 1", answers)
			}
		})
	}
}

// TestContextKillsTheProgram: cancelling ends the program (its process group) at once.
func TestContextKillsTheProgram(t *testing.T) {
	bin := fakegen(t)
	t.Setenv("FAKEGEN_DELAY", "1h")
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("FAKEGEN_PID", pidFile)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range 100 {
			if _, err := os.Stat(pidFile); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	err := (&Program{Command: []string{bin}, Protocol: V2}).Generate(ctx, requests(t, 2), func(Result) error { return nil })
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("cancelled generation: %v after %s", err, time.Since(start))
	}
}
