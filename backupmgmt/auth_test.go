package backupmgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// identityLoginEvents returns the details of the auth.login events with
// their result and actor.
func (b *testBundle) identityLoginEvents(t testing.TB) []identityLoginEvent {
	t.Helper()
	var out []identityLoginEvent
	for _, e := range b.identityEvents(t) {
		if e.Action != "auth.login" {
			continue
		}
		ev := identityLoginEvent{Result: e.Result, Actor: e.Actor, IP: e.IP}
		require.NoError(t, json.Unmarshal(e.Details, &ev.Details))
		out = append(out, ev)
	}
	return out
}

type identityLoginEvent struct {
	Result  store.AuditResult
	Actor   string
	IP      string
	Details map[string]any
}

func TestLogin(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("StartsASessionStoringOnlyTheTokenHash", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "alice", store.RoleOperator)
			res, err := b.svc.Auth().Login(ctx, LoginParams{Username: " Alice ", Password: identityPassword, IP: "192.0.2.7", UserAgent: "test/1"})
			require.NoError(t, err)
			require.Equal(t, u.ID, res.User.ID)
			require.Empty(t, res.User.PasswordHash)
			require.Len(t, res.Token.Reveal(), 43)
			require.Equal(t, security.HashToken(res.Token.Reveal()), res.Session.TokenHash)
			require.Equal(t, testStart.Add(SessionMaxAgeDefault), res.Session.ExpiresAt)
			require.Equal(t, "192.0.2.7", res.Session.IP)

			stored, err := b.store.Sessions().GetByTokenHash(ctx, security.HashToken(res.Token.Reveal()))
			require.NoError(t, err)
			require.Equal(t, res.Session.ID, stored.ID)
			got, err := b.svc.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.NotNil(t, got.LastLoginAt)
			require.Equal(t, testStart, *got.LastLoginAt)

			su, sess, err := b.svc.Auth().Session(ctx, res.Token.Reveal())
			require.NoError(t, err)
			require.Equal(t, u.ID, su.ID)
			require.Equal(t, res.Session.ID, sess.ID)
			require.Equal(t, Actor{UserID: u.ID, Role: store.RoleOperator, SessionID: sess.ID}, SessionActor(su, sess))

			events := b.identityLoginEvents(t)
			require.Len(t, events, 1)
			require.Equal(t, store.AuditSuccess, events[0].Result)
			require.Equal(t, "user:"+u.ID, events[0].Actor)
			require.Equal(t, "192.0.2.7", events[0].IP)
			b.identityNoSecrets(t, identityPassword, res.Token.Reveal())
		})

		t.Run("RefusesUnknownWrongInactiveAndLockedAlikeAndAuditsEach", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, &Config{LockoutThreshold: 2})
			ctx := t.Context()
			u := b.identityUser(t, ctx, "bob", store.RoleViewer)
			inactive := b.identityUser(t, ctx, "carl", store.RoleViewer)
			off := false
			_, err := b.svc.Users().Update(ctx, inactive.ID, UserUpdate{Active: &off})
			require.NoError(t, err)

			attempts := []LoginParams{
				{Username: "nobody", Password: identityPassword},
				{Username: "bob", Password: "wrong password 1"},
				{Username: "carl", Password: identityPassword},
				{Username: "bob", Password: "wrong password 2"}, // locks
				{Username: "bob", Password: identityPassword},   // locked, though right
			}
			for i, p := range attempts {
				p.IP = "198.51.100.9"
				res, err := b.svc.Auth().Login(ctx, p)
				require.Nil(t, res)
				require.Equal(t, ErrLoginFailed, err, "attempt %d gives the one error, unwrapped", i)
				require.Equal(t, "backupmgmt: invalid username or password", err.Error())
			}
			sessions, err := b.store.Sessions().ListByUser(ctx, u.ID)
			require.NoError(t, err)
			require.Empty(t, sessions)

			events := b.identityLoginEvents(t)
			require.Len(t, events, len(attempts))
			wantReason := []string{"unknown_user", "wrong_password", "inactive", "wrong_password", "locked"}
			wantActor := []string{"system", "user:" + u.ID, "user:" + inactive.ID, "user:" + u.ID, "user:" + u.ID}
			for i, ev := range events {
				require.Equal(t, store.AuditFailed, ev.Result, i)
				require.Equal(t, attempts[i].Username, ev.Details["username"], i)
				require.Equal(t, wantReason[i], ev.Details["reason"], i)
				require.Equal(t, wantActor[i], ev.Actor, i)
				require.Equal(t, "198.51.100.9", ev.IP, i)
			}
			require.Equal(t, true, events[3].Details["locked"])
			b.identityNoSecrets(t, identityPassword, "wrong password 1", "wrong password 2")
		})

		t.Run("LocksAfterFiveFailuresInTenMinutesForTenMinutes", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "dora", store.RoleViewer)
			for i := range 5 {
				_, err := b.svc.Auth().Login(ctx, LoginParams{Username: "dora", Password: "guess number " + string(rune('a'+i))})
				require.ErrorIs(t, err, ErrLoginFailed)
				b.clock.Advance(2 * time.Minute) // the fifth comes 8 minutes after the first
			}
			got, err := b.svc.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.True(t, b.svc.Auth().Locked(got))
			require.Equal(t, 5, got.FailedLogins)
			require.Equal(t, testStart.Add(8*time.Minute+LockoutDurationDefault), *got.LockedUntil)

			// Locked: the right password does not get in, and does not
			// extend the lock.
			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "dora", Password: identityPassword})
			require.ErrorIs(t, err, ErrLoginFailed)
			b.clock.Set(testStart.Add(8*time.Minute + LockoutDurationDefault - time.Second))
			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "dora", Password: identityPassword})
			require.ErrorIs(t, err, ErrLoginFailed)

			b.clock.Advance(time.Second)
			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "dora", Password: identityPassword})
			require.NoError(t, err, "unlocked 10 minutes after the lock")
			got, err = b.svc.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.Zero(t, got.FailedLogins)
			require.Nil(t, got.LockedUntil)
			require.False(t, b.svc.Auth().Locked(got))

			reasons := []any{}
			for _, ev := range b.identityLoginEvents(t) {
				reasons = append(reasons, ev.Details["reason"])
			}
			require.Equal(t, []any{"wrong_password", "wrong_password", "wrong_password", "wrong_password", "wrong_password", "locked", "locked", nil}, reasons)
		})

		t.Run("FailuresSpreadOverMoreThanTheWindowDoNotLock", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "eve", store.RoleViewer)
			// Four failures in the first window, then the window ends and
			// four more start a new count: eight failures, never five in one
			// window.
			for _, at := range []time.Duration{0, 3, 6, 9, 11, 13, 15, 17} {
				b.clock.Set(testStart.Add(at * time.Minute))
				_, err := b.svc.Auth().Login(ctx, LoginParams{Username: "eve", Password: "not the password"})
				require.ErrorIs(t, err, ErrLoginFailed)
				got, err := b.svc.Users().Get(ctx, u.ID)
				require.NoError(t, err)
				require.False(t, b.svc.Auth().Locked(got), "after the failure at %v", at)
			}
			got, err := b.svc.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, 4, got.FailedLogins)
			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "eve", Password: identityPassword})
			require.NoError(t, err)
		})

		t.Run("CountsConcurrentFailuresExactly", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, &Config{LockoutThreshold: 3})
			ctx := t.Context()
			u := b.identityUser(t, ctx, "hugo", store.RoleViewer)
			const attempts = 6 // each verification takes 64 MiB; keep it small
			var wg sync.WaitGroup
			errs := make([]error, attempts)
			for i := range attempts {
				wg.Go(func() {
					_, errs[i] = b.svc.Auth().Login(ctx, LoginParams{Username: "hugo", Password: "a wrong password"})
				})
			}
			wg.Wait()
			for _, err := range errs {
				require.Equal(t, ErrLoginFailed, err)
			}
			got, err := b.svc.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, 3, got.FailedLogins, "failures after the lock do not count")
			require.True(t, b.svc.Auth().Locked(got))
			reasons := map[any]int{}
			for _, ev := range b.identityLoginEvents(t) {
				reasons[ev.Details["reason"]]++
			}
			require.Equal(t, map[any]int{"wrong_password": 3, "locked": 3}, reasons)
		})

		t.Run("UpgradesABcryptHashToArgon2id", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.userFixture(t, "frida", store.RoleViewer)
			h, err := bcrypt.GenerateFromPassword([]byte(identityPassword), bcrypt.MinCost)
			require.NoError(t, err)
			u.PasswordHash = string(h)
			require.NoError(t, b.store.Users().Update(ctx, u))

			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "frida", Password: "wrong password here"})
			require.ErrorIs(t, err, ErrLoginFailed)
			got, err := b.store.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, string(h), got.PasswordHash, "a failure upgrades nothing")

			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "frida", Password: identityPassword})
			require.NoError(t, err)
			got, err = b.store.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(got.PasswordHash, "$argon2id$"), got.PasswordHash[:10])
			ok, rehash, err := security.VerifyPassword(got.PasswordHash, identityPassword)
			require.NoError(t, err)
			require.True(t, ok)
			require.False(t, rehash)
			events := b.identityLoginEvents(t)
			require.Equal(t, true, events[1].Details["password_rehashed"])

			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "frida", Password: identityPassword})
			require.NoError(t, err, "the new hash works")
			b.identityNoSecrets(t, identityPassword, string(h))
		})

		t.Run("RotatesThePreviousSessionAtLogin", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "gus", store.RoleViewer)
			first, err := b.svc.Auth().Login(ctx, LoginParams{Username: "gus", Password: identityPassword})
			require.NoError(t, err)
			second, err := b.svc.Auth().Login(ctx, LoginParams{Username: "gus", Password: identityPassword, PreviousToken: first.Token.Reveal()})
			require.NoError(t, err)
			require.NotEqual(t, first.Token.Reveal(), second.Token.Reveal())
			_, _, err = b.svc.Auth().Session(ctx, first.Token.Reveal())
			require.ErrorIs(t, err, ErrSessionExpired)
			sessions, err := b.store.Sessions().ListByUser(ctx, u.ID)
			require.NoError(t, err)
			require.Len(t, sessions, 1)
			require.Equal(t, second.Session.ID, sessions[0].ID)

			// A failed login rotates nothing.
			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "gus", Password: "wrong password here", PreviousToken: second.Token.Reveal()})
			require.ErrorIs(t, err, ErrLoginFailed)
			_, _, err = b.svc.Auth().Session(ctx, second.Token.Reveal())
			require.NoError(t, err)
		})
	})
}

