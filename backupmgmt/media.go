package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// Errors of media operations that the medium's state refuses. They are
// wrapped with the medium and its status.
var (
	// ErrMediaNotLendable: only available and stored_offsite media are lent.
	ErrMediaNotLendable = errors.New("backupmgmt: medium cannot be lent")
	// ErrMediaNotLent: a return needs an open lending.
	ErrMediaNotLent = errors.New("backupmgmt: medium is not lent")
	// ErrMediaRetired: a retired medium is neither written nor retired again.
	ErrMediaRetired = errors.New("backupmgmt: medium is retired")
	// ErrMediaLent: a lent medium is neither moved nor retired before it is
	// returned.
	ErrMediaLent = errors.New("backupmgmt: medium is lent")
)

// Media keeps the inventory of offline media and their chain of custody
// (DESIGN §4.5). Every change writes a MediaEvent naming the actor and one
// audit event, in the transaction of the change.
//
// Statuses move like this: Register makes a medium available; RecordWrite
// puts an available or stored_offsite medium in_use (it is in a drive);
// Move puts it back, available or, with MoveParams.Offsite, stored_offsite;
// Lend makes it lent and Return restores the status it had before lending
// (kept in the note of the lent event), or retired when it was lost; Retire
// is final.
type Media Service

// Media gives the offline media operations.
func (s *Service) Media() *Media { return (*Media)(s) }

// MediaParams is a medium to register.
type MediaParams struct {
	Label         string
	MediaType     store.OfflineMediaType
	CapacityBytes int64
	PurchasedOn   *store.Date
	Location      string
	OwnerID       string // optional
	Notes         string
}

