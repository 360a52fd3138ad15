// Decodes logfmt lines from stdin with go-logfmt (the decoder behind go-kit/log's logfmt and
// Loki's logfmt parser) and writes each line's pairs as a JSON array of [key, value], one a line.
// A line that is not exactly one logfmt record exits 1, naming it.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/go-logfmt/logfmt"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		line := in.Bytes()
		d := logfmt.NewDecoder(bytes.NewReader(line))
		pairs := [][2]string{}
		records := 0
		for d.ScanRecord() {
			records++
			for d.ScanKeyval() {
				pairs = append(pairs, [2]string{string(d.Key()), string(d.Value())})
			}
		}
		if err := d.Err(); err != nil || records != 1 {
			out.Flush()
			fmt.Fprintf(os.Stderr, "not one logfmt record (%v): %s\n", err, line)
			os.Exit(1)
		}
		b, _ := json.Marshal(pairs)
		out.Write(append(b, '\n'))
	}
}
