package backupmgmt

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// testStart is when the fake clock of most service tests starts: a Monday.
var testStart = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// testClock is a fake clock, safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// testBundle is a service on a fresh store with a fake clock shared by both.
type testBundle struct {
	svc   *Service
	store *bunstore.Store
	clock *testClock
}

// setup returns a service on a fresh store of kind. cfg may be nil; its Now
// is replaced by the bundle's clock.
func setup(t testing.TB, kind dbopen.Kind, cfg *Config) *testBundle {
	t.Helper()
	clock := newTestClock(testStart)
	s := bunstoretest.New(t, kind, &bunstoretest.Options{Config: &bunstore.Config{Now: clock.Now}})
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.Now = clock.Now
	svc, err := New(s, &c)
	require.NoError(t, err)
	return &testBundle{svc: svc, store: s, clock: clock}
}

// eachDialect runs fn as a parallel subtest per database.
func eachDialect(t *testing.T, fn func(t *testing.T, kind dbopen.Kind)) {
	t.Helper()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}

// jobFixture is a job stored directly, without the jobs service: daily cron
// at 02:00 UTC, an hour of grace, due at its first run.
func (b *testBundle) jobFixture(t testing.TB, name string, mod func(j *store.Job)) *store.Job {
	t.Helper()
	now := b.svc.Now()
	j := &store.Job{
		Name:      name,
		JobType:   store.JobTypeFile,
		Tool:      store.ToolRestic,
		Schedule:  store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"},
		Grace:     time.Hour,
		Active:    true,
		PingToken: "tok-" + name,
		State:     store.JobStateNew,
		CreatedAt: now,
	}
	if mod != nil {
		mod(j)
	}
	due, err := NextDue(j.Schedule, j.Grace, now)
	require.NoError(t, err)
	j.NextDueAt = due
	require.NoError(t, b.store.Jobs().Create(t.Context(), j))
	return j
}

// userFixture stores an active user with a placeholder hash.
func (b *testBundle) userFixture(t testing.TB, username string, role store.Role) *store.User {
	t.Helper()
	u := &store.User{Username: username, Email: username + "@example.com", Role: role, Active: true, PasswordHash: "$argon2id$placeholder", CreatedAt: b.svc.Now()}
	require.NoError(t, b.store.Users().Create(t.Context(), u))
	return u
}

// actor returns ctx acting as u.
func actorCtx(ctx context.Context, u *store.User) context.Context {
	return WithActor(ctx, Actor{UserID: u.ID, Role: u.Role, IP: "192.0.2.1", RequestID: "req-test"})
}

// channelFixture stores an active channel.
func (b *testBundle) channelFixture(t testing.TB, name string, min store.Severity) *store.Channel {
	t.Helper()
	ch := &store.Channel{Kind: store.ChannelWebhook, Name: name, Settings: json.RawMessage(`{"url":"https://example.invalid/hook"}`), MinSeverity: min, Active: true}
	require.NoError(t, b.store.Channels().Create(t.Context(), ch))
	return ch
}

// notices returns the outbox payloads of a channel, oldest first.
func (b *testBundle) notices(t testing.TB, channelID string) []AlertNotice {
	t.Helper()
	page, err := b.store.Notifications().List(t.Context(), store.ListNotificationsParams{ChannelID: channelID, PageParams: store.PageParams{Limit: store.LimitMax}})
	require.NoError(t, err)
	out := make([]AlertNotice, 0, len(page.Items))
	for _, n := range page.Items {
		var a AlertNotice
		require.NoError(t, json.Unmarshal(n.Payload, &a))
		out = append(out, a)
	}
	return out
}

// auditActions returns the actions of the audit log in order, after
// checking that the chain verifies.
func (b *testBundle) auditActions(t testing.TB) []string {
	t.Helper()
	v, err := b.svc.Audit().Verify(t.Context())
	require.NoError(t, err)
	require.True(t, v.OK, "audit chain broken at %d: %s", v.BrokenAt, v.Reason)
	events, err := b.store.Audit().Range(t.Context(), 0, 100000)
	require.NoError(t, err)
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Action
	}
	return out
}

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("RejectsNilStore", func(t *testing.T) {
		t.Parallel()
		_, err := New(nil, nil)
		require.Error(t, err)
	})

	t.Run("RejectsInvalidConfigNamingTheField", func(t *testing.T) {
		t.Parallel()
		s := bunstoretest.New(t, dbopen.SQLite, nil)
		bad := DefaultPolicy()
		bad.Copies = "sometimes"
		_, err := New(s, &Config{Policy: &bad, SLATarget: 2, LockoutWindow: -time.Second})
		var ve *store.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "policy")
		require.Contains(t, ve.Fields, "sla_target")
		require.Contains(t, ve.Fields, "lockout_window")
	})

	t.Run("FillsDefaults", func(t *testing.T) {
		t.Parallel()
		s := bunstoretest.New(t, dbopen.SQLite, nil)
		svc, err := New(s, nil)
		require.NoError(t, err)
		require.Equal(t, AlertRepeatIntervalDefault, svc.cfg.AlertRepeatInterval)
		require.Equal(t, DefaultPolicy(), *svc.cfg.Policy)
		require.Equal(t, time.UTC, svc.cfg.Location)
	})
}
