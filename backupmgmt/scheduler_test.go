package backupmgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func (b *testBundle) schedTick(t *testing.T) int {
	t.Helper()
	n, err := b.svc.Scheduler().TickMissed(t.Context())
	require.NoError(t, err)
	return n
}

func (b *testBundle) jobsGet(t *testing.T, id string) *store.Job {
	t.Helper()
	j, err := b.store.Jobs().Get(t.Context(), id)
	require.NoError(t, err)
	return j
}

// schedMissedStarts returns the expected starts of a job's missed executions,
// oldest first, after checking what every one of them says.
func (b *testBundle) schedMissedStarts(t *testing.T, jobID string) []time.Time {
	t.Helper()
	es := b.jobsExecutions(t, jobID)
	out := make([]time.Time, 0, len(es))
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		require.Equal(t, store.ExecutionMissed, e.Status)
		require.Equal(t, store.SourceScheduler, e.Source)
		require.Equal(t, "missed-"+e.StartedAt.Format(time.RFC3339), e.RunID)
		out = append(out, e.StartedAt)
	}
	return out
}

func (b *testBundle) schedMissedAlert(t *testing.T, jobID string) *store.Alert {
	t.Helper()
	a, err := b.store.Alerts().GetUnresolved(t.Context(), AlertKey(store.AlertBackupMissed, jobSubject(jobID)))
	require.NoError(t, err)
	return a
}

