package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// eachDialect runs fn as a parallel subtest per database; PostgreSQL and
// MySQL skip, saying so, when their DSN is not set.
func eachDialect(t *testing.T, fn func(t *testing.T, kind dbopen.Kind)) {
	t.Helper()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}

// webhook returns a receiver answering status and a webhook channel "hook"
// posting to it.
func (b *testBundle) webhook(t *testing.T, status int) (*receiver, *store.Channel) {
	t.Helper()
	hook := newReceiver(t, status)
	return hook, b.channel(t, store.ChannelWebhook, "hook", map[string]any{"url": hook.URL, "secret": testSecret})
}

// queue writes n pending alert rows for ch straight into the outbox, for
// volume tests.
func (b *testBundle) queue(t testing.TB, ch *store.Channel, n int) []string {
	t.Helper()
	now := b.svc.Now()
	ids := make([]string, n)
	for i := range n {
		payload, err := json.Marshal(backupmgmt.AlertNotice{
			Event: backupmgmt.AlertEventOpened, AlertID: store.NewID(), Type: store.AlertBackupMissed,
			Severity: store.SeverityError, State: store.AlertOpen, Title: "backup of `erp` missed",
			Occurrences: 1, FirstSeenAt: now, LastSeenAt: now, At: now,
		})
		require.NoError(t, err)
		row := &store.Notification{
			ID: store.NewID(), ChannelID: ch.ID, Payload: payload, State: store.NotificationPending,
			NextAttemptAt: now, CreatedAt: now,
		}
		require.NoError(t, b.store.Notifications().Create(t.Context(), row))
		ids[i] = row.ID
	}
	return ids
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{0, time.Minute},
		{1, time.Minute},
		{2, 5 * time.Minute},
		{3, 15 * time.Minute},
		{4, time.Hour},
		{5, 2 * time.Hour},
		{6, 4 * time.Hour},
		{7, 8 * time.Hour},
		{8, 8 * time.Hour},
		{100, 8 * time.Hour},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Backoff(tt.attempt), "attempt %d", tt.attempt)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()

	t.Run("FollowTheScheduleAndDieAfterEightAttempts", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			hook, ch := b.webhook(t, http.StatusBadGateway)
			id := b.queue(t, ch, 1)[0]

			for attempt := 1; attempt <= MaxAttempts; attempt++ {
				res := b.runOnce(t)
				n := b.row(t, id)
				require.Equal(t, attempt, n.Attempts)
				require.Len(t, hook.requests(), attempt)
				if attempt == MaxAttempts {
					require.Equal(t, Result{Claimed: 1, Dead: 1}, res)
					require.Equal(t, store.NotificationDead, n.State)
					require.Contains(t, n.LastError, "HTTP 502")
					break
				}
				require.Equal(t, Result{Claimed: 1, Failed: 1}, res, "attempt %d", attempt)
				require.Equal(t, store.NotificationFailed, n.State)
				require.Equal(t, b.svc.Now().Add(Backoff(attempt)), n.NextAttemptAt)

				// Not claimed a second before its time, claimed at it.
				b.clock.Advance(Backoff(attempt) - time.Second)
				require.Equal(t, Result{}, b.runOnce(t), "attempt %d", attempt)
				b.clock.Advance(time.Second)
			}
			b.clock.Advance(30 * 24 * time.Hour)
			require.Equal(t, Result{}, b.runOnce(t))
			require.Len(t, hook.requests(), MaxAttempts)
		})
	})

	t.Run("StopOnceTheReceiverRecovers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		hook, ch := b.webhook(t, http.StatusInternalServerError)
		id := b.queue(t, ch, 1)[0]
		require.Equal(t, Result{Claimed: 1, Failed: 1}, b.runOnce(t))
		hook.mu.Lock()
		hook.status = http.StatusOK
		hook.mu.Unlock()
		b.clock.Advance(time.Minute)
		require.Equal(t, Result{Claimed: 1, Sent: 1}, b.runOnce(t))
		n := b.row(t, id)
		require.Equal(t, store.NotificationSent, n.State)
		require.Empty(t, n.LastError)
		require.Equal(t, 2, n.Attempts)
		b.clock.Advance(time.Hour)
		require.Equal(t, Result{}, b.runOnce(t))
		require.Len(t, hook.requests(), 2)
		// Both tries carried the same idempotency key.
		require.Equal(t, hook.requests()[0].Header.Get("Idempotency-Key"), hook.requests()[1].Header.Get("Idempotency-Key"))
	})
}

