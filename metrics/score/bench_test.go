package score

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/metrics/cache"
)

// BenchmarkScore scores a charis-world manifest of 1000 samples (40 characters × 5
// prompts, ground truth and 4 perturbed variants, 64 px) twice per iteration with one
// cache: cold (empty cache) and warm (the same manifest again into a fresh folder).
// Reports samples/s of each and their ratio, measured side by side.
func BenchmarkScore(b *testing.B) {
	rt := openRuntime(b)
	dir := buildWorld(b, 40, 5, "blur@0.5", "identity_swap@0.5", "recolour@0.5", "noise@0.5")
	var cold, warm time.Duration
	n := 0
	for b.Loop() {
		c, err := cache.Open(filepath.Join(b.TempDir(), "cache.sqlite"))
		if err != nil {
			b.Fatal(err)
		}
		for i, d := range []*time.Duration{&cold, &warm} {
			opt := options(b, rt, dir)
			opt.Cache = c
			start := time.Now()
			sum, err := Run(context.Background(), opt)
			if err != nil {
				b.Fatal(err)
			}
			*d += time.Since(start)
			if i == 0 {
				for _, v := range sum.Variants {
					n += v.N
				}
			}
		}
		c.Close()
	}
	b.ReportMetric(float64(n)/cold.Seconds(), "cold_samples/s")
	b.ReportMetric(float64(n)/warm.Seconds(), "warm_samples/s")
	b.ReportMetric(cold.Seconds()/warm.Seconds(), "warm_speedup")
}

// BenchmarkScoreDreamBench scores camera photos cold: the 30 DreamBench photos of
// ../shared, each the reference of 4 samples whose generated images are other subjects'
// photos (687-2048 px JPEGs), with the tiny test encoders without segmenter or IQA (224 px
// inputs), no cache. Decoding and preprocessing dominate; reports samples/s.
func BenchmarkScoreDreamBench(b *testing.B) {
	rt := openRuntime(b)
	photos, err := filepath.Glob("../../../shared/data/dreambench/*/*.jpg")
	if err != nil || len(photos) != 30 {
		b.Fatalf("DreamBench photos (../shared beside the checkout): %d found, %v", len(photos), err)
	}
	var samples []charis.Sample
	for i, ref := range photos {
		for k := range 4 {
			gen := photos[(i+k+1)%len(photos)]
			samples = append(samples, charis.Sample{ID: fmt.Sprintf("%02d_%d", i, k), Subject: fmt.Sprint(i), Variant: "v",
				Reference: abs(b, ref), Generated: abs(b, gen), Prompt: fmt.Sprintf("a photo, prompt %d", k)})
		}
	}
	dir := b.TempDir()
	manifest := filepath.Join(dir, "manifest.jsonl")
	var buf bytes.Buffer
	charis.WriteSamples(&buf, samples)
	os.WriteFile(manifest, buf.Bytes(), 0o644)
	m, err := charis.LoadModelManifest("../../testdata/models/models.yaml")
	if err != nil {
		b.Fatal(err)
	}
	m.Encoders = slices.DeleteFunc(m.Encoders, func(e charis.EncoderSpec) bool {
		return e.Role == charis.RoleSegmenter || e.Role == charis.RoleIQA
	})
	var total time.Duration
	for b.Loop() {
		opt := Options{Manifest: manifest, Models: m, Config: charis.DefaultMetricConfig(), Out: b.TempDir(), Runtime: rt}
		start := time.Now()
		if _, err := Run(context.Background(), opt); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(len(samples)*b.N)/total.Seconds(), "samples/s")
}

func abs(b *testing.B, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkPrepareImages is the CPU stage's cost per image on one goroutine: decode and
// the three resizes scoring makes of each image (the identity and CLIP encoders' pixels,
// TD's gray image), over every distinct image of the manifest $CHARISBENCH_BENCH_MANIFEST
// with the preprocessing of the model manifest $CHARISBENCH_BENCH_MODELS; skipped without
// them. make bench-score's limit line reads it. Reports ms/image.
func BenchmarkPrepareImages(b *testing.B) {
	manifest, models := os.Getenv("CHARISBENCH_BENCH_MANIFEST"), os.Getenv("CHARISBENCH_BENCH_MODELS")
	if manifest == "" || models == "" {
		b.Skip("CHARISBENCH_BENCH_MANIFEST and CHARISBENCH_BENCH_MODELS are not set")
	}
	samples, err := charis.ReadManifest(manifest)
	if err != nil {
		b.Fatal(err)
	}
	m, err := charis.LoadModelManifest(models)
	if err != nil {
		b.Fatal(err)
	}
	sc := &scorer{opt: Options{Config: charis.DefaultMetricConfig()},
		idPx: m.Encoder(charis.RoleIdentity).PixelSpec(), clipPx: m.Encoder(charis.RoleCLIPImage).PixelSpec()}
	var files [][]byte
	seen := map[string]bool{}
	for _, s := range samples {
		for _, f := range []struct{ field, rel string }{{"reference", s.Reference}, {"generated", s.Generated}} {
			if seen[f.rel] {
				continue
			}
			seen[f.rel] = true
			data, err := charis.ReadSampleFile(manifest, f.field, f.rel, DefaultMaxFileBytes)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, data)
		}
	}
	for b.Loop() {
		for i, data := range files {
			// keepFull: nothing is cached between images or iterations
			if _, err := sc.image("image", data, "", fmt.Sprint(i), imageio.Options{}, true); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N*len(files)), "ms/image")
	b.ReportMetric(float64(len(files)), "images")
}
