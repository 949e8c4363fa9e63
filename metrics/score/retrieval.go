package score

import (
	"fmt"
	"image"
	"path/filepath"
	"slices"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/readfile"
	"github.com/charisbench/charisbench/metrics/cache"
	"github.com/charisbench/charisbench/metrics/encoder"
)

// Retrieval is identity retrieval of one variant's generated images among a benchmark's
// references: Top1 is the fraction whose nearest reference by the identity encoder's CLS
// token (cosine) is their own subject's; Chance is 1 / Subjects.
type Retrieval struct {
	Top1     float64 `json:"top1"`
	Samples  int     `json:"samples"` // generated images retrieved
	Failed   int     `json:"failed"`  // generated images that could not be read (as scoring, left out)
	Subjects int     `json:"subjects"`
	Chance   float64 `json:"chance"`
}

// retrievalBatch is how many images one identity forward takes.
const retrievalBatch = 16

// IdentityRetrieval measures Retrieval per variant of the manifest at path: every distinct
// reference is the gallery (one per subject), every generated image a query. Identity rows
// come from the embedding cache c (nil: none) where scoring left them, under the key
// scoring uses, so a scored run's images are not encoded again. A reference that cannot be
// read is an error naming it; a generated image that cannot be read is left out and
// counted, as scoring makes it that sample's error.
func IdentityRetrieval(rt *encoder.Runtime, models *charis.ModelManifest, path string, c *cache.Cache) (map[string]Retrieval, error) {
	samples, err := charis.ReadManifest(path)
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("%s: no samples", path)
	}
	id, err := rt.Load(models, charis.RoleIdentity)
	if err != nil {
		return nil, err
	}
	defer id.Close()
	if !id.Spec().Output.HasCLS() {
		return nil, fmt.Errorf("the identity encoder has no CLS token")
	}
	dir := filepath.Dir(path)
	resolve := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	var subjects []string
	refOf := map[string]string{}
	for _, s := range samples {
		if _, ok := refOf[s.Subject]; !ok {
			refOf[s.Subject] = s.Reference
			subjects = append(subjects, s.Subject)
		}
	}
	slices.Sort(subjects)
	keyOf := func(h string) string { return h + "|" + id.CacheKey() + "|" + id.Pixels().ID() }
	// embed returns the CLS token of each readable image (nil for one that is not, or an
	// error when strict).
	embed := func(paths []string, strict bool) ([][]float32, error) {
		out := make([][]float32, len(paths))
		var pxs []*image.RGBA
		var at []int
		var keys []string
		flush := func() error {
			if len(pxs) == 0 {
				return nil
			}
			t, err := id.EncodePixels(pxs)
			if err != nil {
				return err
			}
			for i, k := range at {
				out[k], _, _ = id.Tokens(t, i)
				if c != nil {
					_ = c.Put(kindEmbedding, keys[i], encodeRow(t.Row(i), t.Shape[1:])) // a failed write only costs a later encode
				}
			}
			pxs, at, keys = pxs[:0], at[:0], keys[:0]
			return nil
		}
		for k, p := range paths {
			data, err := readfile.Read("image", resolve(p), readfile.MaxImageBytes)
			var img *image.RGBA
			if err == nil {
				key := keyOf(sha(data))
				if c != nil {
					if b, ok, _ := c.Get(kindEmbedding, key); ok {
						if row, shape, err := decodeRow(b); err == nil && len(shape) == 2 {
							out[k] = row[:shape[1]] // the CLS token comes first
							continue
						}
					}
				}
				if img, err = imageio.Decode(data, p, imageio.Options{}); err == nil {
					var px *image.RGBA
					if px, err = id.Pixels().Pixels(img); err == nil {
						pxs, at, keys = append(pxs, px), append(at, k), append(keys, key)
					}
				}
			}
			if err != nil {
				if strict {
					return nil, fmt.Errorf("%s: %w", p, err)
				}
				continue
			}
			if len(pxs) == retrievalBatch {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
		return out, flush()
	}
	refPaths := make([]string, len(subjects))
	for i, s := range subjects {
		refPaths[i] = refOf[s]
	}
	gallery, err := embed(refPaths, true)
	if err != nil {
		return nil, err
	}
	genPaths := make([]string, len(samples))
	for i, s := range samples {
		genPaths[i] = s.Generated
	}
	queries, err := embed(genPaths, false)
	if err != nil {
		return nil, err
	}
	hits, counts, failed := map[string]int{}, map[string]int{}, map[string]int{}
	for i, q := range queries {
		if q == nil {
			failed[samples[i].Variant]++
			continue
		}
		best, bestSim := -1, -2.0
		for k, g := range gallery {
			if sim := charis.Cosine(q, g); sim > bestSim {
				best, bestSim = k, sim
			}
		}
		v := samples[i].Variant
		counts[v]++
		if subjects[best] == samples[i].Subject {
			hits[v]++
		}
	}
	out := map[string]Retrieval{}
	for _, s := range samples {
		v := s.Variant
		if _, done := out[v]; done {
			continue
		}
		r := Retrieval{Samples: counts[v], Failed: failed[v], Subjects: len(subjects), Chance: 1 / float64(len(subjects))}
		if counts[v] > 0 {
			r.Top1 = float64(hits[v]) / float64(counts[v])
		}
		out[v] = r
	}
	return out, nil
}
