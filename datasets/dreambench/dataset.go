// Package dreambench reads DreamBench, the DreamBooth benchmark (its dataset/ folder: one
// folder of photos per subject and prompts_and_classes.txt), and pairs a folder of generated
// images with its subjects, prompts and reference photos as a charis manifest.
package dreambench

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/readfile"
)

// PromptsFile is the dataset's list of subjects, classes and prompts.
const PromptsFile = "prompts_and_classes.txt"

// Dataset is DreamBench's subjects and its two prompt lists.
type Dataset struct {
	Dir      string
	Subjects []Subject // in the file's order
	// Object and Live are the prompt templates of object and live subjects, "{0}" standing
	// for the unique token and "{1}" for the class, as the dataset writes them.
	Object, Live []string
}

// Subject is one of the dataset's subjects.
type Subject struct {
	Name, Class string
	// Live subjects (DreamBooth's 9 cats and dogs) get the live-subject prompts (outfits,
	// accessories); the 21 objects get the object prompts.
	Live bool
	// Photos are the subject's photos, sorted by name.
	Photos []string
}

// Prompts returns the subject's prompt templates.
func (d *Dataset) Prompts(s Subject) []string {
	if s.Live {
		return d.Live
	}
	return d.Object
}

// Prompt is the text of a prompt template for a subject, with its unique token.
func Prompt(template, token string, s Subject) string {
	return strings.NewReplacer("{0}", token, "{1}", s.Class).Replace(template)
}

// liveClasses are the classes DreamBooth counts as live subjects: its paper's 9 live
// subjects are the dataset's cats and dogs.
var liveClasses = map[string]bool{"cat": true, "dog": true}

var (
	promptRE  = regexp.MustCompile(`^'(.*)'\.format\(unique_token, class_token\),?$`)
	subjectRE = regexp.MustCompile(`^([A-Za-z0-9_]+),([^,]+)$`)
)

// Load reads dir/prompts_and_classes.txt and finds each subject's photos in dir/SUBJECT/.
func Load(dir string) (*Dataset, error) {
	path := filepath.Join(dir, PromptsFile)
	data, err := readfile.Read("DreamBench prompt list", path, readfile.MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	d := &Dataset{Dir: dir}
	errAt := func(line int, format string, args ...any) error {
		return &charis.FieldError{File: path, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	var list *[]string // the prompt list being read
	section := ""
	seen := map[string]int{}
	for i, raw := range strings.Split(string(data), "\n") {
		line, n := strings.TrimSpace(raw), i+1
		switch {
		case line == "" || line == "Classes" || line == "Prompts" || line == "subject_name,class":
		case line == "Object Prompts":
			section, list = line, &d.Object
		case line == "Live Subject Prompts":
			section, list = line, &d.Live
		case line == "prompt_list = [" || line == "]":
			if list == nil {
				return nil, errAt(n, "%q before a prompts heading", line)
			}
		case list != nil:
			m := promptRE.FindStringSubmatch(line)
			if m == nil {
				return nil, errAt(n, "want a prompt as the dataset writes it ('a {0} {1} in the snow'.format(unique_token, class_token)), got %q", line)
			}
			if !strings.Contains(m[1], "{0}") || !strings.Contains(m[1], "{1}") {
				return nil, errAt(n, "prompt %q lacks {0} (the token) or {1} (the class)", m[1])
			}
			*list = append(*list, m[1])
		default:
			m := subjectRE.FindStringSubmatch(line)
			if m == nil {
				return nil, errAt(n, "want \"subject_name,class\", got %q", line)
			}
			if prev, dup := seen[m[1]]; dup {
				return nil, errAt(n, "subject %q already on line %d", m[1], prev)
			}
			seen[m[1]] = n
			d.Subjects = append(d.Subjects, Subject{Name: m[1], Class: m[2], Live: liveClasses[m[2]]})
		}
	}
	switch {
	case len(d.Subjects) == 0:
		return nil, errAt(0, "no subjects (a \"subject_name,class\" list)")
	case len(d.Object) == 0:
		return nil, errAt(0, "no object prompts (an \"Object Prompts\" list)")
	case len(d.Live) == 0:
		return nil, errAt(0, "no live-subject prompts (a \"Live Subject Prompts\" list; last section read: %q)", section)
	}
	for i := range d.Subjects {
		s := &d.Subjects[i]
		if s.Photos, err = photos(filepath.Join(dir, s.Name)); err != nil {
			return nil, fmt.Errorf("subject %s (%s line %d): %w", s.Name, path, seen[s.Name], err)
		}
	}
	return d, nil
}

// imageExts are the extensions read as images, in the order a layout tries them.
var imageExts = []string{"png", "jpg", "jpeg", "webp"}

func photos(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(e.Name()), "."))
		if e.Type().IsRegular() && slices.Contains(imageExts, ext) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s holds no photos (%s)", dir, strings.Join(imageExts, ", "))
	}
	slices.Sort(out)
	return out, nil
}
