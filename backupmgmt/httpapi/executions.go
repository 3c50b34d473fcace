package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Execution is one backup run. LogExcerpt is sent only by
// GET /api/v1/executions/{id}: it is up to 16 000 characters, too much for
// every row of a list.
type Execution struct {
	ID              string                `json:"id"`
	JobID           string                `json:"job_id"`
	CopyID          *string               `json:"copy_id,omitempty"`
	RunID           string                `json:"run_id"`
	Status          store.ExecutionStatus `json:"status"`
	StartedAt       time.Time             `json:"started_at"`
	FinishedAt      *time.Time            `json:"finished_at,omitempty"`
	DurationSeconds *int64                `json:"duration_seconds,omitempty" doc:"finished_at - started_at; absent while running"`
	SizeBytes       int64                 `json:"size_bytes"`
	Files           int64                 `json:"files"`
	Errors          int64                 `json:"errors"`
	Message         string                `json:"message"`
	Source          store.ExecutionSource `json:"source"`
	SnapshotID      string                `json:"snapshot_id"`
	LogExcerpt      *string               `json:"log_excerpt,omitempty" doc:"only in GET /api/v1/executions/{id}"`
	APIKeyID        *string               `json:"api_key_id,omitempty" doc:"the API key that recorded the run"`
	CreatedAt       time.Time             `json:"created_at"`
}

func executionView(e *store.Execution) Execution {
	out := Execution{
		ID: e.ID, JobID: e.JobID, CopyID: e.CopyID, RunID: e.RunID, Status: e.Status,
		StartedAt: utc(e.StartedAt), FinishedAt: utcPtr(e.FinishedAt),
		SizeBytes: e.SizeBytes, Files: e.Files, Errors: e.Errors, Message: e.Message,
		Source: e.Source, SnapshotID: e.SnapshotID, APIKeyID: e.APIKeyID, CreatedAt: utc(e.CreatedAt),
	}
	if e.FinishedAt != nil {
		d := seconds(e.FinishedAt.Sub(e.StartedAt))
		out.DurationSeconds = &d
	}
	return out
}

// ExecutionRecord is one run to record: the body of POST
// /api/v1/executions, or an item of a batch (a JSON array of them).
// Exactly one of job_id and job_name names the job.
type ExecutionRecord struct {
	JobID      string                `json:"job_id"`
	JobName    string                `json:"job_name" doc:"instead of job_id; ignores case"`
	RunID      string                `json:"run_id" doc:"idempotency key, unique per job; a repeat answers 200 with the stored run"`
	Status     store.ExecutionStatus `json:"status" required:"true"`
	StartedAt  *string               `json:"started_at" required:"true" format:"date-time"`
	FinishedAt *string               `json:"finished_at" format:"date-time" doc:"required unless running"`
	SizeBytes  int64                 `json:"size_bytes"`
	Files      int64                 `json:"files"`
	Errors     int64                 `json:"errors"`
	Message    string                `json:"message"`
	CopyID     *string               `json:"copy_id" doc:"the job's copy the run wrote"`
	Source     store.ExecutionSource `json:"source" doc:"defaults to api"`
	SnapshotID string                `json:"snapshot_id"`
	LogExcerpt string                `json:"log_excerpt" doc:"its last 16 000 characters are kept"`
}

func (in *ExecutionRecord) params() (backupmgmt.RecordParams, error) {
	var p problems
	started := p.parseTime("started_at", in.StartedAt)
	finished := p.parseTime("finished_at", in.FinishedAt)
	if err := p.err(); err != nil {
		return backupmgmt.RecordParams{}, err
	}
	return backupmgmt.RecordParams{
		JobID: in.JobID, JobName: in.JobName, RunID: in.RunID, Status: in.Status,
		StartedAt: deref(started), FinishedAt: finished,
		SizeBytes: in.SizeBytes, Files: in.Files, Errors: in.Errors, Message: in.Message,
		CopyID: in.CopyID, Source: in.Source, SnapshotID: in.SnapshotID, LogExcerpt: in.LogExcerpt,
	}, nil
}

// ExecutionBatch is the answer to a batch: one result per item, in order.
// The batch itself is 200 when it was taken; each item says whether it was
// recorded.
type ExecutionBatch struct {
	Items []ExecutionBatchItem `json:"items"`
	// Recorded counts the items recorded now or before; Failed the others.
	Recorded int `json:"recorded"`
	Failed   int `json:"failed"`
}

// ExecutionBatchItem is the outcome of one item: status is what recording
// it alone would have answered (201 new, 200 repeated run_id, 4xx), with
// the execution or the error.
type ExecutionBatchItem struct {
	Index     int        `json:"index"`
	Status    int        `json:"status"`
	Created   bool       `json:"created"`
	Completed bool       `json:"completed" doc:"the item finished a stored running run of the same run_id"`
	Execution *Execution `json:"execution,omitempty"`
	Error     *ErrorBody `json:"error,omitempty"`
}

// executionFilters are the query parameters of an execution list; withJob
// adds job_id (the job's own list has it in the path).
func executionFilters(withJob bool) []queryParam {
	var qs []queryParam
	if withJob {
		qs = append(qs, queryParam{name: "job_id", desc: "only runs of this job"})
	}
	return append(qs,
		queryParam{name: "status", enum: enumOf[store.ExecutionStatus]()},
		queryParam{name: "source", enum: enumOf[store.ExecutionSource]()},
		queryParam{name: "started_after", typ: "date-time", desc: "runs started at or after this time"},
		queryParam{name: "started_before", typ: "date-time", desc: "runs started before this time"},
	)
}

