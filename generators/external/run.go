package external

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrNoTrain says the program announced no train capability: it generates as it is.
var ErrNoTrain = errors.New("the program does not train")

// Train runs one train request (version 2) and returns when the program answers done and
// exits 0; ErrNoTrain when the program does not announce the train capability.
func (p *Program) Train(ctx context.Context, req TrainRequest) error {
	if p.Protocol != V2 {
		return fmt.Errorf("protocol %d has no train request (declare protocol: 2)", p.Protocol)
	}
	s, err := p.start(ctx)
	if err != nil {
		return err
	}
	if !s.has(CapTrain) {
		s.kill()
		s.wait()
		return ErrNoTrain
	}
	req.Type = typeTrain
	if req.ID == "" {
		req.ID = "train"
	}
	if err := s.send(req); err != nil {
		return s.fail(err)
	}
	for {
		r, err := s.next(ctx, true)
		if errors.Is(err, io.EOF) {
			return s.withStderr(fmt.Errorf("the program exited before answering the train request (%v)", s.wait()))
		}
		if err != nil {
			return s.fail(err)
		}
		if r.ID != req.ID {
			return s.fail(fmt.Errorf("output line %d answers unknown id %q (the train request is %q)", s.line, r.ID, req.ID))
		}
		switch r.Type {
		case typeProgress:
			if p.Progress != nil {
				p.Progress(r.ID, r.Done, r.Total, r.Message)
			}
		case typeDone:
			if err := s.wait(); err != nil {
				return s.withStderr(err)
			}
			return nil
		case typeError:
			s.wait()
			return s.withStderr(fmt.Errorf("training failed: %s", r.Error))
		default:
			return s.fail(fmt.Errorf("output line %d: unexpected message type %q to a train request", s.line, r.Type))
		}
	}
}

// Result is one answered generate request: the image written, or the program's error.
type Result struct {
	ID    string
	Image string // set on success (the file exists)
	Error string // set when the program failed this sample
}

// Generate sends every request and calls answered for each answer as it arrives (in any
// order), so the caller can record finished images at once. It returns when every request
// is answered and the program exited 0; a protocol fault or a program that ends early is
// an error, and the answers already passed to answered stand.
func (p *Program) Generate(ctx context.Context, reqs []GenerateRequest, answered func(Result) error) error {
	s, err := p.start(ctx)
	if err != nil {
		return err
	}
	if p.Protocol == V2 && !s.has(CapGenerate) {
		return s.fail(fmt.Errorf("the program does not announce the %q capability (it said %v)", CapGenerate, s.caps))
	}
	pending := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		pending[r.ID] = true
	}
	writeErr := make(chan error, 1)
	go func() { // requests flow while answers are read: a pipe never fills on both sides
		for _, r := range reqs {
			var msg any = v1Request{ID: r.ID, Reference: r.Reference, Prompt: r.Prompt, Out: r.Out}
			if p.Protocol == V2 {
				r.Type = typeGenerate
				msg = r
			}
			if err := s.send(msg); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	total := len(reqs)
	for len(pending) > 0 {
		r, err := s.next(ctx, true)
		if errors.Is(err, io.EOF) {
			werr := <-writeErr
			return s.withStderr(fmt.Errorf("the program ended its output after answering %d of %d requests (exit: %v, input: %v)",
				total-len(pending), total, errorOrOK(s.wait()), errorOrOK(werr)))
		}
		if err != nil {
			return s.fail(err)
		}
		if p.Protocol == V2 && r.Type == typeProgress {
			if p.Progress != nil {
				p.Progress(r.ID, r.Done, r.Total, r.Message)
			}
			continue
		}
		if !pending[r.ID] {
			return s.fail(fmt.Errorf("output line %d answers unknown id %q (or answers it twice)", s.line, r.ID))
		}
		res := Result{ID: r.ID}
		switch {
		case r.Error != "" || r.Type == typeError:
			res.Error = r.Error
			if res.Error == "" {
				res.Error = "the program reported an error without a message"
			}
		case r.Image != "" && (p.Protocol == V1 || r.Type == typeImage):
			if _, err := os.Stat(r.Image); err != nil {
				return s.fail(fmt.Errorf("output line %d: id %q answers image %s, which is missing (%v)", s.line, r.ID, r.Image, err))
			}
			res.Image = r.Image
		default:
			return s.fail(fmt.Errorf("output line %d: id %q: want an image or an error, got %+v", s.line, r.ID, *r))
		}
		delete(pending, r.ID)
		if err := answered(res); err != nil {
			return s.fail(err)
		}
	}
	if err := <-writeErr; err != nil {
		return s.fail(err)
	}
	if err := s.wait(); err != nil {
		return s.withStderr(err)
	}
	return nil
}

func errorOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
