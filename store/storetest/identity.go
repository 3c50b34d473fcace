package storetest

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var (
	_ = register("Users", testUsers)
	_ = register("Sessions", testSessions)
	_ = register("APIKeys", testAPIKeys)
	_ = register("Transactions", testTransactions)
)

func newSession(userID string) *store.Session {
	return &store.Session{
		TokenHash: strings.Repeat("0", 40) + strings.ReplaceAll(uniq(), "-", ""),
		UserID:    userID,
		ExpiresAt: time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC),
		IP:        "192.0.2.10",
		UserAgent: "Mozilla/5.0",
	}
}

func (b *bundle) session(t *testing.T, userID string, mod ...func(*store.Session)) *store.Session {
	t.Helper()
	s := newSession(userID)
	for _, m := range mod {
		m(s)
	}
	require.NoError(t, b.s.Sessions().Create(b.ctx, s))
	return s
}

func newAPIKey(userID string) *store.APIKey {
	u := strings.ReplaceAll(uniq(), "-", "")
	return &store.APIKey{
		UserID:     userID,
		Name:       "key " + u,
		Prefix:     "p" + u,
		SecretHash: strings.Repeat("cd", 32),
		Scopes:     []store.Scope{store.ScopeRead, store.ScopeIngest},
	}
}

func (b *bundle) apiKey(t *testing.T, userID string, mod ...func(*store.APIKey)) *store.APIKey {
	t.Helper()
	k := newAPIKey(userID)
	for _, m := range mod {
		m(k)
	}
	require.NoError(t, b.s.APIKeys().Create(b.ctx, k))
	return k
}

