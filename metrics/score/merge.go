package score

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/readfile"
)

// Merge joins the scored runs of every shard of one manifest (score --shard i/n) into out:
// samples.jsonl in manifest order and summary.json recomputed over all samples, equal to
// an unsharded run's but for the provenance's shard field. It refuses shards of different
// manifests, metric configs, encoders or calibrations, a shard missing or given twice, and
// a sample missing or scored twice.
func Merge(out string, dirs []string) (*charis.Summary, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no shard folders to merge")
	}
	runs := make([]*charis.Run, len(dirs))
	for i, d := range dirs {
		r, err := charis.ReadRun(d)
		if err != nil {
			return nil, err
		}
		if r.Summary.Provenance.Shard == nil {
			return nil, fmt.Errorf("%s is not a shard (scored without --shard): nothing to merge", d)
		}
		runs[i] = r
	}
	first := &runs[0].Summary.Provenance
	seen := map[int]string{}
	for i, r := range runs {
		d, p := dirs[i], &r.Summary.Provenance
		switch {
		case p.ManifestSHA256 != first.ManifestSHA256:
			return nil, fmt.Errorf("%s scored another manifest (sha256 %.12s) than %s (%.12s)", d, p.ManifestSHA256, dirs[0], first.ManifestSHA256)
		case p.Shard.Count != first.Shard.Count:
			return nil, fmt.Errorf("%s is shard %d/%d, %s one of %d shards", d, p.Shard.Index, p.Shard.Count, dirs[0], first.Shard.Count)
		}
		if err := first.SameSetup(p); err != nil {
			return nil, fmt.Errorf("%s and %s: %w", dirs[0], d, err)
		}
		if prev, dup := seen[p.Shard.Index]; dup {
			return nil, fmt.Errorf("shard %d/%d is given twice: %s and %s", p.Shard.Index, p.Shard.Count, prev, d)
		}
		seen[p.Shard.Index] = d
	}
	prov := runs[0].Summary.Provenance
	for i := range prov.Shard.Count {
		if _, ok := seen[i]; !ok {
			return nil, fmt.Errorf("shard %d/%d is missing (got %d of %d shard folders)", i, prov.Shard.Count, len(seen), prov.Shard.Count)
		}
	}
	samples, err := charis.ReadManifest(prov.Manifest)
	if err != nil {
		return nil, fmt.Errorf("the shards' manifest: %w", err)
	}
	if h, err := readfile.SHA256("the shards' manifest", prov.Manifest); err != nil || h != prov.ManifestSHA256 {
		return nil, fmt.Errorf("%s changed since the shards were scored (its sha256 differs)", prov.Manifest)
	}
	byID := map[string]charis.SampleResult{}
	for i, r := range runs {
		for _, s := range r.Samples {
			if _, dup := byID[s.ID]; dup {
				return nil, fmt.Errorf("sample %s is scored in two shards (%s and another)", s.ID, dirs[i])
			}
			byID[s.ID] = s
		}
	}
	results := make([]charis.SampleResult, 0, len(samples))
	for _, s := range samples {
		r, ok := byID[s.ID]
		if !ok {
			return nil, fmt.Errorf("sample %s of %s is in no shard", s.ID, prov.Manifest)
		}
		results = append(results, r)
	}
	if len(results) != len(byID) {
		return nil, fmt.Errorf("the shards hold %d samples, the manifest %d", len(byID), len(results))
	}
	prov.Shard = nil
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	if err := writeJSONLines(filepath.Join(out, charis.SamplesFile), results); err != nil {
		return nil, err
	}
	sum := summarize(results, prov)
	return sum, writeJSON(filepath.Join(out, charis.SummaryFile), sum)
}
