package backupmgmt

import (
	"context"
	"errors"
	"fmt"

	"github.com/custos-dev/custos/store"
)

// Rollups folds each UTC day's executions and compliance counts into one
// row (DESIGN §3 DailyRollup), so that trends and dashboards cost a row per
// day, not a row per execution. Folding is a tick, off the ingest path:
// recording an execution never writes a rollup, so concurrent ingest never
// contends on one row.
type Rollups Service

// Rollups gives the daily rollup operations.
func (s *Service) Rollups() *Rollups { return (*Rollups)(s) }

// RollupTrendMaxDays bounds the days one Trend call returns.
const RollupTrendMaxDays = 731

// Fold recomputes the rollup of a UTC day and stores it: the executions
// started that day by status (running ones are not counted: a run is
// counted on the day it started, once it finished) and the bytes they
// wrote. The compliance counts are a snapshot of the latest job states, and
// history keeps no states per day: for today they are taken from the live
// states; for a past day the counts stored by its last fold are kept (zero
// when it was never folded while it was today). A day after today is a
// *store.ValidationError.
func (r *Rollups) Fold(ctx context.Context, day store.Date) (*store.DailyRollup, error) {
	s := (*Service)(r)
	today := store.DateOf(s.Now(), nil)
	switch {
	case day.IsZero():
		return nil, &store.ValidationError{Fields: map[string]string{"day": "required"}}
	case day.After(today):
		return nil, &store.ValidationError{Fields: map[string]string{"day": "must not be after today (UTC)"}}
	}
	var out *store.DailyRollup
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		roll := &store.DailyRollup{Day: day}
		if day == today {
			counts, err := tx.Compliance().CountByStatus(ctx, store.SubjectJob)
			if err != nil {
				return fmt.Errorf("backupmgmt: rollup %s: compliance counts: %w", day, err)
			}
			roll.JobsCompliant = counts[store.ComplianceCompliant]
			roll.JobsWarning = counts[store.ComplianceWarning]
			roll.JobsNonCompliant = counts[store.ComplianceNonCompliant]
			roll.JobsUnknown = counts[store.ComplianceUnknown]
		} else {
			prev, err := tx.Rollups().Get(ctx, day)
			switch {
			case errors.Is(err, store.ErrNotFound):
			case err != nil:
				return fmt.Errorf("backupmgmt: rollup %s: %w", day, err)
			default:
				roll.JobsCompliant, roll.JobsWarning = prev.JobsCompliant, prev.JobsWarning
				roll.JobsNonCompliant, roll.JobsUnknown = prev.JobsNonCompliant, prev.JobsUnknown
			}
		}
		span := store.TimeRange{From: day.Time(), To: day.AddDays(1).Time()}
		byStatus, err := tx.Executions().CountByStatus(ctx, "", span)
		if err != nil {
			return fmt.Errorf("backupmgmt: rollup %s: executions: %w", day, err)
		}
		roll.ExecutionsSuccess = byStatus[store.ExecutionSuccess]
		roll.ExecutionsWarning = byStatus[store.ExecutionWarning]
		roll.ExecutionsFailed = byStatus[store.ExecutionFailed]
		roll.ExecutionsCanceled = byStatus[store.ExecutionCanceled]
		roll.ExecutionsMissed = byStatus[store.ExecutionMissed]
		if roll.BytesWritten, err = tx.Executions().SumSizeBytes(ctx, span); err != nil {
			return fmt.Errorf("backupmgmt: rollup %s: bytes: %w", day, err)
		}
		if err := tx.Rollups().Put(ctx, roll); err != nil {
			return fmt.Errorf("backupmgmt: rollup %s: %w", day, err)
		}
		out = roll
		return nil
	})
	return out, err
}

// Tick folds today and yesterday (UTC): yesterday again so that runs
// started before midnight and finished after it are counted, and so that
// the last fold of a day happens after the day ended. Run it from the
// scheduler every few minutes; each fold is one transaction of 4 queries.
func (r *Rollups) Tick(ctx context.Context) error {
	today := store.DateOf((*Service)(r).Now(), nil)
	for _, day := range []store.Date{today.AddDays(-1), today} {
		if _, err := r.Fold(ctx, day); err != nil {
			return err
		}
	}
	return nil
}

// Trend returns the rollups of the UTC days from..to inclusive, oldest
// first, one per day: a day never folded is a zero row with only Day set,
// so that a chart has every day. It reads one query whatever the range, at
// most RollupTrendMaxDays days.
func (r *Rollups) Trend(ctx context.Context, from, to store.Date) ([]store.DailyRollup, error) {
	fields := map[string]string{}
	switch {
	case from.IsZero():
		fields["from"] = "required"
	case to.IsZero():
		fields["to"] = "required"
	case to.Before(from):
		fields["to"] = "must not be before from"
	case from.AddDays(RollupTrendMaxDays - 1).Before(to):
		fields["to"] = fmt.Sprintf("at most %d days after from", RollupTrendMaxDays-1)
	}
	if len(fields) > 0 {
		return nil, &store.ValidationError{Fields: fields}
	}
	stored, err := r.store.Rollups().List(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: rollup trend: %w", err)
	}
	return rollupFill(stored, from, to), nil
}

// rollupFill returns one row per day from..to, taking stored rows (oldest
// first) where they exist.
func rollupFill(stored []store.DailyRollup, from, to store.Date) []store.DailyRollup {
	var out []store.DailyRollup
	i := 0
	for d := from; !d.After(to); d = d.AddDays(1) {
		for i < len(stored) && stored[i].Day.Before(d) {
			i++
		}
		if i < len(stored) && stored[i].Day == d {
			out = append(out, stored[i])
			i++
			continue
		}
		out = append(out, store.DailyRollup{Day: d})
	}
	return out
}

// RollupSuccessRate is the share of a day's finished runs that succeeded
// (success or warning; missed counts as a failure, canceled runs are left
// out, as in the SLA), and false when the day had none.
func RollupSuccessRate(r store.DailyRollup) (float64, bool) {
	runs := r.ExecutionsSuccess + r.ExecutionsWarning + r.ExecutionsFailed + r.ExecutionsMissed
	if runs == 0 {
		return 0, false
	}
	return float64(r.ExecutionsSuccess+r.ExecutionsWarning) / float64(runs), true
}

// RollupComplianceRate is the compliance rate of a day's job counts (see
// ComplianceRate), and false when the day has no evaluated job.
func RollupComplianceRate(r store.DailyRollup) (float64, bool) {
	if r.JobsCompliant+r.JobsWarning+r.JobsNonCompliant == 0 {
		return 0, false
	}
	return ComplianceRate(map[store.ComplianceStatus]int{
		store.ComplianceCompliant:    r.JobsCompliant,
		store.ComplianceWarning:      r.JobsWarning,
		store.ComplianceNonCompliant: r.JobsNonCompliant,
	}), true
}