func schedDate(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

func TestSchedulerTickMissed(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("RecordsTheMissRaisesTheAlertAndAdvances", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			// Created Monday 09:00; nightly at 02:00 UTC with an hour of grace.
			job := b.jobFixture(t, "nightly", nil)
			later := b.jobFixture(t, "later", func(j *store.Job) { j.Schedule.Cron = "0 4 * * *" })
			require.Equal(t, schedDate(2026, 11, 3, 3, 0), *job.NextDueAt)
			laterBefore := b.jobsGet(t, later.ID)

			b.clock.Set(schedDate(2026, 11, 3, 2, 59))
			require.Zero(t, b.schedTick(t), "grace has not run out")

			b.clock.Set(schedDate(2026, 11, 3, 3, 30))
			require.Equal(t, 1, b.schedTick(t))
			require.Equal(t, []time.Time{schedDate(2026, 11, 3, 2, 0)}, b.schedMissedStarts(t, job.ID))
			e := b.jobsExecutions(t, job.ID)[0]
			require.Equal(t, schedDate(2026, 11, 3, 3, 0), *e.FinishedAt)
			got := b.jobsGet(t, job.ID)
			require.Equal(t, store.JobStateMissed, got.State)
			require.Equal(t, store.ExecutionMissed, got.LastResult)
			require.Equal(t, 1, got.ConsecutiveFailures)
			require.Equal(t, schedDate(2026, 11, 4, 3, 0), *got.NextDueAt)
			alert := b.schedMissedAlert(t, job.ID)
			require.Equal(t, store.SeverityError, alert.Severity)
			require.Equal(t, 1, alert.Occurrences)
			require.Equal(t, job.ID, *alert.JobID)
			require.Contains(t, alert.Title, "`nightly`")
			require.Contains(t, alert.Title, "2026-11-03T02:00:00Z")
			// The job not yet due is untouched, to the row.
			require.Equal(t, laterBefore, b.jobsGet(t, later.ID))
			require.Empty(t, b.jobsExecutions(t, later.ID))

			// A second tick at the same time finds nothing to do.
			require.Zero(t, b.schedTick(t))
			require.Len(t, b.jobsExecutions(t, job.ID), 1)
			require.Equal(t, 1, b.schedMissedAlert(t, job.ID).Occurrences)
			require.Equal(t, got, b.jobsGet(t, job.ID))

			// The next night is missed too: the same alert counts it.
			b.clock.Set(schedDate(2026, 11, 4, 3, 30))
			require.Equal(t, 2, b.schedTick(t), "this one, and the later job's 05:00 deadline of the 3rd")
			again := b.schedMissedAlert(t, job.ID)
			require.Equal(t, alert.ID, again.ID)
			require.Equal(t, 2, again.Occurrences)
			require.Contains(t, again.Title, "2026-11-04T02:00:00Z")
			require.Equal(t, 2, b.jobsGet(t, job.ID).ConsecutiveFailures)
			require.Equal(t, []time.Time{schedDate(2026, 11, 3, 4, 0)}, b.schedMissedStarts(t, later.ID))

			require.Empty(t, b.auditActions(t), "missed runs are system records, not audited")
		})

		t.Run("RecordsEveryDeadlineMissedWhileDown", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			job := b.jobFixture(t, "nightly", nil)
			b.clock.Set(schedDate(2026, 11, 5, 3, 30)) // down Tuesday to Thursday
			require.Equal(t, 3, b.schedTick(t))
			require.Equal(t, []time.Time{
				schedDate(2026, 11, 3, 2, 0), schedDate(2026, 11, 4, 2, 0), schedDate(2026, 11, 5, 2, 0),
			}, b.schedMissedStarts(t, job.ID))
			got := b.jobsGet(t, job.ID)
			require.Equal(t, 3, got.ConsecutiveFailures)
			require.Equal(t, schedDate(2026, 11, 6, 3, 0), *got.NextDueAt)
			require.Equal(t, 3, b.schedMissedAlert(t, job.ID).Occurrences)
		})

		t.Run("RecordsAtMostTenThenWaitsForTheNextDeadline", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			job := b.jobFixture(t, "nightly", nil)
			b.clock.Set(schedDate(2026, 12, 2, 9, 0)) // a month later
			require.Equal(t, SchedulerMaxMissesPerTick, b.schedTick(t))
			starts := b.schedMissedStarts(t, job.ID)
			require.Len(t, starts, 10)
			require.Equal(t, schedDate(2026, 11, 3, 2, 0), starts[0])
			require.Equal(t, schedDate(2026, 11, 12, 2, 0), starts[9])
			got := b.jobsGet(t, job.ID)
			require.Equal(t, schedDate(2026, 12, 3, 3, 0), *got.NextDueAt)
			require.Equal(t, 10, got.ConsecutiveFailures)
			require.Zero(t, b.schedTick(t))
		})

		t.Run("NeverMissesManualOrInactiveJobs", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			manual := b.jobFixture(t, "manual", func(j *store.Job) { j.Schedule = store.Schedule{Kind: store.ScheduleManual} })
			require.Nil(t, manual.NextDueAt)
			inactive := b.jobFixture(t, "inactive", func(j *store.Job) { j.Active = false })
			// A manual job given a deadline by hand is not missed either.
			stray := b.jobFixture(t, "stray", func(j *store.Job) { j.Schedule = store.Schedule{Kind: store.ScheduleManual} })
			stray.NextDueAt = jobsPtr(schedDate(2026, 11, 2, 10, 0))
			require.NoError(t, b.store.Jobs().Update(t.Context(), stray))

			b.clock.Advance(7 * 24 * time.Hour)
			require.Zero(t, b.schedTick(t))
			for _, id := range []string{manual.ID, inactive.ID, stray.ID} {
				require.Empty(t, b.jobsExecutions(t, id))
			}
			require.Nil(t, b.jobsGet(t, stray.ID).NextDueAt)
			require.Equal(t, store.JobStateNew, b.jobsGet(t, inactive.ID).State)
		})

		t.Run("HandlesIntervalJobs", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			job := b.jobFixture(t, "six-hourly", func(j *store.Job) {
				j.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: 6 * time.Hour}
				j.Grace = 10 * time.Minute
			})
			require.Equal(t, schedDate(2026, 11, 2, 15, 10), *job.NextDueAt)
			b.clock.Set(schedDate(2026, 11, 2, 21, 30))
			require.Equal(t, 2, b.schedTick(t))
			require.Equal(t, []time.Time{schedDate(2026, 11, 2, 15, 0), schedDate(2026, 11, 2, 21, 0)}, b.schedMissedStarts(t, job.ID))
			require.Equal(t, schedDate(2026, 11, 3, 3, 10), *b.jobsGet(t, job.ID).NextDueAt)
		})

		t.Run("FollowsNewYorkAcrossSpringForward", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			// Clocks in New York jump from 02:00 EST to 03:00 EDT on Sunday
			// 14 March 2027: that day 02:30 does not exist and the run is
			// expected at 03:00 EDT.
			b.clock.Set(schedDate(2027, 3, 12, 12, 0))
			job := b.jobFixture(t, "ny", func(j *store.Job) {
				j.Schedule = store.Schedule{Kind: store.ScheduleCron, Cron: "30 2 * * *", Timezone: "America/New_York"}
				j.Grace = 15 * time.Minute
			})
			require.Equal(t, schedDate(2027, 3, 13, 7, 45), *job.NextDueAt)
			b.clock.Set(schedDate(2027, 3, 15, 12, 0))
			require.Equal(t, 3, b.schedTick(t))
			require.Equal(t, []time.Time{
				schedDate(2027, 3, 13, 7, 30), // 02:30 EST
				schedDate(2027, 3, 14, 7, 0),  // 03:00 EDT, after the jump
				schedDate(2027, 3, 15, 6, 30), // 02:30 EDT
			}, b.schedMissedStarts(t, job.ID))
			require.Equal(t, schedDate(2027, 3, 16, 6, 45), *b.jobsGet(t, job.ID).NextDueAt)
		})

		t.Run("LeavesAJobThatRanMeanwhile", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			job := b.jobFixture(t, "ran", nil)
			b.clock.Set(schedDate(2026, 11, 3, 3, 30))
			// The job reported in between the due listing and the tick's
			// re-read: its deadline moved on.
			job.NextDueAt = jobsPtr(schedDate(2026, 11, 4, 3, 0))
			require.NoError(t, b.store.Jobs().Update(t.Context(), job))
			n, err := b.svc.Scheduler().miss(t.Context(), []string{job.ID}, b.svc.Now())
			require.NoError(t, err)
			require.Zero(t, n)
			require.Empty(t, b.jobsExecutions(t, job.ID))
		})
	})
}

