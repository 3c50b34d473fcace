package ingest_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/backupmgmt/ingest"
	"github.com/custos-dev/custos/store"
)

// run is what a test expects of one parsed run.
type run struct {
	RunID      string
	Status     store.ExecutionStatus
	Start      string
	Finish     string // "" for a running run
	Size       int64
	Files      int64
	Errors     int64
	SnapshotID string
	Message    string // "" means not checked
	Log        string // a substring the log excerpt must hold; "" means empty
}

func parseFile(t *testing.T, f ingest.Format, name string) []backupmgmt.RecordParams {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	runs, err := ingest.Parse(f, bytes.NewReader(data))
	require.NoError(t, err)
	return runs
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}

func requireRuns(t *testing.T, f ingest.Format, want []run, got []backupmgmt.RecordParams) {
	t.Helper()
	require.Len(t, got, len(want))
	for i, w := range want {
		g := got[i]
		requireSane(t, f, g)
		require.Equal(t, w.RunID, g.RunID, "run %d", i)
		require.Equal(t, w.Status, g.Status, "run %d", i)
		require.Equal(t, ts(t, w.Start), g.StartedAt, "run %d", i)
		if w.Finish == "" {
			require.Nil(t, g.FinishedAt, "run %d", i)
		} else {
			require.NotNil(t, g.FinishedAt, "run %d", i)
			require.Equal(t, ts(t, w.Finish), *g.FinishedAt, "run %d", i)
		}
		require.Equal(t, w.Size, g.SizeBytes, "run %d", i)
		require.Equal(t, w.Files, g.Files, "run %d", i)
		require.Equal(t, w.Errors, g.Errors, "run %d", i)
		require.Equal(t, w.SnapshotID, g.SnapshotID, "run %d", i)
		if w.Message != "" {
			require.Equal(t, w.Message, g.Message, "run %d", i)
		}
		if w.Log == "" {
			require.Empty(t, g.LogExcerpt, "run %d", i)
		} else {
			require.Contains(t, g.LogExcerpt, w.Log, "run %d", i)
		}
	}
}

var sources = map[ingest.Format]store.ExecutionSource{
	ingest.Restic: store.SourceRestic, ingest.Borg: store.SourceBorg, ingest.Kopia: store.SourceKopia,
	ingest.Velero: store.SourceVelero, ingest.Bareos: store.SourceBareos, ingest.Veeam: store.SourceVeeam,
	ingest.WSB: store.SourceWSB,
}

// requireSane checks what backupmgmt's ingest would refuse of a run, bar
// the job and the clock: every parsed run must be recordable as it is.
func requireSane(t *testing.T, f ingest.Format, p backupmgmt.RecordParams) {
	t.Helper()
	require.Empty(t, p.JobID)
	require.Empty(t, p.JobName)
	require.Equal(t, sources[f], p.Source)
	require.True(t, p.Status.Valid(), "status %q", p.Status)
	require.NotEqual(t, store.ExecutionMissed, p.Status)
	require.False(t, p.StartedAt.IsZero())
	require.Equal(t, store.NormalizeTime(p.StartedAt), p.StartedAt)
	require.Equal(t, time.UTC, p.StartedAt.Location())
	if p.Status == store.ExecutionRunning {
		require.Nil(t, p.FinishedAt)
	} else {
		require.NotNil(t, p.FinishedAt)
		require.Equal(t, store.NormalizeTime(*p.FinishedAt), *p.FinishedAt)
		require.Equal(t, time.UTC, p.FinishedAt.Location())
		require.False(t, p.FinishedAt.Before(p.StartedAt))
	}
	require.GreaterOrEqual(t, p.SizeBytes, int64(0))
	require.GreaterOrEqual(t, p.Files, int64(0))
	require.GreaterOrEqual(t, p.Errors, int64(0))
	require.NotEmpty(t, strings.TrimSpace(p.RunID))
	require.Equal(t, strings.TrimSpace(p.RunID), p.RunID)
	require.LessOrEqual(t, utf8.RuneCountInString(p.RunID), store.MaxNameLen)
	require.Equal(t, store.CleanText(p.RunID), p.RunID)
	require.LessOrEqual(t, utf8.RuneCountInString(p.SnapshotID), store.MaxNameLen)
	require.Equal(t, store.CleanText(p.SnapshotID), p.SnapshotID)
	require.NotEmpty(t, p.Message)
	require.NotContains(t, p.Message, "\n")
	require.LessOrEqual(t, utf8.RuneCountInString(p.Message), store.MaxMessageLen)
	require.True(t, utf8.ValidString(p.Message))
	require.True(t, utf8.ValidString(p.LogExcerpt))
	require.Nil(t, p.CopyID)
}