func TestLease(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		hook, ch := b.webhook(t, http.StatusOK)
		ids := b.queue(t, ch, 3)

		// A dispatcher claims and dies before recording anything.
		claimed, err := b.store.Notifications().Claim(t.Context(), b.svc.Now(), LeaseDefault, 10)
		require.NoError(t, err)
		require.Len(t, claimed, 3)

		fresh := b.dispatcher(nil)
		res, err := fresh.RunOnce(t.Context())
		require.NoError(t, err)
		require.Equal(t, Result{}, res, "leased rows are left alone")
		b.clock.Advance(LeaseDefault - time.Second)
		res, err = fresh.RunOnce(t.Context())
		require.NoError(t, err)
		require.Equal(t, Result{}, res)

		b.clock.Advance(time.Second)
		res, err = fresh.RunOnce(t.Context())
		require.NoError(t, err)
		require.Equal(t, Result{Claimed: 3, Sent: 3}, res)
		var delivered []string
		for _, r := range hook.requests() {
			delivered = append(delivered, r.Header.Get("X-Custos-Delivery"))
		}
		require.ElementsMatch(t, ids, delivered)
		for _, id := range ids {
			n := b.row(t, id)
			require.Equal(t, store.NotificationSent, n.State)
			require.Equal(t, 2, n.Attempts, "the lost attempt counts")
		}
	})
}

func TestBatches(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, &Config{Batch: 7, Concurrency: 3})
	hook, ch := b.webhook(t, http.StatusOK)
	b.queue(t, ch, 30)
	require.Equal(t, Result{Claimed: 30, Sent: 30}, b.runOnce(t), "batches follow each other while full")
	require.Len(t, hook.requests(), 30)
	counts, err := b.store.Notifications().CountByState(t.Context())
	require.NoError(t, err)
	require.Equal(t, map[store.NotificationState]int{store.NotificationSent: 30}, counts)
}

func TestUndeliverableChannels(t *testing.T) {
	t.Parallel()

	t.Run("InactiveChannelIsDead", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		hook, ch := b.webhook(t, http.StatusOK)
		id := b.queue(t, ch, 1)[0]
		off := false
		_, err := b.svc.Channels().Update(t.Context(), ch.ID, backupmgmt.ChannelUpdate{Active: &off})
		require.NoError(t, err)

		require.Equal(t, Result{Claimed: 1, Dead: 1}, b.runOnce(t))
		n := b.row(t, id)
		require.Equal(t, store.NotificationDead, n.State)
		require.Equal(t, `channel "hook" is inactive`, n.LastError)
		require.Empty(t, hook.requests())
	})

	t.Run("ChannelDeletedWhileClaimedIsDeadWithoutAnError", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		hook, ch := b.webhook(t, http.StatusOK)
		b.queue(t, ch, 1)
		claimed, err := b.store.Notifications().Claim(t.Context(), b.svc.Now(), LeaseDefault, 10)
		require.NoError(t, err)
		require.NoError(t, b.svc.Channels().Delete(t.Context(), ch.ID)) // its rows go with it
		var gotErr error
		d := b.dispatcher(&Config{OnOutcome: func(_ *store.Notification, _ *store.Channel, err error) { gotErr = err }})

		res, err := d.sendBatch(t.Context(), claimed)
		require.NoError(t, err)
		require.Equal(t, Result{Dead: 1}, res)
		require.ErrorContains(t, gotErr, "channel "+ch.ID+" no longer exists")
		require.Empty(t, hook.requests())
	})

	t.Run("SettingsThatNoLongerDecodeAreDead", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		ch := &store.Channel{Kind: store.ChannelWebhook, Name: "old", Settings: json.RawMessage(`{"url":"https://example.invalid/h","secret":"short"}`), MinSeverity: store.SeverityInfo, Active: true}
		require.NoError(t, b.store.Channels().Create(t.Context(), ch))
		id := b.queue(t, ch, 1)[0]

		require.Equal(t, Result{Claimed: 1, Dead: 1}, b.runOnce(t))
		n := b.row(t, id)
		require.Equal(t, store.NotificationDead, n.State)
		require.Contains(t, n.LastError, `channel "old" has invalid settings`)
		require.Contains(t, n.LastError, "settings.secret")
		require.NotContains(t, n.LastError, "short")
	})
}

