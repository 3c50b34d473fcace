package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// bareos reads the JSON-RPC response of bconsole in API mode 2 (`.api 2`,
// then `llist jobs …` or `llist jobid=N`), as the Bareos developer guide
// documents (DeveloperGuide/api.rst, "API mode 2 (json)"): result.jobs[]
// with the catalog's Job columns in lower case — jobid, job, name, type,
// level, jobstatus, starttime, endtime, schedtime, jobfiles, jobbytes,
// joberrors. Bareos sends the numbers as strings and does not always keep
// the keys lower case ("JobErrors"); both are accepted. Times are the
// director's local time without a zone ("2015-06-25 16:51:38"), read in
// Options.Location (UTC by default). A JSON-RPC error response is refused
// with its message.
//
// Every run a report describes goes to the one Custos job the caller names,
// so a listing should hold one Bareos job's runs: `llist jobs job=NAME`.
// Only backup jobs (type B) are runs; restores, verifies, copies and admin
// jobs in a listing are skipped. `list jobs` (without the extra l) has no
// endtime: a finished job from it is refused, so send `llist`. JobStatus
// mapping (bareosStatus): T → success; W → warning; E, e, f and I → failed;
// A → canceled; the waiting and running letters → running (a job waiting to
// start takes schedtime as its start). Field mapping: jobid → RunID, job
// (the unique job name) → SnapshotID, jobbytes → SizeBytes, jobfiles →
// Files, joberrors → Errors. The letters are Bareos' JS_* job status
// constants (core/src/include/jcr.h).

var bareosStatus = map[string]store.ExecutionStatus{
	"T": store.ExecutionSuccess,  // terminated normally
	"W": store.ExecutionWarning,  // terminated with warnings
	"E": store.ExecutionFailed,   // terminated in error
	"e": store.ExecutionFailed,   // non-fatal error
	"f": store.ExecutionFailed,   // fatal error
	"I": store.ExecutionFailed,   // incomplete
	"A": store.ExecutionCanceled, // canceled by the user
	"C": store.ExecutionRunning,  // created, not yet running
	"R": store.ExecutionRunning,  // running
	"B": store.ExecutionRunning,  // blocked
	"D": store.ExecutionWarning,  // verify found differences
	"F": store.ExecutionRunning,  // waiting for the client
	"S": store.ExecutionRunning,  // waiting for the storage daemon
	"m": store.ExecutionRunning,  // waiting for a new volume
	"M": store.ExecutionRunning,  // waiting for a mount
	"s": store.ExecutionRunning,  // waiting for a storage resource
	"j": store.ExecutionRunning,  // waiting for a job resource
	"c": store.ExecutionRunning,  // waiting for a client resource
	"d": store.ExecutionRunning,  // waiting for the maximum jobs
	"t": store.ExecutionRunning,  // waiting for the start time
	"p": store.ExecutionRunning,  // waiting for a higher-priority job
	"q": store.ExecutionRunning,  // queued, waiting for device
	"a": store.ExecutionRunning,  // SD despooling attributes
	"i": store.ExecutionRunning,  // doing batch insert of file records
	"l": store.ExecutionRunning,  // doing data despooling
	"L": store.ExecutionRunning,  // committing data (last spooled part)
}

type bareosJob struct {
	JobID     flexString `json:"jobid"`
	Job       string     `json:"job"`
	Name      string     `json:"name"`
	Type      *string    `json:"type"`
	Level     string     `json:"level"`
	JobStatus *string    `json:"jobstatus"`
	SchedTime *string    `json:"schedtime"`
	StartTime *string    `json:"starttime"`
	EndTime   *string    `json:"endtime"`
	JobFiles  flexInt    `json:"jobfiles"`
	JobBytes  flexInt    `json:"jobbytes"`
	JobErrors flexInt    `json:"joberrors"`
}

