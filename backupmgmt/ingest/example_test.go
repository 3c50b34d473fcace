package ingest_test

import (
	"fmt"
	"strings"

	"github.com/custos-dev/custos/backupmgmt/ingest"
)

// Parse a restic summary; the caller names the job and records the runs
// with backupmgmt.Executions.RecordBatch.
func ExampleParse() {
	report := `{"message_type":"status","percent_done":1,"error_count":0}
{"message_type":"summary","files_new":34,"files_changed":200,"files_unmodified":1000,"data_added":12582912,"total_bytes_processed":5583457484,"backup_start":"2026-11-30T02:00:01+01:00","backup_end":"2026-11-30T02:00:43+01:00","snapshot_id":"1a2b3c4d5e6f7081"}`
	runs, err := ingest.Parse(ingest.Restic, strings.NewReader(report))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range runs {
		r.JobName = "nas-home"
		fmt.Println(r.RunID, r.Status, r.Source, r.StartedAt.Format("15:04:05Z07:00"), r.FinishedAt.Sub(r.StartedAt))
		fmt.Println(r.Message)
	}
	// Output:
	// 1a2b3c4d5e6f7081 success restic 01:00:01Z 42s
	// restic snapshot 1a2b3c4d: 1,234 files, 5.2 GiB processed, 12.0 MiB added
}

// A bad report is a *ParseError that names the field.
func ExampleParseError() {
	_, err := ingest.Parse(ingest.Bareos, strings.NewReader(`{"jsonrpc":"2.0","id":null,"result":{"jobs":[{"jobid":"7","type":"B","jobstatus":"X"}]}}`))
	fmt.Println(err)
	// Output:
	// ingest: result.jobs[0].jobstatus: unknown job status "X"
}
