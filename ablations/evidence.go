package ablations

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/readfile"
	"github.com/charisbench/charisbench/metrics"
	"github.com/charisbench/charisbench/metrics/score"
	"github.com/charisbench/charisbench/metrics/ssim"
	"github.com/charisbench/charisbench/reports"
)

// evidenceRow is one generator's line of the evidence table.
type evidenceRow struct {
	name      string
	run       *charis.Run
	retrieval *score.Retrieval
	ssimMean  float64
	ssimCI    [2]float64
	manifest  []charis.Sample
	dir       string // the manifest's folder
}

// contactSheetFile is the contact sheet's name in the report folder.
const contactSheetFile = "contact_sheet.png"

// contactSamples is how many samples the contact sheet shows.
const contactSamples = 12

// ssimSize is the gray square the copy-paste SSIM compares at: fine enough that only a copy
// of the reference scores near 1.
const ssimSize = 128

// writeEvidence writes what a person can check by eye beside the scores: evidence.md (per
// generator, identity retrieval top-1 among the benchmark's references, IC and VQ as a
// share of the ground truth's, SSIM of the generated image to the reference) and
// contact_sheet.png (reference, ground truth and each variant, per sample).
func writeEvidence(out, dir string, vs []Variant) ([]string, reports.Section, error) {
	var rows []*evidenceRow
	add := func(name, runDir, manifest string) error {
		r, err := charis.ReadRun(runDir)
		if err != nil {
			return err
		}
		row := &evidenceRow{name: name, run: r, dir: filepath.Dir(manifest)}
		data, err := readfile.Read("identity retrieval", filepath.Join(runDir, RetrievalFile), readfile.MaxStateBytes)
		if err == nil {
			var ret map[string]score.Retrieval
			if err := json.Unmarshal(data, &ret); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(runDir, RetrievalFile), err)
			}
			if x, ok := ret[name]; ok {
				row.retrieval = &x
			}
		}
		// A variant merged from shards has its scored run here but not its images.
		row.ssimMean = math.NaN()
		if _, err := os.Stat(manifest); err == nil {
			if row.manifest, err = charis.ReadManifest(manifest); err != nil {
				return err
			}
			if row.ssimMean, row.ssimCI, err = copySSIM(row); err != nil {
				return err
			}
		}
		rows = append(rows, row)
		return nil
	}
	truthDir := filepath.Join(out, GroundTruth)
	if _, err := os.Stat(filepath.Join(truthDir, "run", charis.SummaryFile)); err == nil {
		if err := add(GroundTruth, filepath.Join(truthDir, "run"), filepath.Join(truthDir, "manifest.jsonl")); err != nil {
			return nil, reports.Section{}, err
		}
	}
	for _, v := range vs {
		vdir := filepath.Join(out, "variants", v.Name)
		if err := add(v.Name, filepath.Join(vdir, "run"), filepath.Join(vdir, "generated", "manifest.jsonl")); err != nil {
			return nil, reports.Section{}, err
		}
	}
	sec := evidenceSection(rows)
	md := filepath.Join(dir, "evidence.md")
	if err := os.WriteFile(md, []byte(sec.Markdown()), 0o644); err != nil {
		return nil, sec, err
	}
	sheet := filepath.Join(dir, contactSheetFile)
	if err := os.Remove(sheet); err != nil && !os.IsNotExist(err) { // a previous report's
		return nil, sec, err
	}
	if err := contactSheet(sheet, rows); err != nil {
		return nil, sec, err
	}
	if _, err := os.Stat(sheet); err != nil { // no variant with its images here (merged shards)
		return []string{md}, sec, nil
	}
	return []string{md, sheet}, sec, nil
}

// copySSIM is the mean SSIM of each generated image to its reference, with a 95% bootstrap
// interval over subjects: near 1 is a copy of the reference. NaN when no image is readable.
func copySSIM(row *evidenceRow) (float64, [2]float64, error) {
	bySubject := map[string][]float64{}
	var subjects []string
	refs := map[string]ssim.Gray{} // a subject's reference serves all its samples
	for _, s := range row.manifest {
		r, ok := refs[s.Reference]
		if !ok {
			var err error
			if r, err = grayAt(row.dir, s.Reference); err != nil {
				return 0, [2]float64{}, err
			}
			refs[s.Reference] = r
		}
		g, err := grayAt(row.dir, s.Generated)
		if err != nil {
			continue // a failed generation: its sample's error in the scored run
		}
		v, err := ssim.SSIM(r, g, 255)
		if err != nil {
			return 0, [2]float64{}, fmt.Errorf("%s: %w", s.Generated, err)
		}
		if _, ok := bySubject[s.Subject]; !ok {
			subjects = append(subjects, s.Subject)
		}
		bySubject[s.Subject] = append(bySubject[s.Subject], v)
	}
	mean := func(pick func(i int) string) float64 {
		sum, n := 0.0, 0
		for i := range subjects {
			for _, v := range bySubject[pick(i)] {
				sum += v
				n++
			}
		}
		return sum / float64(n)
	}
	if len(subjects) == 0 {
		return math.NaN(), [2]float64{math.NaN(), math.NaN()}, nil
	}
	m := mean(func(i int) string { return subjects[i] })
	rng := rand.New(rand.NewPCG(1, 1))
	draws := make([]float64, 1000)
	for d := range draws {
		draws[d] = mean(func(int) string { return subjects[rng.IntN(len(subjects))] })
	}
	return m, charis.PercentileCI(draws, 0.95), nil
}

