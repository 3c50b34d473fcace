package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("AuthLookups", testAuthLookups)

// testAuthLookups checks the optional store.SessionUserGetter and
// store.APIKeyUserGetter capabilities against the two reads they stand
// for: GetByTokenHash or GetByPrefix, then Users().Get. Stores without a
// capability skip its tests.
func testAuthLookups(t *testing.T, newStore NewStoreFunc) {
	sessionUser := func(t *testing.T, repos store.Repos) store.SessionUserGetter {
		t.Helper()
		g, ok := repos.Sessions().(store.SessionUserGetter)
		if !ok {
			t.Skip("store has no SessionUserGetter")
		}
		return g
	}
	apiKeyUser := func(t *testing.T, repos store.Repos) store.APIKeyUserGetter {
		t.Helper()
		g, ok := repos.APIKeys().(store.APIKeyUserGetter)
		if !ok {
			t.Skip("store has no APIKeyUserGetter")
		}
		return g
	}
	// fullUser is a user with every optional field set.
	fullUser := func(u *store.User) {
		u.LockedUntil = ptr(someTime().Add(time.Hour))
		u.LastLoginAt = ptr(someTime())
		u.PasswordChangedAt = ptr(someTime().Add(-time.Hour))
		u.FailedLogins = 2
	}
	// requireSessionAsTwoGets and requireKeyAsTwoGets check that the
	// capability gave what the two reads give.
	requireSessionAsTwoGets := func(t *testing.T, ctx context.Context, repos store.Repos, tokenHash string, s *store.Session, u *store.User) {
		t.Helper()
		wantS, err := repos.Sessions().GetByTokenHash(ctx, tokenHash)
		require.NoError(t, err)
		wantU, err := repos.Users().Get(ctx, wantS.UserID)
		require.NoError(t, err)
		require.Equal(t, wantS, s)
		require.Equal(t, wantU, u)
		require.NotEmpty(t, u.PasswordHash, "the password hash is loaded, as Users().Get does")
	}
	requireKeyAsTwoGets := func(t *testing.T, ctx context.Context, repos store.Repos, prefix string, k *store.APIKey, u *store.User) {
		t.Helper()
		wantK, err := repos.APIKeys().GetByPrefix(ctx, prefix)
		require.NoError(t, err)
		wantU, err := repos.Users().Get(ctx, wantK.UserID)
		require.NoError(t, err)
		require.Equal(t, wantK, k)
		require.Equal(t, wantU, u)
		require.NotEmpty(t, k.SecretHash)
		require.NotEmpty(t, u.PasswordHash, "the password hash is loaded, as Users().Get does")
	}

	t.Run("SessionUserReadsAsTheTwoGets", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		g := sessionUser(t, b.s)
		b.user(t) // another user, so that the join must pick
		u := b.user(t, fullUser)
		sess := b.session(t, u.ID, func(s *store.Session) {
			s.CreatedAt = someTime().Add(-time.Hour)
			s.LastSeenAt = someTime()
			s.UserAgent = "Mozilla/5.0 (Ünïcode)"
		})
		b.session(t, u.ID)
		gotS, gotU, err := g.GetSessionUser(b.ctx, sess.TokenHash)
		require.NoError(t, err)
		require.Equal(t, sess.ID, gotS.ID)
		require.Equal(t, u.ID, gotU.ID)
		require.Equal(t, u.PasswordHash, gotU.PasswordHash)
		require.Equal(t, norm(someTime()), gotS.LastSeenAt)
		requireSessionAsTwoGets(t, b.ctx, b.s, sess.TokenHash, gotS, gotU)
	})

	t.Run("SessionUserOfUnknownTokenIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		g := sessionUser(t, b.s)
		b.session(t, b.user(t).ID)
		for _, h := range []string{"no-such-token-hash", "", "nul\x00hash"} {
			s, u, err := g.GetSessionUser(b.ctx, h)
			require.ErrorIs(t, err, store.ErrNotFound, "%q", h)
			require.Nil(t, s)
			require.Nil(t, u)
		}
	})

	t.Run("SessionUserOfDeletedUserIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		g := sessionUser(t, b.s)
		u := b.user(t)
		sess := b.session(t, u.ID)
		require.NoError(t, b.s.Users().Delete(b.ctx, u.ID))
		_, _, err := g.GetSessionUser(b.ctx, sess.TokenHash)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("SessionUserReturnsInactiveUsersAndExpiredSessionsAsStored", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		g := sessionUser(t, b.s)
		u := b.user(t, fullUser, func(u *store.User) { u.Active = false })
		sess := b.session(t, u.ID, func(s *store.Session) {
			s.CreatedAt = someTime().Add(-48 * time.Hour)
			s.ExpiresAt = someTime().Add(-24 * time.Hour)
		})
		gotS, gotU, err := g.GetSessionUser(b.ctx, sess.TokenHash)
		require.NoError(t, err)
		require.False(t, gotU.Active)
		require.Equal(t, norm(someTime().Add(-24*time.Hour)), gotS.ExpiresAt)
		requireSessionAsTwoGets(t, b.ctx, b.s, sess.TokenHash, gotS, gotU)
	})

	t.Run("SessionUserWorksInATransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		sessionUser(t, b.s)
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			u := newUser()
			require.NoError(t, tx.Users().Create(ctx, u))
			sess := newSession(u.ID)
			require.NoError(t, tx.Sessions().Create(ctx, sess))
			gotS, gotU, err := sessionUser(t, tx).GetSessionUser(ctx, sess.TokenHash)
			require.NoError(t, err, "the transaction sees its own writes")
			requireSessionAsTwoGets(t, ctx, tx, sess.TokenHash, gotS, gotU)
			return nil
		})
		require.NoError(t, err)
	})

	t.Run("APIKeyUserReadsAsTheTwoGets", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		g := apiKeyUser(t, b.s)
		b.user(t)
		u := b.user(t, fullUser)
		job := b.job(t)
		k := b.apiKey(t, u.ID, func(k *store.APIKey) {
			k.Scopes = []store.Scope{store.ScopeIngest}
			k.JobID = &job.ID
			k.ExpiresAt = ptr(someTime().Add(24 * time.Hour))
			k.LastUsedAt = ptr(someTime())
		})
		b.apiKey(t, u.ID)
		gotK, gotU, err := g.GetAPIKeyUser(b.ctx, k.Prefix)
		require.NoError(t, err)
		require.Equal(t, k.ID, gotK.ID)
		require.Equal(t, u.ID, gotU.ID)
		require.Equal(t, k.SecretHash, gotK.SecretHash)
		require.Equal(t, u.PasswordHash, gotU.PasswordHash)
		require.Equal(t, []store.Scope{store.ScopeIngest}, gotK.Scopes)
		require.Equal(t, &job.ID, gotK.JobID)
		requireKeyAsTwoGets(t, b.ctx, b.s, k.Prefix, gotK, gotU)
	})

	t.Run("APIKeyUserOfUnknownPrefixIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		g := apiKeyUser(t, b.s)
		b.apiKey(t, b.user(t).ID)
		for _, p := range []string{"nosuchprefix", "", "nul\x00prefix"} {
			k, u, err := g.GetAPIKeyUser(b.ctx, p)
			require.ErrorIs(t, err, store.ErrNotFound, "%q", p)
			require.Nil(t, k)
			require.Nil(t, u)
		}
	})

	t.Run("APIKeyUserOfDeletedUserIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		g := apiKeyUser(t, b.s)
		u := b.user(t)
		k := b.apiKey(t, u.ID)
		require.NoError(t, b.s.Users().Delete(b.ctx, u.ID))
		_, _, err := g.GetAPIKeyUser(b.ctx, k.Prefix)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("APIKeyUserReturnsRevokedKeysAndInactiveUsersAsStored", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		g := apiKeyUser(t, b.s)
		u := b.user(t, func(u *store.User) { u.Active = false })
		k := b.apiKey(t, u.ID, func(k *store.APIKey) {
			k.RevokedAt = ptr(someTime())
			k.ExpiresAt = ptr(someTime().Add(-time.Hour))
		})
		gotK, gotU, err := g.GetAPIKeyUser(b.ctx, k.Prefix)
		require.NoError(t, err)
		require.False(t, gotU.Active)
		require.Equal(t, ptr(norm(someTime())), gotK.RevokedAt)
		requireKeyAsTwoGets(t, b.ctx, b.s, k.Prefix, gotK, gotU)
	})

	t.Run("APIKeyUserWorksInATransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		apiKeyUser(t, b.s)
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			u := newUser()
			require.NoError(t, tx.Users().Create(ctx, u))
			k := newAPIKey(u.ID)
			require.NoError(t, tx.APIKeys().Create(ctx, k))
			gotK, gotU, err := apiKeyUser(t, tx).GetAPIKeyUser(ctx, k.Prefix)
			require.NoError(t, err, "the transaction sees its own writes")
			requireKeyAsTwoGets(t, ctx, tx, k.Prefix, gotK, gotU)
			return nil
		})
		require.NoError(t, err)
	})
}
