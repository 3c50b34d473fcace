package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/backupmgmt/ingest"
)

// ingestFormats lists the report formats for the enum of {format}.
func ingestFormats() []string {
	var out []string
	for _, f := range ingest.Formats() {
		out = append(out, string(f))
	}
	return out
}

func (a *API) ingestRoutes() []*route {
	return []*route{{
		method: "POST", path: "/api/v1/ingest/{format}", perm: backupmgmt.PermIngest, limit: limitIngest, tag: "executions",
		summary: "Record the runs of a backup tool's own report (restic --json, borg --json, kopia, Velero, Bareos, Veeam, Windows Server Backup), as a batch: 200 with a result per run",
		rawBody: "the tool's report, as it wrote it (format " + strings.Join(ingestFormats(), ", ") + ")",
		query: []queryParam{
			{name: "job_id", desc: "the job the report is of (or job_name)"},
			{name: "job_name", desc: "instead of job_id; ignores case"},
			{name: "timezone", desc: "IANA zone of report times without an offset (borg, Bareos); UTC when absent"},
		},
		resp: ExecutionBatch{}, status: http.StatusOK,
		maxBody: ingest.MaxReportBytes,
		h:       a.ingestReport,
	}}
}

// ingestReport parses a tool's report and records its runs as a batch. A
// report that does not parse is a 400 naming the field of the report at
// fault, and records nothing.
func (a *API) ingestReport(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	jobID, jobName := q.str("job_id"), q.str("job_name")
	zone := q.str("timezone")
	format := ingest.Format(r.PathValue("format"))
	if !format.Valid() {
		q.fail("format", "one of "+strings.Join(ingestFormats(), ", "))
	}
	switch {
	case jobID == "" && jobName == "":
		q.fail("job_id", "required (or job_name)")
	case jobID != "" && jobName != "":
		q.fail("job_name", "must be empty when job_id is given")
	}
	opts := ingest.Options{Location: time.UTC}
	if zone != "" {
		loc, err := time.LoadLocation(zone)
		if err != nil || zone == "Local" {
			q.fail("timezone", "not an IANA time zone")
		} else {
			opts.Location = loc
		}
	}
	if err := q.err(); err != nil {
		return err
	}
	body, err := readRawBody(r)
	if err != nil {
		return err
	}
	runs, err := ingest.ParseWith(format, bytes.NewReader(body), opts)
	var pe *ingest.ParseError
	switch {
	case errors.As(err, &pe):
		field := pe.Field
		if field == "" {
			field = "body"
		}
		return invalidField(field, pe.Message)
	case err != nil:
		return err
	case len(runs) == 0:
		return invalidField("body", "the report holds no run")
	}
	for i := range runs {
		runs[i].JobID, runs[i].JobName = jobID, jobName
	}
	results, err := a.svc.Executions().RecordBatch(r.Context(), runs)
	if err != nil {
		return err
	}
	out := ExecutionBatch{Items: make([]ExecutionBatchItem, len(results))}
	slots := make([]int, len(results))
	for i := range slots {
		slots[i], out.Items[i].Index = i, i
	}
	a.batchResults(r, &out, slots, results)
	out.count()
	writeJSON(w, http.StatusOK, out)
	return nil
}
