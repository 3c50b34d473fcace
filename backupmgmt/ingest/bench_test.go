package ingest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-dev/custos/backupmgmt/ingest"
)

// BenchmarkParse parses each sample report, for the cost of one ingest
// request's parsing step.
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct {
		f    ingest.Format
		file string
	}{
		{ingest.Restic, "restic_backup.jsonl"}, {ingest.Borg, "borg_create.json"}, {ingest.Kopia, "kopia_list.json"},
		{ingest.Velero, "velero_list.json"}, {ingest.Bareos, "bareos_llist.json"}, {ingest.Veeam, "veeam_ps7.json"},
		{ingest.WSB, "wsb_failed.json"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(c.f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ingest.Parse(c.f, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
