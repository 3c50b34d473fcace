package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var (
	_ = register("Alerts", testAlerts)
	_ = register("Channels", testChannels)
	_ = register("Notifications", testNotifications)
	_ = register("Reports", testReports)
)

func newNotification(channelID string) *store.Notification {
	return &store.Notification{
		ChannelID:     channelID,
		Payload:       json.RawMessage(`{"title":"Backup failed","severity":"error"}`),
		State:         store.NotificationPending,
		NextAttemptAt: time.Date(2026, 11, 4, 3, 0, 0, 0, time.UTC),
	}
}

func (b *bundle) notification(t *testing.T, channelID string, mod ...func(*store.Notification)) *store.Notification {
	t.Helper()
	n := newNotification(channelID)
	for _, m := range mod {
		m(n)
	}
	require.NoError(t, b.s.Notifications().Create(b.ctx, n))
	return n
}

func (b *bundle) report(t *testing.T, mod ...func(*store.Report)) *store.Report {
	t.Helper()
	r := newReport()
	for _, m := range mod {
		m(r)
	}
	require.NoError(t, b.s.Reports().Create(b.ctx, r))
	return r
}

// requireConflictOn checks that err is store.ErrConflict naming field, which
// every adapter of the suite must tell for the keys where it is asked.
func requireConflictOn(t *testing.T, err error, field string) {
	t.Helper()
	require.ErrorIs(t, err, store.ErrConflict)
	var ce *store.ConstraintError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, field, ce.Field, "conflict: %v", err)
}

