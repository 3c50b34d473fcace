package backupmgmt

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// authTwoReadsStore hides the store.SessionUserGetter and
// store.APIKeyUserGetter of its Store, as a store without them would be.
type authTwoReadsStore struct{ store.Store }

func (s authTwoReadsStore) Sessions() store.SessionStore {
	return struct{ store.SessionStore }{s.Store.Sessions()}
}

func (s authTwoReadsStore) APIKeys() store.APIKeyStore {
	return struct{ store.APIKeyStore }{s.Store.APIKeys()}
}

// authPath is a way for the service to read a session or key with its
// user, and the statements that read costs.
type authPath struct {
	name  string
	wrap  func(store.Store) store.Store
	reads int64
}

var authPaths = []authPath{
	{"OneJoin", func(s store.Store) store.Store { return s }, 1},
	{"WithoutTheCapabilities", func(s store.Store) store.Store { return authTwoReadsStore{s} }, 2},
}

// authCounted returns a service on the bundle's store through path whose
// statements qc counts.
func (b *testBundle) authCounted(t *testing.T, path authPath) (*Service, *bunstore.QueryCounter) {
	t.Helper()
	qc := &bunstore.QueryCounter{}
	svc, err := New(path.wrap(b.store.WithQueryHook(qc)), &Config{Now: b.clock.Now})
	require.NoError(t, err)
	if path.reads == 1 {
		_, ok := svc.store.Sessions().(store.SessionUserGetter)
		require.True(t, ok, "bunstore has a SessionUserGetter")
		_, ok = svc.store.APIKeys().(store.APIKeyUserGetter)
		require.True(t, ok, "bunstore has an APIKeyUserGetter")
	}
	return svc, qc
}

// authSession stores a session of u seen now and returns its token.
func (b *testBundle) authSession(t *testing.T, u *store.User) (string, *store.Session) {
	t.Helper()
	tok, err := security.NewSessionToken()
	require.NoError(t, err)
	now := b.svc.Now()
	sess := &store.Session{TokenHash: security.HashToken(tok), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMaxAgeDefault)}
	require.NoError(t, b.store.Sessions().Create(t.Context(), sess))
	return tok, sess
}

