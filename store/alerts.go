package store

import (
	"context"
	"encoding/json"
	"time"
)

// Rank orders severities: info 1 … critical 4; unknown values rank 0.
func (v Severity) Rank() int {
	for i, s := range severityValues {
		if s == v {
			return i + 1
		}
	}
	return 0
}

// Alert is a condition someone should look at. While unresolved it is
// unique per DedupeKey; repeats bump Occurrences and LastSeenAt.
type Alert struct {
	ID             string
	Type           AlertType
	Severity       Severity
	JobID          *string
	MediaID        *string
	DedupeKey      string
	Title          string
	Message        string // cut to MaxMessageLen characters when stored
	State          AlertState
	Occurrences    int
	FirstSeenAt    time.Time
	LastSeenAt     time.Time
	AcknowledgedBy *string
	AcknowledgedAt *time.Time
	AckNote        string
	ResolvedAt     *time.Time
	// ResolvedBy is a user ID, or "auto" when the condition cleared.
	ResolvedBy string
	// LastNotifiedAt is when a notification last went out for the alert; it
	// drives the repeat interval.
	LastNotifiedAt *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ResolvedByAuto marks an alert resolved because its condition cleared.
const ResolvedByAuto = "auto"

// Validate reports the fields of a that no store accepts.
func (a *Alert) Validate() error {
	var v validator
	enum(&v, "type", a.Type, alertTypeValues)
	enum(&v, "severity", a.Severity, severityValues)
	v.key("dedupe_key", a.DedupeKey, MaxShortTextLen)
	v.name("title", a.Title)
	enum(&v, "state", a.State, alertStateValues)
	if a.Occurrences < 1 {
		v.add("occurrences", "at least 1")
	}
	v.count("occurrences", a.Occurrences)
	if a.FirstSeenAt.IsZero() {
		v.add("first_seen_at", "required")
	}
	if a.LastSeenAt.IsZero() {
		v.add("last_seen_at", "required")
	}
	v.text("ack_note", a.AckNote, MaxTextLen)
	if a.State == AlertResolved && a.ResolvedAt == nil {
		v.add("resolved_at", "required when resolved")
	}
	if a.State != AlertResolved && a.ResolvedAt != nil {
		v.add("resolved_at", "only when resolved")
	}
	v.text("resolved_by", a.ResolvedBy, 64)
	return v.err()
}

// ListAlertsParams filters alerts, most recently seen first. An alert that
// recurs while a client pages moves to the front, so it may be missed by the
// pages still to come; it is on the first page of a fresh listing.
type ListAlertsParams struct {
	PageParams
	State    AlertState // optional
	Severity Severity   // optional
	Type     AlertType  // optional
	JobID    string     // optional
	MediaID  string     // optional
	// Unresolved keeps open and acknowledged alerts (State must be empty).
	Unresolved bool
}

// AlertStore stores alerts.
type AlertStore interface {
	// Create inserts an alert; ErrConflict if an unresolved alert has the
	// same DedupeKey.
	Create(ctx context.Context, a *Alert) error
	Get(ctx context.Context, id string) (*Alert, error)
	// GetUnresolved returns the open or acknowledged alert with the key, or
	// ErrNotFound.
	GetUnresolved(ctx context.Context, dedupeKey string) (*Alert, error)
	// Update writes every field but ID, Type, DedupeKey and CreatedAt.
	Update(ctx context.Context, a *Alert) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListAlertsParams) (*Page[Alert], error)
	// CountUnresolved counts open and acknowledged alerts per severity and
	// state.
	CountUnresolved(ctx context.Context) (map[AlertState]map[Severity]int, error)
}

// Channel is a notification target. Settings hold its configuration,
// secrets included; they are never returned by the API nor logged.
type Channel struct {
	ID          string
	Kind        ChannelKind
	Name        string // unique, case-insensitive
	Settings    json.RawMessage
	MinSeverity Severity
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Validate reports the fields of c that no store accepts.
func (c *Channel) Validate() error {
	var v validator
	enum(&v, "kind", c.Kind, channelKindValues)
	v.name("name", c.Name)
	if len(c.Settings) > 0 && !json.Valid(c.Settings) {
		v.add("settings", "must be JSON")
	}
	if len(c.Settings) > 64<<10 {
		v.add("settings", "at most 64 KiB")
	}
	enum(&v, "min_severity", c.MinSeverity, severityValues)
	return v.err()
}

// ListChannelsParams filters channels, ordered by name.
type ListChannelsParams struct {
	PageParams
	Kind   ChannelKind // optional
	Active *bool       // optional
}

// ChannelStore stores notification channels.
type ChannelStore interface {
	Create(ctx context.Context, c *Channel) error
	Get(ctx context.Context, id string) (*Channel, error)
	Update(ctx context.Context, c *Channel) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListChannelsParams) (*Page[Channel], error)
	// ListActive returns every active channel (routing needs them all).
	ListActive(ctx context.Context) ([]Channel, error)
}

