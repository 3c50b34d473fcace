package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"time"

	"github.com/custos-dev/custos/store"
)

// Media counts of the GFS layout: media[0:4] are the sons (Monday to
// Thursday), media[4:8] the fathers (the Fridays of a month but the last),
// media[8:] the grandfathers (the last Friday of each month, in turn).
const (
	GFSSons    = 4
	GFSFathers = 4
	// GFSMinMedia is sons, fathers and at least one grandfather.
	GFSMinMedia = GFSSons + GFSFathers + 1
)

// RotationWarnDays is how many days ahead a rotation raises
// media_rotation_due (info); past its date the alert turns warning.
const RotationWarnDays = 7

// ValidateRotation reports what keeps a plan of scheme and cycle with
// mediaCount media from working, as field errors: round robin needs a
// medium, Tower of Hanoi two, GFS a daily cycle and GFSMinMedia media.
func ValidateRotation(scheme store.RotationScheme, cycle store.RotationCycle, mediaCount int) error {
	f := verifFieldErrors{}
	if !scheme.Valid() {
		f.add("scheme", "must be one of: gfs, tower_of_hanoi, round_robin")
	}
	if !cycle.Valid() {
		f.add("cycle", "must be one of: daily, weekly, monthly")
	}
	switch scheme {
	case store.SchemeRoundRobin:
		if mediaCount < 1 {
			f.add("media_ids", "round robin needs at least 1 medium")
		}
	case store.SchemeTowerOfHanoi:
		if mediaCount < 2 {
			f.add("media_ids", "tower of hanoi needs at least 2 media")
		}
	case store.SchemeGFS:
		if cycle.Valid() && cycle != store.CycleDaily {
			f.add("cycle", "gfs rotates daily: sons Monday to Thursday, fathers on Fridays, grandfathers on the last Friday of a month")
		}
		if mediaCount < GFSMinMedia {
			f.add("media_ids", fmt.Sprintf("gfs needs at least %d media: %d sons, %d fathers and 1 or more grandfathers", GFSMinMedia, GFSSons, GFSFathers))
		}
	}
	return f.err()
}

// RotationSlot returns the medium in service on a date: the one put in at
// the plan's latest rotation on or before on. Rotations happen at start and
// then every cycle (daily, weekly on start's weekday, monthly on start's day
// of the month, or the month's last day when it is shorter); a GFS plan
// rotates on business days (Monday to Friday) from start. ok is false
// before the first rotation, and for a plan ValidateRotation refuses.
//
//   - Round robin: the media in order, one per rotation, then again.
//   - Tower of Hanoi: rotation k (counting from 1) uses medium i where i is
//     the number of trailing zero bits of k: A B A C A B A D …; the last
//     medium also takes the rotations beyond (with 3 media: A B A C A B A C).
//   - GFS: Monday to Thursday use sons 0 to 3; the first to fourth Friday
//     of a month use fathers 0 to 3, unless it is the month's last Friday,
//     which uses the grandfathers in turn, one per month from start's month.
func RotationSlot(scheme store.RotationScheme, cycle store.RotationCycle, media []string, start, on store.Date) (string, bool) {
	if ValidateRotation(scheme, cycle, len(media)) != nil {
		return "", false
	}
	if scheme == store.SchemeGFS {
		d := rotationLastBusinessDay(on)
		if d.Before(start) {
			return "", false
		}
		return media[gfsIndex(d, start, len(media))], true
	}
	n, ok := rotationStep(cycle, start, on)
	if !ok {
		return "", false
	}
	if scheme == store.SchemeRoundRobin {
		return media[n%len(media)], true
	}
	return media[min(bits.TrailingZeros64(uint64(n)+1), len(media)-1)], true
}

