package httpapi

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// AuditEvent is one event of the hash-chained audit log (DESIGN §4.8).
type AuditEvent struct {
	Seq          int64             `json:"seq"`
	At           time.Time         `json:"at"`
	Actor        string            `json:"actor"`
	Action       string            `json:"action"`
	ResourceType string            `json:"resource_type"`
	ResourceID   string            `json:"resource_id"`
	Result       store.AuditResult `json:"result"`
	IP           string            `json:"ip"`
	RequestID    string            `json:"request_id"`
	// Details is the event's JSON object, absent when it has none.
	Details  json.RawMessage `json:"details,omitempty"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

func auditEventView(e *store.AuditEvent) AuditEvent {
	out := AuditEvent{
		Seq: e.Seq, At: utc(e.At), Actor: e.Actor, Action: e.Action, ResourceType: e.ResourceType,
		ResourceID: e.ResourceID, Result: e.Result, IP: e.IP, RequestID: e.RequestID,
		PrevHash: e.PrevHash, Hash: e.Hash,
	}
	if d := bytes.TrimSpace(e.Details); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		out.Details = json.RawMessage(d)
	}
	return out
}

// AuditVerification is the outcome of walking the audit chain.
type AuditVerification struct {
	// OK reports an unbroken chain.
	OK bool `json:"ok"`
	// Checked counts the events found intact, in order from FirstSeq.
	Checked  int64 `json:"checked"`
	FirstSeq int64 `json:"first_seq"`
	LastSeq  int64 `json:"last_seq"`
	// Anchor is the prev_hash of the first remaining event: "" when the log
	// starts at event 1, else the hash of the newest event retention removed.
	Anchor string `json:"anchor"`
	// BrokenAt is the seq of the first altered, mislinked or missing event;
	// 0 when OK.
	BrokenAt int64  `json:"broken_at"`
	Reason   string `json:"reason"`
}

// auditFilters are the filters shared by the list and the export.
var auditFilters = []queryParam{
	{name: "actor", typ: "string", desc: `only events of this actor ("user:<id>", "apikey:<id>", "system")`},
	{name: "action", typ: "string", desc: `only events of this action ("job.create", …)`},
	{name: "resource_type", typ: "string", desc: "only events about this kind of resource"},
	{name: "resource_id", typ: "string", desc: "only events about this resource"},
	{name: "result", typ: "string", desc: "only events with this result", enum: enumOf[store.AuditResult]()},
	{name: "from", typ: "date-time", desc: "only events at or after this time"},
	{name: "to", typ: "date-time", desc: "only events before this time"},
}

// auditExportFormats are the formats of the export.
var auditExportFormats = []string{"csv", "json"}

func (a *API) auditRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/audit", perm: backupmgmt.PermAuditRead, tag: "audit",
			summary: "List audit events, newest first",
			resp:    List[AuditEvent]{}, status: http.StatusOK,
			query: append(append([]queryParam{}, auditFilters...), pageParams...),
			h:     a.listAudit,
		},
		{
			// Export and verify read the whole log: they share the report
			// generation limit rather than the general one.
			method: "GET", path: "/api/v1/audit/export", perm: backupmgmt.PermAuditRead, tag: "audit", limit: limitReports,
			summary: "Export the audit events that match the filters, newest first, streamed as CSV (default) or a JSON array",
			resp:    []AuditEvent{}, rawResp: "text/csv", status: http.StatusOK,
			query: append([]queryParam{
				{name: "format", typ: "string", desc: "csv (default) or json", enum: auditExportFormats},
			}, auditFilters...),
			h: a.exportAudit,
		},
		{
			method: "POST", path: "/api/v1/audit/verify", perm: backupmgmt.PermAuditRead, tag: "audit", limit: limitReports,
			summary: "Walk the audit hash chain and report the first broken link (a broken chain is a 200 with ok false)",
			resp:    AuditVerification{}, status: http.StatusOK,
			h: a.verifyAudit,
		},
	}
}

// auditParams reads the shared filters.
func auditParams(q *query) store.ListAuditParams {
	return store.ListAuditParams{
		Actor:        q.str("actor"),
		Action:       q.str("action"),
		ResourceType: q.str("resource_type"),
		ResourceID:   q.str("resource_id"),
		Result:       store.AuditResult(q.str("result")),
		At:           store.TimeRange{From: deref(q.time("from")), To: deref(q.time("to"))},
	}
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := auditParams(q)
	p.PageParams = q.page()
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Audit().List(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, auditEventView))
	return nil
}

func (a *API) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	v, err := a.svc.Audit().Verify(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AuditVerification{
		OK: v.OK, Checked: v.Checked, FirstSeq: v.FirstSeq, LastSeq: v.LastSeq,
		Anchor: v.Anchor, BrokenAt: v.BrokenAt, Reason: v.Reason,
	})
	return nil
}

// auditCSVHeader is the first row of a CSV export.
var auditCSVHeader = []string{
	"seq", "at", "actor", "action", "resource_type", "resource_id", "result",
	"ip", "request_id", "details", "prev_hash", "hash",
}

// exportAudit streams every matching event page by page. The first page is
// read before anything is written, so that a failure there is an ordinary
// error response; a later failure can only cut the stream, which the
// client sees as a broken transfer rather than a complete-looking file.
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := auditParams(q)
	format := q.str("format")
	if err := q.err(); err != nil {
		return err
	}
	if format == "" {
		format = "csv"
	}
	p.Limit = store.LimitMax
	page, err := a.svc.Audit().List(r.Context(), p)
	if err != nil {
		return err
	}
	var enc auditEncoder
	if format == "json" {
		enc = &auditJSONEncoder{w: w}
		w.Header().Set("Content-Type", "application/json")
	} else {
		enc = &auditCSVEncoder{w: csv.NewWriter(w)}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="audit.`+format+`"`)
	w.WriteHeader(http.StatusOK)
	enc.begin()
	for {
		for i := range page.Items {
			enc.event(&page.Items[i])
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
		if page, err = a.svc.Audit().List(r.Context(), p); err != nil {
			a.log.ErrorContext(r.Context(), "audit export failed mid-stream",
				slog.String("request_id", security.RequestIDFrom(r.Context())),
				slog.String("error", err.Error()))
			panic(http.ErrAbortHandler)
		}
	}
	enc.end()
	return nil
}

