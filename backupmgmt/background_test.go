package backupmgmt

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestTick(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("RunsEveryDutyOnce", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			j := b.jobFixture(t, "nightly", nil) // created Nov 2 09:00, due Nov 3 03:00
			b.clock.Set(time.Date(2026, 11, 3, 3, 30, 0, 0, time.UTC))

			r, err := b.svc.Tick(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, r.Missed)
			require.Equal(t, 1, r.ComplianceChanged) // a job without copies: non_compliant
			got, err := b.store.Jobs().Get(t.Context(), j.ID)
			require.NoError(t, err)
			require.Equal(t, store.JobStateMissed, got.State)
			require.NotNil(t, b.unresolved(t, store.AlertBackupMissed, jobSubject(j.ID)))
			roll, err := b.store.Rollups().Get(t.Context(), store.DateOf(b.svc.Now(), nil))
			require.NoError(t, err)
			require.Equal(t, int64(1), roll.ExecutionsMissed)

			// A second tick at the same time finds nothing more to do.
			r, err = b.svc.Tick(t.Context())
			require.NoError(t, err)
			require.Zero(t, r.Missed)
			require.Zero(t, r.ComplianceChanged)
		})
	})

	t.Run("RunStopsWhenTheContextEnds", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- b.svc.Run(ctx, time.Hour) }()
		cancel()
		require.NoError(t, <-done)
	})

	t.Run("ReportsAFailingDutyAndGoesOn", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		require.NoError(t, b.store.Close())
		_, err := b.svc.Tick(t.Context())
		require.ErrorContains(t, err, "missed runs")
		require.ErrorContains(t, err, "audit retention")
	})
}

func TestRunTakesTheBackgroundLock(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		var l store.AdvisoryLocker = b.store
		duties := 0
		duty := func(context.Context) error { duties++; return nil }

		// Another replica holds the lock: this one skips the round.
		release, held, err := l.TryAdvisoryLock(t.Context(), BackgroundLockName)
		require.NoError(t, err)
		require.True(t, held)
		require.False(t, b.svc.round(t.Context(), []Duty{duty}))
		require.Zero(t, duties)

		// It stops: the next round here does the work, and lets go after.
		release()
		require.True(t, b.svc.round(t.Context(), []Duty{duty, duty}))
		require.Equal(t, 2, duties)
		release, held, err = l.TryAdvisoryLock(t.Context(), BackgroundLockName)
		require.NoError(t, err)
		require.True(t, held, "the round released the lock")
		release()
	})
}
