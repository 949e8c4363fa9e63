package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/ablations/cluster"
)

func newPlanCmd() *cobra.Command {
	var (
		j     cluster.Job
		so    cluster.SlurmOptions
		ko    cluster.K8sOptions
		dir   string
		force bool
	)
	c := &cobra.Command{
		Use:   "plan slurm|k8s (--manifest SAMPLES --models MODELS | --ablations FILE) --shards N --out SHARED_DIR",
		Short: "Write the jobs that spread scoring or an ablation grid over Slurm or Kubernetes",
		Long: `Write what a user submits to run a score manifest or an ablations file as N shards
(docs/scale.md). Every task must see SHARED_DIR (a shared file system); the shards land in
SHARED_DIR/shards/I, their caches in SHARED_DIR/cache, the joined run in SHARED_DIR/merged.

slurm: tasks.sbatch (a job array, one task per shard: --shard auto), merge.sbatch and
       submit.sh, which submits the array and the merge with --dependency=afterok on it.
k8s:   job.yaml (an Indexed Job, one completion index per shard), merge-job.yaml, and
       submit.sh (kubectl apply, wait for completion, apply the merge); paths are as the
       pods see them, under --mount.

A task that fails and is resubmitted resumes: finished samples and stages are kept.`,
		Example: `  charisbench plan slurm --manifest /shared/bench/manifest.jsonl --models /shared/models.yaml \
      --shards 16 --out /shared/runs/bench --gpus 1 --time 02:00:00 --partition gpu
  bash /shared/runs/bench/plan/submit.sh
  charisbench plan k8s --ablations /data/grid.yaml --shards 6 --out /data/runs/grid \
      --image registry.example/charisbench:1 --claim shared --mount /data --gpus 1`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"slurm", "k8s"},
		RunE: func(c *cobra.Command, args []string) error {
			var files map[string]string
			var err error
			if j.Binary == "" {
				if j.Binary, err = os.Executable(); err != nil {
					return fmt.Errorf("--binary: %v", err)
				}
			}
			switch args[0] {
			case "slurm":
				for _, p := range []*string{&j.Manifest, &j.Models, &j.Config, &j.Ablations, &j.Out} {
					if *p != "" { // tasks start elsewhere: absolute paths
						if *p, err = filepath.Abs(*p); err != nil {
							return err
						}
					}
				}
				files, err = cluster.Slurm(j, so)
			case "k8s":
				ko.CPU, ko.Mem = cpuString(so.CPUs), so.Mem
				ko.GPUs = so.GPUs
				files, err = cluster.Kubernetes(j, ko)
			default:
				return fmt.Errorf("unknown scheduler %q (want slurm or k8s)", args[0])
			}
			if err != nil {
				return err
			}
			if dir == "" {
				dir = filepath.Join(j.Out, "plan")
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			for _, name := range slices.Sorted(maps.Keys(files)) {
				p := filepath.Join(dir, name)
				if _, err := os.Stat(p); err == nil && !force {
					return fmt.Errorf("%s exists: pass --force to overwrite the plan", p)
				}
				mode := os.FileMode(0o644)
				if filepath.Ext(name) == ".sh" {
					mode = 0o755
				}
				if err := os.WriteFile(p, []byte(files[name]), mode); err != nil {
					return err
				}
				fmt.Fprintln(c.OutOrStdout(), "wrote", p)
			}
			fmt.Fprintf(c.OutOrStdout(), "submit with: bash %s\n", filepath.Join(dir, "submit.sh"))
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&j.Manifest, "manifest", "", "sample manifest to score")
	fl.StringVar(&j.Models, "models", "", "model manifest, with --manifest")
	fl.StringVar(&j.Config, "config", "", "metric config, with --manifest")
	fl.StringVar(&j.Ablations, "ablations", "", "ablations file to run instead of a manifest")
	fl.IntVar(&j.Shards, "shards", 0, "number of shards (array tasks, completion indexes)")
	fl.StringVar(&j.Out, "out", "", "folder every task sees: shards/, cache/, logs/, merged/")
	fl.StringVar(&j.Name, "name", "charisbench", "job name")
	fl.StringVar(&j.Binary, "binary", "", "charisbench as the tasks find it (default: this executable's path)")
	fl.StringVar(&dir, "dir", "", "where to write the plan (default: OUT/plan)")
	fl.BoolVar(&force, "force", false, "overwrite an existing plan")
	fl.IntVar(&so.GPUs, "gpus", 0, "GPUs per task (slurm: --gres=gpu:N; k8s: nvidia.com/gpu)")
	fl.IntVar(&so.CPUs, "cpus", 0, "CPUs per task")
	fl.StringVar(&so.Mem, "mem", "", "memory per task (slurm: 16G; k8s: 16Gi)")
	fl.StringVar(&so.Time, "time", "", "slurm: time limit per task (HH:MM:SS)")
	fl.StringVar(&so.Partition, "partition", "", "slurm: partition")
	fl.StringVar(&so.Account, "account", "", "slurm: account")
	fl.StringVar(&ko.Image, "image", "", "k8s: container image with charisbench")
	fl.StringVar(&ko.Namespace, "namespace", "", "k8s: namespace")
	fl.StringVar(&ko.Claim, "claim", "", "k8s: PersistentVolumeClaim (ReadWriteMany) every pod mounts")
	fl.StringVar(&ko.MountPath, "mount", "", "k8s: where the claim is mounted; every path must lie under it")
	return c
}

func cpuString(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprint(n)
}
