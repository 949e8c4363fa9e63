package cluster

import (
	"fmt"
	"path/filepath"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Job is the work a plan spreads: scoring a manifest, or running an ablations file.
type Job struct {
	Name      string // job name (letters, digits, -)
	Manifest  string // score: the sample manifest
	Models    string // score: the model manifest
	Config    string // score: the metric config ("" for the default)
	Ablations string // run: the ablations file (instead of Manifest)
	Out       string // a folder every task sees (a shared file system): shards/I, merged, logs, cache
	Shards    int
	Binary    string // charisbench as the tasks find it
}

func (j Job) check() error {
	switch {
	case j.Shards < 1:
		return fmt.Errorf("--shards must be at least 1, got %d", j.Shards)
	case (j.Manifest == "") == (j.Ablations == ""):
		return fmt.Errorf("plan a score manifest (--manifest, --models) or an ablations file (--ablations), one of them")
	case j.Manifest != "" && j.Models == "":
		return fmt.Errorf("--models is required with --manifest")
	case j.Out == "":
		return fmt.Errorf("--out is required: a folder every task sees")
	case j.Name == "" || strings.Trim(j.Name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "":
		return fmt.Errorf("job name %q: want lower-case letters, digits and -", j.Name)
	}
	return nil
}

// taskArgs are one task's arguments after the binary; shard is how the script names the
// task's index (a shell expansion).
func (j Job) taskArgs(shard string) []string {
	out := j.Out + "/shards/" + shard
	if j.Ablations != "" {
		return []string{"run", j.Ablations, "--shard", "auto", "--resume", "--out", out, "--cache", j.Out + "/cache/shard-" + shard + ".sqlite"}
	}
	args := []string{"score", "--manifest", j.Manifest, "--models", j.Models, "--out", out, "--shard", "auto",
		"--cache", j.Out + "/cache/shard-" + shard + ".sqlite"}
	if j.Config != "" {
		args = append(args, "--config", j.Config)
	}
	return args
}

// mergeArgs join the shards' folders.
func (j Job) mergeArgs() []string {
	args := []string{"merge"}
	if j.Ablations != "" {
		args = append(args, j.Ablations)
	}
	args = append(args, "--out", j.Out+"/merged")
	for i := range j.Shards {
		args = append(args, fmt.Sprintf("%s/shards/%d", j.Out, i))
	}
	return args
}

// shell quotes an argument for sh, leaving a $var... expansion of the task's index live.
func shell(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:+@,") == "" {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`").Replace(s) + `"`
}

func command(binary string, args []string) string {
	parts := []string{shell(binary)}
	for _, a := range args {
		parts = append(parts, shell(a))
	}
	return strings.Join(parts, " ")
}

// SlurmOptions are the #SBATCH settings of the plan.
type SlurmOptions struct {
	GPUs      int    // --gres=gpu:N per task (0: none)
	CPUs      int    // --cpus-per-task (0: the cluster's default)
	Mem       string // --mem per task ("": default)
	Time      string // --time per task ("": the partition's default)
	Partition string
	Account   string
}

// Slurm writes a job array of the shards (one task each; a resubmitted task resumes), a
// merge job, and submit.sh, which submits the array and the merge with
// --dependency=afterok on it. It returns file name -> contents.
func Slurm(j Job, o SlurmOptions) (map[string]string, error) {
	if err := j.check(); err != nil {
		return nil, err
	}
	header := func(name, output string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "#!/usr/bin/env bash\n#SBATCH --job-name=%s\n#SBATCH --output=%s\n", name, output)
		if o.Partition != "" {
			fmt.Fprintf(&b, "#SBATCH --partition=%s\n", o.Partition)
		}
		if o.Account != "" {
			fmt.Fprintf(&b, "#SBATCH --account=%s\n", o.Account)
		}
		if o.Time != "" {
			fmt.Fprintf(&b, "#SBATCH --time=%s\n", o.Time)
		}
		return b.String()
	}
	var task strings.Builder
	task.WriteString(header(j.Name, j.Out+"/logs/%A_%a.out"))
	fmt.Fprintf(&task, "#SBATCH --array=0-%d\n", j.Shards-1)
	if o.GPUs > 0 {
		fmt.Fprintf(&task, "#SBATCH --gres=gpu:%d\n", o.GPUs)
	}
	if o.CPUs > 0 {
		fmt.Fprintf(&task, "#SBATCH --cpus-per-task=%d\n", o.CPUs)
	}
	if o.Mem != "" {
		fmt.Fprintf(&task, "#SBATCH --mem=%s\n", o.Mem)
	}
	fmt.Fprintf(&task, `# Shard i of %d (charisbench reads it from the array: --shard auto). A task that fails and
# is resubmitted resumes where it stopped: finished samples and stages are kept.
set -euo pipefail
CHARISBENCH=${CHARISBENCH:-%s}
i=$((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN))
mkdir -p %s/shards %s/cache
exec %s
`, j.Shards, shell(j.Binary), shell(j.Out), shell(j.Out), command("$CHARISBENCH", j.taskArgs("$i")))
	var merge strings.Builder
	merge.WriteString(header(j.Name+"-merge", j.Out+"/logs/merge_%j.out"))
	fmt.Fprintf(&merge, `# Joins the shards (submit.sh runs it after every array task succeeded). merge checks
# what it joins: every shard once, of one manifest, metric and encoders.
set -euo pipefail
CHARISBENCH=${CHARISBENCH:-%s}
exec %s
`, shell(j.Binary), command("$CHARISBENCH", j.mergeArgs()))
	submit := fmt.Sprintf(`#!/usr/bin/env bash
# Submits the shards as a job array and the merge after it: sbatch prints the job ids.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p %s/logs
array=$(sbatch --parsable tasks.sbatch)
array=${array%%%%;*}
merge=$(sbatch --parsable --dependency=afterok:$array merge.sbatch)
echo "array job $array (%d tasks), merge job ${merge%%%%;*} after it; results in %s/merged"
`, shell(j.Out), j.Shards, j.Out)
	return map[string]string{"tasks.sbatch": task.String(), "merge.sbatch": merge.String(), "submit.sh": submit}, nil
}

