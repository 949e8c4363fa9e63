package external

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Program is an external generator.
type Program struct {
	Command       []string
	Dir           string        // working directory; "": charisbench's
	Protocol      int           // V1 or V2
	SampleTimeout time.Duration // silence allowed while an answer is pending; 0: DefaultSampleTimeout
	Stderr        io.Writer     // the program's standard error is copied here (and its tail kept); nil: discarded
	Progress      Progress      // progress lines (version 2); nil: ignored
}

// session is one run of the program.
type session struct {
	p       *Program
	cmd     *exec.Cmd
	stdin   *os.File
	lines   *bufio.Scanner
	line    int
	tail    *tailBuffer
	done    chan struct{} // closed when the process is reaped; waitErr is then set
	waitErr error
	caps    []string
}

// start launches the program in its own process group, dying with this process where the
// system allows, and performs the version 2 handshake.
func (p *Program) start(ctx context.Context) (*session, error) {
	if len(p.Command) == 0 {
		return nil, errors.New("no command")
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	s := &session{p: p, stdin: inW, tail: &tailBuffer{max: stderrTail}, done: make(chan struct{})}
	s.cmd = exec.Command(p.Command[0], p.Command[1:]...)
	s.cmd.Dir = p.Dir
	s.cmd.Stdin, s.cmd.Stdout = inR, outW
	s.cmd.Stderr = s.tail
	if p.Stderr != nil {
		s.cmd.Stderr = io.MultiWriter(p.Stderr, s.tail)
	}
	s.cmd.SysProcAttr = procAttr()
	started := make(chan error, 1)
	go func() {
		// The parent-death signal is tied to the thread that started the child: keep that
		// thread alive, and this goroutine on it, until the child is reaped.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	err = <-started
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("starting %s: %w", p.Command[0], err)
	}
	go func() { // the context ends the whole process group
		select {
		case <-ctx.Done():
			s.kill()
		case <-s.done:
		}
	}()
	s.lines = bufio.NewScanner(outR)
	s.lines.Buffer(make([]byte, 64*1024), 16<<20)
	if p.Protocol == V2 {
		if err := s.send(hello{Type: typeHello, Protocol: V2}); err != nil {
			return nil, s.fail(err)
		}
		r, err := s.next(ctx, true)
		if errors.Is(err, io.EOF) {
			return nil, s.withStderr(fmt.Errorf("the program ended its output before the handshake (exit: %s)", errorOrOK(s.wait())))
		}
		if err != nil {
			return nil, s.fail(err)
		}
		if r.Type != typeHello || r.Protocol != V2 {
			return nil, s.fail(fmt.Errorf("output line %d: want the handshake {\"type\":\"hello\",\"protocol\":2,...}, got type %q protocol %d", s.line, r.Type, r.Protocol))
		}
		s.caps = r.Capabilities
	}
	return s, nil
}

func (s *session) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := s.stdin.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing to the program: %w", err)
	}
	return nil
}

// next reads the next line, skipping blank ones; pending says whether an answer is owed
// (the sample timeout applies). io.EOF when the program closed its output.
func (s *session) next(ctx context.Context, pending bool) (*response, error) {
	type result struct {
		ok  bool
		err error
	}
	for {
		ch := make(chan result, 1)
		go func() { ok := s.lines.Scan(); ch <- result{ok, s.lines.Err()} }()
		timeout := s.p.SampleTimeout
		if timeout <= 0 {
			timeout = DefaultSampleTimeout
		}
		var timer <-chan time.Time
		var t *time.Timer
		if pending {
			t = time.NewTimer(timeout)
			timer = t.C
		}
		var res result
		select {
		case res = <-ch:
			if t != nil {
				t.Stop()
			}
		case <-timer:
			s.kill()
			<-ch
			return nil, fmt.Errorf("no answer for %s (the sample timeout)", timeout)
		case <-ctx.Done():
			s.kill()
			<-ch
			return nil, ctx.Err()
		}
		if !res.ok {
			if res.err != nil {
				return nil, res.err
			}
			return nil, io.EOF
		}
		s.line++
		text := strings.TrimSpace(s.lines.Text())
		if text == "" {
			continue
		}
		var r response
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			return nil, fmt.Errorf("output line %d is not a JSON message (%v): %.120q", s.line, err, text)
		}
		return &r, nil
	}
}

func (s *session) kill() {
	if s.cmd.Process != nil {
		killGroup(s.cmd.Process.Pid)
	}
}

// wait closes the program's input and waits for it; an exit status other than 0 is an error.
func (s *session) wait() error {
	s.stdin.Close()
	<-s.done
	if s.waitErr != nil {
		return fmt.Errorf("the program %w", s.waitErr)
	}
	return nil
}

// fail ends the program after a protocol fault and adds what it said on standard error.
func (s *session) fail(err error) error {
	s.kill()
	s.stdin.Close()
	<-s.done
	return s.withStderr(err)
}

func (s *session) withStderr(err error) error {
	if t := strings.TrimSpace(s.tail.String()); t != "" {
		return fmt.Errorf("%w; the end of its standard error:\n%s", err, t)
	}
	return err
}

// has reports whether the program announced a capability (version 2).
func (s *session) has(c string) bool { return slices.Contains(s.caps, c) }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
