package backupmgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

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

// Sweep is the periodic tick of DESIGN §4.3: it is what notices a copy
// aging past its freshness window or a restore test falling due, when no
// input changed to trigger an evaluation. It evaluates the subjects whose
// time has come and stores what changed.
//
// Every change of an input through the service (an execution that changes a
// copy's freshness or state, a copy, job, asset or verification edit, a
// restore test) evaluates the job and, when its state changed, its asset in
// the same transaction. What is left to the sweep is time: each stored
// state carries a recheck time, the earliest at which its evaluation may
// change with no input changing (Evaluation.RecheckAt), capped at its
// evaluation time plus Config.ComplianceRefresh. With a store that has
// store.DueComplianceReader (and store.ComplianceRecheckWriter to set those
// times), Sweep reads only the due subjects, the active jobs and assets
// without a state, and the assets of jobs whose state the sweep changed:
// a sweep when nothing is due is two statements. An input changed behind
// the service's back (another program writing the database) is seen by
// the refresh at the latest.
//
// The first Sweep of a Service, and every Sweep over a store without
// store.DueComplianceReader, is SweepAll: the stored states may have been
// made under another policy or evaluator.
func (c *Compliance) Sweep(ctx context.Context) (SweepResult, error) {
	s := (*Service)(c)
	r, ok := s.store.(store.DueComplianceReader)
	if !ok || !s.swept.Load() {
		return c.SweepAll(ctx)
	}
	return s.sweepDue(ctx, r)
}

// SweepAll evaluates every active job and every asset now and stores what
// changed (and the recheck times of states that did not): what Sweep does
// first, and what to call when the policy or the evaluation may have
// changed for every subject.
//
// Its cost grows with pages, not jobs. With a store that has
// store.ComplianceInputReader, a page of up to
// store.ComplianceInputsLimitMax jobs with every input and stored state is
// read outside any transaction (2 queries; the next page loads while one is
// evaluated), and a transaction is opened only for a page with states to
// write. Otherwise the active verification schedules are read once (a query
// per LimitMax of them), then per page of LimitMax jobs one transaction
// reads the page, its active jobs' copies, latest tests, stored states and
// assets (5 queries). Either way only the states that changed or are older
// than Config.ComplianceRefresh are written (transitions also write history
// and alerts), after locking those jobs and reading their inputs again (a
// query per job written, and 4 per page with writes). Assets are evaluated
// at the end over the union of their active jobs gathered while paging: with
// store.AssetComplianceInputReader in pages of
// store.ComplianceInputsLimitMax assets with their states (a query, and 2
// more in a transaction for a page with writes), otherwise in pages of
// LimitMax assets of 2 queries each; an asset without active jobs is
// evaluated too.
//
// Inactive jobs are not evaluated. A state left over from when such a job
// was active is removed by the jobs service when it deactivates the job
// (reevaluateJob), not here; the same goes for the state of a deleted
// asset.
func (c *Compliance) SweepAll(ctx context.Context) (SweepResult, error) {
	s := (*Service)(c)
	var res SweepResult
	assetJobs := make(map[string][]AssetJobInput)
	gather := func(inputs []AssetJobInput, changed int) {
		res.Jobs += len(inputs)
		res.Changed += changed
		for _, in := range inputs {
			if in.Job.AssetID != nil {
				assetJobs[*in.Job.AssetID] = append(assetJobs[*in.Job.AssetID], in)
			}
		}
	}
	var err error
	if r, ok := s.store.(store.ComplianceInputReader); ok {
		err = s.sweepJobsBulk(ctx, r, gather)
	} else {
		err = s.sweepJobs(ctx, gather)
	}
	if err != nil {
		return res, err
	}

	if r, ok := s.store.(store.AssetComplianceInputReader); ok {
		err = s.sweepAssetsBulk(ctx, r, assetJobs, &res)
	} else {
		err = s.sweepAssets(ctx, assetJobs, &res)
	}
	if err == nil {
		s.swept.Store(true)
	}
	return res, err
}