// RotationNext returns the first rotation date after after: start itself
// when after is before it (for GFS, the first business day from start).
func RotationNext(scheme store.RotationScheme, cycle store.RotationCycle, start, after store.Date) store.Date {
	if scheme == store.SchemeGFS {
		d := after.AddDays(1)
		if d.Before(start) {
			d = start
		}
		for rotationWeekend(d) {
			d = d.AddDays(1)
		}
		return d
	}
	n, ok := rotationStep(cycle, start, after)
	if !ok {
		return start
	}
	return rotationDate(cycle, start, n+1)
}

// gfsIndex is the media index of business day d of a GFS plan.
func gfsIndex(d, start store.Date, n int) int {
	wd := d.Time().Weekday()
	if wd != time.Friday {
		return int(wd) - int(time.Monday)
	}
	if d.AddDays(7).Month != d.Month { // the last Friday of the month
		months := (d.Year*12 + int(d.Month)) - (start.Year*12 + int(start.Month))
		return GFSSons + GFSFathers + months%(n-GFSSons-GFSFathers)
	}
	return GFSSons + (d.Day-1)/7
}

// rotationStep returns which rotation (0 at start) is in effect on on.
func rotationStep(cycle store.RotationCycle, start, on store.Date) (int, bool) {
	if on.Before(start) {
		return 0, false
	}
	days := complianceDaysBetween(start, on)
	switch cycle {
	case store.CycleDaily:
		return days, true
	case store.CycleWeekly:
		return days / 7, true
	case store.CycleMonthly:
		n := (on.Year*12 + int(on.Month)) - (start.Year*12 + int(start.Month))
		if start.AddMonths(n).After(on) {
			n--
		}
		return n, true
	}
	return 0, false
}

// rotationDate is the date of rotation n (0 at start). Monthly dates are
// counted from start each time, so Jan 31 gives Feb 28 and then Mar 31.
func rotationDate(cycle store.RotationCycle, start store.Date, n int) store.Date {
	switch cycle {
	case store.CycleWeekly:
		return start.AddDays(7 * n)
	case store.CycleMonthly:
		return start.AddMonths(n)
	}
	return start.AddDays(n)
}