// Register adds a medium, available at its location.
func (md *Media) Register(ctx context.Context, p MediaParams) (*store.Media, error) {
	s := (*Service)(md)
	now := s.Now()
	m := &store.Media{
		ID: s.cfg.NewID(), Label: p.Label, MediaType: p.MediaType, CapacityBytes: p.CapacityBytes,
		PurchasedOn: p.PurchasedOn, Location: p.Location, Status: store.MediaAvailable,
		Notes: p.Notes, CreatedAt: now,
	}
	if p.OwnerID != "" {
		m.OwnerID = &p.OwnerID
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		f := verifFieldErrors{}
		if m.OwnerID != nil {
			if err := verifUserExists(ctx, tx, f, "owner_id", *m.OwnerID); err != nil {
				return err
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		if err := tx.Media().Create(ctx, m); err != nil {
			return err
		}
		if err := s.mediaEvent(ctx, tx, m, store.MediaEventRegistered, "", m.Location, "", now); err != nil {
			return err
		}
		return s.audit(ctx, tx, "media.register", "media", m.ID, map[string]any{
			"label": m.Label, "media_type": m.MediaType, "location": m.Location,
		})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Get returns one medium.
func (md *Media) Get(ctx context.Context, id string) (*store.Media, error) {
	return md.store.Media().Get(ctx, id)
}

// GetByLabel returns the medium with a label, ignoring case.
func (md *Media) GetByLabel(ctx context.Context, label string) (*store.Media, error) {
	return md.store.Media().GetByLabel(ctx, label)
}

// List lists media, ordered by label.
func (md *Media) List(ctx context.Context, p store.ListMediaParams) (*store.Page[store.Media], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	f := verifFieldErrors{}
	if p.Status != "" && !p.Status.Valid() {
		f.add("status", "unknown status")
	}
	if p.MediaType != "" && !p.MediaType.Valid() {
		f.add("media_type", "unknown media type")
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	return md.store.Media().List(ctx, p)
}

// MediaUpdate changes the inventory fields of a medium; nil fields stay as
// they are. Location, status and writes change only through Move, Lend,
// Return, RecordWrite and Retire, which keep the chain of custody.
type MediaUpdate struct {
	Label         *string
	MediaType     *store.OfflineMediaType
	CapacityBytes *int64
	// PurchasedOn set to the zero Date removes the date.
	PurchasedOn *store.Date
	// OwnerID "" removes the owner.
	OwnerID *string
	Notes   *string
}

// Update changes a medium's inventory fields. It writes no custody event
// (nothing moved), only the audit event.
func (md *Media) Update(ctx context.Context, id string, u MediaUpdate) (*store.Media, error) {
	s := (*Service)(md)
	var out *store.Media
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		m, err := tx.Media().Get(ctx, id)
		if err != nil {
			return err
		}
		var changed []string
		if u.Label != nil {
			m.Label, changed = *u.Label, append(changed, "label")
		}
		if u.MediaType != nil {
			m.MediaType, changed = *u.MediaType, append(changed, "media_type")
		}
		if u.CapacityBytes != nil {
			m.CapacityBytes, changed = *u.CapacityBytes, append(changed, "capacity_bytes")
		}
		if u.PurchasedOn != nil {
			m.PurchasedOn, changed = nil, append(changed, "purchased_on")
			if !u.PurchasedOn.IsZero() {
				d := *u.PurchasedOn
				m.PurchasedOn = &d
			}
		}
		if u.OwnerID != nil {
			m.OwnerID, changed = nil, append(changed, "owner_id")
			if *u.OwnerID != "" {
				owner := *u.OwnerID
				m.OwnerID = &owner
			}
		}
		if u.Notes != nil {
			m.Notes, changed = *u.Notes, append(changed, "notes")
		}
		f := verifFieldErrors{}
		if err := f.merge(m.Validate()); err != nil {
			return err
		}
		if m.OwnerID != nil && u.OwnerID != nil {
			if err := verifUserExists(ctx, tx, f, "owner_id", *m.OwnerID); err != nil {
				return err
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		if err := tx.Media().Update(ctx, m); err != nil {
			return err
		}
		out = m
		return s.audit(ctx, tx, "media.update", "media", m.ID, map[string]any{"label": m.Label, "changed": changed})
	})
	return out, err
}

// MoveParams is where a medium goes.
type MoveParams struct {
	ToLocation string
	// Offsite marks the new location as offsite storage: the medium becomes
	// stored_offsite. Otherwise it becomes available (a retired medium stays
	// retired).
	Offsite bool
	Note    string
}

// Move records that a medium changed location. A lent medium is with its
// borrower and is refused (ErrMediaLent).
func (md *Media) Move(ctx context.Context, id string, p MoveParams) (*store.Media, error) {
	s := (*Service)(md)
	if strings.TrimSpace(p.ToLocation) == "" {
		return nil, &store.ValidationError{Fields: map[string]string{"to_location": "required"}}
	}
	var out *store.Media
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		m, err := tx.Media().Get(ctx, id)
		if err != nil {
			return err
		}
		if m.Status == store.MediaLent {
			return fmt.Errorf("%w: medium `%s` must be returned before it is moved", ErrMediaLent, m.Label)
		}
		from := m.Location
		m.Location = p.ToLocation
		switch {
		case m.Status == store.MediaRetired:
		case p.Offsite:
			m.Status = store.MediaStoredOffsite
		default:
			m.Status = store.MediaAvailable
		}
		if err := mediaToLocationValid(m); err != nil {
			return err
		}
		if err := tx.Media().Update(ctx, m); err != nil {
			return err
		}
		if err := s.mediaEvent(ctx, tx, m, store.MediaEventMoved, from, m.Location, p.Note, s.Now()); err != nil {
			return err
		}
		out = m
		return s.audit(ctx, tx, "media.move", "media", m.ID, map[string]any{
			"label": m.Label, "from_location": from, "to_location": m.Location, "offsite": p.Offsite, "status": m.Status,
		})
	})
	return out, err
}

// mediaToLocationValid reports a bad new location under the name the caller
// used for it.
func mediaToLocationValid(m *store.Media) error {
	var ve *store.ValidationError
	if err := m.Validate(); errors.As(err, &ve) {
		if msg, ok := ve.Fields["location"]; ok {
			return &store.ValidationError{Fields: map[string]string{"to_location": msg}}
		}
		return err
	} else if err != nil {
		return err
	}
	return nil
}

// LendParams is a lending to open.
type LendParams struct {
	BorrowerID string
	Purpose    string
	// DueOn must not be before today (in Config.Location).
	DueOn store.Date
	Notes string
}

// Lend hands an available or stored_offsite medium to an active user
// (anything else: ErrMediaNotLendable, naming the status). The medium
// becomes lent; the lent event's note records the status to return to.
func (md *Media) Lend(ctx context.Context, id string, p LendParams) (*store.Lending, error) {
	s := (*Service)(md)
	now := s.Now()
	l := &store.Lending{
		ID: s.cfg.NewID(), MediaID: id, BorrowerID: p.BorrowerID, Purpose: p.Purpose,
		LentAt: now, DueOn: p.DueOn, Notes: p.Notes, CreatedAt: now,
	}
	f := verifFieldErrors{}
	if err := f.merge(l.Validate()); err != nil {
		return nil, err
	}
	if !p.DueOn.IsZero() && p.DueOn.Before(s.Today()) {
		f.add("due_on", "must not be before today")
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		m, err := tx.Media().Get(ctx, id)
		if err != nil {
			return err
		}
		borrower, err := tx.Users().Get(ctx, p.BorrowerID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return &store.ValidationError{Fields: map[string]string{"borrower_id": "no such user"}}
		case err != nil:
			return err
		case !borrower.Active:
			return &store.ValidationError{Fields: map[string]string{"borrower_id": "user is not active"}}
		}
		if m.Status != store.MediaAvailable && m.Status != store.MediaStoredOffsite {
			return fmt.Errorf("%w: medium `%s` is %s", ErrMediaNotLendable, m.Label, m.Status)
		}
		if err := tx.Lendings().Create(ctx, l); err != nil {
			return err
		}
		before := m.Status
		m.Status = store.MediaLent
		if err := tx.Media().Update(ctx, m); err != nil {
			return err
		}
		note := fmt.Sprintf("%s%s\nlent to %s until %s", mediaStatusBeforePrefix, before, borrower.Username, l.DueOn)
		if l.Purpose != "" {
			note += ": " + l.Purpose
		}
		if err := s.mediaEvent(ctx, tx, m, store.MediaEventLent, m.Location, "", note, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, "media.lend", "media", m.ID, map[string]any{
			"label": m.Label, "lending_id": l.ID, "borrower_id": l.BorrowerID, "due_on": l.DueOn.String(), "purpose": l.Purpose,
		})
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// mediaStatusBeforePrefix starts the first line of a lent event's note: the
// status a return restores.
const mediaStatusBeforePrefix = "status before lending: "

// ReturnParams is how a lent medium came back.
type ReturnParams struct {
	// Condition defaults to normal. Lost retires the medium; damaged returns
	// it with a line in its notes.
	Condition store.ReturnCondition
	Notes     string
}

// Return closes the medium's open lending (none: ErrMediaNotLent) and
// resolves its media_lending_overdue alert. The medium gets back the status
// it had before lending, or retired when it was lost.
func (md *Media) Return(ctx context.Context, id string, p ReturnParams) (*store.Lending, error) {
	s := (*Service)(md)
	if p.Condition == "" {
		p.Condition = store.ReturnNormal
	}
	if !p.Condition.Valid() {
		return nil, &store.ValidationError{Fields: map[string]string{"condition": "must be one of: normal, damaged, lost"}}
	}
	if err := alertNoteValid(p.Notes); err != nil {
		return nil, &store.ValidationError{Fields: map[string]string{"notes": fmt.Sprintf("at most %d characters", store.MaxTextLen)}}
	}
	now := s.Now()
	var out *store.Lending
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		m, err := tx.Media().Get(ctx, id)
		if err != nil {
			return err
		}
		l, err := tx.Lendings().GetOpenByMedia(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: medium `%s` is %s", ErrMediaNotLent, m.Label, m.Status)
		}
		if err != nil {
			return err
		}
		l.ReturnedAt = &now
		l.ReturnCondition = p.Condition
		if p.Notes != "" {
			l.Notes = store.TruncateTextTail(strings.TrimSpace(l.Notes+"\n"+p.Notes), store.MaxTextLen)
		}
		if err := tx.Lendings().Update(ctx, l); err != nil {
			return err
		}
		restore, err := mediaStatusBeforeLending(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		note := "returned " + string(p.Condition)
		if p.Notes != "" {
			note += ": " + p.Notes
		}
		switch p.Condition {
		case store.ReturnLost:
			m.Status = store.MediaRetired
		case store.ReturnDamaged:
			m.Status = restore
			m.Notes = store.TruncateTextTail(strings.TrimSpace(fmt.Sprintf("%s\ndamaged on return %s: %s", m.Notes, store.DateOf(now, s.cfg.Location), p.Notes)), store.MaxTextLen)
		default:
			m.Status = restore
		}
		if err := tx.Media().Update(ctx, m); err != nil {
			return err
		}
		if err := s.mediaEvent(ctx, tx, m, store.MediaEventReturned, "", m.Location, note, now); err != nil {
			return err
		}
		if p.Condition == store.ReturnLost {
			if err := s.mediaEvent(ctx, tx, m, store.MediaEventRetired, m.Location, "", "lost while lent", now); err != nil {
				return err
			}
		}
		if _, err := s.resolveAlert(ctx, tx, store.AlertMediaLendingOverdue, mediaSubject(m.ID), store.ResolvedByAuto); err != nil {
			return err
		}
		out = l
		return s.audit(ctx, tx, "media.return", "media", m.ID, map[string]any{
			"label": m.Label, "lending_id": l.ID, "condition": p.Condition, "status": m.Status,
		})
	})
	return out, err
}

// mediaStatusBeforeLending reads the status to return to from the newest
// lent event; available when it says nothing usable.
func mediaStatusBeforeLending(ctx context.Context, tx store.Repos, mediaID string) (store.MediaStatus, error) {
	page, err := tx.MediaEvents().List(ctx, store.ListMediaEventsParams{
		MediaID: mediaID, Kind: store.MediaEventLent, PageParams: store.PageParams{Limit: 1},
	})
	if err != nil {
		return "", err
	}
	if len(page.Items) == 1 {
		first, _, _ := strings.Cut(page.Items[0].Note, "\n")
		if st, ok := strings.CutPrefix(first, mediaStatusBeforePrefix); ok && store.MediaStatus(st) == store.MediaStoredOffsite {
			return store.MediaStoredOffsite, nil
		}
	}
	return store.MediaAvailable, nil
}

// RecordWrite records that a backup was written to a medium at at (zero:
// now; not in the future). An available or stored_offsite medium becomes
// in_use; a retired one is refused (ErrMediaRetired).
func (md *Media) RecordWrite(ctx context.Context, id string, at time.Time) (*store.Media, error) {
	s := (*Service)(md)
	now := s.Now()
	at = store.NormalizeTime(at)
	if at.IsZero() {
		at = now
	}
	if at.After(now) {
		return nil, &store.ValidationError{Fields: map[string]string{"at": "must not be in the future"}}
	}
	var out *store.Media
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		m, err := tx.Media().Get(ctx, id)
		if err != nil {
			return err
		}
		if m.Status == store.MediaRetired {
			return fmt.Errorf("%w: medium `%s` cannot be written", ErrMediaRetired, m.Label)
		}
		if m.LastWrittenAt == nil || at.After(*m.LastWrittenAt) {
			m.LastWrittenAt = &at
		}
		if m.Status == store.MediaAvailable || m.Status == store.MediaStoredOffsite {
			m.Status = store.MediaInUse
		}
		if err := tx.Media().Update(ctx, m); err != nil {
			return err
		}
		if err := s.mediaEvent(ctx, tx, m, store.MediaEventWritten, m.Location, m.Location, "", at); err != nil {
			return err
		}
		out = m
		return s.audit(ctx, tx, "media.write", "media", m.ID, map[string]any{"label": m.Label, "at": at})
	})
	return out, err
}

// Retire takes a medium out of service for good. A lent medium is refused
// (ErrMediaLent), as is one already retired (ErrMediaRetired).
func (md *Media) Retire(ctx context.Context, id, reason string) (*store.Media, error) {
	s := (*Service)(md)
	if err := alertNoteValid(reason); err != nil {
		return nil, &store.ValidationError{Fields: map[string]string{"reason": fmt.Sprintf("at most %d characters", store.MaxTextLen)}}
	}
	var out *store.Media
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		m, err := tx.Media().Get(ctx, id)
		if err != nil {
			return err
		}
		switch m.Status {
		case store.MediaLent:
			return fmt.Errorf("%w: medium `%s` must be returned before it is retired", ErrMediaLent, m.Label)
		case store.MediaRetired:
			return fmt.Errorf("%w: medium `%s` is already retired", ErrMediaRetired, m.Label)
		}
		m.Status = store.MediaRetired
		if err := tx.Media().Update(ctx, m); err != nil {
			return err
		}
		if err := s.mediaEvent(ctx, tx, m, store.MediaEventRetired, m.Location, "", reason, s.Now()); err != nil {
			return err
		}
		out = m
		return s.audit(ctx, tx, "media.retire", "media", m.ID, map[string]any{"label": m.Label, "reason": reason})
	})
	return out, err
}

