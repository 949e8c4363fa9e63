package score

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/charisbench/charisbench/charis"
)

// TestShardsMerge: three shards of a manifest, scored apart and merged, give the unsharded
// run's samples.jsonl byte for byte and its summary (provenance aside); merge refuses what
// does not belong together.
func TestShardsMerge(t *testing.T) {
	rt := openRuntime(t)
	dir := buildWorld(t, 5, 2, "blur@1")
	whole := options(t, rt, dir)
	if _, err := Run(context.Background(), whole); err != nil {
		t.Fatal(err)
	}
	var shards []string
	subjects := map[string]int{}
	for i := range 3 {
		o := options(t, rt, dir)
		o.Shard = &charis.Shard{Index: i, Count: 3}
		if _, err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		for _, r := range readResults(t, o.Out) {
			if prev, ok := subjects[r.Subject]; ok && prev != i {
				t.Fatalf("subject %s split over shards %d and %d", r.Subject, prev, i)
			}
			subjects[r.Subject] = i
		}
		shards = append(shards, o.Out)
	}
	out := t.TempDir()
	if _, err := Merge(out, []string{shards[2], shards[0], shards[1]}); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if read(filepath.Join(out, charis.SamplesFile)) != read(filepath.Join(whole.Out, charis.SamplesFile)) {
		t.Fatal("merged samples.jsonl differs from the unsharded run's")
	}
	summary := func(p string) charis.Summary {
		var s charis.Summary
		if err := json.Unmarshal([]byte(read(filepath.Join(p, charis.SummaryFile))), &s); err != nil {
			t.Fatal(err)
		}
		s.Provenance = charis.Provenance{}
		return s
	}
	if !reflect.DeepEqual(summary(out), summary(whole.Out)) {
		t.Fatal("merged summary differs from the unsharded run's")
	}

	other := options(t, rt, buildWorld(t, 5, 3, "blur@1"))
	other.Shard = &charis.Shard{Index: 1, Count: 3}
	if _, err := Run(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dirs []string
		want string
	}{
		{[]string{shards[0], shards[1]}, "shard 2/3 is missing"},
		{[]string{shards[0], shards[1], shards[1]}, "shard 1/3 is given twice"},
		{[]string{shards[0], other.Out, shards[2]}, "scored another manifest"},
		{[]string{shards[0], whole.Out, shards[2]}, "is not a shard"},
	} {
		if _, err := Merge(t.TempDir(), c.dirs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("merge of %v: %v, want %q", c.dirs, err, c.want)
		}
	}
}