func TestSchedulerConcurrentTicks(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		const jobs = 20
		ids := make([]string, jobs)
		for i := range ids {
			ids[i] = b.jobFixture(t, "job-"+string(rune('a'+i)), nil).ID
		}
		b.clock.Set(schedDate(2026, 11, 3, 3, 30))
		var (
			wg    sync.WaitGroup
			total [2]int
			errs  [2]error
		)
		for g := range 2 {
			wg.Go(func() {
				total[g], errs[g] = b.svc.Scheduler().TickMissed(t.Context())
			})
		}
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.Equal(t, jobs, total[0]+total[1])
		for _, id := range ids {
			require.Len(t, b.jobsExecutions(t, id), 1)
			require.Equal(t, 1, b.schedMissedAlert(t, id).Occurrences)
			require.Equal(t, 1, b.jobsGet(t, id).ConsecutiveFailures)
		}
	})
}

func TestSchedulerTickStuck(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		limited := b.jobFixture(t, "limited", func(j *store.Job) { j.MaxRuntime = time.Hour })
		unlimited := b.jobFixture(t, "unlimited", nil)
		finished := b.jobFixture(t, "finished", func(j *store.Job) { j.MaxRuntime = time.Hour })
		start := func(jobID, runID string) {
			t.Helper()
			_, err := b.store.Executions().Insert(ctx, &store.Execution{
				JobID: jobID, RunID: runID, Status: store.ExecutionRunning, StartedAt: b.svc.Now(), Source: store.SourcePing,
			})
			require.NoError(t, err)
		}
		start(limited.ID, "r1")
		start(unlimited.ID, "r1")
		done := b.svc.Now().Add(2 * time.Hour)
		_, err := b.store.Executions().Insert(ctx, &store.Execution{
			JobID: finished.ID, RunID: "r1", Status: store.ExecutionSuccess, StartedAt: b.svc.Now(), FinishedAt: &done, Source: store.SourceAPI,
		})
		require.NoError(t, err)
		stuck := func() int {
			t.Helper()
			n, err := b.svc.Scheduler().TickStuck(ctx)
			require.NoError(t, err)
			return n
		}

		b.clock.Advance(time.Hour)
		require.Zero(t, stuck(), "exactly max_runtime is not over it")
		b.clock.Advance(time.Minute)
		require.Equal(t, 1, stuck())
		a, err := b.store.Alerts().GetUnresolved(ctx, AlertKey(store.AlertBackupStuck, jobSubject(limited.ID)))
		require.NoError(t, err)
		require.Equal(t, store.SeverityWarning, a.Severity)
		require.Equal(t, limited.ID, *a.JobID)
		require.Equal(t, 1, a.Occurrences)
		require.Contains(t, a.Title, "`limited`")
		for _, id := range []string{unlimited.ID, finished.ID} {
			_, err := b.store.Alerts().GetUnresolved(ctx, AlertKey(store.AlertBackupStuck, jobSubject(id)))
			require.ErrorIs(t, err, store.ErrNotFound)
		}

		// The same stuck run is counted once, however often the tick runs.
		b.clock.Advance(10 * time.Minute)
		require.Zero(t, stuck())

		// Another run of the job that gets stuck is another occurrence.
		start(limited.ID, "r2")
		b.clock.Advance(time.Hour + time.Minute)
		require.Equal(t, 1, stuck())
		a, err = b.store.Alerts().GetUnresolved(ctx, AlertKey(store.AlertBackupStuck, jobSubject(limited.ID)))
		require.NoError(t, err)
		require.Equal(t, 2, a.Occurrences)
	})
}