// TestAuthQueryBudget holds authentication to one statement per request
// while no touch is due (issue 4: a GET is two queries plus at most one for
// authentication), and checks that a store without the one-statement reads
// gets the same answers from two.
func TestAuthQueryBudget(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		for _, path := range authPaths {
			t.Run(path.name, func(t *testing.T) {
				t.Parallel()

				t.Run("SessionCostsItsReadsUntilActivityIsDue", func(t *testing.T) {
					t.Parallel()
					b := setup(t, kind, nil)
					ctx := t.Context()
					svc, qc := b.authCounted(t, path)
					u := b.userFixture(t, "alice", store.RoleViewer)
					tok, stored := b.authSession(t, u)
					session := func() (*store.User, *store.Session, int64) {
						t.Helper()
						qc.Reset()
						gotU, gotS, err := svc.Auth().Session(ctx, tok)
						require.NoError(t, err)
						require.Equal(t, u.ID, gotU.ID)
						require.Equal(t, store.RoleViewer, gotU.Role)
						require.Empty(t, gotU.PasswordHash, "the service hands out no hash")
						require.Equal(t, stored.ID, gotS.ID)
						return gotU, gotS, qc.Count()
					}

					b.clock.Advance(30 * time.Second)
					_, sess, n := session()
					require.Equal(t, path.reads, n)
					require.Equal(t, path.reads, qc.CountOf("SELECT"))
					require.Equal(t, testStart, sess.LastSeenAt)

					b.clock.Advance(31 * time.Second)
					_, sess, n = session()
					require.Equal(t, path.reads+1, n, "the reads and the touch")
					require.EqualValues(t, 1, qc.CountOf("UPDATE"))
					require.Equal(t, b.svc.Now(), sess.LastSeenAt)
					again, err := b.store.Sessions().Get(ctx, sess.ID)
					require.NoError(t, err)
					require.Equal(t, b.svc.Now(), again.LastSeenAt)

					b.clock.Advance(59 * time.Second)
					_, _, n = session()
					require.Equal(t, path.reads, n)
				})

				t.Run("SessionRefusalsAreUnchanged", func(t *testing.T) {
					t.Parallel()
					b := setup(t, kind, nil)
					ctx := t.Context()
					svc, _ := b.authCounted(t, path)

					_, _, err := svc.Auth().Session(ctx, "no-such-token")
					require.ErrorIs(t, err, ErrSessionExpired)

					idle, _ := b.authSession(t, b.userFixture(t, "idle", store.RoleViewer))
					inactiveUser := b.userFixture(t, "gone", store.RoleViewer)
					inactive, inactiveSess := b.authSession(t, inactiveUser)
					inactiveUser.Active = false
					require.NoError(t, b.store.Users().Update(ctx, inactiveUser))
					_, _, err = svc.Auth().Session(ctx, inactive)
					require.ErrorIs(t, err, ErrSessionExpired)
					_, err = b.store.Sessions().Get(ctx, inactiveSess.ID)
					require.ErrorIs(t, err, store.ErrNotFound, "the session of an inactive user is deleted")

					b.clock.Advance(SessionIdleTimeoutDefault)
					_, _, err = svc.Auth().Session(ctx, idle)
					require.ErrorIs(t, err, ErrSessionExpired)
					_, err = b.store.Sessions().GetByTokenHash(ctx, security.HashToken(idle))
					require.ErrorIs(t, err, store.ErrNotFound, "an idle session is deleted")
				})

				t.Run("APIKeyCostsItsReadsUntilAUseIsDue", func(t *testing.T) {
					t.Parallel()
					b := setup(t, kind, nil)
					ctx := t.Context()
					svc, qc := b.authCounted(t, path)
					op := b.userFixture(t, "ops", store.RoleOperator)
					key, text, err := b.svc.APIKeys().Create(actorCtx(ctx, op), APIKeyParams{Name: "script", Scopes: []store.Scope{store.ScopeRead}})
					require.NoError(t, err)
					authenticate := func() int64 {
						t.Helper()
						qc.Reset()
						actor, err := svc.APIKeys().Authenticate(WithActor(ctx, Actor{IP: "203.0.113.5", RequestID: "r-1"}), text.Reveal())
						require.NoError(t, err)
						require.Equal(t, Actor{
							UserID: op.ID, APIKeyID: key.ID, Role: store.RoleOperator,
							Scopes: []store.Scope{store.ScopeRead}, IP: "203.0.113.5", RequestID: "r-1",
						}, actor)
						return qc.Count()
					}

					require.Equal(t, path.reads+1, authenticate(), "the first use is written")
					require.EqualValues(t, 1, qc.CountOf("UPDATE"))
					b.clock.Advance(20 * time.Second)
					require.Zero(t, authenticate(), "a checked key is held in memory")
					b.clock.Advance(20 * time.Second)
					require.Equal(t, path.reads, authenticate(), "read again after apiKeyCacheTTL")
					require.Equal(t, path.reads, qc.CountOf("SELECT"))
					b.clock.Advance(20 * time.Second)
					require.EqualValues(t, 1, authenticate(), "a use is due: written, not read")
					require.EqualValues(t, 1, qc.CountOf("UPDATE"))
					b.clock.Advance(time.Second)
					require.Zero(t, authenticate(), "the write is remembered")
					stored, err := b.store.APIKeys().Get(ctx, key.ID)
					require.NoError(t, err)
					require.Equal(t, b.svc.Now().Add(-time.Second), *stored.LastUsedAt)
				})

				t.Run("APIKeyRefusalsAreUnchanged", func(t *testing.T) {
					t.Parallel()
					b := setup(t, kind, nil)
					ctx := t.Context()
					svc, qc := b.authCounted(t, path)
					admin := b.userFixture(t, "root", store.RoleAdmin)
					actx := actorCtx(ctx, admin)
					create := func(u *store.User, expires *time.Time) (*store.APIKey, string) {
						t.Helper()
						key, text, err := b.svc.APIKeys().Create(actx, APIKeyParams{UserID: u.ID, Name: "k", Scopes: []store.Scope{store.ScopeRead}, ExpiresAt: expires})
						require.NoError(t, err)
						return key, text.Reveal()
					}
					refused := func(text string, reads int64) {
						t.Helper()
						qc.Reset()
						_, err := svc.APIKeys().Authenticate(ctx, text)
						require.ErrorIs(t, err, ErrInvalidAPIKey)
						require.Equal(t, reads, qc.Count(), "no use is written")
					}

					revoked, revokedText := create(admin, nil)
					_, err := b.svc.APIKeys().Revoke(actx, revoked.ID)
					require.NoError(t, err)
					// A refusal the key alone decides needs no user read.
					refused(revokedText, 1)

					_, live := create(admin, nil)
					wrong := live[:len(live)-1] + "a"
					if wrong == live {
						wrong = live[:len(live)-1] + "b"
					}
					refused(wrong, 1)
					unknown, err := security.NewAPIKey()
					require.NoError(t, err)
					refused(unknown.Text.Reveal(), 1)
					refused("cst_garbage", 0)

					expires := b.svc.Now().Add(time.Hour)
					_, expiring := create(admin, &expires)
					inactiveUser := b.userFixture(t, "gone", store.RoleOperator)
					_, inactive := create(inactiveUser, nil)
					inactiveUser.Active = false
					require.NoError(t, b.store.Users().Update(ctx, inactiveUser))
					refused(inactive, path.reads)
					b.clock.Advance(time.Hour)
					refused(expiring, 1)
				})
			})
		}
	})
}