func TestOnOutcome(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		got []string
	)
	b := setup(t, dbopen.SQLite, &Config{OnOutcome: func(n *store.Notification, ch *store.Channel, err error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, strings.TrimSpace(string(ch.Kind)+" "+string(n.State)+" "+errText(err)))
	}})
	ok := newReceiver(t, http.StatusOK)
	bad := newReceiver(t, http.StatusInternalServerError)
	b.queue(t, b.channel(t, store.ChannelWebhook, "ok", map[string]any{"url": ok.URL, "secret": testSecret}), 1)
	b.queue(t, b.channel(t, store.ChannelSlack, "bad", map[string]any{"webhook_url": bad.URL + "/x"}), 1)

	require.Equal(t, Result{Claimed: 2, Sent: 1, Failed: 1}, b.runOnce(t))
	require.ElementsMatch(t, []string{"webhook sent", "slack failed post to " + strings.TrimPrefix(bad.URL, "http://") + ": HTTP 500"}, got)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestRun(t *testing.T) {
	t.Parallel()

	t.Run("SendsUntilTheContextEnds", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		b := setup(t, dbopen.SQLite, &Config{OnOutcome: func(*store.Notification, *store.Channel, error) { cancel() }})
		hook, ch := b.webhook(t, http.StatusOK)
		b.queue(t, ch, 1)

		require.NoError(t, b.d.Run(ctx, time.Hour))
		require.Len(t, hook.requests(), 1)
	})

	t.Run("RejectsANonPositiveInterval", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		err := b.d.Run(t.Context(), 0)
		var ve *store.ValidationError
		require.True(t, errors.As(err, &ve))
		require.Contains(t, ve.Fields, "every")
	})
}

// TestTwoDispatchers runs two dispatchers at once over one outbox: with
// FOR UPDATE SKIP LOCKED each row is claimed by one of them, so each
// notification reaches the receiver once. SQLite has one process by design
// (DESIGN §10), so only the server databases run it.
func TestTwoDispatchers(t *testing.T) {
	t.Parallel()
	for _, kind := range []dbopen.Kind{dbopen.Postgres, dbopen.MySQL} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			hook, ch := b.webhook(t, http.StatusOK)
			ids := b.queue(t, ch, 1000)

			ds := []*Dispatcher{b.dispatcher(&Config{Batch: 25}), b.dispatcher(&Config{Batch: 25})}
			results := make([]Result, len(ds))
			var wg sync.WaitGroup
			for i, d := range ds {
				wg.Go(func() {
					// A dispatcher stops at a short claim, which the
					// other's locks may cause: keep going until the outbox
					// is empty.
					for {
						res, err := d.RunOnce(t.Context())
						if !assertNoError(t, err) || res.Claimed == 0 {
							return
						}
						results[i].Claimed += res.Claimed
						results[i].Sent += res.Sent
					}
				})
			}
			wg.Wait()

			counts := map[string]int{}
			for _, r := range hook.requests() {
				counts[r.Header.Get("X-Custos-Delivery")]++
			}
			require.Len(t, counts, len(ids))
			for _, id := range ids {
				require.Equal(t, 1, counts[id], "notification %s", id)
			}
			require.Equal(t, 1000, results[0].Sent+results[1].Sent)
			require.Equal(t, 1000, results[0].Claimed+results[1].Claimed)
			byState, err := b.store.Notifications().CountByState(t.Context())
			require.NoError(t, err)
			require.Equal(t, map[store.NotificationState]int{store.NotificationSent: 1000}, byState)
			t.Logf("%s: dispatchers sent %d and %d", kind, results[0].Sent, results[1].Sent)
		})
	}
}

// assertNoError reports err from a goroutine, where require cannot stop
// the test.
func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b := setup(t, dbopen.SQLite, &Config{Concurrency: 1, OnOutcome: func(*store.Notification, *store.Channel, error) { cancel() }})
	hook, ch := b.webhook(t, http.StatusOK)
	ids := b.queue(t, ch, 3)

	res, err := b.d.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, Result{Claimed: 3, Sent: 1}, res, "rows not yet sent when the context ends are released")
	require.Len(t, hook.requests(), 1)
	var pending int
	for _, id := range ids {
		n := b.row(t, id)
		if n.State == store.NotificationPending {
			pending++
			require.Zero(t, n.Attempts, "a released row is not charged an attempt")
			require.Equal(t, b.svc.Now(), n.NextAttemptAt, "a released row is due at once")
		}
	}
	require.Equal(t, 2, pending)

	res, err = b.d.RunOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, Result{Claimed: 2, Sent: 2}, res)
	require.Len(t, hook.requests(), 3)
}