func rotationWeekend(d store.Date) bool {
	wd := d.Time().Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

// rotationLastBusinessDay is d, or the Friday before when d is a weekend.
func rotationLastBusinessDay(d store.Date) store.Date {
	for rotationWeekend(d) {
		d = d.AddDays(-1)
	}
	return d
}

// ErrRotationNotDue is returned when a plan has no medium for a date (it
// starts later) or cannot rotate (it is not active).
var ErrRotationNotDue = errors.New("backupmgmt: no rotation is due")

// Rotation keeps media rotation plans and tells which medium is due
// (DESIGN §4.5).
type Rotation Service

// Rotation gives the rotation plan operations.
func (s *Service) Rotation() *Rotation { return (*Rotation)(s) }

// rotationSubject is the alert subject of a plan.
func rotationSubject(id string) string { return "plan:" + id }

// PlanParams is a rotation plan to create.
type PlanParams struct {
	Name   string
	Scheme store.RotationScheme
	Cycle  store.RotationCycle
	// MediaIDs in rotation order; they must exist and not be retired.
	MediaIDs []string
	// StartOn is the first rotation; defaults to today.
	StartOn store.Date
}

// CreatePlan stores an active plan whose next rotation is its first.
func (r *Rotation) CreatePlan(ctx context.Context, p PlanParams) (*store.RotationPlan, error) {
	s := (*Service)(r)
	start := p.StartOn
	if start.IsZero() {
		start = s.Today()
	}
	plan := &store.RotationPlan{
		ID: s.cfg.NewID(), Name: p.Name, Scheme: p.Scheme, Cycle: p.Cycle,
		MediaIDs: slices.Clone(p.MediaIDs), StartOn: &start, Active: true, CreatedAt: s.Now(),
	}
	next := RotationNext(plan.Scheme, plan.Cycle, start, start.AddDays(-1))
	plan.NextRotationOn = &next
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		if err := rotationPlanValid(ctx, tx, plan, true); err != nil {
			return err
		}
		if err := tx.RotationPlans().Create(ctx, plan); err != nil {
			return err
		}
		return s.audit(ctx, tx, "rotation.create", "rotation_plan", plan.ID, rotationDetails(plan))
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// rotationPlanValid checks a plan: its fields, the scheme's needs, and with
// checkMedia its media (existing, not retired, each once). An update that
// leaves the media alone does not check them, so a plan whose medium was
// retired since can still be renamed or paused; Rotate refuses that medium.
func rotationPlanValid(ctx context.Context, tx store.Repos, plan *store.RotationPlan, checkMedia bool) error {
	f := verifFieldErrors{}
	if err := f.merge(plan.Validate()); err != nil {
		return err
	}
	if err := f.merge(ValidateRotation(plan.Scheme, plan.Cycle, len(plan.MediaIDs))); err != nil {
		return err
	}
	if _, ok := f["media_ids"]; !ok && checkMedia && len(plan.MediaIDs) > 0 {
		media, err := tx.Media().GetMany(ctx, plan.MediaIDs)
		if err != nil {
			return err
		}
		byID := make(map[string]*store.Media, len(media))
		for i := range media {
			byID[media[i].ID] = &media[i]
		}
		seen := make(map[string]bool, len(plan.MediaIDs))
		for _, id := range plan.MediaIDs {
			m := byID[id]
			switch {
			case seen[id]:
				f.add("media_ids", "lists medium "+id+" more than once")
			case m == nil:
				f.add("media_ids", "no such medium "+id)
			case m.Status == store.MediaRetired:
				f.add("media_ids", "medium `"+m.Label+"` is retired")
			}
			seen[id] = true
		}
	}
	return f.err()
}

// GetPlan returns one plan.
func (r *Rotation) GetPlan(ctx context.Context, id string) (*store.RotationPlan, error) {
	return r.store.RotationPlans().Get(ctx, id)
}

// ListPlans lists plans, ordered by name.
func (r *Rotation) ListPlans(ctx context.Context, p store.ListRotationPlansParams) (*store.Page[store.RotationPlan], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return r.store.RotationPlans().List(ctx, p)
}

// PlanUpdate changes a plan; nil fields stay as they are.
type PlanUpdate struct {
	Name     *string
	Scheme   *store.RotationScheme
	Cycle    *store.RotationCycle
	MediaIDs []string // nil: unchanged
	StartOn  *store.Date
	Active   *bool
}

// UpdatePlan changes a plan. A new scheme, cycle or start moves the next
// rotation to the first one of the new calendar after the last rotation.
// An inactive plan, or one whose next rotation is more than RotationWarnDays
// away, has its media_rotation_due alert resolved.
func (r *Rotation) UpdatePlan(ctx context.Context, id string, u PlanUpdate) (*store.RotationPlan, error) {
	s := (*Service)(r)
	var out *store.RotationPlan
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		plan, err := tx.RotationPlans().Get(ctx, id)
		if err != nil {
			return err
		}
		start := s.rotationStart(plan)
		recalc := false
		if u.Name != nil {
			plan.Name = *u.Name
		}
		if u.Scheme != nil && *u.Scheme != plan.Scheme {
			plan.Scheme, recalc = *u.Scheme, true
		}
		if u.Cycle != nil && *u.Cycle != plan.Cycle {
			plan.Cycle, recalc = *u.Cycle, true
		}
		if u.MediaIDs != nil {
			plan.MediaIDs = slices.Clone(u.MediaIDs)
		}
		if u.StartOn != nil {
			if u.StartOn.IsZero() {
				return &store.ValidationError{Fields: map[string]string{"start_on": "required"}}
			}
			start, recalc = *u.StartOn, true
		}
		plan.StartOn = &start
		if u.Active != nil {
			plan.Active = *u.Active
		}
		if recalc || plan.NextRotationOn == nil {
			after := start.AddDays(-1)
			if plan.LastRotationOn != nil && plan.LastRotationOn.After(after) {
				after = *plan.LastRotationOn
			}
			next := RotationNext(plan.Scheme, plan.Cycle, start, after)
			plan.NextRotationOn = &next
		}
		if err := rotationPlanValid(ctx, tx, plan, u.MediaIDs != nil); err != nil {
			return err
		}
		if err := tx.RotationPlans().Update(ctx, plan); err != nil {
			return err
		}
		if !plan.Active || complianceDaysBetween(s.Today(), *plan.NextRotationOn) > RotationWarnDays {
			if _, err := s.resolveAlert(ctx, tx, store.AlertMediaRotationDue, rotationSubject(plan.ID), store.ResolvedByAuto); err != nil {
				return err
			}
		}
		out = plan
		return s.audit(ctx, tx, "rotation.update", "rotation_plan", plan.ID, rotationDetails(plan))
	})
	return out, err
}