// sweepDue is Sweep through r: the due jobs in pages of
// store.ComplianceInputsLimitMax, each locked, read and written in a
// transaction as SweepAll writes a job (sweepWrite), then the due assets
// and those of the jobs whose state changed, re-evaluated as an input
// change does (a transaction per page of them).
func (s *Service) sweepDue(ctx context.Context, r store.DueComplianceReader) (SweepResult, error) {
	var res SweepResult
	now := s.Now()
	var schedules map[string]*store.VerificationSchedule
	assets := make(map[string]bool)
	p := store.DueComplianceParams{SubjectType: store.SubjectJob, Now: now, Limit: store.ComplianceInputsLimitMax}
	for {
		page, err := r.DueCompliance(ctx, p)
		if err != nil {
			return res, fmt.Errorf("backupmgmt: sweep: due jobs: %w", err)
		}
		if len(page.IDs) > 0 && schedules == nil {
			if schedules, err = s.sweepSchedules(ctx); err != nil {
				return res, err
			}
		}
		if len(page.IDs) > 0 {
			due := make([]store.Job, len(page.IDs))
			for i, id := range page.IDs {
				due[i].ID = id
			}
			changed, reread, err := s.sweepWriteTx(ctx, due, schedules, now)
			if err != nil {
				return res, err
			}
			res.Jobs += len(reread)
			res.Changed += len(changed)
			for _, id := range changed {
				if a := reread[id].Job.AssetID; a != nil {
					assets[*a] = true
				}
			}
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}

	p = store.DueComplianceParams{SubjectType: store.SubjectAsset, Now: now, Limit: store.ComplianceInputsLimitMax}
	for {
		page, err := r.DueCompliance(ctx, p)
		if err != nil {
			return res, fmt.Errorf("backupmgmt: sweep: due assets: %w", err)
		}
		for _, id := range page.IDs {
			assets[id] = true
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	for chunk := range slices.Chunk(slices.Sorted(maps.Keys(assets)), store.LimitMax) {
		err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
			for _, id := range chunk {
				st, changed, err := s.reevaluateAssetChanged(ctx, tx, id)
				if err != nil {
					return err
				}
				if st != nil {
					res.Assets++
				}
				if changed {
					res.Changed++
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// sweepAssets is the asset pass of Sweep through the repositories: a
// transaction per page of LimitMax assets.
func (s *Service) sweepAssets(ctx context.Context, assetJobs map[string][]AssetJobInput, res *SweepResult) error {
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
			return err
		}
		res.Assets += n
		res.Changed += changed
		if next == "" {
			return nil
		}
		ap.Cursor = next
	}
}

// sweepAssetsBulk is the asset pass of Sweep through r: pages of
// store.ComplianceInputsLimitMax assets with their states read outside
// transactions, and a transaction only for a page with states to write,
// which reads those assets and states again.
func (s *Service) sweepAssetsBulk(ctx context.Context, r store.AssetComplianceInputReader, assetJobs map[string][]AssetJobInput, res *SweepResult) error {
	p := store.ComplianceInputsParams{Limit: store.ComplianceInputsLimitMax}
	for {
		page, err := r.AssetComplianceInputs(ctx, p)
		if err != nil {
			return fmt.Errorf("backupmgmt: sweep: asset compliance inputs: %w", err)
		}
		now := s.Now()
		var dirty []string
		for i := range page.Assets {
			a := &page.Assets[i]
			ev := EvaluateAsset(s.PolicyFor(&a.Asset), assetJobs[a.Asset.ID], now, s.cfg.Location)
			if s.sweepWouldStoreStored(ev, a.State, now) {
				dirty = append(dirty, a.Asset.ID)
			}
		}
		res.Assets += len(page.Assets)
		if len(dirty) > 0 {
			var changed int
			err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
				var err error
				changed, err = s.sweepWriteAssets(ctx, tx, dirty, assetJobs, now)
				return err
			})
			if err != nil {
				return err
			}
			res.Changed += changed
		}
		if page.NextCursor == "" {
			return nil
		}
		p.Cursor = page.NextCursor
	}
}

// sweepWriteAssets reads the dirty assets and their states again inside
// tx and stores their evaluations (when still changed or aged); an asset
// deleted meanwhile is skipped. It returns how many states changed.
func (s *Service) sweepWriteAssets(ctx context.Context, tx store.Repos, dirty []string, assetJobs map[string][]AssetJobInput, now time.Time) (int, error) {
	assets, err := tx.Assets().GetMany(ctx, dirty)
	if err != nil {
		return 0, fmt.Errorf("backupmgmt: sweep: assets: %w", err)
	}
	states, err := tx.Compliance().GetStates(ctx, store.SubjectAsset, dirty)
	if err != nil {
		return 0, fmt.Errorf("backupmgmt: sweep: asset states: %w", err)
	}
	byID := make(map[string]*store.Asset, len(assets))
	for i := range assets {
		byID[assets[i].ID] = &assets[i]
	}
	prev := make(map[string]*store.ComplianceState, len(states))
	for i := range states {
		prev[states[i].SubjectID] = &states[i]
	}
	changed := 0
	for _, id := range dirty {
		a := byID[id]
		if a == nil {
			continue
		}
		ev := EvaluateAsset(s.PolicyFor(a), assetJobs[id], now, s.cfg.Location)
		_, ch, err := s.storeCompliance(ctx, tx, ev, store.SubjectAsset, id, prev[id],
			complianceAlertTarget{name: a.Name, asset: a, isAsset: true})
		if err != nil {
			return 0, err
		}
		if ch {
			changed++
		}
	}
	return changed, nil
}

// sweepJobs is the job pass of Sweep through the repositories: a
// transaction per page of LimitMax jobs. It hands each page's active jobs,
// with the inputs the asset pass uses, and its count of changed states to
// gather.
func (s *Service) sweepJobs(ctx context.Context, gather func([]AssetJobInput, int)) error {
	schedules, err := s.sweepSchedules(ctx)
	if err != nil {
		return err
	}
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
			return err
		}
		gather(page.inputs, changed)
		if page.next == "" {
			return nil
		}
		p.Cursor = page.next
	}
}

// sweepJobsBulk is the job pass of Sweep through r: pages of
// store.ComplianceInputsLimitMax jobs read outside transactions, and a
// transaction only for a page with states to write; see sweepJobs. The
// next page loads while one is evaluated and written.
func (s *Service) sweepJobsBulk(ctx context.Context, r store.ComplianceInputReader, gather func([]AssetJobInput, int)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		page *store.JobComplianceInputPage
		err  error
	}
	fetch := func(p store.ComplianceInputsParams) chan fetched {
		ch := make(chan fetched, 1)
		go func() {
			page, err := r.JobComplianceInputs(ctx, p)
			ch <- fetched{page, err}
		}()
		return ch
	}
	p := store.ComplianceInputsParams{Limit: store.ComplianceInputsLimitMax}
	next := fetch(p)
	for next != nil {
		f := <-next
		next = nil
		if f.err != nil {
			return fmt.Errorf("backupmgmt: sweep: compliance inputs: %w", f.err)
		}
		if f.page.NextCursor != "" {
			p.Cursor = f.page.NextCursor
			next = fetch(p)
		}
		inputs, changed, err := s.sweepBulkPage(ctx, f.page)
		if err != nil {
			if next != nil {
				// No read outlives the sweep.
				cancel()
				<-next
			}
			return err
		}
		gather(inputs, changed)
	}
	return nil
}

