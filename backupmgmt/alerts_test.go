package backupmgmt

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// raise is raiseAlert in its own transaction.
func (b *testBundle) raise(t *testing.T, spec alertSpec) (*store.Alert, AlertEvent) {
	t.Helper()
	var (
		a  *store.Alert
		ev AlertEvent
	)
	require.NoError(t, b.svc.inTx(t.Context(), func(ctx context.Context, tx store.Repos) error {
		var err error
		a, ev, err = b.svc.raiseAlert(ctx, tx, spec)
		return err
	}))
	return a, ev
}

func (b *testBundle) autoResolve(t *testing.T, typ store.AlertType, subject string) bool {
	t.Helper()
	var ok bool
	require.NoError(t, b.svc.inTx(t.Context(), func(ctx context.Context, tx store.Repos) error {
		var err error
		ok, err = b.svc.resolveAlert(ctx, tx, typ, subject, store.ResolvedByAuto)
		return err
	}))
	return ok
}

func TestAlertLifecycle(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		all := b.channelFixture(t, "all", store.SeverityInfo)
		critOnly := b.channelFixture(t, "pager", store.SeverityCritical)
		spec := alertSpec{
			Type: store.AlertBackupFailed, Severity: store.SeverityError, Subject: jobSubject(job.ID),
			JobID: &job.ID, Title: "backup of `erp-db` failed", Message: "exit 1",
		}

		// raise
		a1, ev := b.raise(t, spec)
		require.Equal(t, AlertEventOpened, ev)
		require.Equal(t, store.AlertOpen, a1.State)
		require.Equal(t, 1, a1.Occurrences)

		// repeat: same alert, no new notification
		b.clock.Advance(time.Hour)
		spec.Message = "exit 2"
		a2, ev := b.raise(t, spec)
		require.Equal(t, AlertEvent(""), ev)
		require.Equal(t, a1.ID, a2.ID)
		require.Equal(t, 2, a2.Occurrences)
		require.Equal(t, "exit 2", a2.Message)

		// escalate: same alert, critical, notified to the pager as well
		b.clock.Advance(time.Hour)
		spec.Severity = store.SeverityCritical
		a3, ev := b.raise(t, spec)
		require.Equal(t, AlertEventEscalated, ev)
		require.Equal(t, a1.ID, a3.ID)
		require.Equal(t, store.SeverityCritical, a3.Severity)
		require.Equal(t, 3, a3.Occurrences)

		// a later, lower-severity occurrence does not de-escalate
		spec.Severity = store.SeverityError
		a4, ev := b.raise(t, spec)
		require.Equal(t, AlertEvent(""), ev)
		require.Equal(t, store.SeverityCritical, a4.Severity)

		// acknowledge, by a user, audited
		alice := b.userFixture(t, "alice", store.RoleOperator)
		uctx := actorCtx(ctx, alice)
		acked, err := b.svc.Alerts().Acknowledge(uctx, a1.ID, "looking into it")
		require.NoError(t, err)
		require.Equal(t, store.AlertAcknowledged, acked.State)
		require.Equal(t, alice.ID, *acked.AcknowledgedBy)
		require.Equal(t, "looking into it", acked.AckNote)

		// an acknowledged critical alert is not repeated
		b.clock.Advance(5 * time.Hour)
		n, err := b.svc.Alerts().TickRepeat(ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		// unacknowledge: open again, and now the repeat interval applies
		_, err = b.svc.Alerts().Unacknowledge(uctx, a1.ID)
		require.NoError(t, err)
		n, err = b.svc.Alerts().TickRepeat(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = b.svc.Alerts().TickRepeat(ctx) // just notified
		require.NoError(t, err)
		require.Zero(t, n)

		// auto-resolve
		b.clock.Advance(time.Hour)
		require.True(t, b.autoResolve(t, store.AlertBackupFailed, jobSubject(job.ID)))
		require.False(t, b.autoResolve(t, store.AlertBackupFailed, jobSubject(job.ID)))
		got, err := b.svc.Alerts().Get(ctx, a1.ID)
		require.NoError(t, err)
		require.Equal(t, store.AlertResolved, got.State)
		require.Equal(t, store.ResolvedByAuto, got.ResolvedBy)
		require.Equal(t, b.svc.Now(), *got.ResolvedAt)

		// the next failure opens a new alert
		a5, ev := b.raise(t, spec)
		require.Equal(t, AlertEventOpened, ev)
		require.NotEqual(t, a1.ID, a5.ID)

		var events []AlertEvent
		for _, nt := range b.notices(t, all.ID) {
			events = append(events, nt.Event)
		}
		require.Equal(t, []AlertEvent{AlertEventOpened, AlertEventEscalated, AlertEventRepeat, AlertEventResolved, AlertEventOpened}, events)
		events = nil
		for _, nt := range b.notices(t, critOnly.ID) {
			events = append(events, nt.Event)
		}
		require.Equal(t, []AlertEvent{AlertEventEscalated, AlertEventRepeat, AlertEventResolved}, events)

		require.Equal(t, []string{"alert.acknowledge", "alert.unacknowledge"}, b.auditActions(t))

		// resolving a resolved alert is refused, and leaves it as it was
		_, err = b.svc.Alerts().Resolve(uctx, a1.ID, "")
		require.ErrorIs(t, err, ErrAlertState)
		_, err = b.svc.Alerts().Acknowledge(uctx, a1.ID, "")
		require.ErrorIs(t, err, ErrAlertState)

		sum, err := b.svc.Alerts().Summary(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, sum.Total)
		require.Equal(t, 1, sum.Open[store.SeverityError])
	})
}

func TestBulkAcknowledge(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := actorCtx(t.Context(), b.userFixture(t, "root", store.RoleAdmin))
		var ids []string
		for _, name := range []string{"a", "b", "c"} {
			j := b.jobFixture(t, name, nil)
			a, _ := b.raise(t, alertSpec{Type: store.AlertBackupMissed, Severity: store.SeverityError, Subject: jobSubject(j.ID), JobID: &j.ID, Title: "missed"})
			ids = append(ids, a.ID)
		}
		_, err := b.svc.Alerts().Resolve(ctx, ids[1], "fixed by hand")
		require.NoError(t, err)

		res, err := b.svc.Alerts().BulkAcknowledge(ctx, []string{ids[0], ids[1], "no-such-alert", ids[2]}, "weekend duty")
		require.NoError(t, err)
		require.Len(t, res, 4)
		require.NoError(t, res[0].Err)
		require.ErrorIs(t, res[1].Err, ErrAlertState)
		require.ErrorIs(t, res[2].Err, store.ErrNotFound)
		require.NoError(t, res[3].Err)
		for _, id := range []string{ids[0], ids[2]} {
			a, err := b.svc.Alerts().Get(t.Context(), id)
			require.NoError(t, err)
			require.Equal(t, store.AlertAcknowledged, a.State)
			require.Equal(t, "weekend duty", a.AckNote)
		}
		require.Equal(t, []string{"alert.resolve", "alert.acknowledge", "alert.acknowledge"}, b.auditActions(t))

		_, err = b.svc.Alerts().BulkAcknowledge(ctx, nil, "")
		var ve *store.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "ids")
	})
}
