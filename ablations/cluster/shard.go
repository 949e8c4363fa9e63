// Package cluster spreads charisbench over the schedulers clusters run: it reads the shard a
// scheduler gives a task (Slurm job arrays, Kubernetes Indexed Jobs) and writes the jobs a
// user submits (a Slurm array script with a merge job after it, or a Kubernetes Indexed Job
// with a merge Job). Plans are pure functions of their options; the tasks they start resume
// when resubmitted and their results are joined by a merge that checks what it joins
// (docs/scale.md).
package cluster

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charisbench/charisbench/charis"
)

// Environment variables a scheduler sets for a task.
const (
	SlurmTaskID    = "SLURM_ARRAY_TASK_ID"
	SlurmTaskCount = "SLURM_ARRAY_TASK_COUNT"
	SlurmTaskMin   = "SLURM_ARRAY_TASK_MIN"
	SlurmTaskStep  = "SLURM_ARRAY_TASK_STEP"
	K8sIndex       = "JOB_COMPLETION_INDEX"
	ShardsEnv      = "CHARISBENCH_SHARDS" // the shard count of a Kubernetes Indexed Job
)

// ParseShard reads a --shard value: "i/n" (0-based), or "auto" for the scheduler's
// environment — a Slurm job array (task id minus the array's first id, of its task count)
// or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, of shards, else of $CHARISBENCH_SHARDS).
// "" is no sharding (nil).
func ParseShard(spec string, shards int, getenv func(string) string) (*charis.Shard, error) {
	switch spec {
	case "":
		return nil, nil
	case "auto":
		return fromEnv(shards, getenv)
	}
	i, n, ok := strings.Cut(spec, "/")
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || cnt < 1 || idx < 0 || idx >= cnt {
		return nil, fmt.Errorf("--shard: want i/n with 0 <= i < n, or auto, got %q", spec)
	}
	return &charis.Shard{Index: idx, Count: cnt}, nil
}

func fromEnv(shards int, getenv func(string) string) (*charis.Shard, error) {
	if id := getenv(SlurmTaskID); id != "" {
		n, err := envInt(getenv, SlurmTaskCount)
		if err != nil {
			return nil, err
		}
		first, err := envInt(getenv, SlurmTaskMin)
		if err != nil {
			return nil, err
		}
		if step := getenv(SlurmTaskStep); step != "" && step != "1" {
			return nil, fmt.Errorf("--shard auto: the job array steps by %s; submit it as --array=0-%d (step 1)", step, n-1)
		}
		i, err := envInt(getenv, SlurmTaskID)
		if err != nil {
			return nil, err
		}
		return checked(i-first, n, "the Slurm array")
	}
	if idx := getenv(K8sIndex); idx != "" {
		i, err := envInt(getenv, K8sIndex)
		if err != nil {
			return nil, err
		}
		n := shards
		if n == 0 {
			if getenv(ShardsEnv) == "" {
				return nil, fmt.Errorf("--shard auto: %s is set (a Kubernetes Indexed Job) but not the shard count: pass --shards N or set %s", K8sIndex, ShardsEnv)
			}
			if n, err = envInt(getenv, ShardsEnv); err != nil {
				return nil, err
			}
		}
		return checked(i, n, "the Indexed Job")
	}
	return nil, fmt.Errorf("--shard auto: no scheduler in the environment (neither %s of a Slurm job array nor %s of a Kubernetes Indexed Job is set); pass --shard i/n", SlurmTaskID, K8sIndex)
}

func envInt(getenv func(string) string, name string) (int, error) {
	v := getenv(name)
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("--shard auto: %s=%q is not an integer", name, v)
	}
	return n, nil
}

func checked(i, n int, what string) (*charis.Shard, error) {
	if n < 1 || i < 0 || i >= n {
		return nil, fmt.Errorf("--shard auto: %s gives task %d of %d", what, i, n)
	}
	return &charis.Shard{Index: i, Count: n}, nil
}
