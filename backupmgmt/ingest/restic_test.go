package ingest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt/ingest"
	"github.com/custos-dev/custos/store"
)

func TestRestic(t *testing.T) {
	t.Parallel()

	t.Run("ReadsTheSummaryOfABackup", func(t *testing.T) {
		t.Parallel()
		id := "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
		requireRuns(t, ingest.Restic, []run{{
			RunID: id, SnapshotID: id, Status: store.ExecutionSuccess,
			Start: "2026-11-30T01:00:01.123456Z", Finish: "2026-11-30T01:00:43.442185Z",
			Size: 5583457484, Files: 1234,
			Message: "restic snapshot 1a2b3c4d: 1,234 files, 5.2 GiB processed, 12.0 MiB added",
		}}, parseFile(t, ingest.Restic, "restic_backup.jsonl"))
	})

	t.Run("CountsErrorLinesIntoAWarning", func(t *testing.T) {
		t.Parallel()
		requireRuns(t, ingest.Restic, []run{{
			RunID: "bbbbbbbbcccccccc", SnapshotID: "bbbbbbbbcccccccc", Status: store.ExecutionWarning,
			Start: "2026-11-30T03:00:00Z", Finish: "2026-11-30T03:00:03.5Z",
			Size: 900, Files: 9, Errors: 2,
			Message: "restic snapshot bbbbbbbb: 9 files, 900 B processed, 2.0 KiB added, 2 errors",
			Log:     "error during archival: /home/alice/.cache/locked.db: open /home/alice/.cache/locked.db: permission denied\nerror during scan: /home/alice/gone: lstat",
		}}, parseFile(t, ingest.Restic, "restic_backup_errors.jsonl"))
	})

	const summary = `{"message_type":"summary","files_new":1,"total_bytes_processed":10,"backup_start":"2026-11-30T03:00:00Z","backup_end":"2026-11-30T03:00:01Z"%s}`

	t.Run("HashesTheSummaryWhenResticMadeNoSnapshot", func(t *testing.T) {
		t.Parallel()
		runs, err := parse(ingest.Restic, strings.Replace(summary, "%s", "", 1))
		require.NoError(t, err)
		require.Len(t, runs, 1)
		require.True(t, strings.HasPrefix(runs[0].RunID, "restic-"), runs[0].RunID)
		require.Empty(t, runs[0].SnapshotID)
		other, err := parse(ingest.Restic, strings.Replace(summary, "%s", `,"files_changed":1`, 1))
		require.NoError(t, err)
		require.NotEqual(t, runs[0].RunID, other[0].RunID, "another summary is another run")
	})

	t.Run("ReadsEachSummaryAsARunWithTheErrorsBeforeIt", func(t *testing.T) {
		t.Parallel()
		report := `{"message_type":"error","error":{"message":"boom"},"during":"archival","item":"/a"}` + "\n" +
			strings.Replace(summary, "%s", `,"snapshot_id":"s1"`, 1) + "\n" +
			"Fatal: some text restic printed on stderr\n" +
			strings.Replace(summary, "%s", `,"snapshot_id":"s2"`, 1) + "\n"
		runs, err := parse(ingest.Restic, report)
		require.NoError(t, err)
		require.Len(t, runs, 2)
		require.Equal(t, store.ExecutionWarning, runs[0].Status)
		require.Equal(t, int64(1), runs[0].Errors)
		require.Equal(t, store.ExecutionSuccess, runs[1].Status)
		require.Equal(t, "Fatal: some text restic printed on stderr", runs[1].LogExcerpt)
	})

	t.Run("TakesTheErrorCountOfStatusLines", func(t *testing.T) {
		t.Parallel()
		report := `{"message_type":"status","error_count":4}` + "\n" + strings.Replace(summary, "%s", "", 1)
		runs, err := parse(ingest.Restic, report)
		require.NoError(t, err)
		require.Equal(t, store.ExecutionWarning, runs[0].Status)
		require.Equal(t, int64(4), runs[0].Errors)
	})

	t.Run("RefusesBadReportsNamingTheField", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name, report, field, msg string
		}{
			{"NoSummary", `{"message_type":"status","percent_done":0.5}`, "summary", "no summary"},
			{"NoSummaryAfterAFatalError", `{"message_type":"exit_error","code":1,"message":"repository does not exist"}`, "summary", "repository does not exist"},
			{"OnlyText", "Fatal: unable to open config file", "summary", "no summary"},
			{"NoMessageType", `{"files_new":1}`, "[1].message_type", "required"},
			{"BrokenJSON", `{"message_type":"summary",`, "[1]", "truncated"},
			{"TrailingData", `{"message_type":"status"} {}`, "[1]", "unexpected data"},
			{"NoStart", `{"message_type":"summary","backup_end":"2026-11-30T03:00:01Z"}`, "[1].backup_start", "restic 0.17"},
			{"NoEnd", `{"message_type":"summary","backup_start":"2026-11-30T03:00:01Z"}`, "[1].backup_end", "restic 0.17"},
			{"BadStart", strings.Replace(summary, "2026-11-30T03:00:00Z", "yesterday", 1), "[1].backup_start", "not a time"},
			{"EndBeforeStart", strings.Replace(summary, "03:00:01Z", "02:00:00Z", 1), "[1].backup_end", "before the start"},
			{"NegativeSize", strings.Replace(summary, `"total_bytes_processed":10`, `"total_bytes_processed":-10`, 1), "[1].total_bytes_processed", "negative"},
			{"SizeOutOfRange", strings.Replace(summary, `"total_bytes_processed":10`, `"total_bytes_processed":18446744073709551615`, 1), "[1].total_bytes_processed", "integer in range"},
			{"StringSize", strings.Replace(summary, `"total_bytes_processed":10`, `"total_bytes_processed":"10"`, 1), "[1].total_bytes_processed", "integer"},
			{"FileCountOverflow", strings.Replace(summary, `"files_new":1`, `"files_new":9223372036854775807,"files_changed":1`, 1), "[1].files_new", "too large"},
			{"DryRun", strings.Replace(summary, "%s", `,"dry_run":true`, 1), "[1].dry_run", "dry run"},
			{"SnapshotIDWithNUL", strings.Replace(summary, "%s", `,"snapshot_id":"a\u0000b"`, 1), "[1].snapshot_id", "NUL"},
			{"ErrorOfWrongType", `{"message_type":"error","error":42}`, "[1].error", "string or an object"},
			{"SecondLineBad", "{\"message_type\":\"status\"}\n\n{\"message_type\":\"status\",\"error_count\":-1}", "[3].error_count", "negative"},
			{"LineTooLong", "{\"message_type\":\"status\"}\n" + `{"message_type":"status","x":"` + strings.Repeat("a", ingest.MaxLineBytes) + `"}`, "[2]", "longer than"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, err := parse(ingest.Restic, strings.Replace(tc.report, "%s", "", 1))
				requireField(t, err, tc.field, tc.msg)
			})
		}
	})
}
