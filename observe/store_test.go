package observe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/observe"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

var storeNow = time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)

func newJob(name string, mod ...func(*store.Job)) *store.Job {
	j := &store.Job{
		Name:      name,
		JobType:   store.JobTypeDatabase,
		Tool:      store.ToolRestic,
		Schedule:  store.Schedule{Kind: store.ScheduleInterval, Interval: 24 * time.Hour},
		Active:    true,
		PingToken: "tok" + strings.ReplaceAll(store.NewID(), "-", ""),
		State:     store.JobStateUp,
	}
	for _, m := range mod {
		m(j)
	}
	return j
}

func newExecution(jobID, runID string, status store.ExecutionStatus, started time.Time) *store.Execution {
	e := &store.Execution{JobID: jobID, RunID: runID, Status: status, StartedAt: started, Source: store.SourceAPI}
	if status != store.ExecutionRunning {
		fin := started.Add(10 * time.Minute)
		e.FinishedAt = &fin
	}
	return e
}

// storeFixture fills s with jobs, runs, compliance states, alerts and
// notifications whose gauges storeWant lists.
func storeFixture(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	at := func(d time.Duration) *time.Time { v := storeNow.Add(-d); return &v }
	jobs := map[string]*store.Job{}
	for _, j := range []*store.Job{
		newJob("alpha", func(j *store.Job) { j.LastSuccessAt = at(2 * time.Hour) }),
		newJob("bravo", func(j *store.Job) { j.State = store.JobStateFailed; j.LastSuccessAt = at(72 * time.Hour) }),
		newJob("charlie", func(j *store.Job) { j.Paused = true; j.State = store.JobStatePaused; j.LastSuccessAt = at(time.Hour) }),
		newJob("delta", func(j *store.Job) { j.Active = false; j.LastSuccessAt = at(time.Hour) }),
		newJob("echo", func(j *store.Job) { j.State = store.JobStateRunning }),
		newJob("foxtrot", func(j *store.Job) { j.State = store.JobStateNew }),
		newJob("golf", func(j *store.Job) { j.State = store.JobStateLate }),
	} {
		require.NoError(t, s.Jobs().Create(ctx, j))
		jobs[j.Name] = j
	}
	alpha, bravo := jobs["alpha"].ID, jobs["bravo"].ID
	for i, e := range []*store.Execution{
		newExecution(alpha, "", store.ExecutionSuccess, storeNow.Add(-2*time.Hour)),
		newExecution(alpha, "", store.ExecutionWarning, storeNow.Add(-5*time.Hour)),
		newExecution(alpha, "", store.ExecutionCanceled, storeNow.Add(-time.Hour)),
		newExecution(bravo, "", store.ExecutionFailed, storeNow.Add(-6*time.Hour)),
		newExecution(bravo, "", store.ExecutionFailed, storeNow.Add(-72*time.Hour)),
		newExecution(alpha, "", store.ExecutionMissed, storeNow.Add(-10*24*time.Hour)),
		newExecution(alpha, "", store.ExecutionSuccess, storeNow.Add(-20*24*time.Hour)),
		newExecution(alpha, "", store.ExecutionSuccess, storeNow.Add(-25*24*time.Hour)),
		newExecution(alpha, "", store.ExecutionSuccess, storeNow.Add(-40*24*time.Hour)),
		newExecution(jobs["echo"].ID, "", store.ExecutionRunning, storeNow.Add(-time.Minute)),
	} {
		e.RunID = fmt.Sprintf("run-%d", i)
		_, err := s.Executions().Insert(ctx, e)
		require.NoError(t, err)
	}
	for _, st := range []*store.ComplianceState{
		{SubjectID: alpha, Status: store.ComplianceCompliant, Score: 100},
		{SubjectID: bravo, Status: store.ComplianceNonCompliant, Score: 40, Reasons: []store.ComplianceReason{
			{Rule: "3copies", Severity: "error", Message: "1 fresh backup copy, policy requires 2"},
			{Rule: "1offsite", Severity: "warning", Message: "no offsite copy"},
		}},
		{SubjectID: jobs["echo"].ID, Status: store.ComplianceWarning, Score: 85, Reasons: []store.ComplianceReason{
			{Rule: "0errors", Severity: "warning", Message: "restore test due soon"},
		}},
		{SubjectID: jobs["foxtrot"].ID, Status: store.ComplianceUnknown},
	} {
		st.SubjectType = store.SubjectJob
		st.EvaluatedAt = storeNow
		st.ChangedAt = storeNow
		require.NoError(t, s.Compliance().PutState(ctx, st))
	}
	resolved := storeNow
	for i, a := range []*store.Alert{
		{Severity: store.SeverityCritical, State: store.AlertOpen},
		{Severity: store.SeverityCritical, State: store.AlertOpen},
		{Severity: store.SeverityWarning, State: store.AlertOpen},
		{Severity: store.SeverityCritical, State: store.AlertAcknowledged},
		{Severity: store.SeverityError, State: store.AlertResolved, ResolvedAt: &resolved},
	} {
		a.Type, a.DedupeKey, a.Title = store.AlertBackupFailed, fmt.Sprintf("k%d", i), "Backup failed"
		a.Occurrences, a.FirstSeenAt, a.LastSeenAt = 1, storeNow, storeNow
		require.NoError(t, s.Alerts().Create(ctx, a))
	}
	ch := &store.Channel{Kind: store.ChannelWebhook, Name: "hook", Settings: json.RawMessage(`{}`),
		MinSeverity: store.SeverityWarning, Active: true}
	require.NoError(t, s.Channels().Create(ctx, ch))
	for _, st := range []store.NotificationState{store.NotificationPending, store.NotificationPending,
		store.NotificationFailed, store.NotificationDead, store.NotificationSent} {
		n := &store.Notification{ChannelID: ch.ID, Payload: json.RawMessage(`{}`), State: st, NextAttemptAt: storeNow}
		require.NoError(t, s.Notifications().Create(ctx, n))
	}
}