func testUsers(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := newUser()
		u.Username = "Yamada.Taro-" + uniq()
		u.Email = "Yamada.Taro+" + uniq() + "@Example.COM"
		u.FullName = "山田 太郎"
		u.Department = "情報システム部"
		u.Role = store.RoleAdmin
		u.CreatedAt = someTime()
		u.LastLoginAt = ptr(someTime().Add(time.Hour))
		u.PasswordChangedAt = ptr(someTime().Add(-24 * time.Hour))
		u.LockedUntil = ptr(someTime().Add(10 * time.Minute))
		u.FailedLogins = 5
		require.NoError(t, b.s.Users().Create(b.ctx, u))
		require.NotEmpty(t, u.ID)
		require.Equal(t, norm(someTime()), u.CreatedAt, "stored times are UTC microseconds")
		require.Equal(t, u.CreatedAt, u.UpdatedAt)
		require.Equal(t, norm(someTime().Add(time.Hour)), *u.LastLoginAt, "the caller's struct holds the stored form")

		got, err := b.s.Users().Get(b.ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, u, got)
		require.Equal(t, time.UTC, got.CreatedAt.Location())
		require.Equal(t, time.UTC, got.LockedUntil.Location())

		byName, err := b.s.Users().GetByUsername(b.ctx, strings.ToUpper(u.Username))
		require.NoError(t, err)
		require.Equal(t, u, byName)
		byEmail, err := b.s.Users().GetByEmail(b.ctx, strings.ToLower(u.Email))
		require.NoError(t, err)
		require.Equal(t, u, byEmail)

		got.Email = ""
		got.FullName = "山田 花子"
		got.Department = ""
		got.Role = store.RoleAuditor
		got.Active = false
		got.FailedLogins = 0
		got.LockedUntil = nil
		got.LastLoginAt = ptr(someTime().Add(2 * time.Hour))
		got.PasswordHash = "$2a$10$abcdefghijklmnopqrstuv"
		require.NoError(t, b.s.Users().Update(b.ctx, got))
		require.Equal(t, norm(got.UpdatedAt), got.UpdatedAt)
		again, err := b.s.Users().Get(b.ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)
		require.Equal(t, u.CreatedAt, again.CreatedAt, "update keeps created_at")
		_, err = b.s.Users().GetByEmail(b.ctx, u.Email)
		require.ErrorIs(t, err, store.ErrNotFound, "the old email no longer finds the user")
		_, err = b.s.Users().GetByEmail(b.ctx, "")
		require.ErrorIs(t, err, store.ErrNotFound, "an empty email finds no user, even users without one")

		require.NoError(t, b.s.Users().Delete(b.ctx, u.ID))
		_, err = b.s.Users().Get(b.ctx, u.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Users().GetByUsername(b.ctx, u.Username)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Users().Delete(b.ctx, u.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.Users().Update(b.ctx, got), store.ErrNotFound)
	})

	t.Run("UsernamesAndEmailsAreUniqueIgnoringCase", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		a := b.user(t, func(u *store.User) {
			u.Username = "Alice.Admin"
			u.Email = "Alice@Example.com"
		})

		dupName := newUser()
		dupName.Username = "alice.ADMIN"
		requireConflict(t, b.s.Users().Create(b.ctx, dupName), "username")
		dupEmail := newUser()
		dupEmail.Email = "ALICE@example.COM"
		requireConflict(t, b.s.Users().Create(b.ctx, dupEmail), "email")

		other := b.user(t)
		other.Username = "ALICE.ADMIN"
		requireConflict(t, b.s.Users().Update(b.ctx, other), "username")
		other = b.user(t)
		other.Email = "alice@example.com"
		requireConflict(t, b.s.Users().Update(b.ctx, other), "email")

		// Users without an email do not collide with each other.
		b.user(t, func(u *store.User) { u.Email = "" })
		b.user(t, func(u *store.User) { u.Email = "" })

		// A changed username or email frees the old one.
		a.Username = "alice.retired"
		a.Email = "alice.retired@example.com"
		require.NoError(t, b.s.Users().Update(b.ctx, a))
		b.user(t, func(u *store.User) {
			u.Username = "alice.admin"
			u.Email = "alice@example.com"
		})
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for field, mod := range map[string]func(*store.User){
			"username":      func(u *store.User) { u.Username = "ab" },
			"email":         func(u *store.User) { u.Email = "not-an-email" },
			"role":          func(u *store.User) { u.Role = "root" },
			"full_name":     func(u *store.User) { u.FullName = strings.Repeat("名", store.MaxNameLen+1) },
			"department":    func(u *store.User) { u.Department = strings.Repeat("部", store.MaxNameLen+1) },
			"failed_logins": func(u *store.User) { u.FailedLogins = -1 },
		} {
			u := newUser()
			mod(u)
			requireValidation(t, b.s.Users().Create(b.ctx, u), field)
			ok := b.user(t)
			mod(ok)
			requireValidation(t, b.s.Users().Update(b.ctx, ok), field)
		}
		for _, name := range []string{"山田", "has space", "semi;colon", strings.Repeat("a", 51)} {
			u := newUser()
			u.Username = name
			requireValidation(t, b.s.Users().Create(b.ctx, u), "username")
		}
		fits := b.user(t, func(u *store.User) {
			u.Username = strings.Repeat("z", 50)
			u.FullName = strings.Repeat("名", store.MaxNameLen)
		})
		got, err := b.s.Users().Get(b.ctx, fits.ID)
		require.NoError(t, err)
		require.Equal(t, fits.FullName, got.FullName, "200 Japanese characters fit")
	})

	t.Run("GetManyReturnsTheUsersThatExist", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u1, u2 := b.user(t), b.user(t)
		b.user(t)
		got, err := b.s.Users().GetMany(b.ctx, []string{u2.ID, store.NewID(), u1.ID})
		require.NoError(t, err)
		require.ElementsMatch(t, []store.User{*u1, *u2}, got)
		got, err = b.s.Users().GetMany(b.ctx, nil)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("ListFiltersOrdersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		// Keys "a.x", "a_x", "ab", "b-x", "c": byte order, whatever the case
		// of the names.
		specs := []struct {
			name   string
			role   store.Role
			active bool
		}{
			{"C", store.RoleViewer, true},
			{"ab", store.RoleAdmin, true},
			{"A_x", store.RoleAdmin, false},
			{"b-X", store.RoleOperator, true},
			{"a.X", store.RoleViewer, false},
		}
		byName := map[string]*store.User{}
		for _, s := range specs {
			byName[s.name] = b.user(t, func(u *store.User) {
				u.Username = s.name + "-" + uniq()
				u.Role = s.role
				u.Active = s.active
			})
		}
		all, err := b.s.Users().List(b.ctx, store.ListUsersParams{})
		require.NoError(t, err)
		require.Empty(t, all.NextCursor)
		want := []string{byName["a.X"].ID, byName["A_x"].ID, byName["ab"].ID, byName["b-X"].ID, byName["C"].ID}
		require.Equal(t, want, ids(all.Items, userID), "ordered by username ignoring case")
		require.Equal(t, *byName["ab"], all.Items[2])

		admins, err := b.s.Users().List(b.ctx, store.ListUsersParams{Role: store.RoleAdmin})
		require.NoError(t, err)
		require.Equal(t, []string{byName["A_x"].ID, byName["ab"].ID}, ids(admins.Items, userID))
		inactive, err := b.s.Users().List(b.ctx, store.ListUsersParams{Active: ptr(false)})
		require.NoError(t, err)
		require.Equal(t, []string{byName["a.X"].ID, byName["A_x"].ID}, ids(inactive.Items, userID))
		activeAdmins, err := b.s.Users().List(b.ctx, store.ListUsersParams{Role: store.RoleAdmin, Active: ptr(true)})
		require.NoError(t, err)
		require.Equal(t, []string{byName["ab"].ID}, ids(activeAdmins.Items, userID))
		auditors, err := b.s.Users().List(b.ctx, store.ListUsersParams{Role: store.RoleAuditor})
		require.NoError(t, err)
		require.Empty(t, auditors.Items)

		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.User], error) {
			return b.s.Users().List(b.ctx, store.ListUsersParams{PageParams: p})
		}, func() { b.user(t) }, userID)
		require.GreaterOrEqual(t, len(seen), len(specs))
	})

	t.Run("CountActiveAdmins", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		n, err := b.s.Users().CountActiveAdmins(b.ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		admin := b.user(t, func(u *store.User) { u.Role = store.RoleAdmin })
		b.user(t, func(u *store.User) { u.Role = store.RoleAdmin })
		b.user(t, func(u *store.User) { u.Role = store.RoleAdmin; u.Active = false })
		b.user(t, func(u *store.User) { u.Role = store.RoleOperator })
		n, err = b.s.Users().CountActiveAdmins(b.ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)

		admin.Active = false
		require.NoError(t, b.s.Users().Update(b.ctx, admin))
		n, err = b.s.Users().CountActiveAdmins(b.ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})

	t.Run("DeleteRefusedWhileTheUserOwnsAJobOrAnAsset", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		jobOwner := b.user(t)
		j := b.job(t, func(j *store.Job) { j.OwnerID = &jobOwner.ID })
		require.ErrorIs(t, b.s.Users().Delete(b.ctx, jobOwner.ID), store.ErrForeignKey)
		_, err := b.s.Users().Get(b.ctx, jobOwner.ID)
		require.NoError(t, err, "the refused delete left the user")

		assetOwner := b.user(t)
		a := b.asset(t, func(a *store.Asset) { a.OwnerID = &assetOwner.ID })
		require.ErrorIs(t, b.s.Users().Delete(b.ctx, assetOwner.ID), store.ErrForeignKey)

		// Once nothing is owned, the delete goes through.
		require.NoError(t, b.s.Jobs().Delete(b.ctx, j.ID))
		require.NoError(t, b.s.Users().Delete(b.ctx, jobOwner.ID))
		a.OwnerID = nil
		require.NoError(t, b.s.Assets().Update(b.ctx, a))
		require.NoError(t, b.s.Users().Delete(b.ctx, assetOwner.ID))
	})

	t.Run("DeleteTakesSessionsAndAPIKeysAlong", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u, other := b.user(t), b.user(t)
		s := b.session(t, u.ID)
		k := b.apiKey(t, u.ID)
		keep := b.session(t, other.ID)
		keepKey := b.apiKey(t, other.ID)

		require.NoError(t, b.s.Users().Delete(b.ctx, u.ID))
		_, err := b.s.Sessions().Get(b.ctx, s.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.APIKeys().Get(b.ctx, k.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Sessions().Get(b.ctx, keep.ID)
		require.NoError(t, err, "other users' sessions stay")
		_, err = b.s.APIKeys().Get(b.ctx, keepKey.ID)
		require.NoError(t, err, "other users' keys stay")
	})
}

