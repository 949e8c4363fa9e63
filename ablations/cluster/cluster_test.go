package cluster

import (
	"fmt"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"sigs.k8s.io/yaml"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		spec   string
		shards int
		env    map[string]string
		want   string // "i/n", or an error fragment after "!"
	}{
		{"", 0, nil, "none"},
		{"1/4", 0, nil, "1/4"},
		{"4/4", 0, nil, "!want i/n"},
		{"auto", 0, map[string]string{SlurmTaskID: "7", SlurmTaskCount: "4", SlurmTaskMin: "5"}, "2/4"},
		{"auto", 0, map[string]string{SlurmTaskID: "3", SlurmTaskCount: "4", SlurmTaskMin: "0", SlurmTaskStep: "2"}, "!steps by 2"},
		{"auto", 0, map[string]string{K8sIndex: "2", ShardsEnv: "3"}, "2/3"},
		{"auto", 5, map[string]string{K8sIndex: "4"}, "4/5"},
		{"auto", 0, map[string]string{K8sIndex: "2"}, "!not the shard count"},
		{"auto", 0, map[string]string{K8sIndex: "3", ShardsEnv: "3"}, "!task 3 of 3"},
		{"auto", 0, nil, "!no scheduler in the environment"},
	} {
		sh, err := ParseShard(c.spec, c.shards, env(c.env))
		got := "none"
		switch {
		case err != nil:
			got = "!" + err.Error()
		case sh != nil:
			got = fmt.Sprintf("%d/%d", sh.Index, sh.Count)
		}
		if got != c.want && !(strings.HasPrefix(c.want, "!") && strings.Contains(got, c.want[1:])) {
			t.Errorf("ParseShard(%q, %d, %v) = %s, want %s", c.spec, c.shards, c.env, got, c.want)
		}
	}
}

func job() Job {
	return Job{Name: "bench", Manifest: "/data/bench/manifest.jsonl", Models: "/data/models.yaml", Out: "/data/runs/bench",
		Shards: 4, Binary: "/usr/local/bin/charisbench"}
}

func TestSlurmPlanText(t *testing.T) {
	files, err := Slurm(job(), SlurmOptions{GPUs: 1, Time: "02:00:00", Partition: "gpu", Account: "lab", Mem: "16G"})
	if err != nil {
		t.Fatal(err)
	}
	for name, wants := range map[string][]string{
		"tasks.sbatch": {"#SBATCH --array=0-3", "#SBATCH --gres=gpu:1", "#SBATCH --time=02:00:00", "#SBATCH --partition=gpu",
			"#SBATCH --account=lab", "#SBATCH --mem=16G", "--shard auto", `--out "/data/runs/bench/shards/$i"`},
		"merge.sbatch": {"merge --out /data/runs/bench/merged /data/runs/bench/shards/0 /data/runs/bench/shards/1 /data/runs/bench/shards/2 /data/runs/bench/shards/3"},
		"submit.sh":    {"--dependency=afterok:$array merge.sbatch"},
	} {
		for _, w := range wants {
			if !strings.Contains(files[name], w) {
				t.Errorf("%s lacks %q:\n%s", name, w, files[name])
			}
		}
	}
	bad := job()
	bad.Shards = 0
	if _, err := Slurm(bad, SlurmOptions{}); err == nil {
		t.Error("0 shards planned")
	}
}

// TestKubernetesPlan: the Indexed Job parses back as a batch/v1 Job with one completion
// index per shard, the GPU limit, the shared volume and the shard count in its environment.
func TestKubernetesPlan(t *testing.T) {
	files, err := Kubernetes(job(), K8sOptions{Image: "charisbench:1", Claim: "shared", MountPath: "/data", GPUs: 1, Mem: "8Gi"})
	if err != nil {
		t.Fatal(err)
	}
	var j batchv1.Job
	if err := yaml.UnmarshalStrict([]byte(files["job.yaml"]), &j); err != nil {
		t.Fatalf("job.yaml: %v\n%s", err, files["job.yaml"])
	}
	c := j.Spec.Template.Spec.Containers[0]
	switch {
	case *j.Spec.CompletionMode != batchv1.IndexedCompletion || *j.Spec.Completions != 4:
		t.Fatalf("not an Indexed Job of 4: %+v", j.Spec)
	case c.Resources.Limits.Name("nvidia.com/gpu", "").Value() != 1:
		t.Fatalf("GPU limit %v", c.Resources.Limits)
	case c.Env[0].Name != ShardsEnv || c.Env[0].Value != "4":
		t.Fatalf("env %v", c.Env)
	case !strings.Contains(c.Command[2], `"/data/runs/bench/shards/$JOB_COMPLETION_INDEX"`):
		t.Fatalf("command %v", c.Command)
	case j.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "shared":
		t.Fatal("no shared volume")
	}
	var m batchv1.Job
	if err := yaml.UnmarshalStrict([]byte(files["merge-job.yaml"]), &m); err != nil || !strings.Contains(m.Spec.Template.Spec.Containers[0].Command[2], "merge --out") {
		t.Fatalf("merge-job.yaml: %v", err)
	}
	outside := job()
	outside.Out = "/scratch/bench"
	if _, err := Kubernetes(outside, K8sOptions{Image: "x", Claim: "shared", MountPath: "/data"}); err == nil || !strings.Contains(err.Error(), "not under the shared volume") {
		t.Fatalf("a path outside the volume: %v", err)
	}
}