func TestSchedulerSkipsAJobItCannotHandle(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		good := b.jobFixture(t, "good", nil)
		bad := b.jobFixture(t, "bad", nil)
		// Written past the service's validation: the store checks only shape.
		bad.Schedule.Cron = "61 * * * *"
		require.NoError(t, b.store.Jobs().Update(t.Context(), bad))

		b.clock.Set(schedDate(2026, 11, 3, 3, 30))
		n, err := b.svc.Scheduler().TickMissed(t.Context())
		require.Error(t, err)
		require.Contains(t, err.Error(), bad.ID)
		require.Equal(t, 1, n)
		require.Len(t, b.jobsExecutions(t, good.ID), 1)
		require.Empty(t, b.jobsExecutions(t, bad.ID))
		require.Equal(t, schedDate(2026, 11, 4, 3, 0), *b.jobsGet(t, good.ID).NextDueAt)

		// The bad job stays due and keeps failing alone.
		n, err = b.svc.Scheduler().TickMissed(t.Context())
		require.Error(t, err)
		require.Zero(t, n)
	})
}

// TestSchedulerTickCostFollowsTheDueJobs counts the statements of a tick
// over a small and a larger fleet with the same due jobs: the same.
func TestSchedulerTickCostFollowsTheDueJobs(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		count := func(notDue int) int64 {
			b := setup(t, kind, nil)
			for i := range 3 {
				b.jobFixture(t, "due-"+string(rune('a'+i)), nil)
			}
			for i := range notDue {
				b.jobFixture(t, "later-"+strconv.Itoa(i), func(j *store.Job) { j.Schedule.Cron = "0 4 * * *" })
			}
			counter := &bunstore.QueryCounter{}
			svc, err := New(b.store.WithQueryHook(counter), &Config{Now: b.clock.Now})
			require.NoError(t, err)
			b.clock.Set(schedDate(2026, 11, 3, 3, 30))
			n, err := svc.Scheduler().TickMissed(t.Context())
			require.NoError(t, err)
			require.Equal(t, 3, n)
			return counter.Count()
		}
		small, large := count(5), count(200)
		t.Logf("statements per tick with 3 due jobs: %d", small)
		require.Equal(t, small, large)
		// With the store's batch capabilities, whatever the due jobs of a
		// chunk: the due listing, the locked read of the jobs, one batch
		// insert of the runs (on MySQL with a read-back of the stored
		// ones), the lookup of their alerts, one insert of the new ones, the
		// channels, and one update of the jobs. (It was 3+3*6, per job.)
		require.LessOrEqual(t, small, int64(7+1))
	})
}

// perRowRepos hides the optional batch capabilities of store/tick.go, so
// the service takes its per-row path.
type perRowRepos struct{ store.Repos }