// sweepBulkPage evaluates the active jobs of page and stores what changed,
// as sweepJobPage does with inputs read by the repositories.
func (s *Service) sweepBulkPage(ctx context.Context, page *store.JobComplianceInputPage) ([]AssetJobInput, int, error) {
	now := s.Now()
	inputs := make([]AssetJobInput, 0, len(page.Jobs))
	var dirty []store.Job
	for i := range page.Jobs {
		ji := &page.Jobs[i]
		if !ji.Job.Active {
			continue
		}
		in := AssetJobInput{Job: ji.Job, Copies: ji.Copies, LatestTest: ji.LatestTest, Schedule: ji.Schedule}
		if s.sweepWouldStoreStored(s.sweepEvaluate(&in, page.Assets, now), ji.State, now) {
			dirty = append(dirty, ji.Job)
		}
		inputs = append(inputs, in)
	}
	if len(dirty) == 0 {
		return inputs, 0, nil
	}
	schedules := make(map[string]*store.VerificationSchedule)
	for i := range inputs {
		if inputs[i].Schedule != nil {
			schedules[inputs[i].Job.ID] = inputs[i].Schedule
		}
	}
	changed, reread, err := s.sweepWriteTx(ctx, dirty, schedules, now)
	if err != nil {
		return nil, 0, err
	}
	return sweepMerge(inputs, dirty, reread), len(changed), nil
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

// sweepJobPage evaluates one page of jobs inside tx and stores what
// changed. It returns the page's active jobs with their inputs for the
// asset pass, and how many states changed.
//
// The page is read in 5 queries without locks. The jobs whose state is to
// be written are then locked (a Get each) and their inputs read again (4
// queries): an ingest or edit of such a job that committed after the first
// read is seen, and one under way waits for this transaction, so the sweep
// never overwrites a newer state with one computed from older inputs. The
// verification schedules stay those read at the start of the sweep.
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
	batch, err := s.sweepLoad(ctx, tx, jobs, schedules)
	if err != nil {
		return out, 0, err
	}
	now := s.Now()
	var dirty []store.Job
	for i := range batch.inputs {
		in := &batch.inputs[i]
		ev := s.sweepEvaluate(in, batch.assets, now)
		if s.sweepWouldStore(ev, in.Job.ID, batch.prev[in.Job.ID], now) {
			dirty = append(dirty, in.Job)
		}
	}
	out.inputs = batch.inputs
	if len(dirty) == 0 {
		return out, 0, nil
	}

	changed, reread, err := s.sweepWrite(ctx, tx, dirty, schedules, now)
	if err != nil {
		return out, 0, err
	}
	out.inputs = sweepMerge(out.inputs, dirty, reread)
	return out, len(changed), nil
}

