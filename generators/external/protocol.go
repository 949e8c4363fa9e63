// Package external drives a generator that is another program — a researcher's PyTorch
// FLUX + LoRA pipeline, say — through the exec protocol (docs/ablations.md): JSON lines on
// the program's standard input and output.
//
// Version 2 opens with a handshake, then carries either one train request (the variant's
// settings, a checkpoint folder, training data) or generate requests (settings,
// checkpoint, reference, prompt, seed, output path), answered per request with an image or
// an error, with optional progress lines. Version 1 (no handshake; requests of id,
// reference, prompt, out) is still spoken to programs declared with protocol 1.
//
// It promises: every protocol fault (a line that is not JSON, an answer to an unknown id,
// an image file that is missing, a program that exits early or non-zero, one that stays
// silent past the sample timeout) is an error that says what happened, with the tail of
// the program's standard error; the program runs in its own process group, is killed with
// it when the context ends, and on Linux dies with charisbench (a parent-death signal), so
// it never outlives a killed run and races its resumption.
package external

import "time"

// Protocol versions.
const (
	V1 = 1
	V2 = 2
)

// Capabilities a v2 program may announce in its handshake.
const (
	CapTrain    = "train"
	CapGenerate = "generate"
	CapProgress = "progress"
)

// Message types.
const (
	typeHello    = "hello"
	typeTrain    = "train"
	typeGenerate = "generate"
	typeImage    = "image"
	typeDone     = "done"
	typeError    = "error"
	typeProgress = "progress"
)

// hello is the handshake both sides send first (version 2).
type hello struct {
	Type         string   `json:"type"`
	Protocol     int      `json:"protocol"`
	Capabilities []string `json:"capabilities,omitempty"`
}

// TrainRequest asks the program to train one variant into Checkpoint.
type TrainRequest struct {
	Type       string         `json:"type"` // "train"
	ID         string         `json:"id"`
	Variant    string         `json:"variant"`
	Settings   map[string]any `json:"settings"`   // the variant's settings, typed; unknown keys passed through
	Checkpoint string         `json:"checkpoint"` // absolute folder to write the checkpoint into
	Data       string         `json:"data"`       // absolute path of the training manifest (charisbench's sample format)
}

// GenerateRequest asks for one image.
type GenerateRequest struct {
	Type          string         `json:"type"` // "generate"
	ID            string         `json:"id"`
	Variant       string         `json:"variant"`
	Settings      map[string]any `json:"settings"`
	Checkpoint    string         `json:"checkpoint,omitempty"` // absolute; empty for a variant without a train stage
	Reference     string         `json:"reference"`            // absolute path of the reference image
	ReferenceMask string         `json:"reference_mask,omitempty"`
	Prompt        string         `json:"prompt"`
	Seed          uint64         `json:"seed"`
	Out           string         `json:"out"` // absolute path of the PNG to write
}

// v1Request is version 1's request line.
type v1Request struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
	Prompt    string `json:"prompt"`
	Out       string `json:"out"`
}

// response is any line the program writes; version 1 lines have no type.
type response struct {
	Type         string   `json:"type"`
	Protocol     int      `json:"protocol"`
	Capabilities []string `json:"capabilities"`
	ID           string   `json:"id"`
	Image        string   `json:"image"`
	Error        string   `json:"error"`
	Done         int      `json:"done"`
	Total        int      `json:"total"`
	Message      string   `json:"message"`
}

// Progress reports a program's progress lines: done of total (steps or images).
type Progress func(id string, done, total int, message string)

// Default timeouts.
const (
	DefaultSampleTimeout = 30 * time.Minute // silence allowed while a request is pending
	stderrTail           = 4096             // bytes of standard error kept for errors
)