func testAlerts(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		job := b.job(t)
		med := b.media(t)
		user := b.user(t)

		a := newAlert()
		a.JobID = &job.ID
		a.MediaID = &med.ID
		a.Title = "バックアップ失敗: 基幹システム DB"
		a.Message = "終了コード 1。ディスクの空き容量が足りません。"
		a.FirstSeenAt = someTime()
		a.LastSeenAt = someTime().Add(time.Hour)
		a.CreatedAt = someTime()
		require.NoError(t, b.s.Alerts().Create(b.ctx, a))
		require.NotEmpty(t, a.ID)
		require.Equal(t, norm(someTime()), a.FirstSeenAt, "stored times are UTC microseconds")
		require.Equal(t, norm(someTime().Add(time.Hour)), a.LastSeenAt)
		require.Equal(t, norm(someTime()), a.CreatedAt)
		require.Equal(t, a.CreatedAt, a.UpdatedAt)

		got, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)
		require.Equal(t, time.UTC, got.FirstSeenAt.Location())

		got.Severity = store.SeverityCritical
		got.State = store.AlertAcknowledged
		got.Occurrences = 3
		got.LastSeenAt = someTime().Add(3 * time.Hour)
		got.AcknowledgedBy = &user.ID
		got.AcknowledgedAt = ptr(someTime().Add(2 * time.Hour))
		got.AckNote = "調査中です。明朝ディスクを増設します。"
		got.LastNotifiedAt = ptr(someTime().Add(90 * time.Minute))
		got.MediaID = nil
		require.NoError(t, b.s.Alerts().Update(b.ctx, got))
		require.Equal(t, norm(someTime().Add(2*time.Hour)), *got.AcknowledgedAt)
		again, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)

		// Update leaves the type and the dedupe key as they were created.
		changed := *again
		changed.Type = store.AlertBackupMissed
		changed.DedupeKey = "something-else"
		require.NoError(t, b.s.Alerts().Update(b.ctx, &changed))
		kept, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a.Type, kept.Type)
		require.Equal(t, a.DedupeKey, kept.DedupeKey)
		unresolved, err := b.s.Alerts().GetUnresolved(b.ctx, a.DedupeKey)
		require.NoError(t, err)
		require.Equal(t, a.ID, unresolved.ID)
		_, err = b.s.Alerts().GetUnresolved(b.ctx, "something-else")
		require.ErrorIs(t, err, store.ErrNotFound)

		require.NoError(t, b.s.Alerts().Delete(b.ctx, a.ID))
		_, err = b.s.Alerts().Get(b.ctx, a.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Alerts().GetUnresolved(b.ctx, a.DedupeKey)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Alerts().Delete(b.ctx, a.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.Alerts().Update(b.ctx, got), store.ErrNotFound)
	})

	t.Run("OneUnresolvedAlertPerDedupeKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		a := b.alert(t)
		dup := func() *store.Alert {
			d := newAlert()
			d.DedupeKey = a.DedupeKey
			return d
		}
		requireConflictOn(t, b.s.Alerts().Create(b.ctx, dup()), "dedupe_key")

		// Another key is free, and a key is compared exactly.
		require.NoError(t, b.s.Alerts().Create(b.ctx, newAlert()))
		upper := dup()
		upper.DedupeKey = strings.ToUpper(a.DedupeKey)
		require.NoError(t, b.s.Alerts().Create(b.ctx, upper))

		a.State = store.AlertAcknowledged
		require.NoError(t, b.s.Alerts().Update(b.ctx, a))
		requireConflictOn(t, b.s.Alerts().Create(b.ctx, dup()), "dedupe_key")
		got, err := b.s.Alerts().GetUnresolved(b.ctx, a.DedupeKey)
		require.NoError(t, err)
		require.Equal(t, a, got, "an acknowledged alert is unresolved")

		a.State = store.AlertResolved
		a.ResolvedAt = ptr(someTime())
		a.ResolvedBy = store.ResolvedByAuto
		require.NoError(t, b.s.Alerts().Update(b.ctx, a))
		_, err = b.s.Alerts().GetUnresolved(b.ctx, a.DedupeKey)
		require.ErrorIs(t, err, store.ErrNotFound)
		resolved, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, resolved)
		require.Equal(t, store.ResolvedByAuto, resolved.ResolvedBy)

		second := dup()
		require.NoError(t, b.s.Alerts().Create(b.ctx, second), "the key is free once its alert is resolved")
		got, err = b.s.Alerts().GetUnresolved(b.ctx, a.DedupeKey)
		require.NoError(t, err)
		require.Equal(t, second.ID, got.ID)

		// A resolved alert may be recorded beside an open one.
		past := dup()
		past.State = store.AlertResolved
		past.ResolvedAt = ptr(someTime())
		past.ResolvedBy = store.ResolvedByAuto
		require.NoError(t, b.s.Alerts().Create(b.ctx, past))

		// Reopening the first alert while the second is open conflicts.
		a.State = store.AlertOpen
		a.ResolvedAt = nil
		a.ResolvedBy = ""
		requireConflictOn(t, b.s.Alerts().Update(b.ctx, a), "dedupe_key")
		still, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, store.AlertResolved, still.State)

		second.State = store.AlertResolved
		second.ResolvedAt = ptr(someTime())
		second.ResolvedBy = store.ResolvedByAuto
		require.NoError(t, b.s.Alerts().Update(b.ctx, second))
		require.NoError(t, b.s.Alerts().Update(b.ctx, a), "reopening works once the key is free")
		got, err = b.s.Alerts().GetUnresolved(b.ctx, a.DedupeKey)
		require.NoError(t, err)
		require.Equal(t, a.ID, got.ID)
	})

	t.Run("ConcurrentCreatesOfOneKeyLeaveOneAlert", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		key := "backup_failed:" + uniq()
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				a := newAlert()
				a.DedupeKey = key
				errs[i] = b.s.Alerts().Create(b.ctx, a)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			requireConflictOn(t, err, "dedupe_key")
		}
		require.Equal(t, 1, won)
		page, err := b.s.Alerts().List(b.ctx, store.ListAlertsParams{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		got, err := b.s.Alerts().GetUnresolved(b.ctx, key)
		require.NoError(t, err)
		require.Equal(t, page.Items[0], *got)
	})

	t.Run("GetUnresolvedOfUnknownKeyIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.alert(t)
		_, err := b.s.Alerts().GetUnresolved(b.ctx, "backup_failed:nothing")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Alerts().Get(b.ctx, store.NewID())
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("MessageIsCutToMaxMessageLen", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		a := newAlert()
		a.Message = strings.Repeat("警", store.MaxMessageLen+1)
		require.NoError(t, b.s.Alerts().Create(b.ctx, a))
		require.Equal(t, store.MaxMessageLen, utf8.RuneCountInString(a.Message), "the caller's struct holds what was stored")
		require.Equal(t, strings.Repeat("警", store.MaxMessageLen), a.Message)
		got, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)

		got.Message = "x" + strings.Repeat("🔥", store.MaxMessageLen+500)
		require.NoError(t, b.s.Alerts().Update(b.ctx, got))
		require.Equal(t, "x"+strings.Repeat("🔥", store.MaxMessageLen-1), got.Message)
		again, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)
	})

	t.Run("LongJapaneseDedupeKeysFit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		a := b.alert(t, func(a *store.Alert) { a.DedupeKey = strings.Repeat("鍵", store.MaxShortTextLen) })
		got, err := b.s.Alerts().GetUnresolved(b.ctx, a.DedupeKey)
		require.NoError(t, err)
		require.Equal(t, a, got)
		dup := newAlert()
		dup.DedupeKey = a.DedupeKey
		requireConflictOn(t, b.s.Alerts().Create(b.ctx, dup), "dedupe_key")
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		cases := []struct {
			field string
			mod   func(*store.Alert)
		}{
			{"type", func(a *store.Alert) { a.Type = "disk_full" }},
			{"severity", func(a *store.Alert) { a.Severity = "" }},
			{"severity", func(a *store.Alert) { a.Severity = "fatal" }},
			{"dedupe_key", func(a *store.Alert) { a.DedupeKey = "" }},
			{"dedupe_key", func(a *store.Alert) { a.DedupeKey = strings.Repeat("鍵", store.MaxShortTextLen+1) }},
			{"title", func(a *store.Alert) { a.Title = "" }},
			{"title", func(a *store.Alert) { a.Title = strings.Repeat("題", store.MaxNameLen+1) }},
			{"state", func(a *store.Alert) { a.State = "closed" }},
			{"occurrences", func(a *store.Alert) { a.Occurrences = 0 }},
			{"first_seen_at", func(a *store.Alert) { a.FirstSeenAt = time.Time{} }},
			{"last_seen_at", func(a *store.Alert) { a.LastSeenAt = time.Time{} }},
			{"ack_note", func(a *store.Alert) { a.AckNote = strings.Repeat("注", store.MaxTextLen+1) }},
			{"resolved_at", func(a *store.Alert) { a.State = store.AlertResolved }},
			{"resolved_at", func(a *store.Alert) { a.ResolvedAt = ptr(someTime()) }},
		}
		for _, c := range cases {
			a := newAlert()
			c.mod(a)
			requireValidation(t, b.s.Alerts().Create(b.ctx, a), c.field)
		}
		page, err := b.s.Alerts().List(b.ctx, store.ListAlertsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items, "nothing invalid was stored")

		a := b.alert(t)
		bad := *a
		bad.Severity = "fatal"
		requireValidation(t, b.s.Alerts().Update(b.ctx, &bad), "severity")
		got, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for _, mod := range []func(*store.Alert){
			func(a *store.Alert) { a.JobID = ptr(store.NewID()) },
			func(a *store.Alert) { a.MediaID = ptr(store.NewID()) },
			func(a *store.Alert) {
				a.State = store.AlertAcknowledged
				a.AcknowledgedBy = ptr(store.NewID())
				a.AcknowledgedAt = ptr(someTime())
			},
		} {
			a := newAlert()
			mod(a)
			require.ErrorIs(t, b.s.Alerts().Create(b.ctx, a), store.ErrForeignKey)
		}
		a := b.alert(t)
		a.JobID = ptr(store.NewID())
		require.ErrorIs(t, b.s.Alerts().Update(b.ctx, a), store.ErrForeignKey)
	})

	t.Run("AlertsOutliveTheirJobMediaAndAcknowledger", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		job := b.job(t)
		med := b.media(t)
		user := b.user(t)
		a := b.alert(t, func(a *store.Alert) {
			a.JobID = &job.ID
			a.MediaID = &med.ID
			a.State = store.AlertAcknowledged
			a.AcknowledgedBy = &user.ID
			a.AcknowledgedAt = ptr(someTime())
		})

		require.NoError(t, b.s.Jobs().Delete(b.ctx, job.ID))
		got, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err, "deleting a job keeps its alerts")
		want := *a
		want.JobID = nil
		require.Equal(t, &want, got)

		require.NoError(t, b.s.Media().Delete(b.ctx, med.ID))
		got, err = b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		want.MediaID = nil
		require.Equal(t, &want, got)

		require.NoError(t, b.s.Users().Delete(b.ctx, user.ID))
		got, err = b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err)
		want.AcknowledgedBy = nil
		require.Equal(t, &want, got)
	})

	t.Run("ListOrderFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		job := b.job(t)
		med := b.media(t)
		base := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)
		type spec struct {
			state    store.AlertState
			severity store.Severity
			typ      store.AlertType
			job      bool
			media    bool
			seen     time.Duration
		}
		specs := []spec{
			{store.AlertOpen, store.SeverityError, store.AlertBackupFailed, true, false, 5 * time.Hour},
			{store.AlertOpen, store.SeverityCritical, store.AlertBackupFailed, true, false, time.Hour},
			{store.AlertAcknowledged, store.SeverityWarning, store.AlertBackupStuck, true, false, 3 * time.Hour},
			{store.AlertResolved, store.SeverityError, store.AlertBackupMissed, true, false, 7 * time.Hour},
			{store.AlertOpen, store.SeverityWarning, store.AlertMediaLendingOverdue, false, true, 3 * time.Hour},
			{store.AlertResolved, store.SeverityInfo, store.AlertMediaRotationDue, false, true, 2 * time.Hour},
			{store.AlertAcknowledged, store.SeverityCritical, store.AlertVerificationFailed, false, false, 3 * time.Hour},
			{store.AlertOpen, store.SeverityInfo, store.AlertSLABreach, false, false, 0},
		}
		var all []store.Alert
		for _, s := range specs {
			a := b.alert(t, func(a *store.Alert) {
				a.State = s.state
				a.Severity = s.severity
				a.Type = s.typ
				a.FirstSeenAt = base
				a.LastSeenAt = base.Add(s.seen)
				if s.job {
					a.JobID = &job.ID
				}
				if s.media {
					a.MediaID = &med.ID
				}
				if s.state == store.AlertResolved {
					a.ResolvedAt = ptr(base.Add(s.seen))
					a.ResolvedBy = store.ResolvedByAuto
				}
			})
			all = append(all, *a)
		}
		// Most recently seen first; ties (three alerts seen at +3h) by ID, descending.
		slices.SortFunc(all, func(x, y store.Alert) int {
			if c := y.LastSeenAt.Compare(x.LastSeenAt); c != 0 {
				return c
			}
			return strings.Compare(y.ID, x.ID)
		})
		want := func(keep func(store.Alert) bool) []string {
			var out []string
			for _, a := range all {
				if keep(a) {
					out = append(out, a.ID)
				}
			}
			return out
		}
		list := func(p store.ListAlertsParams) []string {
			t.Helper()
			page, err := b.s.Alerts().List(b.ctx, p)
			require.NoError(t, err)
			require.Empty(t, page.NextCursor)
			return ids(page.Items, func(a store.Alert) string { return a.ID })
		}

		page, err := b.s.Alerts().List(b.ctx, store.ListAlertsParams{})
		require.NoError(t, err)
		require.Equal(t, all, page.Items, "whole alerts, most recently seen first")

		require.Equal(t, want(func(a store.Alert) bool { return a.State == store.AlertAcknowledged }),
			list(store.ListAlertsParams{State: store.AlertAcknowledged}))
		require.Equal(t, want(func(a store.Alert) bool { return a.State == store.AlertResolved }),
			list(store.ListAlertsParams{State: store.AlertResolved}))
		require.Equal(t, want(func(a store.Alert) bool { return a.Severity == store.SeverityCritical }),
			list(store.ListAlertsParams{Severity: store.SeverityCritical}))
		require.Equal(t, want(func(a store.Alert) bool { return a.Type == store.AlertBackupFailed }),
			list(store.ListAlertsParams{Type: store.AlertBackupFailed}))
		require.Equal(t, want(func(a store.Alert) bool { return a.JobID != nil }),
			list(store.ListAlertsParams{JobID: job.ID}))
		require.Equal(t, want(func(a store.Alert) bool { return a.MediaID != nil }),
			list(store.ListAlertsParams{MediaID: med.ID}))
		unresolved := want(func(a store.Alert) bool { return a.State != store.AlertResolved })
		require.Len(t, unresolved, 6)
		require.Equal(t, unresolved, list(store.ListAlertsParams{Unresolved: true}))
		require.Equal(t, want(func(a store.Alert) bool {
			return a.State != store.AlertResolved && a.Severity == store.SeverityCritical
		}), list(store.ListAlertsParams{Unresolved: true, Severity: store.SeverityCritical}))
		require.Equal(t, want(func(a store.Alert) bool {
			return a.JobID != nil && a.State == store.AlertOpen && a.Type == store.AlertBackupFailed
		}), list(store.ListAlertsParams{JobID: job.ID, State: store.AlertOpen, Type: store.AlertBackupFailed}))
		require.Empty(t, list(store.ListAlertsParams{JobID: store.NewID()}))

		_, err = b.s.Alerts().List(b.ctx, store.ListAlertsParams{Unresolved: true, State: store.AlertOpen})
		requireValidation(t, err, "state")

		seen := paginate(t, 3, func(p store.PageParams) (*store.Page[store.Alert], error) {
			return b.s.Alerts().List(b.ctx, store.ListAlertsParams{PageParams: p})
		}, func() { b.alert(t) }, func(a store.Alert) string { return a.ID })
		require.GreaterOrEqual(t, len(seen), len(all))
		seen = paginate(t, 1, func(p store.PageParams) (*store.Page[store.Alert], error) {
			return b.s.Alerts().List(b.ctx, store.ListAlertsParams{PageParams: p, Unresolved: true, JobID: job.ID})
		}, nil, func(a store.Alert) string { return a.ID })
		require.Equal(t, want(func(a store.Alert) bool { return a.JobID != nil && a.State != store.AlertResolved }), seen)
	})

	t.Run("CountUnresolved", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		counts, err := b.s.Alerts().CountUnresolved(b.ctx)
		require.NoError(t, err)
		require.Empty(t, counts)

		add := func(state store.AlertState, sev store.Severity) {
			b.alert(t, func(a *store.Alert) {
				a.State = state
				a.Severity = sev
				if state == store.AlertResolved {
					a.ResolvedAt = ptr(someTime())
					a.ResolvedBy = store.ResolvedByAuto
				}
			})
		}
		add(store.AlertOpen, store.SeverityError)
		add(store.AlertOpen, store.SeverityError)
		add(store.AlertOpen, store.SeverityCritical)
		add(store.AlertAcknowledged, store.SeverityWarning)
		add(store.AlertResolved, store.SeverityError)
		add(store.AlertResolved, store.SeverityInfo)
		counts, err = b.s.Alerts().CountUnresolved(b.ctx)
		require.NoError(t, err)
		require.Equal(t, map[store.AlertState]map[store.Severity]int{
			store.AlertOpen:         {store.SeverityError: 2, store.SeverityCritical: 1},
			store.AlertAcknowledged: {store.SeverityWarning: 1},
		}, counts)
	})

	t.Run("WritesInAFailedTransactionLeaveNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		ch := b.channel(t)
		a := newAlert()
		var n *store.Notification
		boom := errors.New("boom")
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			if err := tx.Alerts().Create(ctx, a); err != nil {
				return err
			}
			n = newNotification(ch.ID)
			n.AlertID = &a.ID
			if err := tx.Notifications().Create(ctx, n); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		_, err = b.s.Alerts().GetUnresolved(b.ctx, a.DedupeKey)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Notifications().Get(b.ctx, n.ID)
		require.ErrorIs(t, err, store.ErrNotFound)

		// The same writes commit together.
		a = newAlert()
		err = b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			if err := tx.Alerts().Create(ctx, a); err != nil {
				return err
			}
			n = newNotification(ch.ID)
			n.AlertID = &a.ID
			return tx.Notifications().Create(ctx, n)
		})
		require.NoError(t, err)
		got, err := b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		require.Equal(t, &a.ID, got.AlertID)
	})
}