// Notification is an outbox row: one message for one channel, written in
// the transaction that made it necessary and sent later.
type Notification struct {
	ID            string
	ChannelID     string
	AlertID       *string
	ReportID      *string
	Payload       json.RawMessage
	State         NotificationState
	Attempts      int
	NextAttemptAt time.Time
	LastError     string // cut to MaxMessageLen characters when stored
	SentAt        *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Validate reports the fields of n that no store accepts.
func (n *Notification) Validate() error {
	var v validator
	v.required("channel_id", n.ChannelID)
	if len(n.Payload) == 0 || !json.Valid(n.Payload) {
		v.add("payload", "must be JSON")
	}
	enum(&v, "state", n.State, notificationStateValues)
	v.count("attempts", n.Attempts)
	if n.NextAttemptAt.IsZero() {
		v.add("next_attempt_at", "required")
	}
	return v.err()
}

// ListNotificationsParams filters the outbox, oldest first.
type ListNotificationsParams struct {
	PageParams
	State     NotificationState // optional
	ChannelID string            // optional
	AlertID   string            // optional
}

// NotificationStore stores the notification outbox.
type NotificationStore interface {
	Create(ctx context.Context, n *Notification) error
	Get(ctx context.Context, id string) (*Notification, error)
	// Update writes State, Attempts, NextAttemptAt, LastError and SentAt.
	Update(ctx context.Context, n *Notification) error
	List(ctx context.Context, p ListNotificationsParams) (*Page[Notification], error)
	// Claim takes up to limit pending or failed rows due at now, moves their
	// NextAttemptAt to now+lease and counts an attempt, so another
	// dispatcher skips them until the lease ends (FOR UPDATE SKIP LOCKED
	// where the database has it).
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Notification, error)
	// CountByState counts outbox rows per state.
	CountByState(ctx context.Context) (map[NotificationState]int, error)
	// DeleteSentBefore removes sent and dead rows older than t (retention).
	DeleteSentBefore(ctx context.Context, t time.Time) (int64, error)
}

// MaxReportBytes bounds a stored report: MariaDB's default
// max_allowed_packet (16 MiB) must hold the whole row.
const MaxReportBytes = 15 << 20

// Report is a generated report, stored whole so that every replica can
// serve it.
type Report struct {
	ID          string
	Type        ReportType
	Format      ReportFormat
	PeriodFrom  time.Time
	PeriodTo    time.Time
	GeneratedBy *string
	GeneratedAt time.Time
	SizeBytes   int64
	SHA256      string // hex
	// Content is the file. Lists and Get leave it nil; GetContent loads it.
	Content   []byte
	CreatedAt time.Time
}

// Validate reports the fields of r that no store accepts.
func (r *Report) Validate() error {
	var v validator
	enum(&v, "type", r.Type, reportTypeValues)
	enum(&v, "format", r.Format, reportFormatValues)
	if r.PeriodFrom.IsZero() || r.PeriodTo.IsZero() {
		v.add("period", "required")
	} else if r.PeriodTo.Before(r.PeriodFrom) {
		v.add("period_to", "must not be before period_from")
	}
	if r.GeneratedAt.IsZero() {
		v.add("generated_at", "required")
	}
	if len(r.SHA256) != 64 {
		v.add("sha256", "must be 64 hex characters")
	}
	if r.SizeBytes != int64(len(r.Content)) {
		v.add("size_bytes", "must equal the content length")
	}
	// MariaDB's default max_allowed_packet is 16 MiB.
	if len(r.Content) > MaxReportBytes {
		v.add("content", "at most 15 MiB")
	}
	return v.err()
}

// ListReportsParams filters reports, newest first.
type ListReportsParams struct {
	PageParams
	Type      ReportType // optional
	Generated TimeRange  // optional
}

// ReportStore stores reports.
type ReportStore interface {
	Create(ctx context.Context, r *Report) error
	// Get returns a report without its content.
	Get(ctx context.Context, id string) (*Report, error)
	// GetContent returns a report with its content.
	GetContent(ctx context.Context, id string) (*Report, error)
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListReportsParams) (*Page[Report], error)
}
