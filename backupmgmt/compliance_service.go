package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/custos-dev/custos/store"
)

// Compliance applies the 3-2-1-1-0 evaluator to stored jobs and assets:
// it keeps one state per subject, writes history only on transitions, and
// raises and resolves the compliance alerts.
type Compliance Service

// PolicyFor returns the policy of a job with the given asset (nil for
// none): the asset classification's preset, or the default policy.
func (s *Service) PolicyFor(asset *store.Asset) Policy {
	if asset == nil {
		return *s.cfg.Policy
	}
	if p, ok := s.cfg.Presets[asset.Classification]; ok {
		return p
	}
	return PresetFor(asset.Classification)
}

// State returns the stored state of a subject.
func (c *Compliance) State(ctx context.Context, subjectType store.SubjectType, id string) (*store.ComplianceState, error) {
	return c.store.Compliance().GetState(ctx, subjectType, id)
}

// ListStates lists the latest states, ordered by subject.
func (c *Compliance) ListStates(ctx context.Context, p store.ListComplianceStatesParams) (*store.Page[store.ComplianceState], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return c.store.Compliance().ListStates(ctx, p)
}

// History lists status transitions, newest first.
func (c *Compliance) History(ctx context.Context, p store.ListComplianceChangesParams) (*store.Page[store.ComplianceChange], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return c.store.Compliance().ListChanges(ctx, p)
}

// ComplianceSummary counts the latest job states.
type ComplianceSummary struct {
	// Jobs counts job states per status; every status is present.
	Jobs map[store.ComplianceStatus]int
	// Assets counts asset states per status; every status is present.
	Assets map[store.ComplianceStatus]int
	// Rate is compliant jobs over evaluated jobs (unknown ones excluded),
	// 0 when none is evaluated.
	Rate float64
}

// Summary counts the latest state of every job and asset and computes the
// compliance rate, from the latest states only, never from history.
func (c *Compliance) Summary(ctx context.Context) (ComplianceSummary, error) {
	jobs, err := c.store.Compliance().CountByStatus(ctx, store.SubjectJob)
	if err != nil {
		return ComplianceSummary{}, err
	}
	assets, err := c.store.Compliance().CountByStatus(ctx, store.SubjectAsset)
	if err != nil {
		return ComplianceSummary{}, err
	}
	return complianceSummaryOf(jobs, assets), nil
}

func complianceSummaryOf(jobs, assets map[store.ComplianceStatus]int) ComplianceSummary {
	sum := ComplianceSummary{Jobs: map[store.ComplianceStatus]int{}, Assets: map[store.ComplianceStatus]int{}}
	for _, st := range store.ComplianceStatusValues() {
		sum.Jobs[st] = jobs[st]
		sum.Assets[st] = assets[st]
	}
	sum.Rate = ComplianceRate(sum.Jobs)
	return sum
}

// ComplianceRate is compliant over compliant, warning and non_compliant;
// 0 when there are none.
func ComplianceRate(counts map[store.ComplianceStatus]int) float64 {
	evaluated := counts[store.ComplianceCompliant] + counts[store.ComplianceWarning] + counts[store.ComplianceNonCompliant]
	if evaluated == 0 {
		return 0
	}
	return float64(counts[store.ComplianceCompliant]) / float64(evaluated)
}

// EvaluateJob evaluates one job now and stores the result (and its asset's).
func (c *Compliance) EvaluateJob(ctx context.Context, jobID string) (*store.ComplianceState, error) {
	s := (*Service)(c)
	var out *store.ComplianceState
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		job, err := tx.Jobs().Get(ctx, jobID)
		if err != nil {
			return err
		}
		out, err = s.reevaluateJob(ctx, tx, job, nil)
		return err
	})
	return out, err
}

// EvaluateAsset evaluates one asset now over its active jobs and stores the
// result.
func (c *Compliance) EvaluateAsset(ctx context.Context, assetID string) (*store.ComplianceState, error) {
	s := (*Service)(c)
	var out *store.ComplianceState
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		var err error
		out, err = s.reevaluateAsset(ctx, tx, assetID)
		return err
	})
	return out, err
}