func testChannels(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := newChannel()
		c.Name = "運用チーム Slack " + uniq()
		// Spacing, key order and non-ASCII text are kept byte for byte.
		c.Settings = json.RawMessage(`{"webhook_url": "https://hooks.slack.com/services/T0/B0/XXXX",  "channel":"#バックアップ", "z":1, "a":[1, 2.50]}`)
		c.Kind = store.ChannelSlack
		c.CreatedAt = someTime()
		require.NoError(t, b.s.Channels().Create(b.ctx, c))
		require.NotEmpty(t, c.ID)
		require.Equal(t, norm(someTime()), c.CreatedAt)
		require.Equal(t, c.CreatedAt, c.UpdatedAt)

		got, err := b.s.Channels().Get(b.ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, c, got)
		require.Equal(t, string(c.Settings), string(got.Settings))
		require.Equal(t, time.UTC, got.CreatedAt.Location())

		got.Kind = store.ChannelEmail
		got.Name = "管理者メール"
		got.Settings = json.RawMessage(`{"to":["admin@example.com"],"smtp":{"host":"mail.example.com","port":587}}`)
		got.MinSeverity = store.SeverityCritical
		got.Active = false
		require.NoError(t, b.s.Channels().Update(b.ctx, got))
		again, err := b.s.Channels().Get(b.ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)

		again.Settings = nil
		require.NoError(t, b.s.Channels().Update(b.ctx, again))
		empty, err := b.s.Channels().Get(b.ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, again, empty)
		require.Nil(t, empty.Settings)

		require.NoError(t, b.s.Channels().Delete(b.ctx, c.ID))
		_, err = b.s.Channels().Get(b.ctx, c.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Channels().Delete(b.ctx, c.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.Channels().Update(b.ctx, got), store.ErrNotFound)
	})

	t.Run("NamesAreUniqueIgnoringCase", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		ops := b.channel(t, func(c *store.Channel) { c.Name = "Ops-Slack" })
		dup := newChannel()
		dup.Name = "ops-SLACK"
		requireConflictOn(t, b.s.Channels().Create(b.ctx, dup), "name")

		other := b.channel(t, func(c *store.Channel) { c.Name = "運用チャンネル" })
		other.Name = "OPS-SLACK"
		requireConflictOn(t, b.s.Channels().Update(b.ctx, other), "name")
		got, err := b.s.Channels().Get(b.ctx, other.ID)
		require.NoError(t, err)
		require.Equal(t, "運用チャンネル", got.Name)

		// A channel may change the case of its own name.
		ops.Name = "OPS-slack"
		require.NoError(t, b.s.Channels().Update(b.ctx, ops))
		got, err = b.s.Channels().Get(b.ctx, ops.ID)
		require.NoError(t, err)
		require.Equal(t, "OPS-slack", got.Name)
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		cases := []struct {
			field string
			mod   func(*store.Channel)
		}{
			{"kind", func(c *store.Channel) { c.Kind = "sms" }},
			{"kind", func(c *store.Channel) { c.Kind = "" }},
			{"name", func(c *store.Channel) { c.Name = "" }},
			{"name", func(c *store.Channel) { c.Name = " ops" }},
			{"name", func(c *store.Channel) { c.Name = strings.Repeat("名", store.MaxNameLen+1) }},
			{"settings", func(c *store.Channel) { c.Settings = json.RawMessage(`{"url":`) }},
			{"settings", func(c *store.Channel) {
				c.Settings = json.RawMessage(`"` + strings.Repeat("x", 64<<10) + `"`)
			}},
			{"min_severity", func(c *store.Channel) { c.MinSeverity = "fatal" }},
		}
		for _, tc := range cases {
			c := newChannel()
			tc.mod(c)
			requireValidation(t, b.s.Channels().Create(b.ctx, c), tc.field)
		}
		page, err := b.s.Channels().List(b.ctx, store.ListChannelsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items)

		fits := b.channel(t, func(c *store.Channel) { c.Name = strings.Repeat("名", store.MaxNameLen) })
		got, err := b.s.Channels().Get(b.ctx, fits.ID)
		require.NoError(t, err)
		require.Equal(t, fits, got, "200 Japanese characters fit")

		got.MinSeverity = ""
		requireValidation(t, b.s.Channels().Update(b.ctx, got), "min_severity")
	})

	t.Run("DeletingAChannelDeletesItsNotifications", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.channel(t)
		other := b.channel(t)
		n1 := b.notification(t, c.ID)
		n2 := b.notification(t, c.ID, func(n *store.Notification) { n.State = store.NotificationSent; n.SentAt = ptr(someTime()) })
		kept := b.notification(t, other.ID)

		require.NoError(t, b.s.Channels().Delete(b.ctx, c.ID))
		for _, id := range []string{n1.ID, n2.ID} {
			_, err := b.s.Notifications().Get(b.ctx, id)
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		got, err := b.s.Notifications().Get(b.ctx, kept.ID)
		require.NoError(t, err)
		require.Equal(t, kept, got)
	})

	t.Run("ListOrderFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := uniq()
		beta := b.channel(t, func(c *store.Channel) { c.Name = "beta-" + u; c.Kind = store.ChannelSlack })
		alpha := b.channel(t, func(c *store.Channel) { c.Name = "Alpha-" + u; c.Kind = store.ChannelEmail; c.Active = false })
		gamma := b.channel(t, func(c *store.Channel) { c.Name = "GAMMA-" + u; c.Kind = store.ChannelSlack; c.Active = false })
		delta := b.channel(t, func(c *store.Channel) { c.Name = "delta-" + u; c.Kind = store.ChannelTeams })

		page, err := b.s.Channels().List(b.ctx, store.ListChannelsParams{})
		require.NoError(t, err)
		require.Equal(t, []store.Channel{*alpha, *beta, *delta, *gamma}, page.Items, "ordered by name, ignoring case")

		list := func(p store.ListChannelsParams) []string {
			t.Helper()
			page, err := b.s.Channels().List(b.ctx, p)
			require.NoError(t, err)
			return ids(page.Items, func(c store.Channel) string { return c.ID })
		}
		require.Equal(t, []string{beta.ID, gamma.ID}, list(store.ListChannelsParams{Kind: store.ChannelSlack}))
		require.Equal(t, []string{alpha.ID}, list(store.ListChannelsParams{Kind: store.ChannelEmail}))
		require.Empty(t, list(store.ListChannelsParams{Kind: store.ChannelWebhook}))
		require.Equal(t, []string{beta.ID, delta.ID}, list(store.ListChannelsParams{Active: ptr(true)}))
		require.Equal(t, []string{alpha.ID, gamma.ID}, list(store.ListChannelsParams{Active: ptr(false)}))
		require.Equal(t, []string{gamma.ID}, list(store.ListChannelsParams{Kind: store.ChannelSlack, Active: ptr(false)}))

		seen := paginate(t, 1, func(p store.PageParams) (*store.Page[store.Channel], error) {
			return b.s.Channels().List(b.ctx, store.ListChannelsParams{PageParams: p})
		}, func() { b.channel(t) }, func(c store.Channel) string { return c.ID })
		require.GreaterOrEqual(t, len(seen), 4)
	})

	t.Run("ListActiveReturnsEveryActiveChannel", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		active, err := b.s.Channels().ListActive(b.ctx)
		require.NoError(t, err)
		require.Empty(t, active)

		var want []store.Channel
		for i := range store.LimitDefault + 10 {
			c := b.channel(t, func(c *store.Channel) { c.Active = i%7 != 0 })
			if c.Active {
				want = append(want, *c)
			}
		}
		slices.SortFunc(want, func(x, y store.Channel) int {
			return strings.Compare(store.NameKey(x.Name), store.NameKey(y.Name))
		})
		require.Greater(t, len(want), store.LimitDefault, "more than one default page")
		active, err = b.s.Channels().ListActive(b.ctx)
		require.NoError(t, err)
		require.Equal(t, want, active)
	})
}