// sweepWrite locks the dirty jobs inside tx, reads their inputs again and
// stores their states (when still changed or aged). It returns the IDs of
// the jobs whose state changed and the re-read inputs of the jobs still
// active, by ID. Only the IDs of dirty are read.
func (s *Service) sweepWrite(ctx context.Context, tx store.Repos, dirty []store.Job, schedules map[string]*store.VerificationSchedule, now time.Time) ([]string, map[string]AssetJobInput, error) {
	locked := make([]store.Job, 0, len(dirty))
	for _, j := range dirty {
		fresh, err := tx.Jobs().Get(ctx, j.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("backupmgmt: sweep: lock job %s: %w", j.ID, err)
		}
		if fresh.Active {
			locked = append(locked, *fresh)
		}
	}
	again, err := s.sweepLoad(ctx, tx, locked, schedules)
	if err != nil {
		return nil, nil, err
	}
	var changed []string
	reread := make(map[string]AssetJobInput, len(again.inputs))
	for i := range again.inputs {
		in := &again.inputs[i]
		reread[in.Job.ID] = *in
		var asset *store.Asset
		if in.Job.AssetID != nil {
			asset = again.assets[*in.Job.AssetID]
		}
		id := in.Job.ID
		_, ch, err := s.storeCompliance(ctx, tx, s.sweepEvaluate(in, again.assets, now), store.SubjectJob, id,
			again.prev[id], complianceAlertTarget{jobID: &id, name: in.Job.Name, asset: asset})
		if err != nil {
			return nil, nil, err
		}
		if ch {
			changed = append(changed, id)
		}
	}
	return changed, reread, nil
}

// sweepWriteTx is sweepWrite in a transaction of its own.
func (s *Service) sweepWriteTx(ctx context.Context, dirty []store.Job, schedules map[string]*store.VerificationSchedule, now time.Time) ([]string, map[string]AssetJobInput, error) {
	var (
		changed []string
		reread  map[string]AssetJobInput
	)
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		var err error
		changed, reread, err = s.sweepWrite(ctx, tx, dirty, schedules, now)
		return err
	})
	return changed, reread, err
}

// sweepMerge makes the asset pass work on what was written: re-read inputs
// replace the first ones, and dirty jobs gone or deactivated meanwhile drop
// out.
func sweepMerge(inputs []AssetJobInput, dirty []store.Job, reread map[string]AssetJobInput) []AssetJobInput {
	isDirty := make(map[string]bool, len(dirty))
	for _, j := range dirty {
		isDirty[j.ID] = true
	}
	inputs = slices.DeleteFunc(inputs, func(in AssetJobInput) bool {
		_, ok := reread[in.Job.ID]
		return isDirty[in.Job.ID] && !ok
	})
	for i := range inputs {
		if in, ok := reread[inputs[i].Job.ID]; ok {
			inputs[i] = in
		}
	}
	return inputs
}

// sweepBatch is what the evaluation of some jobs needs, read in bulk.
type sweepBatch struct {
	inputs []AssetJobInput
	prev   map[string]*store.ComplianceState
	assets map[string]*store.Asset
}