// requireReleased asserts that row id is back in the queue unsent: due at
// once, its attempt refunded, no error recorded.
func (b *testBundle) requireReleased(t *testing.T, id string) {
	t.Helper()
	n := b.row(t, id)
	require.Equal(t, store.NotificationPending, n.State, "released unsent")
	require.Zero(t, n.Attempts, "a released row is not charged an attempt")
	require.Equal(t, b.svc.Now(), n.NextAttemptAt, "a released row is due at once")
	require.Empty(t, n.LastError)
}

// TestLeaseOverrun claims a batch whose later rows would be sent after
// their lease: they are released for the next claim instead, so no row
// reaches the receiver twice.
func TestLeaseOverrun(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, &Config{Concurrency: 1})
		hook, ch := b.webhook(t, http.StatusOK)
		ids := b.queue(t, ch, 3)
		var once sync.Once
		hook.setOnRequest(func(*http.Request) {
			// The first send is slow: the lease is within its margin
			// (a fifth of it) of ending before the next row.
			once.Do(func() { b.clock.Advance(LeaseDefault - LeaseDefault/5) })
		})

		require.Equal(t, Result{Claimed: 3, Sent: 1}, b.runOnce(t))
		require.Len(t, hook.requests(), 1)
		first := hook.requests()[0].Header.Get("X-Custos-Delivery")
		for _, id := range ids {
			if id == first {
				require.Equal(t, store.NotificationSent, b.row(t, id).State)
				continue
			}
			b.requireReleased(t, id)
		}

		// Another dispatcher after the lease sends the released rows once.
		b.clock.Advance(LeaseDefault)
		res, err := b.dispatcher(nil).RunOnce(t.Context())
		require.NoError(t, err)
		require.Equal(t, Result{Claimed: 2, Sent: 2}, res)
		var delivered []string
		for _, r := range hook.requests() {
			delivered = append(delivered, r.Header.Get("X-Custos-Delivery"))
		}
		require.ElementsMatch(t, ids, delivered, "each row delivered once")
	})
}

// TestSendEndsBeforeTheLease gives a hanging receiver as long as the lease
// minus its margin, not longer.
func TestSendEndsBeforeTheLease(t *testing.T) {
	t.Parallel()
	const lease = time.Second
	b := setup(t, dbopen.SQLite, &Config{Lease: lease})
	hook, ch := b.webhook(t, http.StatusOK)
	id := b.queue(t, ch, 1)[0]
	hook.setOnRequest(func(req *http.Request) {
		select {
		case <-req.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})

	start := time.Now()
	require.Equal(t, Result{Claimed: 1, Failed: 1}, b.runOnce(t))
	// The receiver would hang for 10 s; the send is cut off at the lease
	// less its margin (0.8 s). The bound leaves room for a loaded machine.
	require.Less(t, time.Since(start), 5*time.Second, "the send is cut off by the lease")
	n := b.row(t, id)
	require.Equal(t, store.NotificationFailed, n.State)
	require.Contains(t, n.LastError, "deadline exceeded")
}

// TestShutdownDuringASend refunds the attempt of a send cut short by the
// dispatcher's context ending, instead of recording a failure.
func TestShutdownDuringASend(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b := setup(t, dbopen.SQLite, nil)
	hook, ch := b.webhook(t, http.StatusOK)
	id := b.queue(t, ch, 1)[0]
	hook.setOnRequest(func(req *http.Request) {
		cancel()
		<-req.Context().Done()
	})

	res, err := b.d.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, Result{Claimed: 1}, res, "neither sent nor failed")
	b.requireReleased(t, id)

	hook.setOnRequest(nil)
	require.Equal(t, Result{Claimed: 1, Sent: 1}, b.runOnce(t))
	require.Equal(t, 1, b.row(t, id).Attempts)
}

// TestShutdownDuringAnSMTPSend refunds the attempt of an SMTP conversation
// cut short by shutdown, though it fails as a closed connection.
func TestShutdownDuringAnSMTPSend(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b := setup(t, dbopen.SQLite, nil)
	// A relay that accepts and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		cancel()
		_, _ = io.Copy(io.Discard, c) // until the client hangs up
		_ = c.Close()
	})
	ch := b.channel(t, store.ChannelEmail, "mail", map[string]any{
		"host": "127.0.0.1", "port": ln.Addr().(*net.TCPAddr).Port, "tls": backupmgmt.EmailNoTLS,
		"from": "custos@example.com", "to": []string{"ops@example.com"},
	})
	id := b.queue(t, ch, 1)[0]

	res, err := b.d.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, Result{Claimed: 1}, res, "neither sent nor failed")
	b.requireReleased(t, id)
}
