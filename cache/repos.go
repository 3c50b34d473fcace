package cache

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// key is the cache key of a read: the method and its arguments. Strings
// are written with their length; other arguments with encoding/json, which
// is deterministic for the params structs (no maps; pointers written as
// their values) and for slices of IDs.
func key(method string, args ...any) string {
	var b strings.Builder
	b.WriteString(method)
	for _, a := range args {
		b.WriteByte('|')
		switch a := a.(type) {
		case string:
			// Length-prefixed, so that no two argument lists meet.
			b.WriteString(strconv.Itoa(len(a)))
			b.WriteByte(':')
			b.WriteString(a)
		default:
			j, err := json.Marshal(a)
			if err != nil {
				// A time encoding/json cannot write (a year past 9999): the
				// empty key makes read bypass the cache.
				return ""
			}
			b.Write(j)
		}
	}
	return b.String()
}

// Write masks: what each kind of write may change. A delete bumps
// everything because foreign keys cascade or set references to NULL.
var (
	mJobWrite    = bit(cJobs, cDashboard)
	mCopyWrite   = bit(cCopies)
	mAssetWrite  = bit(cAssets)
	mExecWrite   = bit(cExecutions, cDashboard)
	mVerifWrite  = bit(cVerification, cDashboard)
	mMediaWrite  = bit(cMedia, cDashboard)
	mComplWrite  = bit(cCompliance, cDashboard)
	mRollupWrite = bit(cRollups)
	mReportWrite = bit(cReports)
	mAlertWrite  = bit(cDashboard)
)

// The Repos of the Store outside transactions.

func (c *cached) Users() store.UserStore { return &userStore{UserStore: c.under.Users(), c: c} }

// Sessions, settings, the audit log, channels and notifications change no
// cached data (channels cascade only to notifications), so the wrapped
// stores are returned as they are, capabilities included.
func (c *cached) Sessions() store.SessionStore           { return c.under.Sessions() }
func (c *cached) Settings() store.SettingStore           { return c.under.Settings() }
func (c *cached) Audit() store.AuditStore                { return c.under.Audit() }
func (c *cached) Channels() store.ChannelStore           { return c.under.Channels() }
func (c *cached) Notifications() store.NotificationStore { return c.under.Notifications() }

func (c *cached) APIKeys() store.APIKeyStore {
	return withAPIKeyCaps(&apiKeyStore{APIKeyStore: c.under.APIKeys(), c: c})
}
func (c *cached) Alerts() store.AlertStore {
	return withAlertCaps(&alertStore{AlertStore: c.under.Alerts(), c: c})
}
func (c *cached) Jobs() store.JobStore { return withJobCaps(&jobStore{s: c.under.Jobs(), c: c}) }
func (c *cached) Executions() store.ExecutionStore {
	return withExecutionCaps(&executionStore{s: c.under.Executions(), c: c})
}
func (c *cached) Assets() store.AssetStore { return &assetStore{s: c.under.Assets(), c: c} }
func (c *cached) Copies() store.CopyStore  { return &copyStore{s: c.under.Copies(), c: c} }
func (c *cached) VerificationTests() store.VerificationTestStore {
	return &testStore{s: c.under.VerificationTests(), c: c}
}
func (c *cached) VerificationSchedules() store.VerificationScheduleStore {
	return &scheduleStore{s: c.under.VerificationSchedules(), c: c}
}
func (c *cached) Media() store.MediaStore { return &mediaStore{s: c.under.Media(), c: c} }
func (c *cached) MediaEvents() store.MediaEventStore {
	return &mediaEventStore{s: c.under.MediaEvents(), c: c}
}
func (c *cached) Lendings() store.LendingStore { return &lendingStore{s: c.under.Lendings(), c: c} }
func (c *cached) RotationPlans() store.RotationPlanStore {
	return &rotationPlanStore{s: c.under.RotationPlans(), c: c}
}
func (c *cached) Compliance() store.ComplianceStore {
	return &complianceStore{s: c.under.Compliance(), c: c}
}
func (c *cached) Rollups() store.RollupStore { return &rollupStore{s: c.under.Rollups(), c: c} }
func (c *cached) Reports() store.ReportStore { return &reportStore{s: c.under.Reports(), c: c} }

// Pass-through stores whose writes may change cached data. Their reads are
// the wrapped store's (promoted); only the writes are overridden.

type userStore struct {
	store.UserStore
	c *cached
}

