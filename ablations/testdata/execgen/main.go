// Command execgen is a test generator speaking charisbench's exec protocol: for each JSON
// request on standard input it copies the reference image to the requested output, except
// that it fails every request whose id ends in "_p01", and answers with a JSON line.
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
)

func main() {
	sc := bufio.NewScanner(os.Stdin)
	enc := json.NewEncoder(os.Stdout)
	for sc.Scan() {
		var req struct{ ID, Reference, Prompt, Out string }
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			os.Exit(3)
		}
		if strings.HasSuffix(req.ID, "_p01") {
			enc.Encode(map[string]string{"id": req.ID, "error": "refused for the test"})
			continue
		}
		data, err := os.ReadFile(req.Reference)
		if err == nil {
			err = os.WriteFile(req.Out, data, 0o644)
		}
		if err != nil {
			enc.Encode(map[string]string{"id": req.ID, "error": err.Error()})
			continue
		}
		enc.Encode(map[string]string{"id": req.ID, "image": req.Out})
	}
}