// requireField asserts a *ParseError naming field, with a message holding
// msg.
func requireField(t *testing.T, err error, field, msg string) {
	t.Helper()
	var pe *ingest.ParseError
	require.True(t, errors.As(err, &pe), "want a *ParseError, got %v", err)
	require.Equal(t, field, pe.Field, "error: %v", err)
	require.Contains(t, pe.Message, msg, "error: %v", err)
}

func parse(f ingest.Format, s string) ([]backupmgmt.RecordParams, error) {
	return ingest.Parse(f, strings.NewReader(s))
}

func TestFormats(t *testing.T) {
	t.Parallel()

	t.Run("ListsEverySupportedFormatSorted", func(t *testing.T) {
		t.Parallel()
		got := ingest.Formats()
		require.Equal(t, []ingest.Format{"bareos", "borg", "kopia", "restic", "veeam", "velero", "wsb"}, got)
		for _, f := range got {
			require.True(t, f.Valid())
			require.True(t, store.ExecutionSource(f).Valid(), "every format is an execution source")
		}
	})

	t.Run("RefusesAnUnknownFormat", func(t *testing.T) {
		t.Parallel()
		require.False(t, ingest.Format("tar").Valid())
		_, err := parse("tar", "{}")
		require.ErrorIs(t, err, ingest.ErrUnknownFormat)
	})

	t.Run("RefusesEmptyAndOversizedReports", func(t *testing.T) {
		t.Parallel()
		for _, f := range ingest.Formats() {
			_, err := parse(f, " \n\t")
			requireField(t, err, "", "empty report")
			big := strings.NewReader(`{"x":"` + strings.Repeat("a", ingest.MaxReportBytes) + `"}`)
			_, err = ingest.Parse(f, big)
			requireField(t, err, "", "larger than")
		}
	})

	t.Run("RefusesMoreRunsThanOneBatch", func(t *testing.T) {
		t.Parallel()
		item := `{"id":"x","startTime":"2026-11-30T01:00:00Z","endTime":"2026-11-30T01:01:00Z"}`
		many := "[" + strings.TrimSuffix(strings.Repeat(item+",", ingest.MaxRuns+1), ",") + "]"
		_, err := parse(ingest.Kopia, many)
		requireField(t, err, "", "at most 1000 runs")
	})

	t.Run("ReportsAReadError", func(t *testing.T) {
		t.Parallel()
		_, err := ingest.Parse(ingest.Borg, errReader{})
		require.Error(t, err)
		var pe *ingest.ParseError
		require.False(t, errors.As(err, &pe), "a read failure is not the report's fault")
	})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestParseIsIdempotent(t *testing.T) {
	t.Parallel()
	files := map[ingest.Format][]string{
		ingest.Restic: {"restic_backup.jsonl", "restic_backup_errors.jsonl"},
		ingest.Borg:   {"borg_create.json", "borg_info.json"},
		ingest.Kopia:  {"kopia_snapshot.json", "kopia_list.json"},
		ingest.Velero: {"velero_backup.json", "velero_list.json"},
		ingest.Bareos: {"bareos_llist.json"},
		ingest.Veeam:  {"veeam_ps51.json", "veeam_ps7.json"},
		ingest.WSB:    {"wsb_success.json", "wsb_failed.json"},
	}
	for f, names := range files {
		for _, name := range names {
			t.Run(string(f)+"/"+name, func(t *testing.T) {
				t.Parallel()
				first, second := parseFile(t, f, name), parseFile(t, f, name)
				require.Equal(t, first, second, "the same report gives the same runs, run IDs included")
				ids := map[string]bool{}
				for _, p := range first {
					require.False(t, ids[p.RunID], "run IDs are distinct within a report")
					ids[p.RunID] = true
				}
			})
		}
	}
}