func (r perRowRepos) Jobs() store.JobStore { return struct{ store.JobStore }{r.Repos.Jobs()} }
func (r perRowRepos) Alerts() store.AlertStore {
	return struct{ store.AlertStore }{r.Repos.Alerts()}
}
func (r perRowRepos) Notifications() store.NotificationStore {
	return struct{ store.NotificationStore }{r.Repos.Notifications()}
}
func (r perRowRepos) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	return r.Repos.InTx(ctx, func(ctx context.Context, tx store.Repos) error { return fn(ctx, perRowRepos{tx}) })
}

// perRowStore is a store.Store without the batch capabilities.
type perRowStore struct{ store.Store }

func (s perRowStore) Jobs() store.JobStore     { return perRowRepos{s.Store}.Jobs() }
func (s perRowStore) Alerts() store.AlertStore { return perRowRepos{s.Store}.Alerts() }
func (s perRowStore) Notifications() store.NotificationStore {
	return perRowRepos{s.Store}.Notifications()
}
func (s perRowStore) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	return perRowRepos{s.Store}.InTx(ctx, fn)
}

// TestSchedulerBatchesAsThePerRowPath ticks the same fleet twice, once
// through the store's batch capabilities and once without them, and
// requires the same rows, IDs included: jobs, missed runs, alerts opened,
// repeated and escalated, and their outbox rows.
func TestSchedulerBatchesAsThePerRowPath(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		tick := func(perRow bool) (*testBundle, []string) {
			b := setup(t, kind, nil)
			seq := 0
			newID := func() string { seq++; return fmt.Sprintf("id-%04d", seq) }
			var s store.Store = b.store
			if perRow {
				s = perRowStore{b.store}
			}
			svc, err := New(s, &Config{Now: b.clock.Now, NewID: newID})
			require.NoError(t, err)
			ctx := t.Context()
			for _, min := range []store.Severity{store.SeverityWarning, store.SeverityError, store.SeverityCritical} {
				require.NoError(t, b.store.Channels().Create(ctx, &store.Channel{
					ID: "ch-" + string(min), Kind: store.ChannelWebhook, Name: string(min), MinSeverity: min, Active: true,
					Settings: json.RawMessage(`{"url":"https://example.invalid/hook"}`),
				}))
			}
			var ids []string
			job := func(name string, mod func(j *store.Job)) *store.Job {
				j := b.jobFixture(t, name, func(j *store.Job) {
					j.ID = "job-" + name
					if mod != nil {
						mod(j)
					}
				})
				ids = append(ids, j.ID)
				return j
			}
			job("once", nil)
			job("twice", nil)
			job("down", nil)
			job("hourly", func(j *store.Job) { j.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour} })
			job("paused", func(j *store.Job) { j.Paused = true })
			job("later", func(j *store.Job) { j.Schedule.Cron = "0 23 * * *" })
			escalated := job("escalated", nil)
			repeated := job("repeated", nil)
			for _, pre := range []struct {
				j   *store.Job
				sev store.Severity
			}{{escalated, store.SeverityWarning}, {repeated, store.SeverityCritical}} {
				id := pre.j.ID
				require.NoError(t, b.store.Alerts().Create(ctx, &store.Alert{
					ID: "alert-" + id, Type: store.AlertBackupMissed, Severity: pre.sev, JobID: &id,
					DedupeKey: AlertKey(store.AlertBackupMissed, jobSubject(id)), Title: "before", Message: "before",
					State: store.AlertAcknowledged, Occurrences: 4, FirstSeenAt: testStart, LastSeenAt: testStart,
				}))
			}
			b.clock.Set(schedDate(2026, 11, 3, 3, 30))
			n, err := svc.Scheduler().TickMissed(ctx)
			require.NoError(t, err)
			require.Positive(t, n)
			b.clock.Set(schedDate(2026, 11, 6, 12, 0))
			_, err = svc.Scheduler().TickMissed(ctx)
			require.NoError(t, err)
			return b, ids
		}
		batch, ids := tick(false)
		perRow, _ := tick(true)
		ctx := t.Context()
		for _, id := range ids {
			require.Equal(t, perRow.jobsGet(t, id), batch.jobsGet(t, id), id)
			require.Equal(t, perRow.jobsExecutions(t, id), batch.jobsExecutions(t, id), id)
		}
		alerts := func(b *testBundle) []store.Alert {
			page, err := b.store.Alerts().List(ctx, store.ListAlertsParams{PageParams: store.PageParams{Limit: store.LimitMax}})
			require.NoError(t, err)
			return page.Items
		}
		require.Equal(t, alerts(perRow), alerts(batch))
		outbox := func(b *testBundle) []store.Notification {
			page, err := b.store.Notifications().List(ctx, store.ListNotificationsParams{PageParams: store.PageParams{Limit: store.LimitMax}})
			require.NoError(t, err)
			return page.Items
		}
		want := outbox(perRow)
		require.NotEmpty(t, want)
		require.Equal(t, want, outbox(batch))
		events := map[AlertEvent]int{}
		for _, n := range want {
			var notice AlertNotice
			require.NoError(t, json.Unmarshal(n.Payload, &notice))
			events[notice.Event]++
		}
		require.Positive(t, events[AlertEventOpened])
		require.Positive(t, events[AlertEventEscalated])
	})
}

