package ingest

import (
	"fmt"
	"strings"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// The Windows formats read what PowerShell's ConvertTo-Json makes of a
// vendor object. Neither vendor publishes a JSON schema, so each parser
// takes a documented subset of the object's properties and ignores the
// rest. PowerShell writes one object for one result and an array for more;
// Windows PowerShell 5.1 writes dates as "/Date(1700000000000)/" and enums
// as numbers, PowerShell 7 writes ISO dates (with the writer's offset) and,
// with -EnumsAsStrings or by the object's own ToString, names: all are
// accepted. Times without an offset are read in Options.Location.

// veeam reads `Get-VBRBackupSession | ConvertTo-Json` (Veeam Backup &
// Replication's CBackupSession): Id, JobName (or Name), Result, State,
// CreationTime, EndTime and Progress {ProcessedSize, TransferedSize,
// TotalSize, ProcessedObjects}.
//
// Result mapping (veeamResults): Success (0) → success, Warning (1) →
// warning, Failed (2) → failed, None (-1) → running: Veeam leaves the
// result None while a session works, and its EndTime is then a placeholder
// (1900-01-01), which is ignored. Field mapping: Id → RunID,
// Progress.ProcessedSize → SizeBytes, Progress.ProcessedObjects → Files.
var veeamResults = map[string]store.ExecutionStatus{
	"Success": store.ExecutionSuccess, "0": store.ExecutionSuccess,
	"Warning": store.ExecutionWarning, "1": store.ExecutionWarning,
	"Failed": store.ExecutionFailed, "2": store.ExecutionFailed,
	"None": store.ExecutionRunning, "-1": store.ExecutionRunning,
}

var veeamNames = map[store.ExecutionStatus]string{
	store.ExecutionSuccess: "Success", store.ExecutionWarning: "Warning",
	store.ExecutionFailed: "Failed", store.ExecutionRunning: "running",
}

type veeamSession struct {
	ID           flexString  `json:"Id"`
	JobName      string      `json:"JobName"`
	Name         string      `json:"Name"`
	Result       *flexString `json:"Result"`
	State        flexString  `json:"State"`
	CreationTime *string     `json:"CreationTime"`
	EndTime      *string     `json:"EndTime"`
	Progress     *struct {
		ProcessedSize    int64 `json:"ProcessedSize"`
		TransferedSize   int64 `json:"TransferedSize"`
		TotalSize        int64 `json:"TotalSize"`
		ProcessedObjects int64 `json:"ProcessedObjects"`
	} `json:"Progress"`
}

func parseVeeam(data []byte, o Options) ([]backupmgmt.RecordParams, error) {
	items, array, err := oneOrMany[veeamSession](data)
	if err != nil {
		return nil, err
	}
	if len(items) > MaxRuns {
		return nil, &ParseError{Message: fmt.Sprintf("at most %d runs per report", MaxRuns)}
	}
	runs := make([]backupmgmt.RecordParams, 0, len(items))
	for i, s := range items {
		at := func(f string) string { return itemField(array, i, f) }
		id, err := key(at("Id"), s.ID.S)
		if err != nil {
			return nil, err
		}
		if s.Result == nil || s.Result.S == "" {
			return nil, &ParseError{Field: at("Result"), Message: "required"}
		}
		status, ok := veeamResults[s.Result.S]
		if !ok {
			return nil, &ParseError{Field: at("Result"), Message: fmt.Sprintf("unknown result %q: must be Success, Warning, Failed or None", clip(s.Result.S, 40))}
		}
		if s.CreationTime == nil {
			return nil, &ParseError{Field: at("CreationTime"), Message: "required"}
		}
		start, err := parseTime(at("CreationTime"), *s.CreationTime, o.Location)
		if err != nil {
			return nil, err
		}
		p := backupmgmt.RecordParams{RunID: id, Status: status, StartedAt: start}
		if status != store.ExecutionRunning {
			if s.EndTime == nil {
				return nil, &ParseError{Field: at("EndTime"), Message: "required for a finished session"}
			}
			end, err := parseTime(at("EndTime"), *s.EndTime, o.Location)
			if err != nil {
				return nil, err
			}
			if err := finish(&p, end, at("EndTime")); err != nil {
				return nil, err
			}
		}
		if pr := s.Progress; pr != nil {
			for field, n := range map[string]int64{"ProcessedSize": pr.ProcessedSize, "TransferedSize": pr.TransferedSize, "TotalSize": pr.TotalSize, "ProcessedObjects": pr.ProcessedObjects} {
				if err := count(at("Progress."+field), n); err != nil {
					return nil, err
				}
			}
			p.SizeBytes, p.Files = pr.ProcessedSize, pr.ProcessedObjects
		}
		name := s.JobName
		if name == "" {
			name = s.Name
		}
		if name == "" {
			name = shortID(id)
		}
		p.Message = fmt.Sprintf("veeam session %s: %s, %s processed", clip(name, 200), veeamNames[status], humanBytes(p.SizeBytes))
		if p.Files > 0 {
			p.Message += ", " + plural(p.Files, "object", "objects")
		}
		runs = append(runs, p)
	}
	return runs, nil
}

// wsb reads `Get-WBJob -Previous 1 | ConvertTo-Json` (Windows Server
// Backup's WBJob): JobType, JobState, StartTime, EndTime, HResult,
// DetailedHResult, ErrorDescription, VersionId, SuccessLogPath and
// FailureLogPath. (Get-WBSummary has no start time and is not a run.)
//
// Status mapping: a job still in progress (JobState Running, or
// InProgress) → running; otherwise HResult 0 → success, and any other
// HResult → failed, with ErrorDescription in the message and the log paths
// in the log excerpt. RunID is the VersionId (the backup version a
// successful job made) or, without one, a hash of the start time and job
// type, so a re-sent report is one run.
type wsbJob struct {
	JobType          flexString `json:"JobType"`
	JobState         flexString `json:"JobState"`
	StartTime        *string    `json:"StartTime"`
	EndTime          *string    `json:"EndTime"`
	HResult          *flexInt   `json:"HResult"`
	DetailedHResult  flexInt    `json:"DetailedHResult"`
	ErrorDescription string     `json:"ErrorDescription"`
	VersionID        string     `json:"VersionId"`
	SuccessLogPath   string     `json:"SuccessLogPath"`
	FailureLogPath   string     `json:"FailureLogPath"`
}

func parseWSB(data []byte, o Options) ([]backupmgmt.RecordParams, error) {
	items, array, err := oneOrMany[wsbJob](data)
	if err != nil {
		return nil, err
	}
	if len(items) > MaxRuns {
		return nil, &ParseError{Message: fmt.Sprintf("at most %d runs per report", MaxRuns)}
	}
	runs := make([]backupmgmt.RecordParams, 0, len(items))
	for i, j := range items {
		at := func(f string) string { return itemField(array, i, f) }
		if j.StartTime == nil {
			return nil, &ParseError{Field: at("StartTime"), Message: "required"}
		}
		start, err := parseTime(at("StartTime"), *j.StartTime, o.Location)
		if err != nil {
			return nil, err
		}
		p := backupmgmt.RecordParams{StartedAt: start}
		state := j.JobState.S
		switch {
		case state == "Running" || state == "InProgress":
			p.Status = store.ExecutionRunning
		case j.HResult == nil || !j.HResult.Set:
			return nil, &ParseError{Field: at("HResult"), Message: "required for a finished job"}
		case j.HResult.N == 0:
			p.Status = store.ExecutionSuccess
		default:
			p.Status = store.ExecutionFailed
			p.Errors = 1
		}
		if p.Status != store.ExecutionRunning {
			if j.EndTime == nil {
				return nil, &ParseError{Field: at("EndTime"), Message: "required for a finished job"}
			}
			end, err := parseTime(at("EndTime"), *j.EndTime, o.Location)
			if err != nil {
				return nil, err
			}
			if err := finish(&p, end, at("EndTime")); err != nil {
				return nil, err
			}
		}
		if j.VersionID != "" {
			id, err := key(at("VersionId"), j.VersionID)
			if err != nil {
				return nil, err
			}
			p.RunID, p.SnapshotID = id, id
		} else {
			p.RunID = hashID("wsb", []byte(start.Format("2006-01-02T15:04:05.999999Z")+"|"+j.JobType.S))
		}
		p.Message = "windows server backup job: " + string(p.Status)
		if p.Status == store.ExecutionFailed {
			p.Message += fmt.Sprintf(" (HRESULT 0x%08X)", uint32(j.HResult.N))
			if j.ErrorDescription != "" {
				p.Message += ": " + clip(j.ErrorDescription, 500)
			}
		}
		var log []string
		if j.ErrorDescription != "" {
			log = append(log, j.ErrorDescription)
		}
		if j.FailureLogPath != "" && p.Status == store.ExecutionFailed {
			log = append(log, "failure log: "+j.FailureLogPath)
		}
		p.LogExcerpt = strings.Join(log, "\n")
		runs = append(runs, p)
	}
	return runs, nil
}