func storeWant() string {
	ts := func(d time.Duration) int64 { return storeNow.Add(-d).Unix() }
	return fmt.Sprintf(`
# HELP custos_active_jobs Backup jobs with a run in progress.
# TYPE custos_active_jobs gauge
custos_active_jobs 1
# HELP custos_alerts_unacknowledged Open alerts nobody has acknowledged, by severity.
# TYPE custos_alerts_unacknowledged gauge
custos_alerts_unacknowledged{severity="critical"} 2
custos_alerts_unacknowledged{severity="error"} 0
custos_alerts_unacknowledged{severity="info"} 0
custos_alerts_unacknowledged{severity="warning"} 1
# HELP custos_backup_job_up 1 when an active, unpaused job is healthy; 0 when it is failed, late or missed.
# TYPE custos_backup_job_up gauge
custos_backup_job_up{job="alpha"} 1
custos_backup_job_up{job="bravo"} 0
custos_backup_job_up{job="echo"} 1
custos_backup_job_up{job="foxtrot"} 1
custos_backup_job_up{job="golf"} 0
# HELP custos_backup_jobs Backup jobs by status: active, paused or inactive.
# TYPE custos_backup_jobs gauge
custos_backup_jobs{status="active"} 5
custos_backup_jobs{status="inactive"} 1
custos_backup_jobs{status="paused"} 1
# HELP custos_backup_last_success_timestamp_seconds When each active job's last successful run happened, as a Unix time.
# TYPE custos_backup_last_success_timestamp_seconds gauge
custos_backup_last_success_timestamp_seconds{job="alpha"} %d
custos_backup_last_success_timestamp_seconds{job="bravo"} %d
custos_backup_last_success_timestamp_seconds{job="charlie"} %d
# HELP custos_backup_success_rate Successful over finished runs started in the period (daily 24 h, weekly 7 d, monthly 30 d).
# TYPE custos_backup_success_rate gauge
custos_backup_success_rate{period="daily"} %v
custos_backup_success_rate{period="monthly"} %v
custos_backup_success_rate{period="weekly"} 0.5
# HELP custos_compliance_rate Compliant jobs over evaluated jobs.
# TYPE custos_compliance_rate gauge
custos_compliance_rate %v
# HELP custos_compliance_status 1 when a job's latest evaluation meets a 3-2-1-1-0 rule, 0 when it fails it as required.
# TYPE custos_compliance_status gauge
custos_compliance_status{job="alpha",rule="0errors"} 1
custos_compliance_status{job="alpha",rule="1offline"} 1
custos_compliance_status{job="alpha",rule="1offsite"} 1
custos_compliance_status{job="alpha",rule="2media"} 1
custos_compliance_status{job="alpha",rule="3copies"} 1
custos_compliance_status{job="bravo",rule="0errors"} 1
custos_compliance_status{job="bravo",rule="1offline"} 1
custos_compliance_status{job="bravo",rule="1offsite"} 1
custos_compliance_status{job="bravo",rule="2media"} 1
custos_compliance_status{job="bravo",rule="3copies"} 0
custos_compliance_status{job="echo",rule="0errors"} 1
custos_compliance_status{job="echo",rule="1offline"} 1
custos_compliance_status{job="echo",rule="1offsite"} 1
custos_compliance_status{job="echo",rule="2media"} 1
custos_compliance_status{job="echo",rule="3copies"} 1
# HELP custos_queued_notifications Notifications waiting to be sent (pending or failed, not dead).
# TYPE custos_queued_notifications gauge
custos_queued_notifications 3
# HELP custos_scrape_errors_total Scrapes whose store read failed or timed out; the gauges then export what was read.
# TYPE custos_scrape_errors_total counter
custos_scrape_errors_total 0
`, ts(2*time.Hour), ts(72*time.Hour), ts(time.Hour), 2.0/3, 4.0/7, 1.0/3)
}

