package ingest

import (
	"fmt"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// kopia reads snapshot manifests as `kopia snapshot create --json` and
// `kopia snapshot list --json` print them: one manifest or an array. The
// fields are those of kopia's snapshot.Manifest (snapshot/manifest.go) and
// snapshot.Stats: id, source {host, userName, path}, startTime, endTime
// (RFC 3339, UTC), stats {totalSize, fileCount, errorCount,
// ignoredErrorCount}, incomplete (the reason a snapshot is partial) and
// rootEntry.summ.numFailed.
//
// Status mapping: no incomplete reason → success, or warning when
// stats.errorCount or rootEntry.summ.numFailed is above zero; "canceled" →
// canceled; "limit reached" → warning. A "checkpoint" manifest is an
// intermediate save of a snapshot still running, replaced by the final one
// under another id: it is skipped, since recording it would leave a run that
// never finishes. Any other reason is refused. Field mapping: id → RunID
// and SnapshotID, stats.totalSize → SizeBytes, stats.fileCount → Files,
// max(stats.errorCount, rootEntry.summ.numFailed) → Errors.

type kopiaManifest struct {
	ID     string `json:"id"`
	Source struct {
		Host     string `json:"host"`
		UserName string `json:"userName"`
		Path     string `json:"path"`
	} `json:"source"`
	StartTime *string `json:"startTime"`
	EndTime   *string `json:"endTime"`
	Stats     struct {
		TotalSize         int64 `json:"totalSize"`
		FileCount         int64 `json:"fileCount"`
		ErrorCount        int64 `json:"errorCount"`
		IgnoredErrorCount int64 `json:"ignoredErrorCount"`
	} `json:"stats"`
	Incomplete string `json:"incomplete"`
	RootEntry  *struct {
		Summ *struct {
			NumFailed int64 `json:"numFailed"`
		} `json:"summ"`
	} `json:"rootEntry"`
}

func parseKopia(data []byte, o Options) ([]backupmgmt.RecordParams, error) {
	items, array, err := oneOrMany[kopiaManifest](data)
	if err != nil {
		return nil, err
	}
	if len(items) > MaxRuns {
		return nil, &ParseError{Message: fmt.Sprintf("at most %d runs per report", MaxRuns)}
	}
	var runs []backupmgmt.RecordParams
	for i, m := range items {
		if m.Incomplete == "checkpoint" {
			continue
		}
		p, err := kopiaRun(func(f string) string { return itemField(array, i, f) }, m, o)
		if err != nil {
			return nil, err
		}
		runs = append(runs, p)
	}
	if len(runs) == 0 && len(items) > 0 {
		return nil, &ParseError{Field: itemField(array, 0, "incomplete"), Message: "only checkpoints: no snapshot has finished"}
	}
	return runs, nil
}

func kopiaRun(at func(string) string, m kopiaManifest, o Options) (backupmgmt.RecordParams, error) {
	id, err := key(at("id"), m.ID)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if m.StartTime == nil {
		return backupmgmt.RecordParams{}, &ParseError{Field: at("startTime"), Message: "required"}
	}
	start, err := parseTime(at("startTime"), *m.StartTime, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if m.EndTime == nil {
		return backupmgmt.RecordParams{}, &ParseError{Field: at("endTime"), Message: "required"}
	}
	end, err := parseTime(at("endTime"), *m.EndTime, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	st := m.Stats
	for field, n := range map[string]int64{"totalSize": st.TotalSize, "fileCount": st.FileCount, "errorCount": st.ErrorCount, "ignoredErrorCount": st.IgnoredErrorCount} {
		if err := count(at("stats."+field), n); err != nil {
			return backupmgmt.RecordParams{}, err
		}
	}
	var failed int64
	if m.RootEntry != nil && m.RootEntry.Summ != nil {
		failed = m.RootEntry.Summ.NumFailed
		if err := count(at("rootEntry.summ.numFailed"), failed); err != nil {
			return backupmgmt.RecordParams{}, err
		}
	}
	p := backupmgmt.RecordParams{
		RunID: id, SnapshotID: id, StartedAt: start,
		SizeBytes: st.TotalSize, Files: st.FileCount, Errors: max(st.ErrorCount, failed),
	}
	switch m.Incomplete {
	case "":
		p.Status = store.ExecutionSuccess
		if st.ErrorCount > 0 || failed > 0 {
			p.Status = store.ExecutionWarning
		}
	case "canceled":
		p.Status = store.ExecutionCanceled
	case "limit reached":
		p.Status = store.ExecutionWarning
	default:
		return backupmgmt.RecordParams{}, &ParseError{Field: at("incomplete"), Message: fmt.Sprintf("unknown reason %q: must be empty, canceled, checkpoint or limit reached", clip(m.Incomplete, 40))}
	}
	if err := finish(&p, end, at("endTime")); err != nil {
		return backupmgmt.RecordParams{}, err
	}
	src := m.Source.Path
	if m.Source.Host != "" || m.Source.UserName != "" {
		src = m.Source.UserName + "@" + m.Source.Host + ":" + m.Source.Path
	}
	p.Message = fmt.Sprintf("kopia snapshot %s of %s: %s, %s", shortID(id), clip(src, 300), plural(st.FileCount, "file", "files"), humanBytes(st.TotalSize))
	if m.Incomplete != "" {
		p.Message += ", incomplete: " + m.Incomplete
	}
	if n := max(st.ErrorCount, failed); n > 0 {
		p.Message += ", " + plural(n, "error", "errors")
	}
	return p, nil
}
