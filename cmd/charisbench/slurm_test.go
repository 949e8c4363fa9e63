package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// requireSlurmEnv makes a missing Slurm a failure (make test installs it) instead of a skip.
const requireSlurmEnv = "CHARISBENCH_REQUIRE_SLURM"

// TestSlurmPlan brings up a real single-node Slurm (scripts/slurm-cluster.sh), submits the
// plan `charisbench plan slurm` writes for a small charis-world benchmark in 3 shards, waits
// for the array and the merge that depends on it, and checks the merged run equals an
// unsharded one (provenance aside).
func TestSlurmPlan(t *testing.T) {
	needORT(t)
	for _, b := range []string{"slurmctld", "slurmd", "sbatch", "squeue", "munged"} {
		if _, err := exec.LookPath(b); err != nil || os.Geteuid() != 0 {
			if os.Getenv(requireSlurmEnv) != "" {
				t.Fatalf("Slurm is required (%s is set) but %s is missing or this is not root: %v", requireSlurmEnv, b, err)
			}
			t.Skipf("no Slurm here (%s missing, or not root); make test installs slurmctld, slurmd, slurm-client and munge", b)
		}
	}
	lib, err := encoder.FindLibrary()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cluster := filepath.Join(dir, "cluster")
	start := time.Now()
	up := exec.Command("timeout", "60", root+"/scripts/slurm-cluster.sh", "start", cluster)
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("starting Slurm: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(root+"/scripts/slurm-cluster.sh", "stop", cluster).Run() })
	t.Logf("cluster idle after %s", time.Since(start).Round(10*time.Millisecond))
	env := append(os.Environ(), "SLURM_CONF="+filepath.Join(cluster, "slurm.conf"), asCharisbench+"=1", encoder.LibraryEnv+"="+lib)

	w := filepath.Join(dir, "world")
	if _, stderr, code := charisbench(t, "", "world", "build", "--subjects", "5", "--prompts-per-subject", "2", "--seed", "9",
		"--perturb", "blur@1,identity_swap@1", w); code != exitOK {
		t.Fatalf("world build: %s", stderr)
	}
	manifest, models := filepath.Join(w, "manifest.jsonl"), filepath.Join(w, "models.yaml")
	ref := filepath.Join(dir, "unsharded")
	if _, stderr, code := charisbench(t, "", "score", "--manifest", manifest, "--models", models, "--out", ref, "--no-cache"); code != exitOK {
		t.Fatalf("unsharded score: %s", stderr)
	}
	shared := filepath.Join(dir, "shared")
	if _, stderr, code := charisbench(t, "", "plan", "slurm", "--manifest", manifest, "--models", models, "--shards", "3",
		"--out", shared, "--binary", os.Args[0], "--time", "00:10:00"); code != exitOK {
		t.Fatalf("plan: %s", stderr)
	}
	submit := exec.Command("timeout", "30", "bash", filepath.Join(shared, "plan", "submit.sh"))
	submit.Env = env
	out, err := submit.CombinedOutput()
	if err != nil {
		t.Fatalf("submit.sh: %v\n%s", err, out)
	}
	submitted := time.Now()
	t.Logf("%s", strings.TrimSpace(string(out)))
	for {
		q := exec.Command("timeout", "10", "squeue", "-h")
		q.Env = env
		b, err := q.Output()
		if err == nil && strings.TrimSpace(string(b)) == "" {
			break
		}
		if time.Since(submitted) > 3*time.Minute {
			t.Fatalf("jobs still queued after 3 minutes:\n%s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("array of 3 and merge done %s after submission", time.Since(submitted).Round(10*time.Millisecond))
	merged := filepath.Join(shared, "merged")
	got, err := os.ReadFile(filepath.Join(merged, charis.SamplesFile))
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(shared, "logs", "*"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, b)
		}
		t.Fatalf("no merged run: %v", err)
	}
	if want := readFile(t, filepath.Join(ref, charis.SamplesFile)); string(got) != want {
		t.Fatal("the merged samples.jsonl differs from the unsharded run's")
	}
	summary := func(p string) charis.Summary {
		var s charis.Summary
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(p, charis.SummaryFile))), &s); err != nil {
			t.Fatal(err)
		}
		s.Provenance = charis.Provenance{}
		return s
	}
	if a, b := summary(merged), summary(ref); !reflect.DeepEqual(a, b) {
		t.Fatalf("the merged summary differs from the unsharded one:\n%+v\n%+v", a.Variants, b.Variants)
	}
}