var storeMetricNames = []string{
	"custos_active_jobs", "custos_alerts_unacknowledged", "custos_backup_job_up", "custos_backup_jobs",
	"custos_backup_last_success_timestamp_seconds", "custos_backup_success_rate", "custos_compliance_rate",
	"custos_compliance_status", "custos_queued_notifications", "custos_scrape_errors_total",
}

// plainStore hides the optional capabilities of a store.
type plainStore struct{ store.Store }

// failingNotifications fails CountByState.
type failingStore struct{ store.Store }

func (s failingStore) Notifications() store.NotificationStore {
	return failingNotifications{s.Store.Notifications()}
}

type failingNotifications struct{ store.NotificationStore }

func (failingNotifications) CountByState(context.Context) (map[store.NotificationState]int, error) {
	return nil, errors.New("boom")
}

func TestObserveStore(t *testing.T) {
	t.Parallel()
	opts := &observe.StoreOptions{NowFunc: func() time.Time { return storeNow }}

	t.Run("ExportsTheDomainGauges", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		s := bunstoretest.New(t, dbopen.SQLite, nil)
		storeFixture(t, s)
		require.NoError(t, b.m.ObserveStore(s, opts))
		require.NoError(t, testutil.GatherAndCompare(b.reg, strings.NewReader(storeWant()), storeMetricNames...))
	})

	t.Run("FallsBackWithoutDashboardCounts", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		s := bunstoretest.New(t, dbopen.SQLite, nil)
		storeFixture(t, s)
		var _ store.DashboardCounter = s
		_, ok := store.Store(plainStore{s}).(store.DashboardCounter)
		require.False(t, ok)
		require.NoError(t, b.m.ObserveStore(plainStore{s}, opts))
		require.NoError(t, testutil.GatherAndCompare(b.reg, strings.NewReader(storeWant()), storeMetricNames...))
	})

	t.Run("ReadsOnceForScrapesWithinMaxAge", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		var qc bunstore.QueryCounter
		s := bunstoretest.New(t, dbopen.SQLite, nil)
		storeFixture(t, s)
		require.NoError(t, b.m.ObserveStore(s.WithQueryHook(&qc), &observe.StoreOptions{MaxAge: time.Hour}))
		_, err := b.reg.Gather()
		require.NoError(t, err)
		first := qc.Count()
		require.Positive(t, first)
		require.LessOrEqual(t, first, int64(10), "a bounded number of statements, not one per job")
		_, err = b.reg.Gather()
		require.NoError(t, err)
		require.Equal(t, first, qc.Count())
	})

	t.Run("ParallelScrapesShareOneRead", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		var qc bunstore.QueryCounter
		s := bunstoretest.New(t, dbopen.SQLite, nil)
		storeFixture(t, s)
		require.NoError(t, b.m.ObserveStore(s.WithQueryHook(&qc), &observe.StoreOptions{MaxAge: time.Hour}))
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				_, err := b.reg.Gather()
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		parallel := qc.Count()
		qc.Reset()

		single := setup(t, nil)
		require.NoError(t, single.m.ObserveStore(s.WithQueryHook(&qc), nil))
		_, err := single.reg.Gather()
		require.NoError(t, err)
		require.Equal(t, qc.Count(), parallel)
	})

	t.Run("PagesThroughManyJobs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		s := bunstoretest.New(t, dbopen.SQLite, nil)
		n := store.LimitMax + 5
		for i := range n {
			require.NoError(t, s.Jobs().Create(context.Background(), newJob(fmt.Sprintf("job-%03d", i))))
		}
		require.NoError(t, b.m.ObserveStore(s, opts))
		require.Equal(t, n, testutil.CollectAndCount(b.reg, "custos_backup_job_up"))
		require.Contains(t, b.gather(t, "custos_backup_jobs"), "status=active")
	})

	t.Run("CountsAFailedReadAndExportsTheRest", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		s := bunstoretest.New(t, dbopen.SQLite, nil)
		storeFixture(t, s)
		var logs strings.Builder
		require.NoError(t, b.m.ObserveStore(failingStore{s}, &observe.StoreOptions{
			NowFunc: opts.NowFunc, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		}))
		require.Equal(t, 0, testutil.CollectAndCount(b.reg, "custos_queued_notifications"))
		require.Equal(t, 5, testutil.CollectAndCount(b.reg, "custos_backup_job_up"))
		require.Equal(t, 1.0, gaugeOrCounter(t, b, "custos_scrape_errors_total"))
		require.Contains(t, logs.String(), "count notifications: boom")
	})
}

// gaugeOrCounter returns the value of the one series named name.
func gaugeOrCounter(t *testing.T, b *testBundle, name string) float64 {
	t.Helper()
	mfs, err := b.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