// K8sOptions are the Kubernetes settings of the plan.
type K8sOptions struct {
	Image     string // an image with charisbench (and the ONNX Runtime library, the models)
	Namespace string
	Claim     string // PersistentVolumeClaim every pod mounts (ReadWriteMany): the shared folder
	MountPath string // where it is mounted; Job paths must lie under it
	GPUs      int    // nvidia.com/gpu per pod
	CPU, Mem  string // resource requests ("": none)
}

// Kubernetes writes an Indexed Job of the shards (completion index = shard, retried per
// index; a retried pod resumes) and a merge Job to apply when the first completes. They are
// built from the Kubernetes API's Go types, so they are valid by construction.
func Kubernetes(j Job, o K8sOptions) (map[string]string, error) {
	if err := j.check(); err != nil {
		return nil, err
	}
	if o.Image == "" || o.Claim == "" || o.MountPath == "" {
		return nil, fmt.Errorf("--image, --claim and --mount are required for Kubernetes")
	}
	for _, p := range []string{j.Out, j.Manifest, j.Models, j.Config, j.Ablations} {
		if p != "" && !strings.HasPrefix(filepath.Clean(p)+"/", filepath.Clean(o.MountPath)+"/") {
			return nil, fmt.Errorf("%s is not under the shared volume's mount %s: every pod must see it", p, o.MountPath)
		}
	}
	res := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	if o.GPUs > 0 {
		res.Limits["nvidia.com/gpu"] = *resource.NewQuantity(int64(o.GPUs), resource.DecimalSI)
	}
	for name, v := range map[corev1.ResourceName]string{corev1.ResourceCPU: o.CPU, corev1.ResourceMemory: o.Mem} {
		if v == "" {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("resource %s %q: %v", name, v, err)
		}
		res.Requests[name] = q
	}
	pod := func(script string, env []corev1.EnvVar) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{Name: "charisbench", Image: o.Image, Command: []string{"sh", "-c", script},
				Env: env, Resources: res, VolumeMounts: []corev1.VolumeMount{{Name: "shared", MountPath: o.MountPath}}}},
			Volumes: []corev1.Volume{{Name: "shared", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: o.Claim}}}},
		}}
	}
	indexed := batchv1.IndexedCompletion
	n := int32(j.Shards)
	retries := int32(3)
	task := batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: j.Name, Namespace: o.Namespace},
		Spec: batchv1.JobSpec{Completions: &n, Parallelism: &n, CompletionMode: &indexed, BackoffLimitPerIndex: &retries,
			Template: pod(fmt.Sprintf("mkdir -p %s/shards %s/cache && exec %s", shell(j.Out), shell(j.Out),
				command(j.Binary, j.taskArgs("$JOB_COMPLETION_INDEX"))),
				[]corev1.EnvVar{{Name: ShardsEnv, Value: fmt.Sprint(j.Shards)}})},
	}
	one := int32(1)
	merge := batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: j.Name + "-merge", Namespace: o.Namespace},
		Spec:       batchv1.JobSpec{Completions: &one, BackoffLimit: &retries, Template: pod("exec "+command(j.Binary, j.mergeArgs()), nil)},
	}
	files := map[string]string{}
	for name, obj := range map[string]*batchv1.Job{"job.yaml": &task, "merge-job.yaml": &merge} {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		files[name] = string(b)
	}
	files["submit.sh"] = fmt.Sprintf(`#!/usr/bin/env bash
# Applies the Indexed Job, waits for every index to complete, then applies the merge Job.
set -euo pipefail
cd "$(dirname "$0")"
kubectl apply -f job.yaml
kubectl wait --for=condition=complete --timeout=-1s job/%[1]s %[2]s
kubectl apply -f merge-job.yaml
kubectl wait --for=condition=complete --timeout=-1s job/%[1]s-merge %[2]s
`, j.Name, nsFlag(o.Namespace))
	return files, nil
}

func nsFlag(ns string) string {
	if ns == "" {
		return ""
	}
	return "-n " + ns
}