// DeletePlan removes a plan and resolves its media_rotation_due alert; the
// media stay.
func (r *Rotation) DeletePlan(ctx context.Context, id string) error {
	s := (*Service)(r)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		plan, err := tx.RotationPlans().Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.RotationPlans().Delete(ctx, id); err != nil {
			return err
		}
		if _, err := s.resolveAlert(ctx, tx, store.AlertMediaRotationDue, rotationSubject(id), store.ResolvedByAuto); err != nil {
			return err
		}
		return s.audit(ctx, tx, "rotation.delete", "rotation_plan", id, rotationDetails(plan))
	})
}

// DueMedia returns the medium of a plan in service on a date (see
// RotationSlot); ErrRotationNotDue before the plan's start.
func (r *Rotation) DueMedia(ctx context.Context, planID string, on store.Date) (*store.Media, error) {
	s := (*Service)(r)
	plan, err := s.store.RotationPlans().Get(ctx, planID)
	if err != nil {
		return nil, err
	}
	return s.rotationDueMedia(ctx, s.store, plan, on)
}

func (s *Service) rotationDueMedia(ctx context.Context, repos store.Repos, plan *store.RotationPlan, on store.Date) (*store.Media, error) {
	id, ok := RotationSlot(plan.Scheme, plan.Cycle, plan.MediaIDs, s.rotationStart(plan), on)
	if !ok {
		return nil, fmt.Errorf("%w: plan `%s` has no medium on %s", ErrRotationNotDue, plan.Name, on)
	}
	m, err := repos.Media().Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: medium %s of plan `%s`: %w", id, plan.Name, err)
	}
	return m, nil
}

// rotationStart is the plan's first rotation; a plan stored without one
// starts on the day it was created.
func (s *Service) rotationStart(plan *store.RotationPlan) store.Date {
	if plan.StartOn != nil {
		return *plan.StartOn
	}
	return store.DateOf(plan.CreatedAt, s.cfg.Location)
}

// RotationResult is a rotation done.
type RotationResult struct {
	Plan *store.RotationPlan
	// Media is the medium rotated in.
	Media *store.Media
}

