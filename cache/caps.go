package cache

import (
	"context"
	"time"

	"github.com/custos-dev/custos/store"
)

// The optional capabilities the Store and its repositories forward. Each
// mixin type holds the methods of one capability; caps_gen.go combines them
// into one type per subset (go generate writes it from internal/capgen).
//
//go:generate go run ./internal/capgen -o caps_gen.go

// pendingReader is what a readiness check asks of a store beside Ping
// (bunstore.Store has it).
type pendingReader interface {
	Pending(ctx context.Context) ([]string, error)
}

type dashboardCounter struct{ w *cached }

// DashboardCounts is cached for the dashboard TTL; every write that changes
// one of its counts drops it.
func (m dashboardCounter) DashboardCounts(ctx context.Context, p store.DashboardCountsParams) (*store.DashboardCounts, error) {
	return read(ctx, m.w, cDashboard, key("DashboardCounts", p), cloneDashPtr, func(ctx context.Context) (*store.DashboardCounts, error) {
		return m.w.under.(store.DashboardCounter).DashboardCounts(ctx, p)
	})
}

// The compliance sweep needs fresh inputs: these are not cached.

type complianceInputReader struct{ w *cached }

func (m complianceInputReader) JobComplianceInputs(ctx context.Context, p store.ComplianceInputsParams) (*store.JobComplianceInputPage, error) {
	return m.w.under.(store.ComplianceInputReader).JobComplianceInputs(ctx, p)
}

type assetComplianceInputReader struct{ w *cached }

func (m assetComplianceInputReader) AssetComplianceInputs(ctx context.Context, p store.ComplianceInputsParams) (*store.AssetComplianceInputPage, error) {
	return m.w.under.(store.AssetComplianceInputReader).AssetComplianceInputs(ctx, p)
}

type dueComplianceReader struct{ w *cached }

func (m dueComplianceReader) DueCompliance(ctx context.Context, p store.DueComplianceParams) (*store.DueCompliancePage, error) {
	return m.w.under.(store.DueComplianceReader).DueCompliance(ctx, p)
}

type successSampler struct{ w *cached }

func (m successSampler) RecentSuccesses(ctx context.Context, p store.RecentSuccessesParams) ([]store.SuccessSample, error) {
	return m.w.under.(store.SuccessSampler).RecentSuccesses(ctx, p)
}

type pendingReaderCap struct{ w *cached }

// Pending reports the migrations the wrapped store has not applied.
func (m pendingReaderCap) Pending(ctx context.Context) ([]string, error) {
	return m.w.under.(pendingReader).Pending(ctx)
}

type advisoryLocker struct{ w *cached }

// TryAdvisoryLock is the wrapped store's: a lock is shared state, never
// cached.
func (m advisoryLocker) TryAdvisoryLock(ctx context.Context, name string) (func(), bool, error) {
	return m.w.under.(store.AdvisoryLocker).TryAdvisoryLock(ctx, name)
}

// runRecorder outside a transaction: reads go to the wrapped store (they
// stand for locking reads), writes drop what they change.
type runRecorder struct{ w *cached }

func (m runRecorder) GetJobForRun(ctx context.Context, id string) (*store.Job, error) {
	return m.w.under.(store.RunRecorder).GetJobForRun(ctx, id)
}

func (m runRecorder) GetJobsForRun(ctx context.Context, ids []string) ([]store.Job, error) {
	return m.w.under.(store.RunRecorder).GetJobsForRun(ctx, ids)
}

func (m runRecorder) GetCopyForRun(ctx context.Context, id string) (*store.Copy, error) {
	return m.w.under.(store.RunRecorder).GetCopyForRun(ctx, id)
}

func (m runRecorder) InsertRun(ctx context.Context, e *store.Execution) (bool, error) {
	created, err := m.w.under.(store.RunRecorder).InsertRun(ctx, e)
	m.w.wrote(mExecWrite, err)
	return created, err
}

func (m runRecorder) UpdateJobRun(ctx context.Context, j *store.Job) error {
	err := m.w.under.(store.RunRecorder).UpdateJobRun(ctx, j)
	m.w.wrote(mJobWrite, err)
	return err
}

func (m runRecorder) UpdateCopyWrite(ctx context.Context, c *store.Copy) error {
	err := m.w.under.(store.RunRecorder).UpdateCopyWrite(ctx, c)
	m.w.wrote(mCopyWrite, err)
	return err
}

type complianceRecheckWriter struct{ w *cached }

func (m complianceRecheckWriter) PutStateRecheck(ctx context.Context, s *store.ComplianceState, recheckAt time.Time) error {
	err := m.w.under.(store.ComplianceRecheckWriter).PutStateRecheck(ctx, s, recheckAt)
	m.w.wrote(mComplWrite, err)
	return err
}

// Job store capabilities: listing and locking are never cached.

type jobDueLister struct{ w *jobStore }

func (m jobDueLister) ListDueIDs(ctx context.Context, now time.Time, limit int) ([]string, error) {
	return m.w.s.(store.JobDueLister).ListDueIDs(ctx, now, limit)
}

type jobLocker struct{ w *jobStore }

func (m jobLocker) GetManyForUpdate(ctx context.Context, ids []string) ([]store.Job, error) {
	return m.w.s.(store.JobLocker).GetManyForUpdate(ctx, ids)
}

type jobDueUpdater struct{ w *jobStore }

func (m jobDueUpdater) UpdateDue(ctx context.Context, us []store.JobDueUpdate) error {
	err := m.w.s.(store.JobDueUpdater).UpdateDue(ctx, us)
	m.w.c.wrote(mJobWrite, err)
	return err
}

type slaExecutionReader struct{ w *executionStore }

func (m slaExecutionReader) SLAExecutions(ctx context.Context, jobID string, from time.Time) ([]store.Execution, []store.Execution, error) {
	return m.w.s.(store.SLAExecutionReader).SLAExecutions(ctx, jobID, from)
}

type alertUnresolvedGetter struct{ w *alertStore }

func (m alertUnresolvedGetter) GetUnresolvedMany(ctx context.Context, keys []string) ([]store.Alert, error) {
	return m.w.AlertStore.(store.AlertUnresolvedGetter).GetUnresolvedMany(ctx, keys)
}

type alertBatchCreator struct{ w *alertStore }

func (m alertBatchCreator) CreateMany(ctx context.Context, as []*store.Alert) error {
	err := m.w.AlertStore.(store.AlertBatchCreator).CreateMany(ctx, as)
	m.w.c.wrote(mAlertWrite, err)
	return err
}

type alertSeenUpdater struct{ w *alertStore }

func (m alertSeenUpdater) UpdateSeen(ctx context.Context, as []*store.Alert) error {
	err := m.w.AlertStore.(store.AlertSeenUpdater).UpdateSeen(ctx, as)
	m.w.c.wrote(mAlertWrite, err)
	return err
}

type apiKeyUserGetter struct{ w *apiKeyStore }

func (m apiKeyUserGetter) GetAPIKeyUser(ctx context.Context, prefix string) (*store.APIKey, *store.User, error) {
	return m.w.APIKeyStore.(store.APIKeyUserGetter).GetAPIKeyUser(ctx, prefix)
}