// Events lists chain-of-custody events, newest first.
func (md *Media) Events(ctx context.Context, p store.ListMediaEventsParams) (*store.Page[store.MediaEvent], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Kind != "" && !p.Kind.Valid() {
		return nil, &store.ValidationError{Fields: map[string]string{"kind": "unknown event kind"}}
	}
	return md.store.MediaEvents().List(ctx, p)
}

// Lendings lists lendings, newest first.
func (md *Media) Lendings(ctx context.Context, p store.ListLendingsParams) (*store.Page[store.Lending], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return md.store.Lendings().List(ctx, p)
}

// TickLendingOverdue raises media_lending_overdue (warning) for every open
// lending due before today (in Config.Location), once more for those
// already raised, and reports how many it raised.
func (md *Media) TickLendingOverdue(ctx context.Context) (int, error) {
	s := (*Service)(md)
	today := s.Today()
	open := true
	p := store.ListLendingsParams{Open: &open, DueBefore: &today}
	p.Limit = store.LimitMax
	n := 0
	for {
		page, err := s.store.Lendings().List(ctx, p)
		if err != nil {
			return n, fmt.Errorf("backupmgmt: list overdue lendings: %w", err)
		}
		for _, listed := range page.Items {
			raised := false // set by the attempt that commits; inTx may run fn again
			err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
				raised = false
				l, err := tx.Lendings().Get(ctx, listed.ID)
				if err != nil {
					return err
				}
				if !l.Open() || !l.DueOn.Before(today) {
					return nil // returned or changed since the listing
				}
				m, err := tx.Media().Get(ctx, l.MediaID)
				if err != nil {
					return err
				}
				who := l.BorrowerID
				if u, err := tx.Users().Get(ctx, l.BorrowerID); err == nil {
					who = u.Username
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				msg := fmt.Sprintf("lent to %s on %s, due %s (%s)", who, store.DateOf(l.LentAt, s.cfg.Location), l.DueOn,
					complianceDaysText(complianceDaysBetween(today, l.DueOn)))
				if l.Purpose != "" {
					msg += ": " + l.Purpose
				}
				_, _, err = s.raiseAlert(ctx, tx, alertSpec{
					Type: store.AlertMediaLendingOverdue, Severity: store.SeverityWarning, Ongoing: true,
					Subject: mediaSubject(m.ID), MediaID: &m.ID,
					Title:   "medium `" + m.Label + "` is overdue from " + who,
					Message: store.TruncateText(msg, store.MaxMessageLen),
				})
				raised = err == nil
				return err
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
			if err == nil && raised {
				n++
			}
		}
		if page.NextCursor == "" {
			return n, nil
		}
		p.Cursor = page.NextCursor
	}
}

// mediaEvent appends a custody event of m made by the actor of ctx.
func (s *Service) mediaEvent(ctx context.Context, tx store.Repos, m *store.Media, kind store.MediaEventKind, from, to, note string, at time.Time) error {
	e := &store.MediaEvent{
		ID: s.cfg.NewID(), MediaID: m.ID, Kind: kind, FromLocation: from, ToLocation: to,
		ActorID: ActorFrom(ctx).userIDPtr(), At: at, Note: note,
	}
	if err := tx.MediaEvents().Create(ctx, e); err != nil {
		return fmt.Errorf("backupmgmt: media event %s: %w", kind, err)
	}
	return nil
}
