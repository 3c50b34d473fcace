package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// restic reads the JSON lines of `restic backup --json` (stdout, and stderr
// if the sender merged it), as documented in restic's "Scripting" chapter
// (doc/075_scripting.rst, "backup" section): message_type "status" and
// "verbose_status" are progress and ignored, "error" lines are counted and
// kept for the log, and each "summary" line closes one run. Lines that are
// not JSON objects (a merged "Fatal: ..." on stderr) are kept as log text.
//
// The summary must carry backup_start and backup_end (restic 0.17 and
// later): total_duration alone cannot place the run in time, and a made-up
// time would mislead the schedule and SLA checks. Field mapping:
// files_new+files_changed+files_unmodified → Files, total_bytes_processed →
// SizeBytes, snapshot_id → SnapshotID and RunID (a hash of the summary line
// when restic skipped the snapshot). A run with error lines is a warning:
// that is restic's exit code 3, "snapshot created, but some source data
// could not be read". A dry run records nothing and is refused. A report
// with no summary (restic failed, see its "exit_error" line) is refused: the
// failure is for the caller to record, with the time it knows.

type resticLine struct {
	MessageType *string `json:"message_type"`
}

type resticStatus struct {
	ErrorCount int64 `json:"error_count"`
}

type resticError struct {
	Error  json.RawMessage `json:"error"`
	During string          `json:"during"`
	Item   string          `json:"item"`
}

type resticSummary struct {
	DryRun              bool    `json:"dry_run"`
	FilesNew            int64   `json:"files_new"`
	FilesChanged        int64   `json:"files_changed"`
	FilesUnmodified     int64   `json:"files_unmodified"`
	DataAdded           int64   `json:"data_added"`
	TotalBytesProcessed int64   `json:"total_bytes_processed"`
	TotalDuration       float64 `json:"total_duration"`
	BackupStart         *string `json:"backup_start"`
	BackupEnd           *string `json:"backup_end"`
	SnapshotID          *string `json:"snapshot_id"`
}

func parseRestic(data []byte, o Options) ([]backupmgmt.RecordParams, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	var (
		runs       []backupmgmt.RecordParams
		log        []string
		errLines   int64
		statusErrs int64
		line       int
	)
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
		}
		if len(raw) == 0 {
			continue
		}
		at := index("", line)
		if raw[0] != '{' {
			log = append(log, string(raw))
			continue
		}
		var head resticLine
		if err := decodeJSON(raw, at, &head); err != nil {
			return nil, err
		}
		if head.MessageType == nil {
			return nil, &ParseError{Field: join(at, "message_type"), Message: "required"}
		}
		switch *head.MessageType {
		case "status":
			var st resticStatus
			if err := decodeJSON(raw, at, &st); err != nil {
				return nil, err
			}
			if err := count(join(at, "error_count"), st.ErrorCount); err != nil {
				return nil, err
			}
			statusErrs = max(statusErrs, st.ErrorCount)
		case "error":
			var e resticError
			if err := decodeJSON(raw, at, &e); err != nil {
				return nil, err
			}
			text, err := resticErrorText(join(at, "error"), e)
			if err != nil {
				return nil, err
			}
			errLines++
			log = append(log, text)
		case "exit_error":
			var e struct {
				Code    int64  `json:"code"`
				Message string `json:"message"`
			}
			if err := decodeJSON(raw, at, &e); err != nil {
				return nil, err
			}
			log = append(log, oneLine(fmt.Sprintf("exit code %d: %s", e.Code, e.Message)))
		case "summary":
			if len(runs) == MaxRuns {
				return nil, &ParseError{Message: fmt.Sprintf("at most %d runs per report", MaxRuns)}
			}
			p, err := resticRun(raw, at, o, max(errLines, statusErrs), log)
			if err != nil {
				return nil, err
			}
			runs = append(runs, p)
			log, errLines, statusErrs = nil, 0, 0
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{Field: index("", line+1), Message: fmt.Sprintf("line longer than %d bytes", MaxLineBytes)}
		}
		return nil, fmt.Errorf("ingest: read report: %w", err)
	}
	if len(runs) == 0 {
		msg := "no summary line: the backup did not finish"
		if len(log) > 0 {
			msg += " (last message: " + clip(log[len(log)-1], 200) + ")"
		}
		return nil, &ParseError{Field: "summary", Message: msg}
	}
	return runs, nil
}

// resticErrorText is one log line for an error message. restic 0.17 and
// later send error as {"message": "..."}; older versions sent a string (or,
// by a bug, an empty object).
func resticErrorText(field string, e resticError) (string, error) {
	var msg string
	raw := bytes.TrimSpace(e.Error)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &msg); err != nil {
			return "", &ParseError{Field: field, Message: "must be a string or an object"}
		}
	case raw[0] == '{':
		var obj struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", jsonError(field, err)
		}
		msg = obj.Message
	default:
		return "", &ParseError{Field: field, Message: "must be a string or an object"}
	}
	parts := []string{"error"}
	if e.During != "" {
		parts = append(parts, "during "+e.During)
	}
	text := strings.Join(parts, " ")
	if e.Item != "" {
		text += ": " + e.Item
	}
	if msg != "" {
		text += ": " + msg
	}
	return oneLine(text), nil
}

func resticRun(raw []byte, at string, o Options, errs int64, log []string) (backupmgmt.RecordParams, error) {
	var s resticSummary
	if err := decodeJSON(raw, at, &s); err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if s.DryRun {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "dry_run"), Message: "a dry run made no backup"}
	}
	files, err := sum(join(at, "files_new"), s.FilesNew, s.FilesChanged, s.FilesUnmodified)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	for field, n := range map[string]int64{"total_bytes_processed": s.TotalBytesProcessed, "data_added": s.DataAdded} {
		if err := count(join(at, field), n); err != nil {
			return backupmgmt.RecordParams{}, err
		}
	}
	if s.BackupStart == nil {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "backup_start"), Message: "required (restic 0.17 or later)"}
	}
	start, err := parseTime(join(at, "backup_start"), *s.BackupStart, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if s.BackupEnd == nil {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "backup_end"), Message: "required (restic 0.17 or later)"}
	}
	end, err := parseTime(join(at, "backup_end"), *s.BackupEnd, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	p := backupmgmt.RecordParams{
		Status: store.ExecutionSuccess, StartedAt: start,
		SizeBytes: s.TotalBytesProcessed, Files: files, Errors: errs,
		LogExcerpt: strings.Join(log, "\n"),
	}
	if errs > 0 {
		p.Status = store.ExecutionWarning
	}
	if err := finish(&p, end, join(at, "backup_end")); err != nil {
		return backupmgmt.RecordParams{}, err
	}
	what := "restic backup (no new snapshot)"
	if s.SnapshotID != nil && *s.SnapshotID != "" {
		id, err := key(join(at, "snapshot_id"), *s.SnapshotID)
		if err != nil {
			return backupmgmt.RecordParams{}, err
		}
		p.RunID, p.SnapshotID = id, id
		what = "restic snapshot " + shortID(id)
	} else {
		p.RunID = hashID("restic", raw)
	}
	p.Message = fmt.Sprintf("%s: %s, %s processed, %s added", what, plural(files, "file", "files"), humanBytes(s.TotalBytesProcessed), humanBytes(s.DataAdded))
	if errs > 0 {
		p.Message += ", " + plural(errs, "error", "errors")
	}
	return p, nil
}
