// Command fakegen is a test generator speaking exec protocol version 2. It trains by
// writing its settings into the checkpoint folder, and generates by copying the reference
// to the requested output. The environment steers it:
//
//	FAKEGEN_LOG    append each request's id to this file as it arrives
//	FAKEGEN_PID    write the process id here at start
//	FAKEGEN_DELAY  sleep this long (a Go duration) before each image
//	FAKEGEN_FAULT  misbehave: malformed, unknown-id, missing-image, early-exit, crash,
//	               silent, no-train, bad-hello
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

type msg struct {
	Type       string         `json:"type"`
	Protocol   int            `json:"protocol"`
	ID         string         `json:"id"`
	Settings   map[string]any `json:"settings"`
	Checkpoint string         `json:"checkpoint"`
	Data       string         `json:"data"`
	Reference  string         `json:"reference"`
	Prompt     string         `json:"prompt"`
	Seed       uint64         `json:"seed"`
	Out        string         `json:"out"`
}

func main() {
	fault := os.Getenv("FAKEGEN_FAULT")
	if p := os.Getenv("FAKEGEN_PID"); p != "" {
		os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())), 0o644)
	}
	delay, _ := time.ParseDuration(os.Getenv("FAKEGEN_DELAY"))
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	answered := 0
	for in.Scan() {
		var m msg
		if err := json.Unmarshal(in.Bytes(), &m); err != nil {
			fmt.Fprintln(os.Stderr, "fakegen: bad request:", err)
			os.Exit(2)
		}
		if f := os.Getenv("FAKEGEN_LOG"); f != "" && m.ID != "" {
			lf, _ := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			fmt.Fprintln(lf, m.ID)
			lf.Close()
		}
		switch m.Type {
		case "hello":
			caps := []string{"train", "generate", "progress"}
			if fault == "no-train" {
				caps = []string{"generate"}
			}
			proto := 2
			if fault == "bad-hello" {
				proto = 7
			}
			out.Encode(map[string]any{"type": "hello", "protocol": proto, "capabilities": caps})
		case "train":
			out.Encode(map[string]any{"type": "progress", "id": m.ID, "done": 1, "total": 2})
			b, _ := json.Marshal(m.Settings)
			os.WriteFile(filepath.Join(m.Checkpoint, "settings.json"), b, 0o644)
			out.Encode(map[string]any{"type": "progress", "id": m.ID, "done": 2, "total": 2})
			out.Encode(map[string]any{"type": "done", "id": m.ID})
		case "generate":
			time.Sleep(delay)
			switch {
			case fault == "malformed":
				fmt.Println("this is not json")
				continue
			case fault == "unknown-id":
				out.Encode(map[string]any{"type": "image", "id": "nobody", "image": m.Out})
				continue
			case fault == "missing-image":
				out.Encode(map[string]any{"type": "image", "id": m.ID, "image": m.Out + ".nowhere"})
				continue
			case fault == "early-exit" && answered == 1:
				os.Exit(0)
			case fault == "crash" && answered == 1:
				fmt.Fprintln(os.Stderr, "RuntimeError: CUDA out of memory (simulated)")
				os.Exit(3)
			case fault == "silent":
				time.Sleep(time.Hour)
			}
			data, err := os.ReadFile(m.Reference)
			if err == nil {
				err = os.WriteFile(m.Out, data, 0o644)
			}
			if err != nil {
				out.Encode(map[string]any{"type": "error", "id": m.ID, "error": err.Error()})
			} else {
				out.Encode(map[string]any{"type": "image", "id": m.ID, "image": m.Out})
			}
			answered++
		}
	}
}