func grayAt(dir, p string) (ssim.Gray, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	img, err := imageio.ReadFile(p, imageio.Options{})
	if err != nil {
		return ssim.Gray{}, fmt.Errorf("%s: %w", p, err)
	}
	return metrics.GrayResized(img, ssimSize)
}

func evidenceSection(rows []*evidenceRow) reports.Section {
	var truth *charis.VariantSummary
	for _, r := range rows {
		if r.name == GroundTruth {
			truth = r.run.Summary.Variants[GroundTruth]
		}
	}
	t := &reports.Table{
		Head:    []string{"generator", "identity top-1", "IC", "IC / truth", "CF", "CF / truth", "VQ", "VQ / truth", "SSIM to reference", "CHARIS", "masks"},
		Numeric: []bool{false, true, true, true, true, true, true, true, true, true, false},
	}
	stat := func(s charis.Stat) string { return fmt.Sprintf("%.3f [%.3f, %.3f]", s.Mean, s.CI[0], s.CI[1]) }
	for _, r := range rows {
		v := r.run.Summary.Variants[r.name]
		if v == nil || v.CHARIS == nil {
			t.Rows = append(t.Rows, []string{r.name, "–", "–", "–", "–", "–", "–", "–", "–", "–", "–"})
			continue
		}
		top1 := "–"
		if r.retrieval != nil {
			unreadable := ""
			if r.retrieval.Failed > 0 {
				unreadable = fmt.Sprintf("%d unreadable; ", r.retrieval.Failed)
			}
			top1 = fmt.Sprintf("%.3f (%d of %d; %schance %.3f)", r.retrieval.Top1,
				int(math.Round(r.retrieval.Top1*float64(r.retrieval.Samples))), r.retrieval.Samples, unreadable, r.retrieval.Chance)
		}
		ratio := func(axis string) string {
			if truth == nil || truth.Axes[axis].Mean == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f", v.Axes[axis].Mean/truth.Axes[axis].Mean)
		}
		copyCell := "–"
		if !math.IsNaN(r.ssimMean) {
			copyCell = fmt.Sprintf("%.3f [%.3f, %.3f]", r.ssimMean, r.ssimCI[0], r.ssimCI[1])
		}
		t.Rows = append(t.Rows, []string{r.name, top1,
			stat(v.Axes[charis.AxisIC]), ratio(charis.AxisIC), stat(v.Axes[charis.AxisCF]), ratio(charis.AxisCF),
			stat(v.Axes[charis.AxisVQ]), ratio(charis.AxisVQ), copyCell, stat(*v.CHARIS), reports.MaskSources(v.MaskSources)})
	}
	return reports.Section{
		Title: "Evidence: identity retrieval, IC, CF and VQ against the ground truth, copy-paste",
		Table: t,
		Note: "Identity top-1: the share of generated images whose nearest benchmark reference (identity encoder, CLS cosine) is their own subject's. " +
			"Intervals: 95% bootstrap over subjects. The ground truth is the benchmark's targets scored without their masks, as generated images have none: " +
			"every generated image's mask comes from the model manifest's segmenter where it has one, else the whole image counts " +
			"(masks: the scored samples by mask source, docs/metric.md). CF is over the samples whose prompt does not license a colour change. " +
			"SSIM to reference near 1 is copy-paste.",
	}
}

// contactSheet lays out, for the first samples, the reference, then each generator's image.
func contactSheet(path string, rows []*evidenceRow) error {
	rows = slices.DeleteFunc(slices.Clone(rows), func(r *evidenceRow) bool { return r.manifest == nil })
	if len(rows) == 0 {
		return nil
	}
	columns := []string{"reference"}
	for _, r := range rows {
		columns = append(columns, r.name)
	}
	byID := make([]map[string]charis.Sample, len(rows))
	for i, r := range rows {
		byID[i] = map[string]charis.Sample{}
		for _, s := range r.manifest {
			byID[i][s.ID] = s
		}
	}
	resolve := func(dir, p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	var sheet []reports.ContactRow
	for _, s := range rows[0].manifest[:min(contactSamples, len(rows[0].manifest))] {
		row := reports.ContactRow{Label: s.ID, Images: []string{resolve(rows[0].dir, s.Reference)}}
		for i, r := range rows {
			row.Images = append(row.Images, resolve(r.dir, byID[i][s.ID].Generated))
		}
		sheet = append(sheet, row)
	}
	return reports.ContactSheet(path, columns, sheet)
}
