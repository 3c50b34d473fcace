package httpapi

import (
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Alert is an alert on the wire (DESIGN §4.6).
type Alert struct {
	ID             string           `json:"id"`
	Type           store.AlertType  `json:"type"`
	Severity       store.Severity   `json:"severity"`
	JobID          *string          `json:"job_id,omitempty"`
	MediaID        *string          `json:"media_id,omitempty"`
	DedupeKey      string           `json:"dedupe_key"`
	Title          string           `json:"title"`
	Message        string           `json:"message"`
	State          store.AlertState `json:"state"`
	Occurrences    int              `json:"occurrences"`
	FirstSeenAt    time.Time        `json:"first_seen_at"`
	LastSeenAt     time.Time        `json:"last_seen_at"`
	AcknowledgedBy *string          `json:"acknowledged_by,omitempty"`
	AcknowledgedAt *time.Time       `json:"acknowledged_at,omitempty"`
	AckNote        string           `json:"ack_note"`
	ResolvedAt     *time.Time       `json:"resolved_at,omitempty"`
	// ResolvedBy is a user ID, or "auto" when the condition cleared.
	ResolvedBy     *string    `json:"resolved_by,omitempty"`
	LastNotifiedAt *time.Time `json:"last_notified_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

func alertView(a *store.Alert) Alert {
	return Alert{
		ID: a.ID, Type: a.Type, Severity: a.Severity, JobID: a.JobID, MediaID: a.MediaID,
		DedupeKey: a.DedupeKey, Title: a.Title, Message: a.Message, State: a.State,
		Occurrences: a.Occurrences, FirstSeenAt: utc(a.FirstSeenAt), LastSeenAt: utc(a.LastSeenAt),
		AcknowledgedBy: a.AcknowledgedBy, AcknowledgedAt: utcPtr(a.AcknowledgedAt), AckNote: a.AckNote,
		ResolvedAt: utcPtr(a.ResolvedAt), ResolvedBy: strPtr(a.ResolvedBy),
		LastNotifiedAt: utcPtr(a.LastNotifiedAt), CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt),
	}
}

// AlertNote is the body of acknowledge and resolve; it may be omitted.
type AlertNote struct {
	Note string `json:"note"`
}

// AlertBulkAcknowledge is the body of a bulk acknowledgement.
type AlertBulkAcknowledge struct {
	IDs  []string `json:"ids" required:"true"`
	Note string   `json:"note"`
}

// AlertBulkResult is the outcome of one alert of a bulk operation: Status is
// the HTTP status it would have had alone, with the alert on success and
// the error otherwise.
type AlertBulkResult struct {
	ID     string     `json:"id"`
	Status int        `json:"status"`
	Alert  *Alert     `json:"alert,omitempty"`
	Error  *ErrorBody `json:"error,omitempty"`
}

// AlertBulkResults is the body of a bulk acknowledgement, in request order.
type AlertBulkResults struct {
	Items []AlertBulkResult `json:"items"`
}

// AlertSummary counts the unresolved alerts; every severity is present.
type AlertSummary struct {
	Open         map[store.Severity]int `json:"open"`
	Acknowledged map[store.Severity]int `json:"acknowledged"`
	Total        int                    `json:"total"`
}

func (a *API) alertRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/alerts", perm: backupmgmt.PermRead, resource: "alert", tag: "alerts",
			summary: "List alerts, most recently seen first",
			resp:    List[Alert]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "state", typ: "string", desc: "only alerts in this state", enum: enumOf[store.AlertState]()},
				{name: "severity", typ: "string", desc: "only alerts of this severity", enum: enumOf[store.Severity]()},
				{name: "type", typ: "string", desc: "only alerts of this type", enum: enumOf[store.AlertType]()},
				{name: "job_id", typ: "string", desc: "only alerts about this job"},
				{name: "media_id", typ: "string", desc: "only alerts about this medium"},
				{name: "unresolved", typ: "boolean", desc: "true: only open and acknowledged alerts (not with state)"},
			}, pageParams...),
			h: a.listAlerts,
		},
		{
			method: "GET", path: "/api/v1/alerts/summary", perm: backupmgmt.PermRead, tag: "alerts",
			summary: "Count the unresolved alerts per state and severity",
			resp:    AlertSummary{}, status: http.StatusOK,
			h: a.alertSummary,
		},
		{
			method: "POST", path: "/api/v1/alerts/bulk-acknowledge", perm: backupmgmt.PermAlertsManage, resource: "alert", tag: "alerts",
			summary: "Acknowledge several alerts with one note; each succeeds or fails on its own (200 with per-item results)",
			body:    AlertBulkAcknowledge{}, resp: AlertBulkResults{}, status: http.StatusOK,
			h: a.bulkAcknowledgeAlerts,
		},
		{
			method: "GET", path: "/api/v1/alerts/{id}", perm: backupmgmt.PermRead, resource: "alert", tag: "alerts",
			summary: "Get an alert",
			resp:    Alert{}, status: http.StatusOK,
			h: getByID(a.svc.Alerts().Get, alertView),
		},
		{
			method: "POST", path: "/api/v1/alerts/{id}/acknowledge", perm: backupmgmt.PermAlertsManage, resource: "alert", tag: "alerts",
			summary: "Acknowledge an open alert with an optional note; again on an acknowledged one updates the note",
			body:    AlertNote{}, resp: Alert{}, status: http.StatusOK,
			h: a.alertAction(func(r *http.Request, id, note string) (*store.Alert, error) {
				return a.svc.Alerts().Acknowledge(r.Context(), id, note)
			}),
		},
		{
			method: "POST", path: "/api/v1/alerts/{id}/unacknowledge", perm: backupmgmt.PermAlertsManage, resource: "alert", tag: "alerts",
			summary: "Put an acknowledged alert back to open",
			resp:    Alert{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, r *http.Request) error {
				var in struct{}
				if err := decodeOptionalJSON(r, &in); err != nil {
					return err
				}
				al, err := a.svc.Alerts().Unacknowledge(r.Context(), pathID(r, "id"))
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, alertView(al))
				return nil
			},
		},
		{
			method: "POST", path: "/api/v1/alerts/{id}/resolve", perm: backupmgmt.PermAlertsManage, resource: "alert", tag: "alerts",
			summary: "Resolve an alert by hand with an optional note; if its condition holds, the next occurrence opens a new one",
			body:    AlertNote{}, resp: Alert{}, status: http.StatusOK,
			h: a.alertAction(func(r *http.Request, id, note string) (*store.Alert, error) {
				return a.svc.Alerts().Resolve(r.Context(), id, note)
			}),
		},
	}
}

func (a *API) listAlerts(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListAlertsParams{
		PageParams: q.page(),
		State:      store.AlertState(q.str("state")),
		Severity:   store.Severity(q.str("severity")),
		Type:       store.AlertType(q.str("type")),
		JobID:      q.str("job_id"),
		MediaID:    q.str("media_id"),
		Unresolved: deref(q.boolean("unresolved")),
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Alerts().List(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, alertView))
	return nil
}

func (a *API) alertSummary(w http.ResponseWriter, r *http.Request) error {
	s, err := a.svc.Alerts().Summary(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, AlertSummary{Open: s.Open, Acknowledged: s.Acknowledged, Total: s.Total})
	return nil
}

// alertAction is the handler of an action that takes an optional note.
func (a *API) alertAction(do func(r *http.Request, id, note string) (*store.Alert, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in AlertNote
		if err := decodeOptionalJSON(r, &in); err != nil {
			return err
		}
		al, err := do(r, pathID(r, "id"), in.Note)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, alertView(al))
		return nil
	}
}

func (a *API) bulkAcknowledgeAlerts(w http.ResponseWriter, r *http.Request) error {
	var in AlertBulkAcknowledge
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	results, err := a.svc.Alerts().BulkAcknowledge(r.Context(), in.IDs, in.Note)
	if err != nil {
		return err
	}
	out := AlertBulkResults{Items: make([]AlertBulkResult, len(results))}
	for i, res := range results {
		item := AlertBulkResult{ID: res.ID, Status: http.StatusOK}
		if res.Err != nil {
			status, body := a.status(r, res.Err)
			item.Status, item.Error = status, &body
		} else if res.Alert != nil {
			v := alertView(res.Alert)
			item.Alert = &v
		}
		out.Items[i] = item
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