// TestAPIKeyCacheRevocation: a key held in memory is refused as soon as it
// is revoked, or its user deactivated, demoted or deleted, through the same
// service; a revocation by another replica is seen within apiKeyCacheTTL;
// expiry is checked on every call.
func TestAPIKeyCacheRevocation(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		admin := b.userFixture(t, "root", store.RoleAdmin)
		actx := actorCtx(ctx, admin)
		newKey := func(u *store.User, expires *time.Time) (*store.APIKey, string) {
			t.Helper()
			key, text, err := b.svc.APIKeys().Create(actx, APIKeyParams{UserID: u.ID, Name: "k", Scopes: []store.Scope{store.ScopeRead}, ExpiresAt: expires})
			require.NoError(t, err)
			return key, text.Reveal()
		}
		accepted := func(svc *Service, text string) Actor {
			t.Helper()
			a, err := svc.APIKeys().Authenticate(ctx, text)
			require.NoError(t, err)
			return a
		}
		refused := func(svc *Service, text string) {
			t.Helper()
			_, err := svc.APIKeys().Authenticate(ctx, text)
			require.ErrorIs(t, err, ErrInvalidAPIKey)
		}

		key, text := newKey(admin, nil)
		accepted(b.svc, text)
		_, err := b.svc.APIKeys().Revoke(actx, key.ID)
		require.NoError(t, err)
		refused(b.svc, text)

		ops := b.userFixture(t, "ops", store.RoleOperator)
		_, opsText := newKey(ops, nil)
		require.Equal(t, store.RoleOperator, accepted(b.svc, opsText).Role)
		viewer := store.RoleViewer
		_, err = b.svc.Users().Update(actx, ops.ID, UserUpdate{Role: &viewer})
		require.NoError(t, err)
		require.Equal(t, store.RoleViewer, accepted(b.svc, opsText).Role, "a role change is seen at once")
		off := false
		_, err = b.svc.Users().Update(actx, ops.ID, UserUpdate{Active: &off})
		require.NoError(t, err)
		refused(b.svc, opsText)

		gone := b.userFixture(t, "gone", store.RoleViewer)
		_, goneText := newKey(gone, nil)
		accepted(b.svc, goneText)
		require.NoError(t, b.svc.Users().Delete(actx, gone.ID))
		refused(b.svc, goneText)

		expires := b.svc.Now().Add(10 * time.Second)
		_, expText := newKey(admin, &expires)
		accepted(b.svc, expText)
		b.clock.Advance(10 * time.Second)
		refused(b.svc, expText)

		// Another replica revokes: this one holds the key until its entry
		// is apiKeyCacheTTL old.
		replica, err := New(b.store, &Config{Now: b.clock.Now})
		require.NoError(t, err)
		other, otherText := newKey(admin, nil)
		accepted(b.svc, otherText)
		_, err = replica.APIKeys().Revoke(actx, other.ID)
		require.NoError(t, err)
		refused(replica, otherText)
		b.clock.Advance(apiKeyCacheTTL - time.Second)
		accepted(b.svc, otherText)
		b.clock.Advance(time.Second)
		refused(b.svc, otherText)

		// A wrong secret for a held prefix is refused.
		prefix, _, err := security.ParseAPIKey(opsText)
		require.NoError(t, err)
		_, liveText := newKey(admin, nil)
		accepted(b.svc, liveText)
		livePrefix, _, err := security.ParseAPIKey(liveText)
		require.NoError(t, err)
		require.NotEqual(t, prefix, livePrefix)
		forged := strings.Replace(liveText, liveText[len(liveText)-4:], "AAAA", 1)
		if forged == liveText {
			forged = strings.Replace(liveText, liveText[len(liveText)-4:], "BBBB", 1)
		}
		refused(b.svc, forged)
		accepted(b.svc, liveText)
	})
}
