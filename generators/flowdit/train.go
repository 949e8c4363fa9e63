package flowdit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/charisbench/charisbench/charis/clip"
)

// Stage is a training stage.
type Stage string

// The paper's two stages.
const (
	Base     Stage = "base"     // text -> image on charis-world (zero reference)
	Finetune Stage = "finetune" // reference + prompt -> target, LoRA on a frozen base
)

// TrainOptions configure Train.
type TrainOptions struct {
	Stage   Stage
	Config  Config   // base stage: the model to create
	BaseDir string   // finetune: the base checkpoint
	LoRA    LoRA     // finetune: adapters
	Loss    LossMode // masked or full
	// ReferenceRate (base stage) is the fraction of triples shown with their reference;
	// 0, the default, is text → image pretraining. Fine-tuning always shows it.
	ReferenceRate float64
	Steps         int
	Batch         int
	LearningRate  float64
	// Cosine decays the learning rate from LearningRate to a tenth of it over the steps.
	Cosine bool
	Seed   uint64 // data, noise and initialisation
	Out    string // checkpoint folder to write
	Device Device // cpu (default) or cuda
	// Progress, when set, is called every few steps with the step and the mean loss of
	// the steps since the last call.
	Progress func(step, steps int, loss float64, elapsed time.Duration)
}

// progressEvery is how many steps pass between Progress calls.
const progressEvery = 25

// Train runs a stage on charis-world's training split and saves the checkpoint.
func Train(o TrainOptions) error {
	if o.Steps <= 0 || o.Batch <= 0 || !(o.LearningRate > 0) {
		return fmt.Errorf("flowdit: steps, batch and learning rate must be positive")
	}
	if o.Loss != Masked && o.Loss != Full {
		return fmt.Errorf("flowdit: unknown loss %q (want masked or full)", o.Loss)
	}
	tok, err := clip.Default()
	if err != nil {
		return err
	}
	be, err := BackendFor(o.Device)
	if err != nil {
		return err
	}
	var m *Model
	switch o.Stage {
	case Base:
		if o.BaseDir != "" {
			if m, _, err = Load(o.BaseDir, be); err != nil {
				return err
			}
			if m.LoRA != nil {
				return fmt.Errorf("flowdit: %s has LoRA adapters; continue a base checkpoint", o.BaseDir)
			}
		} else if m, err = New(o.Config, be, int64(o.Seed)); err != nil {
			return err
		}
	case Finetune:
		if m, _, err = Load(o.BaseDir, be); err != nil {
			return err
		}
		if m.LoRA != nil {
			return fmt.Errorf("flowdit: %s already has LoRA adapters; fine-tune from a base checkpoint", o.BaseDir)
		}
		if err := m.EnableLoRA(o.LoRA); err != nil {
			return err
		}
	default:
		return fmt.Errorf("flowdit: unknown stage %q (want base or finetune)", o.Stage)
	}
	refRate := o.ReferenceRate
	if o.Stage == Finetune {
		refRate = 1
	}
	if refRate < 0 || refRate > 1 {
		return fmt.Errorf("flowdit: reference rate %v is not in [0, 1]", refRate)
	}
	// The next batch renders while this step runs.
	batches, stop := make(chan Batch, 1), make(chan struct{})
	defer close(stop)
	go func() {
		for step := range o.Steps {
			select {
			case batches <- m.Config.WorldBatch(tok, o.Seed, step*o.Batch, o.Batch, refRate):
			case <-stop:
				return
			}
		}
	}()
	rng := rand.New(rand.NewPCG(o.Seed, 0x7472)) // "tr"
	start, sum, n := time.Now(), 0.0, 0
	var last float64
	for step := range o.Steps {
		b := <-batches
		lr := o.LearningRate
		if o.Cosine {
			lr *= 0.1 + 0.45*(1+math.Cos(math.Pi*float64(step)/float64(o.Steps)))
		}
		loss, err := m.TrainStep(b, o.Loss, lr, rng)
		if err != nil {
			return err
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("flowdit: loss diverged (%v) at step %d; lower the learning rate", loss, step)
		}
		sum, n, last = sum+loss, n+1, loss
		if o.Progress != nil && (n == progressEvery || step == o.Steps-1) {
			o.Progress(step+1, o.Steps, sum/float64(n), time.Since(start))
			sum, n = 0, 0
		}
	}
	record := map[string]any{"stage": o.Stage, "reference_rate": refRate, "steps": o.Steps, "batch": o.Batch, "learning_rate": o.LearningRate, "cosine": o.Cosine,
		"loss": o.Loss, "seed": o.Seed, "final_loss": last, "base": o.BaseDir, "seconds": time.Since(start).Seconds()}
	if o.Device == CPU || o.Device == "" {
		record["kernels"] = Kernels()
	}
	return m.Save(o.Out, record)
}