// sweepLoad reads the copies, latest tests, stored states and assets of
// jobs: 4 queries (3 when none has an asset), none for no jobs.
func (s *Service) sweepLoad(ctx context.Context, tx store.Repos, jobs []store.Job, schedules map[string]*store.VerificationSchedule) (sweepBatch, error) {
	out := sweepBatch{prev: map[string]*store.ComplianceState{}, assets: map[string]*store.Asset{}}
	if len(jobs) == 0 {
		return out, nil
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
		return out, fmt.Errorf("backupmgmt: sweep: list copies: %w", err)
	}
	tests, err := tx.VerificationTests().LatestByJobs(ctx, ids)
	if err != nil {
		return out, fmt.Errorf("backupmgmt: sweep: latest tests: %w", err)
	}
	states, err := tx.Compliance().GetStates(ctx, store.SubjectJob, ids)
	if err != nil {
		return out, fmt.Errorf("backupmgmt: sweep: job states: %w", err)
	}
	if len(assetIDs) > 0 {
		list, err := tx.Assets().GetMany(ctx, assetIDs)
		if err != nil {
			return out, fmt.Errorf("backupmgmt: sweep: assets: %w", err)
		}
		for i := range list {
			out.assets[list[i].ID] = &list[i]
		}
	}
	out.inputs = make([]AssetJobInput, len(jobs))
	byJob := make(map[string]*AssetJobInput, len(jobs))
	for i := range jobs {
		out.inputs[i] = AssetJobInput{Job: jobs[i], Copies: []store.Copy{}, Schedule: schedules[jobs[i].ID]}
		byJob[jobs[i].ID] = &out.inputs[i]
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
	for i := range states {
		out.prev[states[i].SubjectID] = &states[i]
	}
	return out, nil
}

// sweepEvaluate evaluates one job under its asset's policy.
func (s *Service) sweepEvaluate(in *AssetJobInput, assets map[string]*store.Asset, now time.Time) Evaluation {
	var asset *store.Asset
	if in.Job.AssetID != nil {
		asset = assets[*in.Job.AssetID]
	}
	return Evaluate(EvaluationInput{
		Policy: s.PolicyFor(asset), Job: in.Job, Copies: in.Copies, LatestTest: in.LatestTest,
		Schedule: in.Schedule, Now: now, Location: s.cfg.Location,
	})
}

// sweepWouldStore reports whether storeCompliance would write ev over prev
// (the same test: changed content, or prev older than
// Config.ComplianceRefresh).
func (s *Service) sweepWouldStore(ev Evaluation, id string, prev *store.ComplianceState, now time.Time) bool {
	if prev == nil {
		return true
	}
	st := ev.State(store.SubjectJob, id, now)
	return !complianceSameContent(prev, &st) || now.Sub(prev.EvaluatedAt) >= s.cfg.ComplianceRefresh
}

// sweepWouldStoreStored is sweepWouldStore against a state read by
// store.ComplianceInputReader.
func (s *Service) sweepWouldStoreStored(ev Evaluation, prev *store.StoredComplianceState, now time.Time) bool {
	if prev == nil {
		return true
	}
	same := prev.Status == ev.Status && prev.Copies == ev.Copies && prev.MediaTypes == ev.MediaTypes &&
		prev.Offsite == ev.Offsite && prev.OfflineOrImmutable == ev.OfflineOrImmutable &&
		prev.Verified == ev.Verified && prev.Score == ev.Score && sweepSameReasons(prev.ReasonsJSON, ev.Reasons)
	// A recheck time that has come, or that the evaluation now puts
	// earlier, is put again too, or Sweep would not read the state in time.
	due := prev.RecheckAt.IsZero() || !prev.RecheckAt.After(now) ||
		s.complianceRecheckAt(ev, prev.EvaluatedAt).Before(prev.RecheckAt)
	return !same || due || now.Sub(prev.EvaluatedAt) >= s.cfg.ComplianceRefresh
}

// sweepSameReasons reports whether stored reasons, encoded, equal reasons,
// as complianceSameContent compares them decoded. The store writes the
// encoding/json form, so equal bytes are the common case and spare a
// decode; they mean equal reasons when every string is valid UTF-8 (which
// the encoding would otherwise have replaced).
func sweepSameReasons(stored string, reasons []store.ComplianceReason) bool {
	if enc, err := json.Marshal(reasons); err == nil && string(enc) == stored &&
		!slices.ContainsFunc(reasons, func(r store.ComplianceReason) bool {
			return !utf8.ValidString(r.Rule) || !utf8.ValidString(r.Severity) || !utf8.ValidString(r.Message)
		}) {
		return true
	}
	// As the store decodes them: bad JSON reads as none.
	var prev []store.ComplianceReason
	if stored != "" && json.Unmarshal([]byte(stored), &prev) != nil {
		prev = nil
	}
	return slices.Equal(prev, reasons)
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
		if !s.sweepWouldStore(ev, a.ID, prev[a.ID], now) {
			continue
		}
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
