package ingest_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-dev/custos/backupmgmt/ingest"
)

// FuzzParse feeds one input to every format: no parser may panic, and each
// either refuses it with a *ParseError or returns runs that backupmgmt
// could record (times set and in stored form, finish only when finished,
// no negative counts, a run ID it accepts). The seeds are the sample
// reports under testdata and the corpus under testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	samples, err := filepath.Glob(filepath.Join("testdata", "*.json*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range samples {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{}`, `[]`, `null`, `[{}]`, `{"archive":{}}`, `{"result":{"jobs":[{}]}}`, `{"items":[]}`,
		`{"message_type":"summary"}`, `{"id":"x","startTime":"2026-11-30T01:00:00Z","endTime":"2026-11-30T00:00:00Z"}`,
		`{"Id":1,"Result":-1,"CreationTime":"/Date(-1)/"}`, `{"StartTime":"/Date(99999999999999999999)/","HResult":"0x1"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range ingest.Formats() {
			runs, err := ingest.Parse(format, bytes.NewReader(data))
			if err != nil {
				var pe *ingest.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("%s: %v is not a *ParseError", format, err)
				}
				if runs != nil {
					t.Fatalf("%s: runs with an error", format)
				}
				continue
			}
			if len(runs) == 0 || len(runs) > ingest.MaxRuns {
				t.Fatalf("%s: %d runs without an error", format, len(runs))
			}
			for _, p := range runs {
				requireSane(t, format, p)
			}
		}
	})
}