// reevaluateJob evaluates job inside tx and stores the state when it
// changed, then does the same for its asset, if any. copies may be the job's copies
// when the caller has them, or nil to load them. An inactive job has no
// state: one left from before is removed.
func (s *Service) reevaluateJob(ctx context.Context, tx store.Repos, job *store.Job, copies []store.Copy) (*store.ComplianceState, error) {
	if !job.Active {
		if err := tx.Compliance().DeleteState(ctx, store.SubjectJob, job.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		// Nothing evaluates an inactive job again, so its compliance alerts
		// would never clear by themselves.
		for _, t := range []store.AlertType{store.AlertComplianceViolation, store.AlertComplianceWarning} {
			if _, err := s.resolveAlert(ctx, tx, t, jobSubject(job.ID), store.ResolvedByAuto); err != nil {
				return nil, err
			}
		}
		if job.AssetID != nil {
			if _, err := s.reevaluateAsset(ctx, tx, *job.AssetID); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	in, asset, err := s.loadJobInput(ctx, tx, job, copies)
	if err != nil {
		return nil, err
	}
	ev := Evaluate(EvaluationInput{
		Policy: s.PolicyFor(asset), Job: *job, Copies: in.Copies, LatestTest: in.LatestTest,
		Schedule: in.Schedule, Now: s.Now(), Location: s.cfg.Location,
	})
	prev, err := tx.Compliance().GetState(ctx, store.SubjectJob, job.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	st, _, err := s.storeCompliance(ctx, tx, ev, store.SubjectJob, job.ID, prev, complianceAlertTarget{jobID: &job.ID, name: job.Name, asset: asset})
	if err != nil {
		return nil, err
	}
	// Even when the job's state stays the same: its inputs are the asset's
	// too, over the union with its other jobs (a copy's media type, a later
	// recheck time), and the sweep reads the asset only when it is due.
	if job.AssetID != nil {
		if _, err := s.reevaluateAsset(ctx, tx, *job.AssetID); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// loadJobInput reads what a job's evaluation depends on: 3 or 4 queries
// (copies unless given, latest test, verification schedule, asset).
func (s *Service) loadJobInput(ctx context.Context, tx store.Repos, job *store.Job, copies []store.Copy) (AssetJobInput, *store.Asset, error) {
	in := AssetJobInput{Job: *job, Copies: copies}
	var err error
	if in.Copies == nil {
		if in.Copies, err = tx.Copies().ListByJob(ctx, job.ID); err != nil {
			return in, nil, err
		}
	}
	if in.LatestTest, err = tx.VerificationTests().Latest(ctx, job.ID); errors.Is(err, store.ErrNotFound) {
		in.LatestTest = nil
	} else if err != nil {
		return in, nil, err
	}
	if in.Schedule, err = tx.VerificationSchedules().GetActiveByJob(ctx, job.ID); errors.Is(err, store.ErrNotFound) {
		in.Schedule = nil
	} else if err != nil {
		return in, nil, err
	}
	var asset *store.Asset
	if job.AssetID != nil {
		if asset, err = tx.Assets().Get(ctx, *job.AssetID); errors.Is(err, store.ErrNotFound) {
			asset = nil
		} else if err != nil {
			return in, nil, err
		}
	}
	return in, asset, nil
}

// reevaluateAsset evaluates an asset over its active jobs and stores the
// state when it changed. A deleted asset's state is removed.
func (s *Service) reevaluateAsset(ctx context.Context, tx store.Repos, assetID string) (*store.ComplianceState, error) {
	st, _, err := s.reevaluateAssetChanged(ctx, tx, assetID)
	return st, err
}

// reevaluateAssetChanged is reevaluateAsset that also reports whether the
// state's content changed.
func (s *Service) reevaluateAssetChanged(ctx context.Context, tx store.Repos, assetID string) (*store.ComplianceState, bool, error) {
	asset, err := tx.Assets().Get(ctx, assetID)
	if errors.Is(err, store.ErrNotFound) {
		err = tx.Compliance().DeleteState(ctx, store.SubjectAsset, assetID)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		return nil, false, err
	}
	if err != nil {
		return nil, false, err
	}
	active := true
	p := store.ListJobsParams{AssetID: assetID, Active: &active}
	p.Limit = store.LimitMax
	var jobs []store.Job
	for {
		page, err := tx.Jobs().List(ctx, p)
		if err != nil {
			return nil, false, err
		}
		jobs = append(jobs, page.Items...)
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	inputs, err := s.loadJobInputs(ctx, tx, jobs)
	if err != nil {
		return nil, false, err
	}
	ev := EvaluateAsset(s.PolicyFor(asset), inputs, s.Now(), s.cfg.Location)
	prev, err := tx.Compliance().GetState(ctx, store.SubjectAsset, assetID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	return s.storeCompliance(ctx, tx, ev, store.SubjectAsset, assetID, prev, complianceAlertTarget{name: asset.Name, asset: asset, isAsset: true})
}

// loadJobInputs reads the evaluation inputs of several jobs in a bounded
// number of queries: copies and latest tests in one each, schedules one per
// job that has any (GetActiveByJob; assets have few jobs).
func (s *Service) loadJobInputs(ctx context.Context, tx store.Repos, jobs []store.Job) ([]AssetJobInput, error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	ids := make([]string, len(jobs))
	for i := range jobs {
		ids[i] = jobs[i].ID
	}
	copies, err := tx.Copies().ListByJobs(ctx, ids)
	if err != nil {
		return nil, err
	}
	tests, err := tx.VerificationTests().LatestByJobs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byJob := make(map[string]*AssetJobInput, len(jobs))
	out := make([]AssetJobInput, len(jobs))
	for i := range jobs {
		out[i] = AssetJobInput{Job: jobs[i], Copies: []store.Copy{}}
		byJob[jobs[i].ID] = &out[i]
	}
	for _, c := range copies {
		if in := byJob[c.JobID]; in != nil {
			in.Copies = append(in.Copies, c)
		}
	}
	for i := range tests {
		if in := byJob[tests[i].JobID]; in != nil {
			in.LatestTest = &tests[i]
		}
	}
	for i := range out {
		sched, err := tx.VerificationSchedules().GetActiveByJob(ctx, out[i].Job.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[i].Schedule = sched
	}
	return out, nil
}

// complianceAlertTarget says what a compliance alert is about.
type complianceAlertTarget struct {
	jobID   *string
	name    string
	asset   *store.Asset // the subject's asset, or the asset itself
	isAsset bool
}

// storeCompliance writes the state of an evaluation when it differs from
// prev or prev is older than Config.ComplianceRefresh; on a status change it
// adds a history row and raises or resolves the compliance alerts. It
// reports whether the state's content changed.
//
// With store.ComplianceRecheckWriter the state is stored with its recheck
// time (complianceRecheckAt), which the periodic Sweep goes by; prev is
// then put again with the new time even when nothing else is written, as
// the inputs that made it may have changed (this costs a statement, not a
// read of the stored time).
func (s *Service) storeCompliance(ctx context.Context, tx store.Repos, ev Evaluation, subjectType store.SubjectType, id string, prev *store.ComplianceState, target complianceAlertTarget) (*store.ComplianceState, bool, error) {
	now := s.Now()
	st := ev.State(subjectType, id, now)
	changed := prev == nil || !complianceSameContent(prev, &st)
	transition := prev == nil || prev.Status != st.Status
	if prev != nil && !transition {
		st.ChangedAt = prev.ChangedAt
	}
	w, recheck := tx.(store.ComplianceRecheckWriter)
	if !changed && now.Sub(prev.EvaluatedAt) < s.cfg.ComplianceRefresh {
		if recheck {
			same := *prev
			if err := w.PutStateRecheck(ctx, &same, s.complianceRecheckAt(ev, prev.EvaluatedAt)); err != nil {
				return nil, false, fmt.Errorf("backupmgmt: store compliance recheck of %s %s: %w", subjectType, id, err)
			}
		}
		return prev, false, nil
	}
	var err error
	if recheck {
		err = w.PutStateRecheck(ctx, &st, s.complianceRecheckAt(ev, now))
	} else {
		err = tx.Compliance().PutState(ctx, &st)
	}
	if err != nil {
		return nil, false, fmt.Errorf("backupmgmt: store compliance of %s %s: %w", subjectType, id, err)
	}
	if !transition {
		return &st, changed, nil
	}
	from := store.ComplianceUnknown
	if prev != nil {
		from = prev.Status
	}
	if from != st.Status {
		ch := &store.ComplianceChange{
			ID: s.cfg.NewID(), SubjectType: subjectType, SubjectID: id,
			From: from, To: st.Status, At: now, Reasons: st.Reasons,
		}
		if err := tx.Compliance().AddChange(ctx, ch); err != nil {
			return nil, false, fmt.Errorf("backupmgmt: compliance history of %s %s: %w", subjectType, id, err)
		}
	}
	if err := s.complianceAlerts(ctx, tx, &st, target); err != nil {
		return nil, false, err
	}
	return &st, true, nil
}

// complianceRecheckAt is when a state of ev evaluated at evaluatedAt falls
// due: when time alone may change ev, or when the state is to be refreshed
// (Config.ComplianceRefresh), whichever comes first. The refresh bounds how
// long an input change that did not go through the service can go unseen.
func (s *Service) complianceRecheckAt(ev Evaluation, evaluatedAt time.Time) time.Time {
	refresh := evaluatedAt.Add(s.cfg.ComplianceRefresh)
	if ev.RecheckAt.IsZero() || refresh.Before(ev.RecheckAt) {
		return refresh
	}
	// Stored times are microseconds: round up, never earlier than the
	// change.
	at := ev.RecheckAt.Truncate(time.Microsecond)
	if at.Before(ev.RecheckAt) {
		at = at.Add(time.Microsecond)
	}
	return at
}

func complianceSameContent(a, b *store.ComplianceState) bool {
	return a.Status == b.Status && a.Copies == b.Copies && a.MediaTypes == b.MediaTypes &&
		a.Offsite == b.Offsite && a.OfflineOrImmutable == b.OfflineOrImmutable &&
		a.Verified == b.Verified && a.Score == b.Score && slices.Equal(a.Reasons, b.Reasons)
}

// complianceAlerts raises compliance_violation for non_compliant (critical
// for a restricted asset), compliance_warning for warning, and resolves the
// other one; compliant resolves both. Unknown (an invalid policy) changes
// nothing.
func (s *Service) complianceAlerts(ctx context.Context, tx store.Repos, st *store.ComplianceState, target complianceAlertTarget) error {
	subject := jobSubject(st.SubjectID)
	what := "job `" + target.name + "`"
	if target.isAsset {
		subject = assetSubject(st.SubjectID)
		what = "asset `" + target.name + "`"
	}
	message := complianceReasonsText(st.Reasons)
	var raise, clear []store.AlertType
	spec := alertSpec{Subject: subject, JobID: target.jobID, Message: message}
	switch st.Status {
	case store.ComplianceNonCompliant:
		spec.Type, spec.Severity = store.AlertComplianceViolation, store.SeverityError
		if target.asset != nil && target.asset.Classification == store.ClassificationRestricted {
			spec.Severity = store.SeverityCritical
		}
		spec.Title = what + " is not 3-2-1-1-0 compliant"
		raise, clear = []store.AlertType{spec.Type}, []store.AlertType{store.AlertComplianceWarning}
	case store.ComplianceWarning:
		spec.Type, spec.Severity = store.AlertComplianceWarning, store.SeverityWarning
		spec.Title = what + " has compliance warnings"
		raise, clear = []store.AlertType{spec.Type}, []store.AlertType{store.AlertComplianceViolation}
	case store.ComplianceCompliant:
		clear = []store.AlertType{store.AlertComplianceViolation, store.AlertComplianceWarning}
	}
	for _, t := range clear {
		if _, err := s.resolveAlert(ctx, tx, t, subject, store.ResolvedByAuto); err != nil {
			return err
		}
	}
	if len(raise) > 0 {
		if _, _, err := s.raiseAlert(ctx, tx, spec); err != nil {
			return err
		}
	}
	return nil
}

// complianceReasonsText joins reasons into an alert message.
func complianceReasonsText(reasons []store.ComplianceReason) string {
	msg := ""
	for i, r := range reasons {
		if i > 0 {
			msg += "; "
		}
		msg += r.Rule + ": " + r.Message
	}
	return store.TruncateText(msg, store.MaxMessageLen)
}