// Rotate records the plan's rotation today: a rotated event for the medium
// due (the one of the pending rotation when done early, today's when on
// time or late), LastRotationOn today, NextRotationOn the next rotation
// after both, and resolves the plan's media_rotation_due alert. An inactive
// plan, or one before its start, gives ErrRotationNotDue; a retired medium
// ErrMediaRetired (replace it in the plan).
func (r *Rotation) Rotate(ctx context.Context, planID string) (*RotationResult, error) {
	s := (*Service)(r)
	today := s.Today()
	var out *RotationResult
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		plan, err := tx.RotationPlans().Get(ctx, planID)
		if err != nil {
			return err
		}
		if !plan.Active {
			return fmt.Errorf("%w: plan `%s` is not active", ErrRotationNotDue, plan.Name)
		}
		start := s.rotationStart(plan)
		on := today
		if plan.NextRotationOn != nil && plan.NextRotationOn.After(today) {
			on = *plan.NextRotationOn
		}
		m, err := s.rotationDueMedia(ctx, tx, plan, on)
		if err != nil {
			return err
		}
		if m.Status == store.MediaRetired {
			return fmt.Errorf("%w: medium `%s` of plan `%s`", ErrMediaRetired, m.Label, plan.Name)
		}
		next := RotationNext(plan.Scheme, plan.Cycle, start, on)
		plan.LastRotationOn = &today
		plan.NextRotationOn = &next
		if err := tx.RotationPlans().Update(ctx, plan); err != nil {
			return err
		}
		note := fmt.Sprintf("plan `%s`, rotation of %s", plan.Name, on)
		if err := s.mediaEvent(ctx, tx, m, store.MediaEventRotated, m.Location, m.Location, note, s.Now()); err != nil {
			return err
		}
		if _, err := s.resolveAlert(ctx, tx, store.AlertMediaRotationDue, rotationSubject(plan.ID), store.ResolvedByAuto); err != nil {
			return err
		}
		out = &RotationResult{Plan: plan, Media: m}
		return s.audit(ctx, tx, "rotation.rotate", "rotation_plan", plan.ID, map[string]any{
			"name": plan.Name, "media_id": m.ID, "label": m.Label, "rotation_on": on.String(), "next_rotation_on": next.String(),
		})
	})
	return out, err
}

// TickRotation raises media_rotation_due for every active plan whose next
// rotation is within RotationWarnDays (info) or past (warning, escalating
// the same alert), and reports how many it raised.
func (r *Rotation) TickRotation(ctx context.Context) (int, error) {
	s := (*Service)(r)
	today := s.Today()
	active := true
	p := store.ListRotationPlansParams{Active: &active}
	p.Limit = store.LimitMax
	n := 0
	for {
		page, err := s.store.RotationPlans().List(ctx, p)
		if err != nil {
			return n, fmt.Errorf("backupmgmt: list rotation plans: %w", err)
		}
		for _, listed := range page.Items {
			if listed.NextRotationOn == nil || complianceDaysBetween(today, *listed.NextRotationOn) > RotationWarnDays {
				continue
			}
			raised := false // set by the attempt that commits; inTx may run fn again
			err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
				raised = false
				plan, err := tx.RotationPlans().Get(ctx, listed.ID)
				if err != nil {
					return err
				}
				if !plan.Active || plan.NextRotationOn == nil {
					return nil
				}
				next := *plan.NextRotationOn
				days := complianceDaysBetween(today, next)
				if days > RotationWarnDays {
					return nil // rotated since the listing
				}
				spec := alertSpec{Ongoing: true,
					Type: store.AlertMediaRotationDue, Severity: store.SeverityInfo, Subject: rotationSubject(plan.ID),
					Title: "rotation of plan `" + plan.Name + "` is due " + next.String(),
				}
				if days < 0 {
					spec.Severity = store.SeverityWarning
					spec.Title = "rotation of plan `" + plan.Name + "` is overdue"
				}
				spec.Message = fmt.Sprintf("rotation due %s (%s)", next, complianceDaysText(days))
				on := today // the medium Rotate would record
				if next.After(today) {
					on = next
				}
				if m, err := s.rotationDueMedia(ctx, tx, plan, on); err == nil {
					spec.Message += ": medium `" + m.Label + "`"
					spec.MediaID = &m.ID
				} else if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, ErrRotationNotDue) {
					return err
				}
				if _, _, err := s.raiseAlert(ctx, tx, spec); err != nil {
					return err
				}
				raised = true
				return nil
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

func rotationDetails(p *store.RotationPlan) map[string]any {
	d := map[string]any{
		"name": p.Name, "scheme": p.Scheme, "cycle": p.Cycle, "media_ids": p.MediaIDs, "active": p.Active,
	}
	if p.StartOn != nil {
		d["start_on"] = p.StartOn.String()
	}
	if p.NextRotationOn != nil {
		d["next_rotation_on"] = p.NextRotationOn.String()
	}
	return d
}