func parseBareos(data []byte, o Options) ([]backupmgmt.RecordParams, error) {
	var rep struct {
		Result *struct {
			Jobs json.RawMessage `json:"jobs"`
		} `json:"result"`
		Error *struct {
			Message string `json:"message"`
			Data    struct {
				Messages struct {
					Error []string `json:"error"`
				} `json:"messages"`
			} `json:"data"`
		} `json:"error"`
	}
	if err := decodeJSON(data, "", &rep); err != nil {
		return nil, err
	}
	if rep.Error != nil {
		msg := strings.TrimSpace(strings.Join(rep.Error.Data.Messages.Error, " "))
		if msg == "" {
			msg = rep.Error.Message
		}
		return nil, &ParseError{Field: "error", Message: "bconsole answered with an error: " + clip(msg, 300)}
	}
	if rep.Result == nil {
		return nil, &ParseError{Field: "result", Message: "required (bconsole JSON after .api 2)"}
	}
	raw := bytes.TrimSpace(rep.Result.Jobs)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, &ParseError{Field: "result.jobs", Message: "required (llist jobs or llist jobid=N)"}
	}
	jobs, err := decodeArray[bareosJob](raw, "result.jobs")
	if err != nil {
		return nil, err
	}
	var runs []backupmgmt.RecordParams
	for i, j := range jobs {
		at := index("result.jobs", i)
		if j.Type == nil {
			return nil, &ParseError{Field: join(at, "type"), Message: "required"}
		}
		if *j.Type != "B" {
			continue
		}
		p, err := bareosRun(at, j, o)
		if err != nil {
			return nil, err
		}
		runs = append(runs, p)
	}
	if len(runs) == 0 {
		return nil, &ParseError{Field: "result.jobs", Message: "no backup jobs (type B)"}
	}
	return runs, nil
}

func bareosRun(at string, j bareosJob, o Options) (backupmgmt.RecordParams, error) {
	id, err := key(join(at, "jobid"), j.JobID.S)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if j.JobStatus == nil || *j.JobStatus == "" {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "jobstatus"), Message: "required"}
	}
	status, ok := bareosStatus[*j.JobStatus]
	if !ok {
		return backupmgmt.RecordParams{}, &ParseError{Field: join(at, "jobstatus"), Message: fmt.Sprintf("unknown job status %q", clip(*j.JobStatus, 10))}
	}
	for field, n := range map[string]int64{"jobfiles": j.JobFiles.N, "jobbytes": j.JobBytes.N, "joberrors": j.JobErrors.N} {
		if err := count(join(at, field), n); err != nil {
			return backupmgmt.RecordParams{}, err
		}
	}
	startField := join(at, "starttime")
	start, err := optTime(startField, j.StartTime, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	if start.IsZero() && status == store.ExecutionRunning {
		startField = join(at, "schedtime")
		if start, err = optTime(startField, j.SchedTime, o.Location); err != nil {
			return backupmgmt.RecordParams{}, err
		}
	}
	if start.IsZero() {
		return backupmgmt.RecordParams{}, &ParseError{Field: startField, Message: "required"}
	}
	endField := join(at, "endtime")
	end, err := optTime(endField, j.EndTime, o.Location)
	if err != nil {
		return backupmgmt.RecordParams{}, err
	}
	p := backupmgmt.RecordParams{
		RunID: id, Status: status, StartedAt: start,
		SizeBytes: j.JobBytes.N, Files: j.JobFiles.N, Errors: j.JobErrors.N,
	}
	if j.Job != "" {
		if p.SnapshotID, err = key(join(at, "job"), j.Job); err != nil {
			return backupmgmt.RecordParams{}, err
		}
	}
	if err := finish(&p, end, endField); err != nil {
		if status != store.ExecutionRunning && j.EndTime == nil {
			return backupmgmt.RecordParams{}, &ParseError{Field: endField, Message: "required for a finished job: send llist, not list"}
		}
		return backupmgmt.RecordParams{}, err
	}
	what := "bareos job " + id
	if j.Name != "" {
		what = fmt.Sprintf("bareos job %s #%s", clip(j.Name, 200), id)
	}
	if j.Level != "" {
		what += " (level " + clip(j.Level, 10) + ")"
	}
	p.Message = fmt.Sprintf("%s: status %s, %s, %s", what, *j.JobStatus, plural(j.JobFiles.N, "file", "files"), humanBytes(j.JobBytes.N))
	if j.JobErrors.N > 0 {
		p.Message += ", " + plural(j.JobErrors.N, "error", "errors")
	}
	return p, nil
}
