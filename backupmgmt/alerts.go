package backupmgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/custos-dev/custos/store"
)

// Alerts raises, deduplicates, escalates and resolves alerts (DESIGN §4.6),
// and writes the outbox rows that notify about them.
type Alerts Service

// AlertEvent says why a notification is sent.
type AlertEvent string

// AlertEvent values.
const (
	AlertEventOpened    AlertEvent = "opened"
	AlertEventEscalated AlertEvent = "escalated"
	AlertEventRepeat    AlertEvent = "repeat"
	AlertEventResolved  AlertEvent = "resolved"
)

// AlertNotice is the payload of an alert's outbox row: what a channel needs
// to render a message, without any secret.
type AlertNotice struct {
	Event    AlertEvent       `json:"event"`
	AlertID  string           `json:"alert_id"`
	Type     store.AlertType  `json:"type"`
	Severity store.Severity   `json:"severity"`
	State    store.AlertState `json:"state"`
	Title    string           `json:"title"`
	Message  string           `json:"message"`
	JobID    string           `json:"job_id,omitempty"`
	MediaID  string           `json:"media_id,omitempty"`
	// Occurrences and the times are the alert's at the event.
	Occurrences int        `json:"occurrences"`
	FirstSeenAt time.Time  `json:"first_seen_at"`
	LastSeenAt  time.Time  `json:"last_seen_at"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy  string     `json:"resolved_by,omitempty"`
	// At is when the event happened.
	At time.Time `json:"at"`
}

// alertSpec is a condition to raise: its type and subject make the dedupe
// key.
type alertSpec struct {
	Type     store.AlertType
	Severity store.Severity
	// Subject names what the alert is about: "job:<id>", "asset:<id>",
	// "media:<id>", "plan:<id>".
	Subject string
	JobID   *string
	MediaID *string
	Title   string
	Message string
	// Ongoing marks a condition that holds until it clears (an overdue
	// lending, a breached SLA) rather than an event that happens again (a
	// failed run): seeing it again refreshes the alert's message and
	// LastSeenAt but is not another occurrence, so Occurrences does not
	// depend on how often the tick looks.
	Ongoing bool
}

// AlertKey is the dedupe key of an alert of type t about subject.
func AlertKey(t store.AlertType, subject string) string { return string(t) + ":" + subject }

// jobSubject and the others make alert subjects.
func jobSubject(id string) string   { return "job:" + id }
func assetSubject(id string) string { return "asset:" + id }
func mediaSubject(id string) string { return "media:" + id }

// raiseAlert opens the alert of spec, or, when one with its dedupe key is
// unresolved, counts another occurrence: title and message follow the
// newest, and a higher severity escalates the same alert. Opening and
// escalating write outbox rows. It returns the alert and the event that
// happened (AlertEventOpened, AlertEventEscalated, or "" for a repeat).
func (s *Service) raiseAlert(ctx context.Context, tx store.Repos, spec alertSpec) (*store.Alert, AlertEvent, error) {
	now := s.Now()
	key := AlertKey(spec.Type, spec.Subject)
	title := store.TruncateText(spec.Title, store.MaxNameLen)
	for attempt := 0; ; attempt++ {
		a, err := tx.Alerts().GetUnresolved(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			a = s.newAlert(spec, key, title, now)
			// A savepoint: losing the race to another writer of the same key
			// must leave the transaction usable for the bump below.
			err = tx.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				return tx.Alerts().Create(ctx, a)
			})
			if errors.Is(err, store.ErrConflict) && attempt == 0 {
				continue
			}
			if err != nil {
				return nil, "", fmt.Errorf("backupmgmt: open alert %s: %w", key, err)
			}
			if err := s.queueNotices(ctx, tx, a, AlertEventOpened); err != nil {
				return nil, "", err
			}
			s.observeAlert(ctx, a)
			return a, AlertEventOpened, nil
		case err != nil:
			return nil, "", fmt.Errorf("backupmgmt: find alert %s: %w", key, err)
		}
		event := bumpAlert(a, spec, title, now)
		if err := tx.Alerts().Update(ctx, a); err != nil {
			return nil, "", fmt.Errorf("backupmgmt: repeat alert %s: %w", key, err)
		}
		if event != "" {
			if err := s.queueNotices(ctx, tx, a, event); err != nil {
				return nil, "", err
			}
		}
		return a, event, nil
	}
}

// raiseAlerts raises every spec of specs, in order, with the outcome of
// raiseAlert on each in turn. When the store has the batch capabilities
// (store/tick.go) it takes a few statements in all: one lookup of the
// unresolved alerts of every key, one insert of the new alerts (in a
// savepoint), one update of the repeated ones and one insert of the outbox
// rows. If another writer opened one of the new alerts meanwhile, the
// insert fails as a whole (ErrConflict), its savepoint is undone and every
// spec goes through raiseAlert, whose own savepoint settles the race: one
// unresolved alert per key.
func (s *Service) raiseAlerts(ctx context.Context, tx store.Repos, specs []alertSpec) error {
	getter, ok := tx.Alerts().(store.AlertUnresolvedGetter)
	if _, canCreate := tx.Alerts().(store.AlertBatchCreator); !ok || !canCreate || len(specs) < 2 {
		return s.raiseEach(ctx, tx, specs)
	}
	now := s.Now()
	keys := make([]string, len(specs))
	for i := range specs {
		keys[i] = AlertKey(specs[i].Type, specs[i].Subject)
	}
	found, err := getter.GetUnresolvedMany(ctx, keys)
	if err != nil {
		return fmt.Errorf("backupmgmt: find alerts: %w", err)
	}
	byKey := make(map[string]*store.Alert, len(keys))
	for i := range found {
		byKey[found[i].DedupeKey] = &found[i]
	}
	var (
		fresh    []*store.Alert // to insert
		repeated []*store.Alert // stored, to update
		queued   []*store.Notification
	)
	// updated holds the stored alerts, and whether one is in repeated yet.
	updated := make(map[*store.Alert]bool, len(found))
	for i := range found {
		updated[&found[i]] = false
	}
	for i, spec := range specs {
		// The store cuts messages; cut here, the notices carry what it keeps.
		spec.Message = store.TruncateText(spec.Message, store.MaxMessageLen)
		title := store.TruncateText(spec.Title, store.MaxNameLen)
		a := byKey[keys[i]]
		var event AlertEvent
		if a == nil {
			a = s.newAlert(spec, keys[i], title, now)
			byKey[keys[i]] = a
			fresh = append(fresh, a)
			event = AlertEventOpened
		} else {
			event = bumpAlert(a, spec, title, now)
			if done, ok := updated[a]; ok && !done {
				updated[a] = true
				repeated = append(repeated, a)
			}
		}
		if event != "" {
			ns, err := s.notices(ctx, tx, a, event)
			if err != nil {
				return err
			}
			queued = append(queued, ns...)
		}
	}
	if len(fresh) > 0 {
		err := tx.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
			return tx.Alerts().(store.AlertBatchCreator).CreateMany(ctx, fresh)
		})
		if errors.Is(err, store.ErrConflict) {
			return s.raiseEach(ctx, tx, specs)
		}
		if err != nil {
			return fmt.Errorf("backupmgmt: open alerts: %w", err)
		}
		for _, a := range fresh {
			s.observeAlert(ctx, a)
		}
	}
	if u, ok := tx.Alerts().(store.AlertSeenUpdater); ok {
		if err := u.UpdateSeen(ctx, repeated); err != nil {
			return fmt.Errorf("backupmgmt: repeat alerts: %w", err)
		}
	} else {
		for _, a := range repeated {
			if err := tx.Alerts().Update(ctx, a); err != nil {
				return fmt.Errorf("backupmgmt: repeat alert %s: %w", a.DedupeKey, err)
			}
		}
	}
	if c, ok := tx.Notifications().(store.NotificationBatchCreator); ok {
		if err := c.CreateMany(ctx, queued); err != nil {
			return fmt.Errorf("backupmgmt: queue notifications: %w", err)
		}
		return nil
	}
	for _, n := range queued {
		if err := tx.Notifications().Create(ctx, n); err != nil {
			return fmt.Errorf("backupmgmt: queue notification: %w", err)
		}
	}
	return nil
}

// raiseEach raises the specs one by one.
func (s *Service) raiseEach(ctx context.Context, tx store.Repos, specs []alertSpec) error {
	for _, spec := range specs {
		if _, _, err := s.raiseAlert(ctx, tx, spec); err != nil {
			return err
		}
	}
	return nil
}

// newAlert is the alert spec opens at now.
func (s *Service) newAlert(spec alertSpec, key, title string, now time.Time) *store.Alert {
	return &store.Alert{
		ID:          s.cfg.NewID(),
		Type:        spec.Type,
		Severity:    spec.Severity,
		JobID:       spec.JobID,
		MediaID:     spec.MediaID,
		DedupeKey:   key,
		Title:       title,
		Message:     spec.Message,
		State:       store.AlertOpen,
		Occurrences: 1,
		FirstSeenAt: now,
		LastSeenAt:  now,
		// Stamped before the insert: opening notifies, and one write is
		// cheaper than an insert and an update.
		LastNotifiedAt: &now,
		CreatedAt:      now,
	}
}

// bumpAlert counts another occurrence of spec on its unresolved alert a at
// now: title and message follow the newest, and a higher severity
// escalates. It returns AlertEventEscalated, or "" for a repeat.
func bumpAlert(a *store.Alert, spec alertSpec, title string, now time.Time) AlertEvent {
	if !spec.Ongoing {
		a.Occurrences++
	}
	a.LastSeenAt = now
	a.Title = title
	a.Message = spec.Message
	if spec.Severity.Rank() > a.Severity.Rank() {
		a.Severity = spec.Severity
		a.LastNotifiedAt = &now
		return AlertEventEscalated
	}
	return ""
}

// resolveAlert resolves the unresolved alert with the dedupe key of t and
// subject, if there is one, as resolved by by (a user ID or
// store.ResolvedByAuto), and notifies. It reports whether one was resolved.
func (s *Service) resolveAlert(ctx context.Context, tx store.Repos, t store.AlertType, subject, by string) (bool, error) {
	key := AlertKey(t, subject)
	a, err := tx.Alerts().GetUnresolved(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("backupmgmt: find alert %s: %w", key, err)
	}
	if err := s.resolve(ctx, tx, a, by); err != nil {
		return false, err
	}
	return true, nil
}

func (s *Service) resolve(ctx context.Context, tx store.Repos, a *store.Alert, by string) error {
	now := s.Now()
	a.State = store.AlertResolved
	a.ResolvedAt = &now
	a.ResolvedBy = by
	if err := tx.Alerts().Update(ctx, a); err != nil {
		return fmt.Errorf("backupmgmt: resolve alert %s: %w", a.DedupeKey, err)
	}
	return s.queueNotices(ctx, tx, a, AlertEventResolved)
}

// queueNotices writes one outbox row per active channel whose minimum
// severity the alert meets. The caller stamps LastNotifiedAt (which drives
// the repeat interval) on the alert it writes, even when no channel wants
// the notice.
func (s *Service) queueNotices(ctx context.Context, tx store.Repos, a *store.Alert, event AlertEvent) error {
	ns, err := s.notices(ctx, tx, a, event)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if err := tx.Notifications().Create(ctx, n); err != nil {
			return fmt.Errorf("backupmgmt: queue notification: %w", err)
		}
	}
	return nil
}

// notices returns the outbox rows of event on a, one per active channel
// whose minimum severity the alert meets, with the alert as it is now.
func (s *Service) notices(ctx context.Context, tx store.Repos, a *store.Alert, event AlertEvent) ([]*store.Notification, error) {
	now := s.Now()
	channels, err := s.activeChannels(ctx, tx)
	if err != nil {
		return nil, err
	}
	notice := AlertNotice{
		Event: event, AlertID: a.ID, Type: a.Type, Severity: a.Severity, State: a.State,
		Title: a.Title, Message: a.Message, Occurrences: a.Occurrences,
		FirstSeenAt: a.FirstSeenAt, LastSeenAt: a.LastSeenAt,
		ResolvedAt: a.ResolvedAt, ResolvedBy: a.ResolvedBy, At: now,
	}
	if a.JobID != nil {
		notice.JobID = *a.JobID
	}
	if a.MediaID != nil {
		notice.MediaID = *a.MediaID
	}
	var (
		payload json.RawMessage
		out     []*store.Notification
	)
	for _, ch := range channels {
		if a.Severity.Rank() < ch.MinSeverity.Rank() {
			continue
		}
		if payload == nil {
			if payload, err = json.Marshal(notice); err != nil {
				return nil, fmt.Errorf("backupmgmt: alert notice: %w", err)
			}
		}
		out = append(out, &store.Notification{
			ID:            s.cfg.NewID(),
			ChannelID:     ch.ID,
			AlertID:       &a.ID,
			Payload:       payload,
			State:         store.NotificationPending,
			NextAttemptAt: now,
			CreatedAt:     now,
		})
	}
	return out, nil
}

// activeChannels returns the active channels, read once per transaction of
// s.inTx: a tick that raises a hundred alerts routes them all with one
// query, and a transaction sees the channels as they were when it first
// asked.
func (s *Service) activeChannels(ctx context.Context, tx store.Repos) ([]store.Channel, error) {
	memo, _ := ctx.Value(txMemoKey{}).(*txMemo)
	if memo != nil && memo.channelsLoaded {
		return memo.channels, nil
	}
	channels, err := tx.Channels().ListActive(ctx)
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: list channels: %w", err)
	}
	if memo != nil {
		memo.channels, memo.channelsLoaded = channels, true
	}
	return channels, nil
}

// Get returns one alert.
func (al *Alerts) Get(ctx context.Context, id string) (*store.Alert, error) {
	return al.store.Alerts().Get(ctx, id)
}

// List returns alerts, most recently seen first.
func (al *Alerts) List(ctx context.Context, p store.ListAlertsParams) (*store.Page[store.Alert], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Unresolved && p.State != "" {
		return nil, &store.ValidationError{Fields: map[string]string{"state": "must be empty with unresolved"}}
	}
	return al.store.Alerts().List(ctx, p)
}

// AlertSummary counts unresolved alerts.
type AlertSummary struct {
	// Open and Acknowledged count per severity; every severity is present.
	Open         map[store.Severity]int
	Acknowledged map[store.Severity]int
	// Total counts every unresolved alert.
	Total int
}

// Summary counts the unresolved alerts per state and severity.
func (al *Alerts) Summary(ctx context.Context) (AlertSummary, error) {
	counts, err := al.store.Alerts().CountUnresolved(ctx)
	if err != nil {
		return AlertSummary{}, err
	}
	sum := AlertSummary{Open: map[store.Severity]int{}, Acknowledged: map[store.Severity]int{}}
	for _, sev := range store.SeverityValues() {
		sum.Open[sev] = counts[store.AlertOpen][sev]
		sum.Acknowledged[sev] = counts[store.AlertAcknowledged][sev]
		sum.Total += sum.Open[sev] + sum.Acknowledged[sev]
	}
	return sum, nil
}

// ErrAlertState is returned for an acknowledgement or resolution that the
// alert's state does not allow (acknowledging a resolved alert, say).
var ErrAlertState = errors.New("backupmgmt: alert state does not allow this")

// Acknowledge marks an open alert as seen by the actor of ctx, with a note.
// Acknowledging it again updates the note.
func (al *Alerts) Acknowledge(ctx context.Context, id, note string) (*store.Alert, error) {
	var out *store.Alert
	err := (*Service)(al).inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		a, err := al.acknowledge(ctx, tx, id, note)
		out = a
		return err
	})
	return out, err
}

func (al *Alerts) acknowledge(ctx context.Context, tx store.Repos, id, note string) (*store.Alert, error) {
	s := (*Service)(al)
	if err := alertNoteValid(note); err != nil {
		return nil, err
	}
	a, err := tx.Alerts().Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.State == store.AlertResolved {
		return nil, fmt.Errorf("%w: alert %s is resolved", ErrAlertState, id)
	}
	now := s.Now()
	a.State = store.AlertAcknowledged
	a.AcknowledgedBy = ActorFrom(ctx).userIDPtr()
	a.AcknowledgedAt = &now
	a.AckNote = note
	if err := tx.Alerts().Update(ctx, a); err != nil {
		return nil, err
	}
	return a, s.audit(ctx, tx, "alert.acknowledge", "alert", a.ID, map[string]any{"note": note})
}

// Unacknowledge puts an acknowledged alert back to open.
func (al *Alerts) Unacknowledge(ctx context.Context, id string) (*store.Alert, error) {
	s := (*Service)(al)
	var out *store.Alert
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		a, err := tx.Alerts().Get(ctx, id)
		if err != nil {
			return err
		}
		if a.State != store.AlertAcknowledged {
			return fmt.Errorf("%w: alert %s is %s, not acknowledged", ErrAlertState, id, a.State)
		}
		a.State = store.AlertOpen
		a.AcknowledgedBy, a.AcknowledgedAt, a.AckNote = nil, nil, ""
		if err := tx.Alerts().Update(ctx, a); err != nil {
			return err
		}
		out = a
		return s.audit(ctx, tx, "alert.unacknowledge", "alert", a.ID, nil)
	})
	return out, err
}

// Resolve closes an alert by hand, as the actor of ctx. If its condition
// still holds, the next occurrence opens a new alert.
func (al *Alerts) Resolve(ctx context.Context, id, note string) (*store.Alert, error) {
	s := (*Service)(al)
	if err := alertNoteValid(note); err != nil {
		return nil, err
	}
	var out *store.Alert
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		a, err := tx.Alerts().Get(ctx, id)
		if err != nil {
			return err
		}
		if a.State == store.AlertResolved {
			return fmt.Errorf("%w: alert %s is already resolved", ErrAlertState, id)
		}
		by := ActorFrom(ctx).UserID
		if by == "" {
			by = ActorFrom(ctx).String()
		}
		if note != "" {
			a.AckNote = note
		}
		if err := s.resolve(ctx, tx, a, by); err != nil {
			return err
		}
		out = a
		return s.audit(ctx, tx, "alert.resolve", "alert", a.ID, map[string]any{"note": note})
	})
	return out, err
}

// BulkResult is the outcome of one alert of a bulk operation: Err is nil
// when it was done.
type BulkResult struct {
	ID    string
	Alert *store.Alert
	Err   error
}

// BulkAcknowledge acknowledges several alerts with one note. Each alert
// succeeds or fails on its own (a resolved or unknown one is reported, the
// others are acknowledged); at most store.LimitMax at once.
func (al *Alerts) BulkAcknowledge(ctx context.Context, ids []string, note string) ([]BulkResult, error) {
	switch {
	case len(ids) == 0:
		return nil, &store.ValidationError{Fields: map[string]string{"ids": "required"}}
	case len(ids) > store.LimitMax:
		return nil, &store.ValidationError{Fields: map[string]string{"ids": fmt.Sprintf("at most %d", store.LimitMax)}}
	}
	if err := alertNoteValid(note); err != nil {
		return nil, err
	}
	s := (*Service)(al)
	out := make([]BulkResult, len(ids))
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		for i, id := range ids {
			out[i] = BulkResult{ID: id}
			err := tx.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				a, err := al.acknowledge(ctx, tx, id, note)
				out[i].Alert = a
				return err
			})
			switch {
			case err == nil:
			case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrAlertState):
				out[i] = BulkResult{ID: id, Err: err}
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TickRepeat re-notifies every open (not acknowledged) critical alert that
// was last notified at least Config.AlertRepeatInterval ago, and reports
// how many it re-notified.
func (al *Alerts) TickRepeat(ctx context.Context) (int, error) {
	s := (*Service)(al)
	cutoff := s.Now().Add(-s.cfg.AlertRepeatInterval)
	n := 0
	p := store.ListAlertsParams{State: store.AlertOpen, Severity: store.SeverityCritical}
	p.Limit = store.LimitMax
	for {
		page, err := s.store.Alerts().List(ctx, p)
		if err != nil {
			return n, fmt.Errorf("backupmgmt: list critical alerts: %w", err)
		}
		for _, a := range page.Items {
			if a.LastNotifiedAt != nil && a.LastNotifiedAt.After(cutoff) {
				continue
			}
			repeated := false // set by the attempt that commits; inTx may run fn again
			err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
				repeated = false
				cur, err := tx.Alerts().Get(ctx, a.ID)
				if err != nil {
					return err
				}
				if cur.State != store.AlertOpen || (cur.LastNotifiedAt != nil && cur.LastNotifiedAt.After(cutoff)) {
					return nil // changed since the listing
				}
				now := s.Now()
				cur.LastNotifiedAt = &now
				if err := tx.Alerts().Update(ctx, cur); err != nil {
					return err
				}
				repeated = true
				return s.queueNotices(ctx, tx, cur, AlertEventRepeat)
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
			if err == nil && repeated {
				n++
			}
		}
		if page.NextCursor == "" {
			return n, nil
		}
		p.Cursor = page.NextCursor
	}
}

func alertNoteValid(note string) error {
	if len([]rune(note)) > store.MaxTextLen {
		return &store.ValidationError{Fields: map[string]string{"note": fmt.Sprintf("at most %d characters", store.MaxTextLen)}}
	}
	return nil
}
