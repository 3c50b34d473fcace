package backupmgmt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestMissedThenFailedThenSuccessResolvesBoth(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		j := b.jobFixture(t, "erp", nil) // created Nov 2 09:00: due Nov 3 03:00
		b.clock.Set(time.Date(2026, 11, 3, 3, 30, 0, 0, time.UTC))
		n, err := b.svc.Scheduler().TickMissed(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)

		rec := func(runID string, st store.ExecutionStatus) {
			now := b.svc.Now()
			_, err := b.svc.Executions().Record(ctx, RecordParams{JobID: j.ID, RunID: runID, Status: st, StartedAt: now.Add(-time.Minute), FinishedAt: &now})
			require.NoError(t, err)
		}
		b.clock.Advance(time.Hour)
		rec("r1", store.ExecutionFailed)
		require.NotNil(t, b.unresolved(t, store.AlertBackupMissed, jobSubject(j.ID)))
		b.clock.Advance(time.Hour)
		rec("r2", store.ExecutionSuccess)
		require.Nil(t, b.unresolved(t, store.AlertBackupMissed, jobSubject(j.ID)), "the success after a miss and a failure clears the miss")
		require.Nil(t, b.unresolved(t, store.AlertBackupFailed, jobSubject(j.ID)))
	})
}

func TestDeactivatingAJobResolvesItsComplianceAlerts(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := actorCtx(t.Context(), b.userFixture(t, "admin", store.RoleAdmin))
		j, err := b.svc.Jobs().Create(ctx, JobParams{Name: "old", JobType: store.JobTypeFile, Tool: store.ToolRsync, Schedule: store.Schedule{Kind: store.ScheduleManual}})
		require.NoError(t, err)
		require.NotNil(t, b.unresolved(t, store.AlertComplianceViolation, jobSubject(j.ID)), "no copies: non_compliant")

		off := false
		_, err = b.svc.Jobs().Update(ctx, j.ID, JobUpdate{Active: &off})
		require.NoError(t, err)
		require.Nil(t, b.unresolved(t, store.AlertComplianceViolation, jobSubject(j.ID)), "nothing evaluates an inactive job: its alert must not stay open")
	})
}
