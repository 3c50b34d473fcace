package backupmgmt

import (
	"context"
	"fmt"
	"slices"

	"github.com/custos-dev/custos/store"
)

// SweepResult says what a compliance sweep did.
type SweepResult struct {
	// Jobs and Assets count the subjects evaluated.
	Jobs   int
	Assets int
	// Changed counts the subjects whose stored state changed in content
	// (status, digits, score or reasons); a state only refreshed because it
	// was older than Config.ComplianceRefresh does not count.
	Changed int
}

// Sweep evaluates every active job and every asset now and stores what
// changed, as the periodic tick of DESIGN §4.3: it is what notices a copy
// aging past its freshness window or a restore test falling due, when no
// input changed to trigger an evaluation.
//
// Its cost grows with pages, not jobs: the active verification schedules
// are read once (a query per LimitMax of them), then per page of LimitMax
// jobs one transaction reads the page, its active jobs' copies, latest tests,
// stored states and assets (5 queries) and writes only the states that
// changed or are older than Config.ComplianceRefresh (transitions also write
// history and alerts). Assets are evaluated at the end over the union of
// their active jobs gathered while paging, in pages of LimitMax assets of 2
// queries each; an asset without active jobs is evaluated too.
//
// Inactive jobs are not evaluated. A state left over from when such a job
// was active is removed by the jobs service when it deactivates the job
// (reevaluateJob), not here. A sweep that races an ingest on PostgreSQL or
// MariaDB may store a state read just before the ingest committed; the next
// change or sweep puts it right. On SQLite a page's transaction serialises
// with every writer.
func (c *Compliance) Sweep(ctx context.Context) (SweepResult, error) {
	s := (*Service)(c)
	var res SweepResult
	schedules, err := s.sweepSchedules(ctx)
	if err != nil {
		return res, err
	}
	assetJobs := make(map[string][]AssetJobInput)
	// Every job, not only active ones: the name index serves this order,
	// while a filter on active makes SQLite sort all jobs for every page.
	// Inactive jobs are skipped as they come.
	p := store.ListJobsParams{}
	p.Limit = store.LimitMax
	for {
		var (
			page    sweepPage
			changed int
		)
		err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
			var err error
			page, changed, err = s.sweepJobPage(ctx, tx, p, schedules)
			return err
		})
		if err != nil {
			return res, err
		}
		res.Jobs += len(page.inputs)
		res.Changed += changed
		for _, in := range page.inputs {
			if in.Job.AssetID != nil {
				assetJobs[*in.Job.AssetID] = append(assetJobs[*in.Job.AssetID], in)
			}
		}
		if page.next == "" {
			break
		}
		p.Cursor = page.next
	}

	ap := store.ListAssetsParams{}
	ap.Limit = store.LimitMax
	for {
		var (
			n, changed int
			next       string
		)
		err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
			var err error
			n, changed, next, err = s.sweepAssetPage(ctx, tx, ap, assetJobs)
			return err
		})
		if err != nil {
			return res, err
		}
		res.Assets += n
		res.Changed += changed
		if next == "" {
			break
		}
		ap.Cursor = next
	}
	return res, nil
}

// sweepSchedules loads every active verification schedule by job, a query
// per LimitMax schedules.
func (s *Service) sweepSchedules(ctx context.Context) (map[string]*store.VerificationSchedule, error) {
	out := make(map[string]*store.VerificationSchedule)
	active := true
	p := store.ListVerificationSchedulesParams{Active: &active}
	p.Limit = store.LimitMax
	for {
		page, err := s.store.VerificationSchedules().List(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("backupmgmt: sweep: list verification schedules: %w", err)
		}
		for i := range page.Items {
			out[page.Items[i].JobID] = &page.Items[i]
		}
		if page.NextCursor == "" {
			return out, nil
		}
		p.Cursor = page.NextCursor
	}
}

// sweepPage is one page of a sweep: its jobs' inputs and the next cursor.
type sweepPage struct {
	inputs []AssetJobInput
	next   string
}