func TestSessions(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("EndAfterThirtyIdleMinutes", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			b.identityUser(t, ctx, "alice", store.RoleViewer)
			res, err := b.svc.Auth().Login(ctx, LoginParams{Username: "alice", Password: identityPassword})
			require.NoError(t, err)
			tok := res.Token.Reveal()

			// Within a minute the activity is not written again.
			b.clock.Advance(30 * time.Second)
			_, sess, err := b.svc.Auth().Session(ctx, tok)
			require.NoError(t, err)
			require.Equal(t, testStart, sess.LastSeenAt)
			stored, err := b.store.Sessions().Get(ctx, sess.ID)
			require.NoError(t, err)
			require.Equal(t, testStart, stored.LastSeenAt)

			b.clock.Advance(29 * time.Minute)
			_, sess, err = b.svc.Auth().Session(ctx, tok)
			require.NoError(t, err)
			stored, err = b.store.Sessions().Get(ctx, sess.ID)
			require.NoError(t, err)
			require.Equal(t, b.svc.Now(), stored.LastSeenAt, "activity keeps it alive")

			b.clock.Advance(SessionIdleTimeoutDefault)
			_, _, err = b.svc.Auth().Session(ctx, tok)
			require.ErrorIs(t, err, ErrSessionExpired)
			_, err = b.store.Sessions().Get(ctx, sess.ID)
			require.ErrorIs(t, err, store.ErrNotFound, "an expired session is deleted")
		})

		t.Run("EndTwelveHoursAfterLoginHoweverActive", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			b.identityUser(t, ctx, "bob", store.RoleViewer)
			res, err := b.svc.Auth().Login(ctx, LoginParams{Username: "bob", Password: identityPassword})
			require.NoError(t, err)
			for b.svc.Now().Before(testStart.Add(SessionMaxAgeDefault - 20*time.Minute)) {
				b.clock.Advance(20 * time.Minute)
				_, _, err := b.svc.Auth().Session(ctx, res.Token.Reveal())
				require.NoError(t, err, "at %v", b.svc.Now())
			}
			b.clock.Set(testStart.Add(SessionMaxAgeDefault))
			_, _, err = b.svc.Auth().Session(ctx, res.Token.Reveal())
			require.ErrorIs(t, err, ErrSessionExpired)
			_, err = b.store.Sessions().Get(ctx, res.Session.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
		})

		t.Run("RejectUnknownTokens", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			_, _, err := b.svc.Auth().Session(t.Context(), "")
			require.ErrorIs(t, err, ErrSessionExpired)
			tok, err := security.NewSessionToken()
			require.NoError(t, err)
			_, _, err = b.svc.Auth().Session(t.Context(), tok)
			require.ErrorIs(t, err, ErrSessionExpired)
		})

		t.Run("LogoutEndsTheSessionAndAudits", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "cleo", store.RoleViewer)
			res, err := b.svc.Auth().Login(ctx, LoginParams{Username: "cleo", Password: identityPassword})
			require.NoError(t, err)
			require.NoError(t, b.svc.Auth().Logout(ctx, res.Token.Reveal()))
			_, _, err = b.svc.Auth().Session(ctx, res.Token.Reveal())
			require.ErrorIs(t, err, ErrSessionExpired)
			require.NoError(t, b.svc.Auth().Logout(ctx, res.Token.Reveal()), "logging out twice is fine")
			require.Equal(t, []string{"user.create", "auth.login", "auth.logout"}, b.auditActions(t))
			ev := b.identityEvents(t)
			require.Equal(t, "user:"+u.ID, ev[2].Actor)
			require.Equal(t, u.ID, ev[2].ResourceID)
			b.identityNoSecrets(t, identityPassword, res.Token.Reveal())
		})

		t.Run("PurgeDeletesThosePastTheirAbsoluteExpiry", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "dan", store.RoleViewer)
			_, err := b.svc.Auth().Login(ctx, LoginParams{Username: "dan", Password: identityPassword})
			require.NoError(t, err)
			b.clock.Advance(6 * time.Hour)
			late, err := b.svc.Auth().Login(ctx, LoginParams{Username: "dan", Password: identityPassword})
			require.NoError(t, err)
			b.clock.Advance(6 * time.Hour)
			n, err := b.svc.Auth().PurgeExpiredSessions(ctx)
			require.NoError(t, err)
			require.Equal(t, int64(1), n)
			sessions, err := b.store.Sessions().ListByUser(ctx, u.ID)
			require.NoError(t, err)
			require.Len(t, sessions, 1)
			require.Equal(t, late.Session.ID, sessions[0].ID)
		})
	})
}

