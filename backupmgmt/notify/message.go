package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// message is one notification rendered for any channel: the subject, a
// headline, a body and labelled facts; each channel lays them out.
type message struct {
	// ID is the notification ID, the receivers' idempotency key.
	ID string
	// Event is an AlertEvent, "report" or "test".
	Event    string
	Alert    *backupmgmt.AlertNotice
	Report   *backupmgmt.ReportNotice
	Subject  string
	Headline string
	Body     string
	Facts    []fact
	Link     string
	At       time.Time
	// OwnerID is the owner of the alert's job, who gets the email.
	OwnerID string
	// Attachment is the report file, for email.
	Attachment *attachment
}

type fact struct{ Label, Value string }

type attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// subjectPrefix starts every subject, for mail filters.
const subjectPrefix = "[Custos] "

// message renders the outbox row n for ch. A payload that does not decode
// or a report that is gone is a permanent failure.
func (d *Dispatcher) message(ctx context.Context, ch *store.Channel, n *store.Notification) (*message, error) {
	var head struct {
		Event string `json:"event"`
	}
	if err := json.Unmarshal(n.Payload, &head); err != nil {
		return nil, permanent("payload does not decode: %v", err)
	}
	if head.Event == "report" || n.ReportID != nil {
		var rn backupmgmt.ReportNotice
		if err := json.Unmarshal(n.Payload, &rn); err != nil {
			return nil, permanent("report payload does not decode: %v", err)
		}
		return d.reportMessage(ctx, ch, n.ID, &rn)
	}
	var an backupmgmt.AlertNotice
	if err := json.Unmarshal(n.Payload, &an); err != nil {
		return nil, permanent("alert payload does not decode: %v", err)
	}
	return d.alertMessage(ctx, n.ID, &an)
}

func (d *Dispatcher) alertMessage(ctx context.Context, id string, a *backupmgmt.AlertNotice) (*message, error) {
	m := &message{ID: id, Event: string(a.Event), Alert: a, At: a.At, Body: a.Message}
	job := ""
	if a.JobID != "" {
		j, err := d.svc.Store().Jobs().Get(ctx, a.JobID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			job = a.JobID
		case err != nil:
			return nil, fmt.Errorf("read job %s: %w", a.JobID, err)
		default:
			job = j.Name
			if j.OwnerID != nil {
				m.OwnerID = *j.OwnerID
			}
		}
	}
	sev := strings.ToUpper(string(a.Severity))
	switch a.Event {
	case backupmgmt.AlertEventResolved:
		m.Subject = fmt.Sprintf("%sRESOLVED: %s — %s", subjectPrefix, a.Type, a.Title)
		m.Headline = "Resolved: this alert is closed."
	case backupmgmt.AlertEventEscalated:
		m.Subject = fmt.Sprintf("%s%s (escalated): %s — %s", subjectPrefix, sev, a.Type, a.Title)
		m.Headline = "Escalated to " + sev + "."
	case backupmgmt.AlertEventRepeat:
		m.Subject = fmt.Sprintf("%s%s (reminder): %s — %s", subjectPrefix, sev, a.Type, a.Title)
		m.Headline = "Reminder: this alert is still open."
	default:
		m.Subject = fmt.Sprintf("%s%s: %s — %s", subjectPrefix, sev, a.Type, a.Title)
		m.Headline = "New alert."
	}
	m.Facts = []fact{
		{"Severity", sev},
		{"Type", string(a.Type)},
	}
	if job != "" {
		m.Facts = append(m.Facts, fact{"Job", job})
	}
	if a.MediaID != "" {
		m.Facts = append(m.Facts, fact{"Media", a.MediaID})
	}
	m.Facts = append(m.Facts,
		fact{"Occurrences", strconv.Itoa(a.Occurrences)},
		fact{"First seen", d.formatTime(a.FirstSeenAt)},
		fact{"Last seen", d.formatTime(a.LastSeenAt)},
	)
	if a.ResolvedAt != nil {
		by := a.ResolvedBy
		if by == store.ResolvedByAuto {
			by = "automatically, the condition cleared"
		}
		m.Facts = append(m.Facts, fact{"Resolved", strings.TrimSuffix(d.formatTime(*a.ResolvedAt)+" ("+by+")", " ()")})
	}
	m.Facts = append(m.Facts, fact{"Alert ID", a.AlertID})
	if d.cfg.BaseURL != "" {
		m.Link = strings.TrimRight(d.cfg.BaseURL, "/") + "/api/v1/alerts/" + url.PathEscape(a.AlertID)
	}
	return m, nil
}

func (d *Dispatcher) reportMessage(ctx context.Context, ch *store.Channel, id string, r *backupmgmt.ReportNotice) (*message, error) {
	m := &message{
		ID: id, Event: "report", Report: r, At: r.At,
		Subject:  subjectPrefix + r.Title,
		Headline: r.Title,
		Body:     r.Summary,
		Facts: []fact{
			{"Report", string(r.Type)},
			{"Format", string(r.Format)},
			{"Period", d.formatTime(r.PeriodFrom) + " – " + d.formatTime(r.PeriodTo)},
			{"Report ID", r.ReportID},
		},
	}
	if ch.Kind != store.ChannelEmail {
		return m, nil
	}
	rep, err := d.svc.Store().Reports().GetContent(ctx, r.ReportID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, permanent("report %s no longer exists", r.ReportID)
	}
	if err != nil {
		return nil, fmt.Errorf("read report %s: %w", r.ReportID, err)
	}
	m.Attachment = &attachment{
		Name:        fmt.Sprintf("custos-%s-%s.%s", rep.Type, rep.PeriodFrom.In(d.cfg.Location).Format(time.DateOnly), rep.Format),
		ContentType: reportContentType(rep.Format),
		Data:        rep.Content,
	}
	return m, nil
}

func reportContentType(f store.ReportFormat) string {
	switch f {
	case store.FormatHTML:
		return "text/html; charset=utf-8"
	case store.FormatCSV:
		return "text/csv; charset=utf-8"
	case store.FormatJSON:
		return "application/json"
	case store.FormatPDF:
		return "application/pdf"
	}
	return "application/octet-stream"
}

func (d *Dispatcher) testMessage(ch *store.Channel) *message {
	now := store.NormalizeTime(d.cfg.Now())
	return &message{
		ID:       "test-" + store.NewID(),
		Event:    "test",
		At:       now,
		Subject:  subjectPrefix + "Test message",
		Headline: "Test message.",
		Body:     "This is a test message from Custos. If you can read it, the channel works.",
		Facts:    []fact{{"Channel", ch.Name}, {"Kind", string(ch.Kind)}},
	}
}

func (d *Dispatcher) formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(d.cfg.Location).Format("2006-01-02 15:04:05 MST")
}

// text is the plain-text body shared by email and chat fallbacks.
func (m *message) text() string {
	var b strings.Builder
	b.WriteString(m.Headline)
	b.WriteString("\n\n")
	if m.Body != "" {
		b.WriteString(m.Body)
		b.WriteString("\n\n")
	}
	for _, f := range m.Facts {
		fmt.Fprintf(&b, "%s: %s\n", f.Label, f.Value)
	}
	if m.Link != "" {
		fmt.Fprintf(&b, "\n%s\n", m.Link)
	}
	return b.String()
}