// auditEncoder writes the events of an export.
type auditEncoder interface {
	begin()
	event(e *store.AuditEvent)
	end()
}

type auditCSVEncoder struct{ w *csv.Writer }

func (c *auditCSVEncoder) begin() { _ = c.w.Write(auditCSVHeader) }

func (c *auditCSVEncoder) event(e *store.AuditEvent) {
	v := auditEventView(e)
	row := []string{
		strconv.FormatInt(v.Seq, 10), v.At.Format(time.RFC3339Nano), v.Actor, v.Action,
		v.ResourceType, v.ResourceID, string(v.Result), v.IP, v.RequestID, string(v.Details),
		v.PrevHash, v.Hash,
	}
	for i := range row {
		row[i] = csvSafe(row[i])
	}
	_ = c.w.Write(row)
}

func (c *auditCSVEncoder) end() { c.w.Flush() }

// csvSafe defuses formula injection: a cell that a spreadsheet would take
// for a formula gets a leading apostrophe (OWASP's advice).
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

type auditJSONEncoder struct {
	w     http.ResponseWriter
	count int
}

func (j *auditJSONEncoder) begin() { _, _ = j.w.Write([]byte("[")) }

func (j *auditJSONEncoder) event(e *store.AuditEvent) {
	raw, err := json.Marshal(auditEventView(e))
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if j.count > 0 {
		_, _ = j.w.Write([]byte(",\n"))
	}
	j.count++
	_, _ = j.w.Write(raw)
}

func (j *auditJSONEncoder) end() { _, _ = j.w.Write([]byte("]\n")) }