// BenchmarkSession measures checking a session token, which every browser
// request does.
func BenchmarkSession(b *testing.B) {
	tb := setup(b, dbopen.SQLite, nil)
	ctx := b.Context()
	tb.identityUser(b, ctx, "alice", store.RoleViewer)
	res, err := tb.svc.Auth().Login(ctx, LoginParams{Username: "alice", Password: identityPassword})
	require.NoError(b, err)
	tok := res.Token.Reveal()
	for b.Loop() {
		if _, _, err := tb.svc.Auth().Session(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// Create the first admin, sign in, and check what the session may do.
func ExampleAuth_Login() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "custos-example")
	defer os.RemoveAll(dir)
	st, err := dbopen.OpenStore(ctx, "sqlite:"+filepath.Join(dir, "custos.db"), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	if _, err := bunstore.Migrate(ctx, st.DB()); err != nil {
		fmt.Println(err)
		return
	}
	svc, err := New(st, nil)
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = svc.Users().Create(ctx, UserParams{
		Username: "admin", Email: "admin@example.com", Role: store.RoleAdmin,
		Password: "a long and private passphrase",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = svc.Auth().Login(ctx, LoginParams{Username: "admin", Password: "guess"})
	fmt.Println("wrong password:", err)

	res, err := svc.Auth().Login(ctx, LoginParams{Username: "admin", Password: "a long and private passphrase", IP: "192.0.2.1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("token prints as:", res.Token)

	// On the next request the cookie's token finds the session again.
	u, sess, err := svc.Auth().Session(ctx, res.Token.Reveal())
	if err != nil {
		fmt.Println(err)
		return
	}
	actor := SessionActor(u, sess)
	fmt.Println("may delete jobs:", actor.Can(PermDelete))

	// An ingest key for a script: it may record runs and nothing else.
	_, keyText, err := svc.APIKeys().Create(WithActor(ctx, actor), APIKeyParams{Name: "restic", Scopes: []store.Scope{store.ScopeIngest}})
	if err != nil {
		fmt.Println(err)
		return
	}
	key, err := svc.APIKeys().Authenticate(ctx, keyText.Reveal())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("key may ingest:", key.Can(PermIngest), "read:", key.Can(PermRead))

	v, err := svc.Audit().Verify(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("audit chain intact:", v.OK)
	// Output:
	// wrong password: backupmgmt: invalid username or password
	// token prints as: [redacted]
	// may delete jobs: true
	// key may ingest: true read: false
	// audit chain intact: true
}