// staleLookupRepos hides the unresolved alert of key from
// GetUnresolvedMany, as if another process had opened it after the lookup.
type staleLookupRepos struct {
	store.Repos
	key string
}

type staleLookupAlerts struct {
	store.AlertStore
	key string
}

func (r staleLookupRepos) Alerts() store.AlertStore {
	return staleLookupAlerts{r.Repos.Alerts(), r.key}
}

func (r staleLookupRepos) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	return r.Repos.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
		return fn(ctx, staleLookupRepos{tx, r.key})
	})
}

func (a staleLookupAlerts) GetUnresolvedMany(ctx context.Context, keys []string) ([]store.Alert, error) {
	got, err := a.AlertStore.(store.AlertUnresolvedGetter).GetUnresolvedMany(ctx, keys)
	return slices.DeleteFunc(got, func(x store.Alert) bool { return x.DedupeKey == a.key }), err
}

func (a staleLookupAlerts) CreateMany(ctx context.Context, as []*store.Alert) error {
	return a.AlertStore.(store.AlertBatchCreator).CreateMany(ctx, as)
}

type staleLookupStore struct {
	store.Store
	key string
	txs *atomic.Int64
}

func (s staleLookupStore) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	s.txs.Add(1)
	return staleLookupRepos{s.Store, s.key}.InTx(ctx, fn)
}

// TestSchedulerBatchLosingTheRaceFallsBack has the batch insert of new
// alerts lose to an alert opened after its lookup: the insert is undone
// and each alert goes the per-alert way in the same transaction, so every
// key keeps one unresolved alert and the raced one counts the miss.
func TestSchedulerBatchLosingTheRaceFallsBack(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		ch := b.channelFixture(t, "ops", store.SeverityInfo)
		var ids []string
		for _, name := range []string{"a", "b", "c"} {
			ids = append(ids, b.jobFixture(t, "job-"+name, nil).ID)
		}
		raced := ids[1]
		key := AlertKey(store.AlertBackupMissed, jobSubject(raced))
		require.NoError(t, b.store.Alerts().Create(ctx, &store.Alert{
			Type: store.AlertBackupMissed, Severity: store.SeverityError, JobID: &raced, DedupeKey: key,
			Title: "opened by another process", Message: "m", State: store.AlertOpen, Occurrences: 1,
			FirstSeenAt: testStart, LastSeenAt: testStart,
		}))
		txs := new(atomic.Int64)
		svc, err := New(staleLookupStore{b.store, key, txs}, &Config{Now: b.clock.Now})
		require.NoError(t, err)
		b.clock.Set(schedDate(2026, 11, 3, 3, 30))
		n, err := svc.Scheduler().TickMissed(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		require.Equal(t, int64(1), txs.Load(), "the chunk's transaction is not redone job by job")
		for _, id := range ids {
			page, err := b.store.Alerts().List(ctx, store.ListAlertsParams{JobID: id, Unresolved: true})
			require.NoError(t, err)
			require.Len(t, page.Items, 1, id)
			want := 1
			if id == raced {
				want = 2
			}
			require.Equal(t, want, page.Items[0].Occurrences, id)
			require.Equal(t, store.JobStateMissed, b.jobsGet(t, id).State)
		}
		// Opening notifies; the raced alert only repeated.
		require.Len(t, b.notices(t, ch.ID), 2)
	})
}
