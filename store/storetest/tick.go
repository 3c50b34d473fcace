package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("Tick", testTick)

// testTick checks the optional batch capabilities of store/tick.go against
// the per-row methods they stand in for. Stores without one skip its
// subtest.
func testTick(t *testing.T, newStore NewStoreFunc) {
	t.Run("JobDueListerListsAsListDue", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		l, ok := b.s.Jobs().(store.JobDueLister)
		if !ok {
			t.Skip("store has no JobDueLister")
		}
		now := someTime()
		for _, mod := range []func(j *store.Job){
			func(j *store.Job) { j.NextDueAt = ptr(now.Add(-time.Hour)) },
			func(j *store.Job) { j.NextDueAt = ptr(now) },
			func(j *store.Job) { j.NextDueAt = ptr(now.Add(-time.Hour)) }, // a tie, by ID
			func(j *store.Job) { j.NextDueAt = ptr(now.Add(-48 * time.Hour)) },
			func(j *store.Job) { j.NextDueAt = ptr(now.Add(time.Microsecond)) },
			func(j *store.Job) { j.NextDueAt = ptr(now.Add(-time.Hour)); j.Paused = true },
			func(j *store.Job) { j.NextDueAt = ptr(now.Add(-time.Hour)); j.Active = false },
			func(j *store.Job) { j.NextDueAt = nil },
		} {
			b.job(t, mod)
		}
		for _, limit := range []int{0, 1, 3, 4, 10} {
			due, err := b.s.Jobs().ListDue(b.ctx, now, limit)
			require.NoError(t, err)
			want := make([]string, len(due))
			for i := range due {
				want[i] = due[i].ID
			}
			got, err := l.ListDueIDs(b.ctx, now, limit)
			require.NoError(t, err)
			require.Equal(t, want, got, "limit %d", limit)
		}
		got, err := l.ListDueIDs(b.ctx, now.Add(-72*time.Hour), 10)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("JobLockerReadsAsGet", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		if _, ok := b.s.Jobs().(store.JobLocker); !ok {
			t.Skip("store has no JobLocker")
		}
		j1, j2, j3 := b.job(t), b.job(t), b.job(t)
		_ = j2
		ids := []string{j3.ID, "no-such-job", j1.ID, j3.ID, "", "nul\x00id"}
		check := func(ctx context.Context, repos store.Repos) {
			got, err := repos.Jobs().(store.JobLocker).GetManyForUpdate(ctx, ids)
			require.NoError(t, err)
			want := []string{j1.ID, j3.ID}
			slices.Sort(want)
			require.Len(t, got, 2)
			for i := range got {
				require.Equal(t, want[i], got[i].ID)
				one, err := repos.Jobs().Get(ctx, got[i].ID)
				require.NoError(t, err)
				require.Equal(t, *one, got[i])
			}
			none, err := repos.Jobs().(store.JobLocker).GetManyForUpdate(ctx, nil)
			require.NoError(t, err)
			require.Empty(t, none)
		}
		check(b.ctx, b.s)
		require.NoError(t, b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			check(ctx, tx)
			return nil
		}))
	})

	t.Run("JobLockerLocksUntilCommit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		if _, ok := b.s.Jobs().(store.JobLocker); !ok {
			t.Skip("store has no JobLocker")
		}
		jobs := []*store.Job{b.job(t), b.job(t), b.job(t)}
		ids := []string{jobs[2].ID, jobs[0].ID, jobs[1].ID}
		// Each writer reads all the jobs under lock and counts one more
		// failure on each: without the lock, increments would be lost.
		const writers = 4
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				errs <- retryTx(b.ctx, b.s, func(ctx context.Context, tx store.Repos) error {
					got, err := tx.Jobs().(store.JobLocker).GetManyForUpdate(ctx, ids)
					if err != nil {
						return err
					}
					for i := range got {
						got[i].ConsecutiveFailures++
						if err := tx.Jobs().Update(ctx, &got[i]); err != nil {
							return err
						}
					}
					return nil
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		for _, j := range jobs {
			got, err := b.s.Jobs().Get(b.ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, writers, got.ConsecutiveFailures)
		}
	})

	t.Run("JobDueUpdaterWritesAsUpdate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		if _, ok := b.s.Jobs().(store.JobDueUpdater); !ok {
			t.Skip("store has no JobDueUpdater")
		}
		due := someTime()
		changes := []func(*store.Job){
			func(j *store.Job) {
				j.State, j.NextDueAt, j.LastResult, j.ConsecutiveFailures = store.JobStateMissed, &due, store.ExecutionMissed, 3
			},
			func(j *store.Job) {
				j.State, j.NextDueAt, j.LastResult, j.ConsecutiveFailures = store.JobStateUp, nil, store.ExecutionSuccess, 0
			},
			func(j *store.Job) {
				later := due.Add(36 * time.Hour)
				j.State, j.NextDueAt, j.LastResult, j.ConsecutiveFailures = store.JobStateMissed, &later, store.ExecutionMissed, 1
			},
		}
		var us []store.JobDueUpdate
		type pair struct{ byUpdate, byBatch string }
		var pairs []pair
		for _, change := range changes {
			start := func(j *store.Job) {
				j.State, j.LastResult, j.ConsecutiveFailures = store.JobStateUp, store.ExecutionSuccess, 7
				j.NextDueAt = ptr(due.Add(-time.Hour))
				j.LastRunAt = ptr(due.Add(-25 * time.Hour))
			}
			a, c := b.job(t, start), b.job(t, start)
			got, err := b.s.Jobs().Get(b.ctx, a.ID)
			require.NoError(t, err)
			change(got)
			require.NoError(t, b.s.Jobs().Update(b.ctx, got))
			want := *c
			change(&want)
			us = append(us, store.JobDueUpdate{
				ID: c.ID, State: want.State, NextDueAt: want.NextDueAt,
				LastResult: want.LastResult, ConsecutiveFailures: want.ConsecutiveFailures,
			})
			pairs = append(pairs, pair{a.ID, c.ID})
		}
		us = append(us, store.JobDueUpdate{ID: "no-such-job", State: store.JobStateMissed, LastResult: store.ExecutionMissed})
		before := time.Now().Add(-time.Second)
		require.NoError(t, b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			return tx.Jobs().(store.JobDueUpdater).UpdateDue(ctx, us)
		}))
		require.NoError(t, b.s.Jobs().(store.JobDueUpdater).UpdateDue(b.ctx, nil))
		for _, p := range pairs {
			x, err := b.s.Jobs().Get(b.ctx, p.byUpdate)
			require.NoError(t, err)
			y, err := b.s.Jobs().Get(b.ctx, p.byBatch)
			require.NoError(t, err)
			require.True(t, y.UpdatedAt.After(before), "updated_at is stamped")
			require.Equal(t, sameJob(x), sameJob(y))
		}
	})

	t.Run("AlertUnresolvedGetterFindsAsGetUnresolved", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		if _, ok := b.s.Alerts().(store.AlertUnresolvedGetter); !ok {
			t.Skip("store has no AlertUnresolvedGetter")
		}
		open := b.alert(t)
		acked := b.alert(t, func(a *store.Alert) { a.State = store.AlertAcknowledged })
		resolved := b.alert(t, func(a *store.Alert) {
			a.State, a.ResolvedAt, a.ResolvedBy = store.AlertResolved, ptr(someTime()), store.ResolvedByAuto
		})
		// A resolved alert and a newer open one share a key.
		reopened := b.alert(t, func(a *store.Alert) { a.DedupeKey = resolved.DedupeKey })
		keys := []string{acked.DedupeKey, "no-such-key", resolved.DedupeKey, open.DedupeKey, open.DedupeKey, ""}
		check := func(ctx context.Context, repos store.Repos) {
			got, err := repos.Alerts().(store.AlertUnresolvedGetter).GetUnresolvedMany(ctx, keys)
			require.NoError(t, err)
			var want []store.Alert
			for _, k := range []string{acked.DedupeKey, resolved.DedupeKey, open.DedupeKey} {
				a, err := repos.Alerts().GetUnresolved(ctx, k)
				require.NoError(t, err)
				want = append(want, *a)
			}
			slices.SortFunc(want, func(x, y store.Alert) int { return strings.Compare(x.DedupeKey, y.DedupeKey) })
			require.Equal(t, want, got)
			ids := []string{got[0].ID, got[1].ID, got[2].ID}
			require.ElementsMatch(t, []string{open.ID, acked.ID, reopened.ID}, ids)
		}
		check(b.ctx, b.s)
		require.NoError(t, b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			check(ctx, tx)
			return nil
		}))
	})

	t.Run("AlertBatchCreatorCreatesAsCreate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		if _, ok := b.s.Alerts().(store.AlertBatchCreator); !ok {
			t.Skip("store has no AlertBatchCreator")
		}
		j := b.job(t)
		mk := func(key string) *store.Alert {
			a := newAlert()
			a.Type, a.JobID, a.DedupeKey = store.AlertBackupMissed, &j.ID, key
			a.Message = strings.Repeat("長", store.MaxMessageLen+10)
			a.FirstSeenAt, a.LastSeenAt, a.LastNotifiedAt = someTime(), someTime(), ptr(someTime())
			a.Occurrences = 2
			return a
		}
		one, twin := mk("k-one-"+uniq()), mk("k-twin-"+uniq())
		other := newAlert()
		require.NoError(t, b.s.Alerts().Create(b.ctx, twin))
		batch := []*store.Alert{one, other}
		require.NoError(t, b.s.Alerts().(store.AlertBatchCreator).CreateMany(b.ctx, batch))
		for _, a := range batch {
			require.NotEmpty(t, a.ID)
			got, err := b.s.Alerts().Get(b.ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, a, got, "the alert given comes back as stored")
		}
		got, err := b.s.Alerts().Get(b.ctx, one.ID)
		require.NoError(t, err)
		want, err := b.s.Alerts().Get(b.ctx, twin.ID)
		require.NoError(t, err)
		require.Equal(t, sameAlert(want), sameAlert(got))
		require.NoError(t, b.s.Alerts().(store.AlertBatchCreator).CreateMany(b.ctx, nil))

		// A key already unresolved, or twice in the batch: none is stored.
		same := mk("k-same-" + uniq())
		for _, dup := range [][]*store.Alert{
			{newAlert(), mk(one.DedupeKey)},
			{same, mk(same.DedupeKey)},
		} {
			err := b.s.Alerts().(store.AlertBatchCreator).CreateMany(b.ctx, dup)
			requireConflict(t, err, "")
			_, err = b.s.Alerts().GetUnresolved(b.ctx, dup[0].DedupeKey)
			require.ErrorIs(t, err, store.ErrNotFound)
		}

		// In a transaction, a savepoint undoes the failed batch and the
		// transaction goes on.
		after := newAlert()
		require.NoError(t, b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			err := tx.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				return tx.Alerts().(store.AlertBatchCreator).CreateMany(ctx, []*store.Alert{newAlert(), mk(one.DedupeKey)})
			})
			requireConflict(t, err, "")
			return tx.Alerts().(store.AlertBatchCreator).CreateMany(ctx, []*store.Alert{after})
		}))
		_, err = b.s.Alerts().Get(b.ctx, after.ID)
		require.NoError(t, err)

		bad := newAlert()
		bad.Title = ""
		err = b.s.Alerts().(store.AlertBatchCreator).CreateMany(b.ctx, []*store.Alert{newAlert(), bad})
		requireValidation(t, err, "items[1].title")
	})

	t.Run("AlertSeenUpdaterWritesAsUpdate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		if _, ok := b.s.Alerts().(store.AlertSeenUpdater); !ok {
			t.Skip("store has no AlertSeenUpdater")
		}
		var batch []*store.Alert
		var byUpdate []string
		for i, sev := range []store.Severity{store.SeverityError, store.SeverityCritical} {
			start := func(a *store.Alert) { a.State = []store.AlertState{store.AlertOpen, store.AlertAcknowledged}[i] }
			a, c := b.alert(t, start), b.alert(t, start)
			bump := func(x *store.Alert) {
				x.Severity = sev
				x.Title = "Backup missed " + itoa(int64(i))
				x.Message = strings.Repeat("m", store.MaxMessageLen+1)
				x.Occurrences += 3 + i
				x.LastSeenAt = someTime().Add(time.Duration(i) * time.Hour)
				if i == 0 {
					x.LastNotifiedAt = ptr(someTime())
				}
			}
			got, err := b.s.Alerts().Get(b.ctx, a.ID)
			require.NoError(t, err)
			bump(got)
			require.NoError(t, b.s.Alerts().Update(b.ctx, got))
			bump(c)
			batch = append(batch, c)
			byUpdate = append(byUpdate, a.ID)
		}
		ghost := newAlert()
		ghost.ID = "no-such-alert"
		before := time.Now().Add(-time.Second)
		require.NoError(t, b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			return tx.Alerts().(store.AlertSeenUpdater).UpdateSeen(ctx, append(slices.Clone(batch), ghost))
		}))
		for i, c := range batch {
			x, err := b.s.Alerts().Get(b.ctx, byUpdate[i])
			require.NoError(t, err)
			y, err := b.s.Alerts().Get(b.ctx, c.ID)
			require.NoError(t, err)
			require.True(t, y.UpdatedAt.After(before), "updated_at is stamped")
			require.Equal(t, sameAlert(x), sameAlert(y))
			require.Equal(t, c.Message, y.Message, "the alert given holds the stored message")
		}
		bad := newAlert()
		bad.Occurrences = 0
		err := b.s.Alerts().(store.AlertSeenUpdater).UpdateSeen(b.ctx, []*store.Alert{batch[0], bad})
		requireValidation(t, err, "items[1].occurrences")
	})

	t.Run("NotificationBatchCreatorCreatesAsCreate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		if _, ok := b.s.Notifications().(store.NotificationBatchCreator); !ok {
			t.Skip("store has no NotificationBatchCreator")
		}
		ch1, ch2 := b.channel(t), b.channel(t)
		a := b.alert(t)
		mk := func(ch string) *store.Notification {
			return &store.Notification{
				ChannelID: ch, AlertID: &a.ID, Payload: []byte(`{"event":"opened","title":"ß"}`),
				State: store.NotificationPending, NextAttemptAt: someTime(),
			}
		}
		twin := mk(ch1.ID)
		require.NoError(t, b.s.Notifications().Create(b.ctx, twin))
		batch := []*store.Notification{mk(ch1.ID), mk(ch2.ID)}
		require.NoError(t, b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			return tx.Notifications().(store.NotificationBatchCreator).CreateMany(ctx, batch)
		}))
		want, err := b.s.Notifications().Get(b.ctx, twin.ID)
		require.NoError(t, err)
		for _, n := range batch {
			got, err := b.s.Notifications().Get(b.ctx, n.ID)
			require.NoError(t, err)
			require.Equal(t, n, got, "the row given comes back as stored")
			w := *want
			w.ID, w.ChannelID, w.CreatedAt, w.UpdatedAt = got.ID, got.ChannelID, got.CreatedAt, got.UpdatedAt
			require.Equal(t, &w, got)
		}

		// One bad row: none is stored.
		missing := mk("no-such-channel")
		fine := mk(ch2.ID)
		err = b.s.Notifications().(store.NotificationBatchCreator).CreateMany(b.ctx, []*store.Notification{fine, missing})
		require.ErrorIs(t, err, store.ErrForeignKey)
		_, err = b.s.Notifications().Get(b.ctx, fine.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		bad := mk(ch1.ID)
		bad.Payload = []byte("{")
		err = b.s.Notifications().(store.NotificationBatchCreator).CreateMany(b.ctx, []*store.Notification{bad})
		requireValidation(t, err, "items[0].payload")
	})
}

// sameJob is j without what tells twins apart: identity and stamps.
func sameJob(j *store.Job) store.Job {
	out := *j
	out.ID, out.Name, out.PingToken, out.CreatedAt, out.UpdatedAt = "", "", "", time.Time{}, time.Time{}
	return out
}

// sameAlert is a without what tells twins apart: identity and stamps.
func sameAlert(a *store.Alert) store.Alert {
	out := *a
	out.ID, out.DedupeKey, out.CreatedAt, out.UpdatedAt = "", "", time.Time{}, time.Time{}
	return out
}

// retryTx runs fn in a transaction of s, again while the database asks
// for a retry (a deadlock or serialization failure).
func retryTx(ctx context.Context, s store.Store, fn func(ctx context.Context, tx store.Repos) error) error {
	for {
		err := s.InTx(ctx, fn)
		if !errors.Is(err, store.ErrRetry) {
			return err
		}
	}
}