func userID(u store.User) string { return u.ID }

func testSessions(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetTouchDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		s := newSession(u.ID)
		s.CreatedAt = someTime()
		s.LastSeenAt = someTime().Add(time.Second)
		s.ExpiresAt = someTime().Add(12 * time.Hour)
		s.IP = "2001:db8::1"
		s.UserAgent = "ブラウザ/1.0 (日本語)"
		require.NoError(t, b.s.Sessions().Create(b.ctx, s))
		require.NotEmpty(t, s.ID)
		require.Equal(t, norm(someTime()), s.CreatedAt)
		require.Equal(t, norm(someTime().Add(12*time.Hour)), s.ExpiresAt)

		got, err := b.s.Sessions().Get(b.ctx, s.ID)
		require.NoError(t, err)
		require.Equal(t, s, got)
		require.Equal(t, time.UTC, got.ExpiresAt.Location())
		byHash, err := b.s.Sessions().GetByTokenHash(b.ctx, s.TokenHash)
		require.NoError(t, err)
		require.Equal(t, s, byHash)

		seen := someTime().Add(5 * time.Minute)
		require.NoError(t, b.s.Sessions().Touch(b.ctx, s.ID, seen))
		got, err = b.s.Sessions().Get(b.ctx, s.ID)
		require.NoError(t, err)
		s.LastSeenAt = norm(seen)
		require.Equal(t, s, got, "touch changes last_seen_at only")
		require.NoError(t, b.s.Sessions().Touch(b.ctx, s.ID, seen), "touching with the same time is no error")
		require.ErrorIs(t, b.s.Sessions().Touch(b.ctx, store.NewID(), seen), store.ErrNotFound)

		require.NoError(t, b.s.Sessions().Delete(b.ctx, s.ID))
		_, err = b.s.Sessions().Get(b.ctx, s.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Sessions().GetByTokenHash(b.ctx, s.TokenHash)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Sessions().Delete(b.ctx, s.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.Sessions().Touch(b.ctx, s.ID, seen), store.ErrNotFound)
	})

	t.Run("LastSeenDefaultsToCreation", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		s := b.session(t, b.user(t).ID)
		require.False(t, s.CreatedAt.IsZero())
		require.Equal(t, s.CreatedAt, s.LastSeenAt)
		got, err := b.s.Sessions().Get(b.ctx, s.ID)
		require.NoError(t, err)
		require.Equal(t, s, got)
	})

	t.Run("TokenHashIsUnique", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		s := b.session(t, u.ID)
		dup := newSession(u.ID)
		dup.TokenHash = s.TokenHash
		requireConflict(t, b.s.Sessions().Create(b.ctx, dup), "token_hash")
	})

	t.Run("RequiresAnExistingUser", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		require.ErrorIs(t, b.s.Sessions().Create(b.ctx, newSession(store.NewID())), store.ErrForeignKey)
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		for field, mod := range map[string]func(*store.Session){
			"token_hash": func(s *store.Session) { s.TokenHash = "" },
			"user_id":    func(s *store.Session) { s.UserID = "" },
			"expires_at": func(s *store.Session) { s.ExpiresAt = time.Time{} },
			"ip":         func(s *store.Session) { s.IP = strings.Repeat("1", 65) },
		} {
			s := newSession(u.ID)
			mod(s)
			requireValidation(t, b.s.Sessions().Create(b.ctx, s), field)
		}
		long := newSession(u.ID)
		long.TokenHash = strings.Repeat("f", 129)
		requireValidation(t, b.s.Sessions().Create(b.ctx, long), "token_hash")
	})

	t.Run("CutsTheUserAgentToMaxShortTextLen", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		long := strings.Repeat("端", store.MaxShortTextLen) + "末末末"
		s := b.session(t, u.ID, func(s *store.Session) { s.UserAgent = long })
		require.Equal(t, store.MaxShortTextLen, utf8.RuneCountInString(s.UserAgent), "the caller's struct holds the stored form")
		require.Equal(t, strings.Repeat("端", store.MaxShortTextLen), s.UserAgent, "the start is kept")
		got, err := b.s.Sessions().Get(b.ctx, s.ID)
		require.NoError(t, err)
		require.Equal(t, s, got)

		exact := strings.Repeat("a", store.MaxShortTextLen-1) + "界"
		s2 := b.session(t, u.ID, func(s *store.Session) { s.UserAgent = exact })
		got, err = b.s.Sessions().Get(b.ctx, s2.ID)
		require.NoError(t, err)
		require.Equal(t, exact, got.UserAgent, "a user agent of exactly the limit is kept whole")

		// Machine text: what PostgreSQL would refuse is cleaned, not rejected.
		dirty := b.session(t, u.ID, func(s *store.Session) { s.UserAgent = "curl\x00/8.0 \xff端末" })
		require.Equal(t, "curl/8.0 \uFFFD端末", dirty.UserAgent)
		got, err = b.s.Sessions().Get(b.ctx, dirty.ID)
		require.NoError(t, err)
		require.Equal(t, dirty, got)
	})

	t.Run("ListByUserNewestFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u, other := b.user(t), b.user(t)
		base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		var want []*store.Session
		for _, offset := range []time.Duration{2 * time.Hour, 0, 5 * time.Hour, time.Hour} {
			want = append(want, b.session(t, u.ID, func(s *store.Session) { s.CreatedAt = base.Add(offset) }))
		}
		b.session(t, other.ID)
		slices.SortFunc(want, func(a, b *store.Session) int { return b.CreatedAt.Compare(a.CreatedAt) })

		got, err := b.s.Sessions().ListByUser(b.ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, got, len(want))
		for i := range want {
			require.Equal(t, *want[i], got[i])
		}
		none, err := b.s.Sessions().ListByUser(b.ctx, b.user(t).ID)
		require.NoError(t, err)
		require.Empty(t, none)
	})

	t.Run("DeleteByUserEndsOnlyThatUsersSessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u, other := b.user(t), b.user(t)
		b.session(t, u.ID)
		b.session(t, u.ID)
		b.session(t, u.ID)
		keep := b.session(t, other.ID)

		n, err := b.s.Sessions().DeleteByUser(b.ctx, u.ID)
		require.NoError(t, err)
		require.EqualValues(t, 3, n)
		left, err := b.s.Sessions().ListByUser(b.ctx, u.ID)
		require.NoError(t, err)
		require.Empty(t, left)
		_, err = b.s.Sessions().Get(b.ctx, keep.ID)
		require.NoError(t, err)

		n, err = b.s.Sessions().DeleteByUser(b.ctx, u.ID)
		require.NoError(t, err)
		require.Zero(t, n)
	})

	t.Run("DeleteExpiredRemovesSessionsExpiringAtOrBeforeNow", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		now := someTime() // nanoseconds: compared in stored form
		past := b.session(t, u.ID, func(s *store.Session) { s.ExpiresAt = now.Add(-time.Hour) })
		atNow := b.session(t, u.ID, func(s *store.Session) { s.ExpiresAt = now })
		justAfter := b.session(t, u.ID, func(s *store.Session) { s.ExpiresAt = norm(now).Add(time.Microsecond) })
		future := b.session(t, u.ID, func(s *store.Session) { s.ExpiresAt = now.Add(time.Hour) })

		n, err := b.s.Sessions().DeleteExpired(b.ctx, now)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		for _, gone := range []*store.Session{past, atNow} {
			_, err := b.s.Sessions().Get(b.ctx, gone.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
		}
		left, err := b.s.Sessions().ListByUser(b.ctx, u.ID)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{justAfter.ID, future.ID}, ids(left, func(s store.Session) string { return s.ID }))

		n, err = b.s.Sessions().DeleteExpired(b.ctx, now)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

func apiKeyID(k store.APIKey) string { return k.ID }

func testAPIKeys(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		k := newAPIKey(u.ID)
		k.Name = "バックアップ取り込み用キー"
		k.Scopes = []store.Scope{store.ScopeWrite, store.ScopeRead, store.ScopeAdmin}
		k.CreatedAt = someTime()
		k.ExpiresAt = ptr(someTime().AddDate(1, 0, 0))
		require.NoError(t, b.s.APIKeys().Create(b.ctx, k))
		require.NotEmpty(t, k.ID)
		require.Equal(t, norm(someTime()), k.CreatedAt)
		require.Equal(t, k.CreatedAt, k.UpdatedAt)
		require.Equal(t, norm(someTime().AddDate(1, 0, 0)), *k.ExpiresAt)

		got, err := b.s.APIKeys().Get(b.ctx, k.ID)
		require.NoError(t, err)
		require.Equal(t, k, got, "scopes keep their order")
		require.Equal(t, time.UTC, got.ExpiresAt.Location())
		byPrefix, err := b.s.APIKeys().GetByPrefix(b.ctx, k.Prefix)
		require.NoError(t, err)
		require.Equal(t, k, byPrefix)

		upd := *got
		upd.Name = "名前を変更"
		upd.Scopes = []store.Scope{store.ScopeIngest}
		upd.ExpiresAt = nil
		upd.RevokedAt = ptr(someTime().Add(time.Hour))
		// Fields Update does not write.
		upd.Prefix = "changed" + strings.ReplaceAll(uniq(), "-", "")
		upd.SecretHash = strings.Repeat("ee", 32)
		upd.UserID = b.user(t).ID
		upd.LastUsedAt = ptr(someTime())
		require.NoError(t, b.s.APIKeys().Update(b.ctx, &upd))
		require.Equal(t, norm(someTime().Add(time.Hour)), *upd.RevokedAt)
		again, err := b.s.APIKeys().Get(b.ctx, k.ID)
		require.NoError(t, err)
		want := *got
		want.Name = upd.Name
		want.Scopes = upd.Scopes
		want.ExpiresAt = nil
		want.RevokedAt = upd.RevokedAt
		want.UpdatedAt = upd.UpdatedAt
		require.Equal(t, &want, again, "update writes name, scopes, job, expiry and revocation only")

		require.NoError(t, b.s.APIKeys().Delete(b.ctx, k.ID))
		_, err = b.s.APIKeys().Get(b.ctx, k.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.APIKeys().GetByPrefix(b.ctx, k.Prefix)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.APIKeys().Delete(b.ctx, k.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.APIKeys().Update(b.ctx, &want), store.ErrNotFound)
	})

	t.Run("TouchLastUsed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		k := b.apiKey(t, b.user(t).ID)
		require.Nil(t, k.LastUsedAt)
		require.NoError(t, b.s.APIKeys().TouchLastUsed(b.ctx, k.ID, someTime()))
		got, err := b.s.APIKeys().Get(b.ctx, k.ID)
		require.NoError(t, err)
		k.LastUsedAt = ptr(norm(someTime()))
		require.Equal(t, k, got, "touch changes last_used_at only")
		require.NoError(t, b.s.APIKeys().TouchLastUsed(b.ctx, k.ID, someTime()), "the same time again is no error")
		require.ErrorIs(t, b.s.APIKeys().TouchLastUsed(b.ctx, store.NewID(), someTime()), store.ErrNotFound)
	})

	t.Run("PrefixIsUnique", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		k := b.apiKey(t, u.ID)
		dup := newAPIKey(u.ID)
		dup.Prefix = k.Prefix
		requireConflict(t, b.s.APIKeys().Create(b.ctx, dup), "prefix")
		// Prefixes are random text compared exactly: another case is another key.
		upper := b.apiKey(t, u.ID, func(x *store.APIKey) { x.Prefix = strings.ToUpper(k.Prefix) })
		got, err := b.s.APIKeys().GetByPrefix(b.ctx, k.Prefix)
		require.NoError(t, err)
		require.Equal(t, k.ID, got.ID)
		got, err = b.s.APIKeys().GetByPrefix(b.ctx, upper.Prefix)
		require.NoError(t, err)
		require.Equal(t, upper.ID, got.ID)
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		for field, mod := range map[string]func(*store.APIKey){
			"user_id":     func(k *store.APIKey) { k.UserID = "" },
			"name":        func(k *store.APIKey) { k.Name = "" },
			"prefix":      func(k *store.APIKey) { k.Prefix = "" },
			"secret_hash": func(k *store.APIKey) { k.SecretHash = "" },
			"scopes":      func(k *store.APIKey) { k.Scopes = nil },
		} {
			k := newAPIKey(u.ID)
			mod(k)
			requireValidation(t, b.s.APIKeys().Create(b.ctx, k), field)
		}
		bad := newAPIKey(u.ID)
		bad.Scopes = []store.Scope{store.ScopeRead, "superuser"}
		requireValidation(t, b.s.APIKeys().Create(b.ctx, bad), "scopes")
		long := newAPIKey(u.ID)
		long.Name = strings.Repeat("鍵", store.MaxNameLen+1)
		requireValidation(t, b.s.APIKeys().Create(b.ctx, long), "name")

		k := b.apiKey(t, u.ID, func(k *store.APIKey) { k.Name = strings.Repeat("鍵", store.MaxNameLen) })
		got, err := b.s.APIKeys().Get(b.ctx, k.ID)
		require.NoError(t, err)
		require.Equal(t, k.Name, got.Name, "200 Japanese characters fit")
		k.Scopes = []store.Scope{}
		requireValidation(t, b.s.APIKeys().Update(b.ctx, k), "scopes")
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		require.ErrorIs(t, b.s.APIKeys().Create(b.ctx, newAPIKey(store.NewID())), store.ErrForeignKey)
		u := b.user(t)
		k := newAPIKey(u.ID)
		k.JobID = ptr(store.NewID())
		require.ErrorIs(t, b.s.APIKeys().Create(b.ctx, k), store.ErrForeignKey)

		ok := b.apiKey(t, u.ID)
		ok.JobID = ptr(store.NewID())
		require.ErrorIs(t, b.s.APIKeys().Update(b.ctx, ok), store.ErrForeignKey)
	})

	t.Run("BindsToAJobAndGoesWithIt", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u := b.user(t)
		j, other := b.job(t), b.job(t)
		k := b.apiKey(t, u.ID, func(k *store.APIKey) {
			k.JobID = &j.ID
			k.Scopes = []store.Scope{store.ScopeIngest}
		})
		got, err := b.s.APIKeys().Get(b.ctx, k.ID)
		require.NoError(t, err)
		require.Equal(t, k, got)
		require.Equal(t, j.ID, *got.JobID)

		rebound := b.apiKey(t, u.ID, func(k *store.APIKey) { k.JobID = &j.ID })
		rebound.JobID = &other.ID
		require.NoError(t, b.s.APIKeys().Update(b.ctx, rebound))
		unbound := b.apiKey(t, u.ID, func(k *store.APIKey) { k.JobID = &j.ID })
		unbound.JobID = nil
		require.NoError(t, b.s.APIKeys().Update(b.ctx, unbound))
		got, err = b.s.APIKeys().Get(b.ctx, unbound.ID)
		require.NoError(t, err)
		require.Nil(t, got.JobID)

		require.NoError(t, b.s.Jobs().Delete(b.ctx, j.ID))
		_, err = b.s.APIKeys().Get(b.ctx, k.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "a key bound to a deleted job is deleted with it")
		for _, kept := range []*store.APIKey{rebound, unbound} {
			got, err := b.s.APIKeys().Get(b.ctx, kept.ID)
			require.NoError(t, err, "keys no longer bound to the job stay")
			require.Equal(t, kept, got)
		}
	})

	t.Run("ListFiltersOrdersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		u, other := b.user(t), b.user(t)
		base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		var mine, revoked, theirs []*store.APIKey
		for i, offset := range []time.Duration{3 * time.Hour, time.Hour, 3 * time.Hour, 0, 2 * time.Hour} {
			k := b.apiKey(t, u.ID, func(k *store.APIKey) {
				k.CreatedAt = base.Add(offset)
				if i == 1 {
					k.RevokedAt = ptr(base.Add(4 * time.Hour))
				}
			})
			if i == 1 {
				revoked = append(revoked, k)
			} else {
				mine = append(mine, k)
			}
		}
		theirs = append(theirs, b.apiKey(t, other.ID, func(k *store.APIKey) { k.CreatedAt = base.Add(90 * time.Minute) }))
		newestFirst := func(keys ...[]*store.APIKey) []string {
			all := slices.Concat(keys...)
			slices.SortFunc(all, func(a, b *store.APIKey) int {
				return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
			})
			return ids(all, func(k *store.APIKey) string { return k.ID })
		}

		page, err := b.s.APIKeys().List(b.ctx, store.ListAPIKeysParams{})
		require.NoError(t, err)
		require.Equal(t, newestFirst(mine, theirs), ids(page.Items, apiKeyID), "newest first, revoked left out")
		page, err = b.s.APIKeys().List(b.ctx, store.ListAPIKeysParams{IncludeRevoked: true})
		require.NoError(t, err)
		require.Equal(t, newestFirst(mine, revoked, theirs), ids(page.Items, apiKeyID))
		page, err = b.s.APIKeys().List(b.ctx, store.ListAPIKeysParams{UserID: u.ID})
		require.NoError(t, err)
		require.Equal(t, newestFirst(mine), ids(page.Items, apiKeyID))
		page, err = b.s.APIKeys().List(b.ctx, store.ListAPIKeysParams{UserID: u.ID, IncludeRevoked: true})
		require.NoError(t, err)
		require.Equal(t, newestFirst(mine, revoked), ids(page.Items, apiKeyID))
		require.Equal(t, *revoked[0], page.Items[slices.Index(ids(page.Items, apiKeyID), revoked[0].ID)])
		page, err = b.s.APIKeys().List(b.ctx, store.ListAPIKeysParams{UserID: b.user(t).ID})
		require.NoError(t, err)
		require.Empty(t, page.Items)

		for _, includeRevoked := range []bool{false, true} {
			seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.APIKey], error) {
				return b.s.APIKeys().List(b.ctx, store.ListAPIKeysParams{PageParams: p, IncludeRevoked: includeRevoked})
			}, func() {
				b.apiKey(t, u.ID, func(k *store.APIKey) { k.CreatedAt = base.Add(90 * time.Minute) })
			}, apiKeyID)
			require.GreaterOrEqual(t, len(seen), len(mine)+len(theirs))
		}
	})
}

