package charis

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/charisbench/charisbench/internal/fuzzcheck"
)

// addFiles adds the bytes of the project's own files as seeds.
func addFiles(f *testing.F, paths ...string) {
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzModelManifest: any bytes as models.yaml load or fail with an error naming the file.
func FuzzModelManifest(f *testing.F) {
	addFiles(f, "../testdata/models/models.yaml", "world/encoders/models.yaml", "../metrics/score/testdata/v1_encoders/models.yaml")
	f.Add([]byte("version: 1\nencoders: []\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzcheck.File(t, "models.yaml", data)
		fuzzcheck.Bounded(t, func() {
			_, err := LoadModelManifest(p)
			fuzzcheck.NamesFile(t, err, p)
		})
	})
}

// FuzzMetricConfig: any bytes load or fail naming the file; what loads writes back (YAML)
// to a config that loads to the same value.
func FuzzMetricConfig(f *testing.F) {
	def, _ := yaml.Marshal(DefaultMetricConfig())
	f.Add(def)
	f.Add([]byte("version: 1\n"))
	f.Add([]byte("version: 2\nweights: {ic: 2, pa: 1}\nmask_fallback: patch_pca\n"))
	f.Add([]byte("version: 2\nbootstrap: {draws: -1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzcheck.File(t, "metric.yaml", data)
		fuzzcheck.Bounded(t, func() {
			c, err := LoadMetricConfig(p)
			fuzzcheck.NamesFile(t, err, p)
			if err != nil {
				return
			}
			out, err := yaml.Marshal(c)
			if err != nil {
				t.Fatalf("writing a loaded config: %v", err)
			}
			c2, err := LoadMetricConfig(fuzzcheck.File(t, "again.yaml", out))
			if err != nil {
				t.Fatalf("a loaded config written back does not load: %v\n%s", err, out)
			}
			if c.SHA256() != c2.SHA256() {
				t.Fatalf("config changed through a write:\n%s", out)
			}
		})
	})
}

// FuzzSamplesJSONL: any bytes as a JSONL manifest read or fail naming the file and line;
// what reads writes back (WriteSamples) to a manifest that reads to the same rows.
func FuzzSamplesJSONL(f *testing.F) {
	addFiles(f, "../reports/testdata/run/samples.jsonl")
	f.Add([]byte(`{"id":"a","subject":"s","variant":"v","reference":"r.png","prompt":"p","generated":"g.png"}` + "\n"))
	f.Add([]byte(`{"id":"a","subject":"s","variant":"v","reference":"r.png","prompt":"p","generated":"g.png","world":{"transform":"pose"}}` + "\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzcheck.File(t, "m.jsonl", data)
		fuzzcheck.Bounded(t, func() {
			rows, err := ReadSamples(p)
			fuzzcheck.NamesFile(t, err, p)
			if err != nil {
				return
			}
			var buf bytes.Buffer
			if err := WriteSamples(&buf, rows); err != nil {
				t.Fatalf("writing rows read: %v", err)
			}
			again, err := ReadSamples(fuzzcheck.File(t, "again.jsonl", buf.Bytes()))
			if err != nil {
				t.Fatalf("rows written back do not read: %v", err)
			}
			if !reflect.DeepEqual(rows, again) {
				t.Fatalf("rows changed through a write:\n%+v\n%+v", rows, again)
			}
		})
	})
}

// FuzzSamplesCSV: any bytes as a CSV manifest read or fail naming the file.
func FuzzSamplesCSV(f *testing.F) {
	f.Add([]byte("id,subject,variant,reference,prompt,generated\na,s,v,r.png,p,g.png\nb,s,v,r.png,,g2.png\n"))
	f.Add([]byte("generated,id,subject,variant,reference,prompt,reference_mask\ng.png,a,s,v,r.png,\"a, b\",m.png\n"))
	f.Add([]byte("id\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := fuzzcheck.File(t, "m.csv", data)
		fuzzcheck.Bounded(t, func() {
			_, err := ReadSamplesCSV(p)
			fuzzcheck.NamesFile(t, err, p)
		})
	})
}

// FuzzReadRun: any summary.json and samples.jsonl read or fail naming the file; a summary
// that reads writes back (JSON) to one that reads to the same value.
func FuzzReadRun(f *testing.F) {
	sum, err := os.ReadFile("../reports/testdata/run/summary.json")
	if err != nil {
		f.Fatal(err)
	}
	samples, err := os.ReadFile("../reports/testdata/run/samples.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sum, samples)
	f.Add(sum, samples[:len(samples)/2])
	f.Add([]byte(`{"variants":{}}`), []byte(""))
	f.Fuzz(func(t *testing.T, sum, samples []byte) {
		dir := t.TempDir()
		if os.WriteFile(filepath.Join(dir, SummaryFile), sum, 0o644) != nil || os.WriteFile(filepath.Join(dir, SamplesFile), samples, 0o644) != nil {
			t.Fatal("writing the run")
		}
		fuzzcheck.Bounded(t, func() {
			r, err := ReadRun(dir)
			fuzzcheck.NamesFile(t, err, dir)
			if err != nil {
				return
			}
			out, err := json.Marshal(r.Summary)
			if err != nil {
				t.Fatalf("writing a summary read: %v", err)
			}
			var again *Summary
			if err := json.Unmarshal(out, &again); err != nil || !reflect.DeepEqual(r.Summary, again) {
				t.Fatalf("summary changed through a write (%v)", err)
			}
		})
	})
}