// sweepJobPage evaluates one page of active jobs inside tx and stores what
// changed. It returns the page's inputs for the asset pass, and how many
// states changed.
func (s *Service) sweepJobPage(ctx context.Context, tx store.Repos, p store.ListJobsParams, schedules map[string]*store.VerificationSchedule) (sweepPage, int, error) {
	page, err := tx.Jobs().List(ctx, p)
	if err != nil {
		return sweepPage{}, 0, fmt.Errorf("backupmgmt: sweep: list jobs: %w", err)
	}
	out := sweepPage{next: page.NextCursor}
	jobs := slices.DeleteFunc(page.Items, func(j store.Job) bool { return !j.Active })
	if len(jobs) == 0 {
		return out, 0, nil
	}
	ids := make([]string, len(jobs))
	var assetIDs []string
	seen := make(map[string]bool)
	for i, j := range jobs {
		ids[i] = j.ID
		if j.AssetID != nil && !seen[*j.AssetID] {
			seen[*j.AssetID] = true
			assetIDs = append(assetIDs, *j.AssetID)
		}
	}
	copies, err := tx.Copies().ListByJobs(ctx, ids)
	if err != nil {
		return out, 0, fmt.Errorf("backupmgmt: sweep: list copies: %w", err)
	}
	tests, err := tx.VerificationTests().LatestByJobs(ctx, ids)
	if err != nil {
		return out, 0, fmt.Errorf("backupmgmt: sweep: latest tests: %w", err)
	}
	states, err := tx.Compliance().GetStates(ctx, store.SubjectJob, ids)
	if err != nil {
		return out, 0, fmt.Errorf("backupmgmt: sweep: job states: %w", err)
	}
	assets := map[string]*store.Asset{}
	if len(assetIDs) > 0 {
		list, err := tx.Assets().GetMany(ctx, assetIDs)
		if err != nil {
			return out, 0, fmt.Errorf("backupmgmt: sweep: assets: %w", err)
		}
		for i := range list {
			assets[list[i].ID] = &list[i]
		}
	}

	out.inputs = make([]AssetJobInput, len(jobs))
	byJob := make(map[string]*AssetJobInput, len(jobs))
	for i := range jobs {
		j := &jobs[i]
		out.inputs[i] = AssetJobInput{Job: *j, Copies: []store.Copy{}, Schedule: schedules[j.ID]}
		byJob[j.ID] = &out.inputs[i]
	}
	for _, cp := range copies {
		if in := byJob[cp.JobID]; in != nil {
			in.Copies = append(in.Copies, cp)
		}
	}
	for i := range tests {
		if in := byJob[tests[i].JobID]; in != nil {
			in.LatestTest = &tests[i]
		}
	}
	prev := make(map[string]*store.ComplianceState, len(states))
	for i := range states {
		prev[states[i].SubjectID] = &states[i]
	}

	now := s.Now()
	changed := 0
	for i := range out.inputs {
		in := &out.inputs[i]
		var asset *store.Asset
		if in.Job.AssetID != nil {
			asset = assets[*in.Job.AssetID]
		}
		ev := Evaluate(EvaluationInput{
			Policy: s.PolicyFor(asset), Job: in.Job, Copies: in.Copies, LatestTest: in.LatestTest,
			Schedule: in.Schedule, Now: now, Location: s.cfg.Location,
		})
		id := in.Job.ID
		_, ch, err := s.storeCompliance(ctx, tx, ev, store.SubjectJob, id, prev[id],
			complianceAlertTarget{jobID: &id, name: in.Job.Name, asset: asset})
		if err != nil {
			return out, 0, err
		}
		if ch {
			changed++
		}
	}
	return out, changed, nil
}

// sweepAssetPage evaluates one page of assets inside tx over the active
// jobs gathered by the job pass, and stores what changed. It returns how
// many assets it evaluated, how many states changed, and the next cursor.
func (s *Service) sweepAssetPage(ctx context.Context, tx store.Repos, p store.ListAssetsParams, assetJobs map[string][]AssetJobInput) (int, int, string, error) {
	page, err := tx.Assets().List(ctx, p)
	if err != nil {
		return 0, 0, "", fmt.Errorf("backupmgmt: sweep: list assets: %w", err)
	}
	if len(page.Items) == 0 {
		return 0, 0, page.NextCursor, nil
	}
	ids := make([]string, len(page.Items))
	for i := range page.Items {
		ids[i] = page.Items[i].ID
	}
	states, err := tx.Compliance().GetStates(ctx, store.SubjectAsset, ids)
	if err != nil {
		return 0, 0, "", fmt.Errorf("backupmgmt: sweep: asset states: %w", err)
	}
	prev := make(map[string]*store.ComplianceState, len(states))
	for i := range states {
		prev[states[i].SubjectID] = &states[i]
	}
	now := s.Now()
	changed := 0
	for i := range page.Items {
		a := &page.Items[i]
		ev := EvaluateAsset(s.PolicyFor(a), assetJobs[a.ID], now, s.cfg.Location)
		_, ch, err := s.storeCompliance(ctx, tx, ev, store.SubjectAsset, a.ID, prev[a.ID],
			complianceAlertTarget{name: a.Name, asset: a, isAsset: true})
		if err != nil {
			return 0, 0, "", err
		}
		if ch {
			changed++
		}
	}
	return len(page.Items), changed, page.NextCursor, nil
}