// executionParams reads the filters of executionFilters.
func executionParams(q *query, withJob bool) store.ListExecutionsParams {
	p := store.ListExecutionsParams{
		PageParams: q.page(),
		Status:     store.ExecutionStatus(q.str("status")),
		Source:     store.ExecutionSource(q.str("source")),
	}
	if withJob {
		p.JobID = q.str("job_id")
	}
	p.Started.From = deref(q.time("started_after"))
	p.Started.To = deref(q.time("started_before"))
	if !p.Started.From.IsZero() && !p.Started.To.IsZero() && !p.Started.From.Before(p.Started.To) {
		q.fail("started_before", "must be after started_after")
	}
	return p
}

func (a *API) executionRoutes() []*route {
	return []*route{
		{
			method: "POST", path: "/api/v1/executions", perm: backupmgmt.PermIngest, limit: limitIngest, tag: "executions",
			summary: "Record a run (201 new, 200 with the stored run for a repeated run_id), or a JSON array of up to 1000 runs (200 with a result per item)",
			body:    ExecutionRecord{}, bodyAlt: []ExecutionRecord{},
			resp: Execution{}, status: http.StatusCreated,
			// 200 is the stored Execution for a repeated run_id, or an
			// ExecutionBatch for an array.
			respAlt: oneOf{Execution{}, ExecutionBatch{}}, statusAlt: http.StatusOK,
			maxBody: a.cfg.MaxBatchBodyBytes,
			h:       a.recordExecutions,
		},
		{
			method: "GET", path: "/api/v1/executions", perm: backupmgmt.PermRead, tag: "executions",
			summary: "List executions, newest start first",
			resp:    List[Execution]{}, status: http.StatusOK,
			query: append(executionFilters(true), pageParams...),
			h:     a.listExecutions,
		},
		{
			method: "GET", path: "/api/v1/executions/{id}", perm: backupmgmt.PermRead, resource: "execution", tag: "executions",
			summary: "Get an execution with its log excerpt",
			resp:    Execution{}, status: http.StatusOK,
			h: a.getExecution,
		},
	}
}

func (a *API) recordExecutions(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		return a.recordBatch(w, r, body)
	}
	// A single run is held to the general body limit; only a batch may use
	// the larger one.
	if int64(len(body)) > a.cfg.MaxBodyBytes {
		return &http.MaxBytesError{Limit: a.cfg.MaxBodyBytes}
	}
	var in ExecutionRecord
	if err := unmarshalStrict(body, &in); err != nil {
		return err
	}
	p, err := in.params()
	if err != nil {
		return err
	}
	res, err := a.svc.Executions().Record(r.Context(), p)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, executionView(res.Execution))
	return nil
}

// recordBatch records a JSON array of runs. Each item is decoded on its
// own, so that one malformed item fails alone, as one the domain refuses
// does; a body that is not an array of objects fails as a whole.
func (a *API) recordBatch(w http.ResponseWriter, r *http.Request, body []byte) error {
	var raw []json.RawMessage
	if err := unmarshalStrict(body, &raw); err != nil {
		return err
	}
	switch {
	case len(raw) == 0:
		return invalidField("items", "at least one run is required")
	case len(raw) > backupmgmt.RecordBatchMax:
		return invalidField("items", "at most 1000 runs")
	}
	out := ExecutionBatch{Items: make([]ExecutionBatchItem, len(raw))}
	var params []backupmgmt.RecordParams
	var slots []int // index in raw of each params entry
	for i, item := range raw {
		out.Items[i].Index = i
		var in ExecutionRecord
		err := unmarshalStrict(item, &in)
		var p backupmgmt.RecordParams
		if err == nil {
			p, err = in.params()
		}
		if err != nil {
			a.batchItemError(r, &out.Items[i], err)
			continue
		}
		params = append(params, p)
		slots = append(slots, i)
	}
	if len(params) > 0 {
		results, err := a.svc.Executions().RecordBatch(r.Context(), params)
		if err != nil {
			return err
		}
		a.batchResults(r, &out, slots, results)
	}
	out.count()
	writeJSON(w, http.StatusOK, out)
	return nil
}

// batchResults puts result k of a RecordBatch into item slots[k] of out.
func (a *API) batchResults(r *http.Request, out *ExecutionBatch, slots []int, results []backupmgmt.BatchResult) {
	for k, res := range results {
		it := &out.Items[slots[k]]
		if res.Err != nil {
			a.batchItemError(r, it, res.Err)
			continue
		}
		e := executionView(res.Execution)
		it.Execution, it.Created, it.Completed = &e, res.Created, res.Completed
		it.Status = http.StatusOK
		if res.Created {
			it.Status = http.StatusCreated
		}
	}
}

// count sets Recorded and Failed from the items.
func (b *ExecutionBatch) count() {
	b.Recorded, b.Failed = 0, 0
	for _, it := range b.Items {
		if it.Error == nil {
			b.Recorded++
		} else {
			b.Failed++
		}
	}
}

func (a *API) batchItemError(r *http.Request, it *ExecutionBatchItem, err error) {
	status, body := a.status(r, err)
	it.Status, it.Error = status, &body
}

func (a *API) listExecutions(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := executionParams(q, true)
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Executions().List(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, executionView))
	return nil
}

func (a *API) getExecution(w http.ResponseWriter, r *http.Request) error {
	e, err := a.svc.Executions().Get(r.Context(), pathID(r, "id"))
	if err != nil {
		return err
	}
	v := executionView(e)
	v.LogExcerpt = &e.LogExcerpt
	writeJSON(w, http.StatusOK, v)
	return nil
}