// Delete may set job, media, test, schedule and report references to NULL.
func (s *userStore) Delete(ctx context.Context, id string) error {
	err := s.UserStore.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

type apiKeyStore struct {
	store.APIKeyStore
	c *cached
}

// Delete sets the key of executions it sent to NULL.
func (s *apiKeyStore) Delete(ctx context.Context, id string) error {
	err := s.APIKeyStore.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

type alertStore struct {
	store.AlertStore
	c *cached
}

func (s *alertStore) Create(ctx context.Context, a *store.Alert) error {
	err := s.AlertStore.Create(ctx, a)
	s.c.wrote(mAlertWrite, err)
	return err
}

func (s *alertStore) Update(ctx context.Context, a *store.Alert) error {
	err := s.AlertStore.Update(ctx, a)
	s.c.wrote(mAlertWrite, err)
	return err
}

func (s *alertStore) Delete(ctx context.Context, id string) error {
	err := s.AlertStore.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

// Cached stores: every method is written out, so a method added to the
// interface does not compile until it is decided whether it is cached.

type jobStore struct {
	s store.JobStore
	c *cached
}

func (s *jobStore) Create(ctx context.Context, j *store.Job) error {
	err := s.s.Create(ctx, j)
	s.c.wrote(mJobWrite, err)
	return err
}

func (s *jobStore) Get(ctx context.Context, id string) (*store.Job, error) {
	return read(ctx, s.c, cJobs, key("Get", id), cloneJobPtr, func(ctx context.Context) (*store.Job, error) {
		return s.s.Get(ctx, id)
	})
}

func (s *jobStore) GetByName(ctx context.Context, name string) (*store.Job, error) {
	return read(ctx, s.c, cJobs, key("GetByName", name), cloneJobPtr, func(ctx context.Context) (*store.Job, error) {
		return s.s.GetByName(ctx, name)
	})
}

func (s *jobStore) GetByPingToken(ctx context.Context, token string) (*store.Job, error) {
	return read(ctx, s.c, cJobs, key("GetByPingToken", token), cloneJobPtr, func(ctx context.Context) (*store.Job, error) {
		return s.s.GetByPingToken(ctx, token)
	})
}

func (s *jobStore) GetMany(ctx context.Context, ids []string) ([]store.Job, error) {
	return read(ctx, s.c, cJobs, key("GetMany", ids), cloneJobs, func(ctx context.Context) ([]store.Job, error) {
		return s.s.GetMany(ctx, ids)
	})
}

func (s *jobStore) Update(ctx context.Context, j *store.Job) error {
	err := s.s.Update(ctx, j)
	s.c.wrote(mJobWrite, err)
	return err
}

func (s *jobStore) Delete(ctx context.Context, id string) error {
	err := s.s.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

func (s *jobStore) List(ctx context.Context, p store.ListJobsParams) (*store.Page[store.Job], error) {
	return read(ctx, s.c, cJobs, key("List", p), cloneJobPage, func(ctx context.Context) (*store.Page[store.Job], error) {
		return s.s.List(ctx, p)
	})
}

// ListDue is not cached: the scheduler needs the deadlines as stored.
func (s *jobStore) ListDue(ctx context.Context, now time.Time, limit int) ([]store.Job, error) {
	return s.s.ListDue(ctx, now, limit)
}

func (s *jobStore) CountByState(ctx context.Context) (map[store.JobState]int, error) {
	return read(ctx, s.c, cJobs, "CountByState", cloneMap, s.s.CountByState)
}

type copyStore struct {
	s store.CopyStore
	c *cached
}

func (s *copyStore) Create(ctx context.Context, cp *store.Copy) error {
	err := s.s.Create(ctx, cp)
	s.c.wrote(mCopyWrite, err)
	return err
}

func (s *copyStore) Get(ctx context.Context, id string) (*store.Copy, error) {
	return read(ctx, s.c, cCopies, key("Get", id), cloneCopyPtr, func(ctx context.Context) (*store.Copy, error) {
		return s.s.Get(ctx, id)
	})
}

func (s *copyStore) Update(ctx context.Context, cp *store.Copy) error {
	err := s.s.Update(ctx, cp)
	s.c.wrote(mCopyWrite, err)
	return err
}

func (s *copyStore) Delete(ctx context.Context, id string) error {
	err := s.s.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

func (s *copyStore) ListByJob(ctx context.Context, jobID string) ([]store.Copy, error) {
	return read(ctx, s.c, cCopies, key("ListByJob", jobID), cloneCopies, func(ctx context.Context) ([]store.Copy, error) {
		return s.s.ListByJob(ctx, jobID)
	})
}

func (s *copyStore) ListByJobs(ctx context.Context, jobIDs []string) ([]store.Copy, error) {
	return read(ctx, s.c, cCopies, key("ListByJobs", jobIDs), cloneCopies, func(ctx context.Context) ([]store.Copy, error) {
		return s.s.ListByJobs(ctx, jobIDs)
	})
}

type assetStore struct {
	s store.AssetStore
	c *cached
}

func (s *assetStore) Create(ctx context.Context, a *store.Asset) error {
	err := s.s.Create(ctx, a)
	s.c.wrote(mAssetWrite, err)
	return err
}

func (s *assetStore) Get(ctx context.Context, id string) (*store.Asset, error) {
	return read(ctx, s.c, cAssets, key("Get", id), cloneAssetPtr, func(ctx context.Context) (*store.Asset, error) {
		return s.s.Get(ctx, id)
	})
}

func (s *assetStore) GetByName(ctx context.Context, name string) (*store.Asset, error) {
	return read(ctx, s.c, cAssets, key("GetByName", name), cloneAssetPtr, func(ctx context.Context) (*store.Asset, error) {
		return s.s.GetByName(ctx, name)
	})
}

func (s *assetStore) GetMany(ctx context.Context, ids []string) ([]store.Asset, error) {
	return read(ctx, s.c, cAssets, key("GetMany", ids), cloneAssets, func(ctx context.Context) ([]store.Asset, error) {
		return s.s.GetMany(ctx, ids)
	})
}

func (s *assetStore) Update(ctx context.Context, a *store.Asset) error {
	err := s.s.Update(ctx, a)
	s.c.wrote(mAssetWrite, err)
	return err
}

func (s *assetStore) Delete(ctx context.Context, id string) error {
	err := s.s.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

func (s *assetStore) List(ctx context.Context, p store.ListAssetsParams) (*store.Page[store.Asset], error) {
	return read(ctx, s.c, cAssets, key("List", p), cloneAssetPage, func(ctx context.Context) (*store.Page[store.Asset], error) {
		return s.s.List(ctx, p)
	})
}

type executionStore struct {
	s store.ExecutionStore
	c *cached
}

func (s *executionStore) Insert(ctx context.Context, e *store.Execution) (bool, error) {
	created, err := s.s.Insert(ctx, e)
	s.c.wrote(mExecWrite, err)
	return created, err
}

func (s *executionStore) InsertBatch(ctx context.Context, es []*store.Execution) ([]bool, error) {
	created, err := s.s.InsertBatch(ctx, es)
	s.c.wrote(mExecWrite, err)
	return created, err
}

func (s *executionStore) Get(ctx context.Context, id string) (*store.Execution, error) {
	return read(ctx, s.c, cExecutions, key("Get", id), cloneExecPtr, func(ctx context.Context) (*store.Execution, error) {
		return s.s.Get(ctx, id)
	})
}

// GetByRunID is not cached: ingest reads it to settle idempotency.
func (s *executionStore) GetByRunID(ctx context.Context, jobID, runID string) (*store.Execution, error) {
	return s.s.GetByRunID(ctx, jobID, runID)
}

func (s *executionStore) Finish(ctx context.Context, e *store.Execution) error {
	err := s.s.Finish(ctx, e)
	s.c.wrote(mExecWrite, err)
	return err
}

func (s *executionStore) List(ctx context.Context, p store.ListExecutionsParams) (*store.Page[store.Execution], error) {
	return read(ctx, s.c, cExecutions, key("List", p), cloneExecPage, func(ctx context.Context) (*store.Page[store.Execution], error) {
		return s.s.List(ctx, p)
	})
}

// CountByStatus is not cached: callers pass time ranges that move with the
// clock, so entries would rarely be hit again.
func (s *executionStore) CountByStatus(ctx context.Context, jobID string, r store.TimeRange) (map[store.ExecutionStatus]int64, error) {
	return s.s.CountByStatus(ctx, jobID, r)
}

// SumSizeBytes is not cached, as CountByStatus.
func (s *executionStore) SumSizeBytes(ctx context.Context, r store.TimeRange) (int64, error) {
	return s.s.SumSizeBytes(ctx, r)
}

func (s *executionStore) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := s.s.DeleteBefore(ctx, t)
	s.c.wrote(everything, err)
	return n, err
}

type testStore struct {
	s store.VerificationTestStore
	c *cached
}

func (s *testStore) Create(ctx context.Context, t *store.VerificationTest) error {
	err := s.s.Create(ctx, t)
	s.c.wrote(mVerifWrite, err)
	return err
}

func (s *testStore) Get(ctx context.Context, id string) (*store.VerificationTest, error) {
	return read(ctx, s.c, cVerification, key("test.Get", id), cloneTestPtr, func(ctx context.Context) (*store.VerificationTest, error) {
		return s.s.Get(ctx, id)
	})
}

func (s *testStore) Delete(ctx context.Context, id string) error {
	err := s.s.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

func (s *testStore) List(ctx context.Context, p store.ListVerificationTestsParams) (*store.Page[store.VerificationTest], error) {
	return read(ctx, s.c, cVerification, key("test.List", p), cloneTestPage, func(ctx context.Context) (*store.Page[store.VerificationTest], error) {
		return s.s.List(ctx, p)
	})
}

func (s *testStore) Latest(ctx context.Context, jobID string) (*store.VerificationTest, error) {
	return read(ctx, s.c, cVerification, key("test.Latest", jobID), cloneTestPtr, func(ctx context.Context) (*store.VerificationTest, error) {
		return s.s.Latest(ctx, jobID)
	})
}

func (s *testStore) LatestByJobs(ctx context.Context, jobIDs []string) ([]store.VerificationTest, error) {
	return read(ctx, s.c, cVerification, key("test.LatestByJobs", jobIDs), cloneTests, func(ctx context.Context) ([]store.VerificationTest, error) {
		return s.s.LatestByJobs(ctx, jobIDs)
	})
}

type scheduleStore struct {
	s store.VerificationScheduleStore
	c *cached
}

func (s *scheduleStore) Create(ctx context.Context, v *store.VerificationSchedule) error {
	err := s.s.Create(ctx, v)
	s.c.wrote(mVerifWrite, err)
	return err
}

func (s *scheduleStore) Get(ctx context.Context, id string) (*store.VerificationSchedule, error) {
	return read(ctx, s.c, cVerification, key("schedule.Get", id), cloneSchedPtr, func(ctx context.Context) (*store.VerificationSchedule, error) {
		return s.s.Get(ctx, id)
	})
}

func (s *scheduleStore) GetActiveByJob(ctx context.Context, jobID string) (*store.VerificationSchedule, error) {
	return read(ctx, s.c, cVerification, key("schedule.GetActiveByJob", jobID), cloneSchedPtr, func(ctx context.Context) (*store.VerificationSchedule, error) {
		return s.s.GetActiveByJob(ctx, jobID)
	})
}

func (s *scheduleStore) Update(ctx context.Context, v *store.VerificationSchedule) error {
	err := s.s.Update(ctx, v)
	s.c.wrote(mVerifWrite, err)
	return err
}

func (s *scheduleStore) Delete(ctx context.Context, id string) error {
	err := s.s.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

func (s *scheduleStore) List(ctx context.Context, p store.ListVerificationSchedulesParams) (*store.Page[store.VerificationSchedule], error) {
	return read(ctx, s.c, cVerification, key("schedule.List", p), cloneSchedPage, func(ctx context.Context) (*store.Page[store.VerificationSchedule], error) {
		return s.s.List(ctx, p)
	})
}

type mediaStore struct {
	s store.MediaStore
	c *cached
}

func (s *mediaStore) Create(ctx context.Context, m *store.Media) error {
	err := s.s.Create(ctx, m)
	s.c.wrote(mMediaWrite, err)
	return err
}

func (s *mediaStore) Get(ctx context.Context, id string) (*store.Media, error) {
	return read(ctx, s.c, cMedia, key("media.Get", id), cloneMediaPtr, func(ctx context.Context) (*store.Media, error) {
		return s.s.Get(ctx, id)
	})
}

func (s *mediaStore) GetByLabel(ctx context.Context, label string) (*store.Media, error) {
	return read(ctx, s.c, cMedia, key("media.GetByLabel", label), cloneMediaPtr, func(ctx context.Context) (*store.Media, error) {
		return s.s.GetByLabel(ctx, label)
	})
}

func (s *mediaStore) GetMany(ctx context.Context, ids []string) ([]store.Media, error) {
	return read(ctx, s.c, cMedia, key("media.GetMany", ids), cloneMediaMany, func(ctx context.Context) ([]store.Media, error) {
		return s.s.GetMany(ctx, ids)
	})
}

func (s *mediaStore) Update(ctx context.Context, m *store.Media) error {
	err := s.s.Update(ctx, m)
	s.c.wrote(mMediaWrite, err)
	return err
}

func (s *mediaStore) Delete(ctx context.Context, id string) error {
	err := s.s.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

func (s *mediaStore) List(ctx context.Context, p store.ListMediaParams) (*store.Page[store.Media], error) {
	return read(ctx, s.c, cMedia, key("media.List", p), cloneMediaPage, func(ctx context.Context) (*store.Page[store.Media], error) {
		return s.s.List(ctx, p)
	})
}

func (s *mediaStore) CountByStatus(ctx context.Context) (map[store.MediaStatus]int, error) {
	return read(ctx, s.c, cMedia, "media.CountByStatus", cloneMap, s.s.CountByStatus)
}

type mediaEventStore struct {
	s store.MediaEventStore
	c *cached
}

func (s *mediaEventStore) Create(ctx context.Context, e *store.MediaEvent) error {
	err := s.s.Create(ctx, e)
	s.c.wrote(mMediaWrite, err)
	return err
}

func (s *mediaEventStore) List(ctx context.Context, p store.ListMediaEventsParams) (*store.Page[store.MediaEvent], error) {
	return read(ctx, s.c, cMedia, key("event.List", p), cloneEventPage, func(ctx context.Context) (*store.Page[store.MediaEvent], error) {
		return s.s.List(ctx, p)
	})
}

type lendingStore struct {
	s store.LendingStore
	c *cached
}

func (s *lendingStore) Create(ctx context.Context, l *store.Lending) error {
	err := s.s.Create(ctx, l)
	s.c.wrote(mMediaWrite, err)
	return err
}

func (s *lendingStore) Get(ctx context.Context, id string) (*store.Lending, error) {
	return read(ctx, s.c, cMedia, key("lending.Get", id), cloneLendPtr, func(ctx context.Context) (*store.Lending, error) {
		return s.s.Get(ctx, id)
	})
}

func (s *lendingStore) GetOpenByMedia(ctx context.Context, mediaID string) (*store.Lending, error) {
	return read(ctx, s.c, cMedia, key("lending.GetOpenByMedia", mediaID), cloneLendPtr, func(ctx context.Context) (*store.Lending, error) {
		return s.s.GetOpenByMedia(ctx, mediaID)
	})
}

func (s *lendingStore) Update(ctx context.Context, l *store.Lending) error {
	err := s.s.Update(ctx, l)
	s.c.wrote(mMediaWrite, err)
	return err
}

func (s *lendingStore) List(ctx context.Context, p store.ListLendingsParams) (*store.Page[store.Lending], error) {
	return read(ctx, s.c, cMedia, key("lending.List", p), cloneLendPage, func(ctx context.Context) (*store.Page[store.Lending], error) {
		return s.s.List(ctx, p)
	})
}

type rotationPlanStore struct {
	s store.RotationPlanStore
	c *cached
}

func (s *rotationPlanStore) Create(ctx context.Context, p *store.RotationPlan) error {
	err := s.s.Create(ctx, p)
	s.c.wrote(mMediaWrite, err)
	return err
}

func (s *rotationPlanStore) Get(ctx context.Context, id string) (*store.RotationPlan, error) {
	return read(ctx, s.c, cMedia, key("plan.Get", id), clonePlanPtr, func(ctx context.Context) (*store.RotationPlan, error) {
		return s.s.Get(ctx, id)
	})
}

func (s *rotationPlanStore) Update(ctx context.Context, p *store.RotationPlan) error {
	err := s.s.Update(ctx, p)
	s.c.wrote(mMediaWrite, err)
	return err
}

func (s *rotationPlanStore) Delete(ctx context.Context, id string) error {
	err := s.s.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

func (s *rotationPlanStore) List(ctx context.Context, p store.ListRotationPlansParams) (*store.Page[store.RotationPlan], error) {
	return read(ctx, s.c, cMedia, key("plan.List", p), clonePlanPage, func(ctx context.Context) (*store.Page[store.RotationPlan], error) {
		return s.s.List(ctx, p)
	})
}

type complianceStore struct {
	s store.ComplianceStore
	c *cached
}

func (s *complianceStore) PutState(ctx context.Context, st *store.ComplianceState) error {
	err := s.s.PutState(ctx, st)
	s.c.wrote(mComplWrite, err)
	return err
}

func (s *complianceStore) GetState(ctx context.Context, t store.SubjectType, id string) (*store.ComplianceState, error) {
	return read(ctx, s.c, cCompliance, key("GetState", string(t), id), cloneStatePtr, func(ctx context.Context) (*store.ComplianceState, error) {
		return s.s.GetState(ctx, t, id)
	})
}

func (s *complianceStore) GetStates(ctx context.Context, t store.SubjectType, ids []string) ([]store.ComplianceState, error) {
	return read(ctx, s.c, cCompliance, key("GetStates", string(t), ids), cloneStates, func(ctx context.Context) ([]store.ComplianceState, error) {
		return s.s.GetStates(ctx, t, ids)
	})
}

func (s *complianceStore) DeleteState(ctx context.Context, t store.SubjectType, id string) error {
	err := s.s.DeleteState(ctx, t, id)
	s.c.wrote(everything, err)
	return err
}

func (s *complianceStore) ListStates(ctx context.Context, p store.ListComplianceStatesParams) (*store.Page[store.ComplianceState], error) {
	return read(ctx, s.c, cCompliance, key("ListStates", p), cloneStatePage, func(ctx context.Context) (*store.Page[store.ComplianceState], error) {
		return s.s.ListStates(ctx, p)
	})
}

func (s *complianceStore) CountByStatus(ctx context.Context, t store.SubjectType) (map[store.ComplianceStatus]int, error) {
	return read(ctx, s.c, cCompliance, key("CountByStatus", string(t)), cloneMap, func(ctx context.Context) (map[store.ComplianceStatus]int, error) {
		return s.s.CountByStatus(ctx, t)
	})
}

func (s *complianceStore) AddChange(ctx context.Context, ch *store.ComplianceChange) error {
	err := s.s.AddChange(ctx, ch)
	s.c.wrote(mComplWrite, err)
	return err
}

func (s *complianceStore) ListChanges(ctx context.Context, p store.ListComplianceChangesParams) (*store.Page[store.ComplianceChange], error) {
	return read(ctx, s.c, cCompliance, key("ListChanges", p), cloneChangePage, func(ctx context.Context) (*store.Page[store.ComplianceChange], error) {
		return s.s.ListChanges(ctx, p)
	})
}

type rollupStore struct {
	s store.RollupStore
	c *cached
}

func (s *rollupStore) Put(ctx context.Context, r *store.DailyRollup) error {
	err := s.s.Put(ctx, r)
	s.c.wrote(mRollupWrite, err)
	return err
}

func (s *rollupStore) Get(ctx context.Context, day store.Date) (*store.DailyRollup, error) {
	return read(ctx, s.c, cRollups, key("Get", day.String()), cloneRollupPtr, func(ctx context.Context) (*store.DailyRollup, error) {
		return s.s.Get(ctx, day)
	})
}

func (s *rollupStore) List(ctx context.Context, from, to store.Date) ([]store.DailyRollup, error) {
	return read(ctx, s.c, cRollups, key("List", from.String(), to.String()), cloneRollups, func(ctx context.Context) ([]store.DailyRollup, error) {
		return s.s.List(ctx, from, to)
	})
}

func (s *rollupStore) DeleteBefore(ctx context.Context, day store.Date) (int64, error) {
	n, err := s.s.DeleteBefore(ctx, day)
	s.c.wrote(everything, err)
	return n, err
}

type reportStore struct {
	s store.ReportStore
	c *cached
}

func (s *reportStore) Create(ctx context.Context, r *store.Report) error {
	err := s.s.Create(ctx, r)
	s.c.wrote(mReportWrite, err)
	return err
}

func (s *reportStore) Get(ctx context.Context, id string) (*store.Report, error) {
	return read(ctx, s.c, cReports, key("Get", id), cloneReportPtr, func(ctx context.Context) (*store.Report, error) {
		return s.s.Get(ctx, id)
	})
}

// GetContent is not cached: a report may be 15 MiB, and the capacity
// counts entries, not bytes.
func (s *reportStore) GetContent(ctx context.Context, id string) (*store.Report, error) {
	return s.s.GetContent(ctx, id)
}

func (s *reportStore) Delete(ctx context.Context, id string) error {
	err := s.s.Delete(ctx, id)
	s.c.wrote(everything, err)
	return err
}

func (s *reportStore) List(ctx context.Context, p store.ListReportsParams) (*store.Page[store.Report], error) {
	return read(ctx, s.c, cReports, key("List", p), cloneReportPage, func(ctx context.Context) (*store.Page[store.Report], error) {
		return s.s.List(ctx, p)
	})
}