func testTransactions(t *testing.T, newStore NewStoreFunc) {
	errBoom := errors.New("boom")

	// createBoth creates a user and an API key of that user through tx.
	createBoth := func(b *bundle, tx store.Repos) (*store.User, *store.APIKey, error) {
		u := newUser()
		if err := tx.Users().Create(b.ctx, u); err != nil {
			return nil, nil, err
		}
		k := newAPIKey(u.ID)
		if err := tx.APIKeys().Create(b.ctx, k); err != nil {
			return nil, nil, err
		}
		return u, k, nil
	}
	requireGone := func(t *testing.T, b *bundle, u *store.User, k *store.APIKey) {
		t.Helper()
		require.NotNil(t, u)
		require.NotNil(t, k)
		_, err := b.s.Users().Get(b.ctx, u.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.APIKeys().Get(b.ctx, k.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.APIKeys().GetByPrefix(b.ctx, k.Prefix)
		require.ErrorIs(t, err, store.ErrNotFound)
	}

	t.Run("ErrorRollsBackEveryWrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		var u *store.User
		var k *store.APIKey
		err := b.s.InTx(b.ctx, func(_ context.Context, tx store.Repos) error {
			var err error
			u, k, err = createBoth(b, tx)
			require.NoError(t, err)
			inTx, err := tx.APIKeys().Get(b.ctx, k.ID)
			require.NoError(t, err, "the transaction sees its own writes")
			require.Equal(t, k, inTx)
			_, err = b.s.Users().Get(b.ctx, u.ID)
			require.ErrorIs(t, err, store.ErrNotFound, "nothing is visible outside before commit")
			return errBoom
		})
		require.ErrorIs(t, err, errBoom, "InTx returns fn's error")
		requireGone(t, b, u, k)
		page, err := b.s.Users().List(b.ctx, store.ListUsersParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
	})

	t.Run("PanicRollsBackAndTheStoreStillWorks", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		var u *store.User
		var k *store.APIKey
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			_ = b.s.InTx(b.ctx, func(_ context.Context, tx store.Repos) error {
				var err error
				u, k, err = createBoth(b, tx)
				require.NoError(t, err)
				panic("boom")
			})
		}()
		require.Equal(t, "boom", recovered, "the panic reaches the caller")
		requireGone(t, b, u, k)

		after := b.user(t)
		b.apiKey(t, after.ID)
		require.NoError(t, b.s.InTx(b.ctx, func(_ context.Context, tx store.Repos) error {
			_, _, err := createBoth(b, tx)
			return err
		}))
	})

	t.Run("SuccessCommitsEveryWrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		var u *store.User
		var k *store.APIKey
		require.NoError(t, b.s.InTx(b.ctx, func(_ context.Context, tx store.Repos) error {
			var err error
			u, k, err = createBoth(b, tx)
			return err
		}))
		gotU, err := b.s.Users().Get(b.ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, u, gotU)
		gotK, err := b.s.APIKeys().Get(b.ctx, k.ID)
		require.NoError(t, err)
		require.Equal(t, k, gotK)
	})

	t.Run("NestedInTxJoinsTheOuterTransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)

		// The inner error, propagated, rolls back the outer writes too.
		var u *store.User
		var k *store.APIKey
		err := b.s.InTx(b.ctx, func(_ context.Context, tx store.Repos) error {
			u = newUser()
			require.NoError(t, tx.Users().Create(b.ctx, u))
			return tx.InTx(b.ctx, func(_ context.Context, inner store.Repos) error {
				got, err := inner.Users().Get(b.ctx, u.ID)
				require.NoError(t, err, "the inner function sees the outer writes")
				require.Equal(t, u, got)
				k = newAPIKey(u.ID)
				require.NoError(t, inner.APIKeys().Create(b.ctx, k))
				return errBoom
			})
		})
		require.ErrorIs(t, err, errBoom)
		requireGone(t, b, u, k)

		// An inner success is not a commit: the outer error undoes it.
		err = b.s.InTx(b.ctx, func(_ context.Context, tx store.Repos) error {
			require.NoError(t, tx.InTx(b.ctx, func(_ context.Context, inner store.Repos) error {
				var err error
				u, k, err = createBoth(b, inner)
				return err
			}))
			return errBoom
		})
		require.ErrorIs(t, err, errBoom)
		requireGone(t, b, u, k)

		// Both succeed: both commit.
		require.NoError(t, b.s.InTx(b.ctx, func(_ context.Context, tx store.Repos) error {
			u = newUser()
			if err := tx.Users().Create(b.ctx, u); err != nil {
				return err
			}
			return tx.InTx(b.ctx, func(_ context.Context, inner store.Repos) error {
				k = newAPIKey(u.ID)
				return inner.APIKeys().Create(b.ctx, k)
			})
		}))
		_, err = b.s.Users().Get(b.ctx, u.ID)
		require.NoError(t, err)
		_, err = b.s.APIKeys().Get(b.ctx, k.ID)
		require.NoError(t, err)
	})
}