func testNotifications(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.channel(t)
		a := b.alert(t)
		r := b.report(t)
		n := newNotification(c.ID)
		n.AlertID = &a.ID
		n.ReportID = &r.ID
		n.Payload = json.RawMessage(`{"title": "バックアップ失敗",  "severity":"error", "z":[1, 2]}`)
		n.NextAttemptAt = someTime()
		n.CreatedAt = someTime()
		require.NoError(t, b.s.Notifications().Create(b.ctx, n))
		require.NotEmpty(t, n.ID)
		require.Equal(t, norm(someTime()), n.NextAttemptAt)
		require.Equal(t, norm(someTime()), n.CreatedAt)
		require.Equal(t, n.CreatedAt, n.UpdatedAt)

		got, err := b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		require.Equal(t, n, got)
		require.Equal(t, string(n.Payload), string(got.Payload))
		require.Equal(t, time.UTC, got.NextAttemptAt.Location())

		got.State = store.NotificationFailed
		got.Attempts = 1
		got.NextAttemptAt = someTime().Add(time.Minute)
		got.LastError = "SMTP 550: メールボックスがありません"
		require.NoError(t, b.s.Notifications().Update(b.ctx, got))
		again, err := b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)

		again.State = store.NotificationSent
		again.Attempts = 2
		again.SentAt = ptr(someTime().Add(5 * time.Minute))
		again.LastError = ""
		require.NoError(t, b.s.Notifications().Update(b.ctx, again))
		require.Equal(t, norm(someTime().Add(5*time.Minute)), *again.SentAt)
		sent, err := b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		require.Equal(t, again, sent)

		// Update writes the delivery fields only.
		changed := *sent
		changed.Payload = json.RawMessage(`{"other":true}`)
		changed.AlertID = nil
		require.NoError(t, b.s.Notifications().Update(b.ctx, &changed))
		kept, err := b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		require.Equal(t, string(n.Payload), string(kept.Payload))
		require.Equal(t, &a.ID, kept.AlertID)

		_, err = b.s.Notifications().Get(b.ctx, store.NewID())
		require.ErrorIs(t, err, store.ErrNotFound)
		missing := newNotification(c.ID)
		missing.ID = store.NewID()
		require.ErrorIs(t, b.s.Notifications().Update(b.ctx, missing), store.ErrNotFound)
	})

	t.Run("LastErrorIsCutToMaxMessageLen", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.channel(t)
		n := newNotification(c.ID)
		n.State = store.NotificationFailed
		n.LastError = strings.Repeat("誤", store.MaxMessageLen+1)
		require.NoError(t, b.s.Notifications().Create(b.ctx, n))
		require.Equal(t, strings.Repeat("誤", store.MaxMessageLen), n.LastError)
		got, err := b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		require.Equal(t, n, got)

		got.LastError = strings.Repeat("失", store.MaxMessageLen) + "敗"
		require.NoError(t, b.s.Notifications().Update(b.ctx, got))
		require.Equal(t, store.MaxMessageLen, utf8.RuneCountInString(got.LastError))
		require.Equal(t, strings.Repeat("失", store.MaxMessageLen), got.LastError)
		again, err := b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.channel(t)
		cases := []struct {
			field string
			mod   func(*store.Notification)
		}{
			{"channel_id", func(n *store.Notification) { n.ChannelID = "" }},
			{"payload", func(n *store.Notification) { n.Payload = nil }},
			{"payload", func(n *store.Notification) { n.Payload = json.RawMessage(`{"a":`) }},
			{"state", func(n *store.Notification) { n.State = "queued" }},
			{"state", func(n *store.Notification) { n.State = "" }},
			{"attempts", func(n *store.Notification) { n.Attempts = -1 }},
			{"next_attempt_at", func(n *store.Notification) { n.NextAttemptAt = time.Time{} }},
		}
		for _, tc := range cases {
			n := newNotification(c.ID)
			tc.mod(n)
			requireValidation(t, b.s.Notifications().Create(b.ctx, n), tc.field)
		}
		page, err := b.s.Notifications().List(b.ctx, store.ListNotificationsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items)

		n := b.notification(t, c.ID)
		bad := *n
		bad.Attempts = -1
		requireValidation(t, b.s.Notifications().Update(b.ctx, &bad), "attempts")
		got, err := b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		require.Equal(t, n, got)
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.channel(t)
		require.ErrorIs(t, b.s.Notifications().Create(b.ctx, newNotification(store.NewID())), store.ErrForeignKey)
		withAlert := newNotification(c.ID)
		withAlert.AlertID = ptr(store.NewID())
		require.ErrorIs(t, b.s.Notifications().Create(b.ctx, withAlert), store.ErrForeignKey)
		withReport := newNotification(c.ID)
		withReport.ReportID = ptr(store.NewID())
		require.ErrorIs(t, b.s.Notifications().Create(b.ctx, withReport), store.ErrForeignKey)

		// Deleting the alert or report a notification was about keeps the
		// notification.
		a := b.alert(t)
		r := b.report(t)
		n := b.notification(t, c.ID, func(n *store.Notification) {
			n.AlertID = &a.ID
			n.ReportID = &r.ID
		})
		require.NoError(t, b.s.Alerts().Delete(b.ctx, a.ID))
		got, err := b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		want := *n
		want.AlertID = nil
		require.Equal(t, &want, got)
		require.NoError(t, b.s.Reports().Delete(b.ctx, r.ID))
		got, err = b.s.Notifications().Get(b.ctx, n.ID)
		require.NoError(t, err)
		want.ReportID = nil
		require.Equal(t, &want, got)
	})

	t.Run("ListOldestFirstFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c1 := b.channel(t)
		c2 := b.channel(t)
		a := b.alert(t)
		base := time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)
		type spec struct {
			channel string
			alert   bool
			state   store.NotificationState
			created time.Duration
		}
		specs := []spec{
			{c1.ID, true, store.NotificationPending, 5 * time.Minute},
			{c2.ID, true, store.NotificationSent, time.Minute},
			{c1.ID, false, store.NotificationFailed, 3 * time.Minute},
			{c2.ID, false, store.NotificationPending, 3 * time.Minute},
			{c1.ID, true, store.NotificationDead, 3 * time.Minute},
			{c1.ID, false, store.NotificationPending, 0},
		}
		var all []store.Notification
		for _, s := range specs {
			n := b.notification(t, s.channel, func(n *store.Notification) {
				n.State = s.state
				n.CreatedAt = base.Add(s.created)
				if s.alert {
					n.AlertID = &a.ID
				}
			})
			all = append(all, *n)
		}
		slices.SortFunc(all, func(x, y store.Notification) int {
			if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
		want := func(keep func(store.Notification) bool) []string {
			var out []string
			for _, n := range all {
				if keep(n) {
					out = append(out, n.ID)
				}
			}
			return out
		}
		list := func(p store.ListNotificationsParams) []string {
			t.Helper()
			page, err := b.s.Notifications().List(b.ctx, p)
			require.NoError(t, err)
			return ids(page.Items, func(n store.Notification) string { return n.ID })
		}
		page, err := b.s.Notifications().List(b.ctx, store.ListNotificationsParams{})
		require.NoError(t, err)
		require.Equal(t, all, page.Items, "oldest first")

		require.Equal(t, want(func(n store.Notification) bool { return n.State == store.NotificationPending }),
			list(store.ListNotificationsParams{State: store.NotificationPending}))
		require.Equal(t, want(func(n store.Notification) bool { return n.ChannelID == c2.ID }),
			list(store.ListNotificationsParams{ChannelID: c2.ID}))
		require.Equal(t, want(func(n store.Notification) bool { return n.AlertID != nil }),
			list(store.ListNotificationsParams{AlertID: a.ID}))
		require.Equal(t, want(func(n store.Notification) bool {
			return n.ChannelID == c1.ID && n.AlertID != nil && n.State == store.NotificationDead
		}), list(store.ListNotificationsParams{ChannelID: c1.ID, AlertID: a.ID, State: store.NotificationDead}))
		require.Empty(t, list(store.ListNotificationsParams{AlertID: store.NewID()}))

		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.Notification], error) {
			return b.s.Notifications().List(b.ctx, store.ListNotificationsParams{PageParams: p})
		}, func() { b.notification(t, c2.ID) }, func(n store.Notification) string { return n.ID })
		require.GreaterOrEqual(t, len(seen), len(all))
	})

	t.Run("ClaimLeasesDueRows", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.channel(t)
		now := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
		const lease = 5 * time.Minute
		at := func(state store.NotificationState, next time.Time, attempts int) *store.Notification {
			return b.notification(t, c.ID, func(n *store.Notification) {
				n.State = state
				n.NextAttemptAt = next
				n.Attempts = attempts
			})
		}
		// Created out of order: claims go by next attempt.
		pending2 := at(store.NotificationPending, now, 0)
		failed := at(store.NotificationFailed, now.Add(-time.Minute), 2)
		pending1 := at(store.NotificationPending, now.Add(-2*time.Minute), 0)
		later := at(store.NotificationPending, now.Add(time.Second), 0)
		sent := at(store.NotificationSent, now.Add(-time.Hour), 1)
		dead := at(store.NotificationDead, now.Add(-time.Hour), 8)

		claimed, err := b.s.Notifications().Claim(b.ctx, now.In(tokyo), lease, 10)
		require.NoError(t, err)
		require.Equal(t, []string{pending1.ID, failed.ID, pending2.ID},
			ids(claimed, func(n store.Notification) string { return n.ID }))
		for i, before := range []*store.Notification{pending1, failed, pending2} {
			require.Equal(t, before.Attempts+1, claimed[i].Attempts, "a claim counts an attempt")
			require.Equal(t, now.Add(lease), claimed[i].NextAttemptAt)
			require.Equal(t, before.State, claimed[i].State)
			got, err := b.s.Notifications().Get(b.ctx, before.ID)
			require.NoError(t, err)
			require.Equal(t, claimed[i], *got, "Claim returns the rows as stored")
		}

		again, err := b.s.Notifications().Claim(b.ctx, now, lease, 10)
		require.NoError(t, err)
		require.Empty(t, again, "leased rows are not claimed twice")

		justBefore, err := b.s.Notifications().Claim(b.ctx, now.Add(lease-time.Microsecond), lease, 10)
		require.NoError(t, err)
		require.Equal(t, []string{later.ID}, ids(justBefore, func(n store.Notification) string { return n.ID }),
			"only the row that fell due since; the lease still holds the others")

		expired, err := b.s.Notifications().Claim(b.ctx, now.Add(lease), lease, 10)
		require.NoError(t, err)
		// They share one due time now, so they come in ID order.
		leased := []string{pending1.ID, failed.ID, pending2.ID}
		slices.Sort(leased)
		require.Equal(t, leased, ids(expired, func(n store.Notification) string { return n.ID }),
			"claimable again when the lease ends")
		for _, n := range expired {
			before := map[string]int{pending1.ID: 0, failed.ID: 2, pending2.ID: 0}[n.ID]
			require.Equal(t, before+2, n.Attempts)
		}

		farFuture, err := b.s.Notifications().Claim(b.ctx, now.Add(24*time.Hour), lease, 10)
		require.NoError(t, err)
		got := ids(farFuture, func(n store.Notification) string { return n.ID })
		require.ElementsMatch(t, []string{pending1.ID, failed.ID, pending2.ID, later.ID}, got)
		require.NotContains(t, got, sent.ID)
		require.NotContains(t, got, dead.ID)
		for _, n := range []*store.Notification{sent, dead} {
			stored, err := b.s.Notifications().Get(b.ctx, n.ID)
			require.NoError(t, err)
			require.Equal(t, n, stored, "sent and dead rows are never touched")
		}
	})

	t.Run("ClaimHonoursLimitAndOrder", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.channel(t)
		now := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
		var all []store.Notification
		for i := range 6 {
			n := b.notification(t, c.ID, func(n *store.Notification) {
				// Two share each due time; ties go by ID.
				n.NextAttemptAt = now.Add(-time.Duration(i/2) * time.Minute)
			})
			all = append(all, *n)
		}
		slices.SortFunc(all, func(x, y store.Notification) int {
			if c := x.NextAttemptAt.Compare(y.NextAttemptAt); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
		first, err := b.s.Notifications().Claim(b.ctx, now, time.Hour, 3)
		require.NoError(t, err)
		require.Equal(t, ids(all[:3], func(n store.Notification) string { return n.ID }),
			ids(first, func(n store.Notification) string { return n.ID }))
		rest, err := b.s.Notifications().Claim(b.ctx, now, time.Hour, 10)
		require.NoError(t, err)
		require.Equal(t, ids(all[3:], func(n store.Notification) string { return n.ID }),
			ids(rest, func(n store.Notification) string { return n.ID }))

		_, err = b.s.Notifications().Claim(b.ctx, now, time.Hour, 0)
		requireValidation(t, err, "limit")
		_, err = b.s.Notifications().Claim(b.ctx, now, 0, 10)
		requireValidation(t, err, "lease")
	})

	t.Run("ConcurrentClaimsTakeEachRowOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.channel(t)
		now := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
		const rows, workers, batch = 100, 4, 10
		for i := range rows {
			b.notification(t, c.ID, func(n *store.Notification) {
				n.NextAttemptAt = now.Add(-time.Duration(i%7) * time.Second)
			})
		}
		var (
			mu     sync.Mutex
			claims = map[string]int{}
			total  atomic.Int64
			wg     sync.WaitGroup
			start  = make(chan struct{})
			errs   = make([]error, workers)
		)
		for w := range workers {
			wg.Go(func() {
				<-start
				// Rows locked by another dispatcher are skipped, so an empty
				// claim only ends the loop once every row is taken.
				for spins := 0; total.Load() < rows; spins++ {
					if spins > 100000 {
						errs[w] = errors.New("claims never took every row")
						return
					}
					got, err := b.s.Notifications().Claim(b.ctx, now, time.Hour, batch)
					if err != nil {
						errs[w] = err
						return
					}
					if len(got) > batch {
						errs[w] = errors.New("claim returned more rows than its limit")
						return
					}
					mu.Lock()
					for _, n := range got {
						claims[n.ID]++
					}
					mu.Unlock()
					total.Add(int64(len(got)))
				}
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, claims, rows)
		for id, k := range claims {
			require.Equal(t, 1, k, "row %s claimed %d times", id, k)
		}
		require.EqualValues(t, rows, total.Load())

		page, err := b.s.Notifications().List(b.ctx, store.ListNotificationsParams{PageParams: store.PageParams{Limit: store.LimitMax}})
		require.NoError(t, err)
		require.Len(t, page.Items, rows)
		for _, n := range page.Items {
			require.Equal(t, 1, n.Attempts)
			require.Equal(t, now.Add(time.Hour), n.NextAttemptAt)
		}
		left, err := b.s.Notifications().Claim(b.ctx, now, time.Hour, rows)
		require.NoError(t, err)
		require.Empty(t, left)
	})

	t.Run("CountByState", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		counts, err := b.s.Notifications().CountByState(b.ctx)
		require.NoError(t, err)
		require.Empty(t, counts)
		c := b.channel(t)
		for state, k := range map[store.NotificationState]int{
			store.NotificationPending: 2,
			store.NotificationFailed:  1,
			store.NotificationSent:    3,
			store.NotificationDead:    1,
		} {
			for range k {
				b.notification(t, c.ID, func(n *store.Notification) { n.State = state })
			}
		}
		counts, err = b.s.Notifications().CountByState(b.ctx)
		require.NoError(t, err)
		require.Equal(t, map[store.NotificationState]int{
			store.NotificationPending: 2,
			store.NotificationFailed:  1,
			store.NotificationSent:    3,
			store.NotificationDead:    1,
		}, counts)
	})

	t.Run("DeleteSentBeforeRemovesOldFinishedRows", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.channel(t)
		old := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		recent := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		mk := func(state store.NotificationState, at time.Time) *store.Notification {
			// Created rows carry UpdatedAt = CreatedAt.
			return b.notification(t, c.ID, func(n *store.Notification) {
				n.State = state
				n.CreatedAt = at
			})
		}
		oldSent := mk(store.NotificationSent, old)
		oldDead := mk(store.NotificationDead, old)
		oldPending := mk(store.NotificationPending, old)
		oldFailed := mk(store.NotificationFailed, old)
		recentSent := mk(store.NotificationSent, recent)

		n, err := b.s.Notifications().DeleteSentBefore(b.ctx, old)
		require.NoError(t, err)
		require.Zero(t, n, "the bound is exclusive")

		n, err = b.s.Notifications().DeleteSentBefore(b.ctx, old.Add(time.Microsecond).In(tokyo))
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		for _, gone := range []*store.Notification{oldSent, oldDead} {
			_, err := b.s.Notifications().Get(b.ctx, gone.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		page, err := b.s.Notifications().List(b.ctx, store.ListNotificationsParams{})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{oldPending.ID, oldFailed.ID, recentSent.ID},
			ids(page.Items, func(n store.Notification) string { return n.ID }))

		n, err = b.s.Notifications().DeleteSentBefore(b.ctx, old.Add(time.Hour))
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

func testReports(t *testing.T, newStore NewStoreFunc) {
	withoutContent := func(r *store.Report) *store.Report {
		c := *r
		c.Content = nil
		return &c
	}

	t.Run("CreateGetDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		user := b.user(t)
		r := newReport()
		r.Type = store.ReportISO27001
		r.Format = store.FormatPDF
		r.GeneratedBy = &user.ID
		r.PeriodFrom = someTime().Add(-30 * 24 * time.Hour)
		r.PeriodTo = someTime()
		r.GeneratedAt = someTime().Add(time.Minute)
		r.CreatedAt = someTime().Add(time.Minute)
		r.Content = []byte("%PDF-1.7 バックアップ報告書")
		r.SizeBytes = int64(len(r.Content))
		require.NoError(t, b.s.Reports().Create(b.ctx, r))
		require.NotEmpty(t, r.ID)
		require.Equal(t, norm(someTime()), r.PeriodTo)
		require.Equal(t, norm(someTime().Add(-30*24*time.Hour)), r.PeriodFrom)
		require.Equal(t, norm(someTime().Add(time.Minute)), r.GeneratedAt)
		require.Equal(t, norm(someTime().Add(time.Minute)), r.CreatedAt)

		got, err := b.s.Reports().Get(b.ctx, r.ID)
		require.NoError(t, err)
		require.Nil(t, got.Content, "Get leaves the content out")
		require.Equal(t, withoutContent(r), got)
		require.Equal(t, time.UTC, got.GeneratedAt.Location())

		full, err := b.s.Reports().GetContent(b.ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, r, full)

		require.NoError(t, b.s.Reports().Delete(b.ctx, r.ID))
		_, err = b.s.Reports().Get(b.ctx, r.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Reports().GetContent(b.ctx, r.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Reports().Delete(b.ctx, r.ID), store.ErrNotFound)
	})

	t.Run("BinaryContentRoundTrips", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		big := make([]byte, 1<<20)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range big {
			big[i] = byte(rng.UintN(256))
		}
		big[0], big[len(big)-1] = 0, 0
		for name, content := range map[string][]byte{
			"zero bytes and invalid UTF-8": []byte("\x00\xff\xfe\x00PK\x03\x04\xc3\x28\x00"),
			"one MiB of random bytes":      big,
			"only zero bytes":              make([]byte, 4096),
			"empty":                        {},
		} {
			r := b.report(t, func(r *store.Report) {
				r.Format = store.FormatPDF
				r.Content = content
				r.SizeBytes = int64(len(content))
			})
			got, err := b.s.Reports().GetContent(b.ctx, r.ID)
			require.NoError(t, err, name)
			require.NotNil(t, got.Content, name)
			require.True(t, bytes.Equal(content, got.Content), "%s: content differs (%d bytes back, %d sent)", name, len(got.Content), len(content))
			require.Equal(t, int64(len(content)), got.SizeBytes, name)
			meta, err := b.s.Reports().Get(b.ctx, r.ID)
			require.NoError(t, err, name)
			require.Nil(t, meta.Content, name)
			require.Equal(t, withoutContent(r), meta, name)
		}
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		cases := []struct {
			field string
			mod   func(*store.Report)
		}{
			{"type", func(r *store.Report) { r.Type = "yearly" }},
			{"format", func(r *store.Report) { r.Format = "docx" }},
			{"period", func(r *store.Report) { r.PeriodFrom = time.Time{} }},
			{"period", func(r *store.Report) { r.PeriodTo = time.Time{} }},
			{"period_to", func(r *store.Report) { r.PeriodTo = r.PeriodFrom.Add(-time.Second) }},
			{"generated_at", func(r *store.Report) { r.GeneratedAt = time.Time{} }},
			{"sha256", func(r *store.Report) { r.SHA256 = "abc" }},
			{"size_bytes", func(r *store.Report) { r.SizeBytes++ }},
		}
		for _, tc := range cases {
			r := newReport()
			tc.mod(r)
			requireValidation(t, b.s.Reports().Create(b.ctx, r), tc.field)
		}
		page, err := b.s.Reports().List(b.ctx, store.ListReportsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r := newReport()
		r.GeneratedBy = ptr(store.NewID())
		require.ErrorIs(t, b.s.Reports().Create(b.ctx, r), store.ErrForeignKey)

		user := b.user(t)
		kept := b.report(t, func(r *store.Report) { r.GeneratedBy = &user.ID })
		require.NoError(t, b.s.Users().Delete(b.ctx, user.ID))
		got, err := b.s.Reports().Get(b.ctx, kept.ID)
		require.NoError(t, err, "a report outlives the user who generated it")
		want := withoutContent(kept)
		want.GeneratedBy = nil
		require.Equal(t, want, got)
	})

	t.Run("ListNewestFirstFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		type spec struct {
			typ store.ReportType
			at  time.Duration
		}
		specs := []spec{
			{store.ReportDaily, 0},
			{store.ReportWeekly, 48 * time.Hour},
			{store.ReportDaily, 24 * time.Hour},
			{store.ReportCompliance, 24 * time.Hour},
			{store.ReportDaily, 72 * time.Hour},
			{store.ReportAudit, 24 * time.Hour},
		}
		var all []store.Report
		for _, s := range specs {
			r := b.report(t, func(r *store.Report) {
				r.Type = s.typ
				r.GeneratedAt = base.Add(s.at)
			})
			all = append(all, *withoutContent(r))
		}
		slices.SortFunc(all, func(x, y store.Report) int {
			if c := y.GeneratedAt.Compare(x.GeneratedAt); c != 0 {
				return c
			}
			return strings.Compare(y.ID, x.ID)
		})
		want := func(keep func(store.Report) bool) []string {
			var out []string
			for _, r := range all {
				if keep(r) {
					out = append(out, r.ID)
				}
			}
			return out
		}
		list := func(p store.ListReportsParams) []string {
			t.Helper()
			page, err := b.s.Reports().List(b.ctx, p)
			require.NoError(t, err)
			for _, r := range page.Items {
				require.Nil(t, r.Content, "lists never carry content")
			}
			return ids(page.Items, func(r store.Report) string { return r.ID })
		}

		page, err := b.s.Reports().List(b.ctx, store.ListReportsParams{})
		require.NoError(t, err)
		require.Equal(t, all, page.Items, "newest first, without content")

		require.Equal(t, want(func(r store.Report) bool { return r.Type == store.ReportDaily }),
			list(store.ListReportsParams{Type: store.ReportDaily}))
		require.Empty(t, list(store.ListReportsParams{Type: store.ReportISO27001}))
		from, to := base.Add(24*time.Hour), base.Add(72*time.Hour)
		inRange := want(func(r store.Report) bool { return !r.GeneratedAt.Before(from) && r.GeneratedAt.Before(to) })
		require.Len(t, inRange, 4, "From is inclusive, To exclusive")
		require.Equal(t, inRange, list(store.ListReportsParams{Generated: store.TimeRange{From: from.In(tokyo), To: to.In(tokyo)}}))
		require.Equal(t, want(func(r store.Report) bool { return !r.GeneratedAt.Before(from) }),
			list(store.ListReportsParams{Generated: store.TimeRange{From: from}}))
		require.Equal(t, want(func(r store.Report) bool { return r.GeneratedAt.Before(to) }),
			list(store.ListReportsParams{Generated: store.TimeRange{To: to}}))
		require.Equal(t, want(func(r store.Report) bool {
			return r.Type == store.ReportDaily && !r.GeneratedAt.Before(from) && r.GeneratedAt.Before(to)
		}), list(store.ListReportsParams{Type: store.ReportDaily, Generated: store.TimeRange{From: from, To: to}}))

		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.Report], error) {
			return b.s.Reports().List(b.ctx, store.ListReportsParams{PageParams: p})
		}, func() { b.report(t) }, func(r store.Report) string { return r.ID })
		require.GreaterOrEqual(t, len(seen), len(all))
	})
}
