package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestLogin(t *testing.T) {
	t.Parallel()

	t.Run("SetsTheSessionCookieAndReturnsTheUser", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, &Config{BehindTLS: true})
			res := b.login(t, anonymous, "root", testPassword, "")
			require.Equal(t, http.StatusOK, res.Code, "body: %s", res.Body)
			var me Me
			res.decode(t, &me)
			require.Equal(t, b.admin.ID, me.User.ID)
			require.Equal(t, "root", me.User.Username)
			require.Equal(t, store.RoleAdmin, me.Role)
			require.Equal(t, "session", me.AuthMethod)
			require.NotNil(t, me.Session)
			require.Equal(t, testStart.Add(backupmgmt.SessionMaxAgeDefault), me.Session.ExpiresAt)
			require.Contains(t, me.Permissions, backupmgmt.PermAdmin)
			require.NotNil(t, me.User.LastLoginAt)

			c := sessionCookie(res)
			require.NotNil(t, c, "no session cookie")
			require.NotEmpty(t, c.Value)
			require.True(t, c.HttpOnly)
			require.Equal(t, int(backupmgmt.SessionMaxAgeDefault/time.Second), c.MaxAge)
			require.NotContains(t, string(res.Body), "password_hash")
			requireNoSecret(t, b, res, testPassword, c.Value)

			again := b.do(t, asSession(c.Value), "GET", "/api/v1/auth/me", nil)
			require.Equal(t, http.StatusOK, again.Code, "body: %s", again.Body)
		})
	})

	t.Run("RefusesUnknownUserWrongPasswordAndLockedAccountAlike", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		b.user(t, "oper", store.RoleOperator)

		unknown := b.login(t, anonymous, "nobody", testPassword, "")
		wrong := b.login(t, anonymous, "oper", "wrong password, long enough", "")
		for range backupmgmt.LockoutThresholdDefault - 1 {
			b.login(t, anonymous, "oper", "wrong password, long enough", "")
		}
		u, err := b.svc.Users().GetByUsername(context.Background(), "oper")
		require.NoError(t, err)
		require.True(t, b.svc.Auth().Locked(u), "the account should be locked now")
		locked := b.login(t, anonymous, "oper", testPassword, "")

		var bodies []ErrorBody
		for _, res := range []*resp{unknown, wrong, locked} {
			require.Equal(t, http.StatusUnauthorized, res.Code, "body: %s", res.Body)
			require.Nil(t, sessionCookie(res))
			e := res.errBody(t)
			e.RequestID = ""
			bodies = append(bodies, e)
		}
		require.Equal(t, "login_failed", bodies[0].Code)
		require.Equal(t, bodies[0], bodies[1])
		require.Equal(t, bodies[0], bodies[2])
		require.NotContains(t, bodies[2].Message, "lock")
		requireNoSecret(t, b, locked, testPassword, "wrong password, long enough")

		// An admin sees the lock.
		res := b.do(t, asSession(b.session(t, b.admin)), "GET", "/api/v1/users/"+u.ID, nil)
		require.Equal(t, http.StatusOK, res.Code)
		var view User
		res.decode(t, &view)
		require.True(t, view.Locked)
		require.Equal(t, backupmgmt.LockoutThresholdDefault, view.FailedLogins)
		require.NotNil(t, view.LockedUntil)
		require.Equal(t, testStart.Add(backupmgmt.LockoutDurationDefault), *view.LockedUntil)
	})

	t.Run("EndsTheSessionTheBrowserStillHeld", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		old := b.session(t, b.admin)
		res := b.login(t, asSession(old), "root", testPassword, "")
		require.Equal(t, http.StatusOK, res.Code)
		c := sessionCookie(res)
		require.NotNil(t, c)
		require.NotEqual(t, old, c.Value)
		require.Equal(t, http.StatusUnauthorized, b.do(t, asSession(old), "GET", "/api/v1/auth/me", nil).Code)
		require.Equal(t, http.StatusOK, b.do(t, asSession(c.Value), "GET", "/api/v1/auth/me", nil).Code)
	})

	t.Run("LimitsAttemptsPerUsernameAcrossIPs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Limits: Limits{Login: []security.Limit{{Events: 2, Period: time.Minute}}}})
		for i, ip := range []string{"192.0.2.1", "192.0.2.2"} {
			res := b.login(t, anonymous, "root", "wrong password, long enough", ip)
			require.Equal(t, http.StatusUnauthorized, res.Code, "attempt %d", i)
		}
		res := b.login(t, anonymous, "ROOT", testPassword, "192.0.2.3")
		requireRefused(t, res, http.StatusTooManyRequests, "rate_limited", "")
		require.Nil(t, sessionCookie(res))
		// Another username from the same IP is not held back.
		require.Equal(t, http.StatusUnauthorized, b.login(t, anonymous, "other", testPassword, "192.0.2.3").Code)
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		for _, tc := range []badInput{
			{name: "MalformedJSON", body: `{"username": "root",`, status: 400, code: "invalid_json"},
			{name: "EmptyBody", body: ``, status: 400, code: "invalid_body"},
			{name: "NotAnObject", body: `["root"]`, status: 400, code: "invalid_json"},
			{name: "MissingUsername", body: `{"password": "x"}`, status: 400, code: "invalid_input", field: "username"},
			{name: "MissingPassword", body: `{"username": "root"}`, status: 400, code: "invalid_input", field: "password"},
			{name: "WrongType", body: `{"username": 7, "password": "x"}`, status: 400, code: "invalid_input", field: "username"},
			{name: "UnknownField", body: `{"username": "root", "password": "x", "remember": true}`, status: 400, code: "invalid_input", field: "remember"},
			{name: "TrailingData", body: `{"username": "root", "password": "x"} {}`, status: 400, code: "invalid_body"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				res := b.do(t, anonymous, "POST", "/api/v1/auth/login", tc.body)
				requireRefused(t, res, tc.status, tc.code, tc.field)
				require.Nil(t, sessionCookie(res))
			})
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()

	t.Run("EndsTheSessionAndClearsTheCookie", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		token := b.session(t, b.admin)
		res := b.do(t, asSession(token), "POST", "/api/v1/auth/logout", nil)
		require.Equal(t, http.StatusNoContent, res.Code, "body: %s", res.Body)
		require.Equal(t, http.StatusUnauthorized, b.do(t, asSession(token), "GET", "/api/v1/auth/me", nil).Code)
		requireNoSecret(t, b, res, token)
		c := sessionCookie(res)
		require.NotNil(t, c, "the cookie is not cleared")
		require.Empty(t, c.Value)
		require.Negative(t, c.MaxAge)
	})

	t.Run("TellsAnAPIKeyItHasNoSession", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		key := b.key(t, b.admin, "", store.ScopeAdmin)
		res := b.do(t, asKey(key), "POST", "/api/v1/auth/logout", nil)
		requireRefused(t, res, http.StatusBadRequest, "not_a_session", "")
		require.Equal(t, http.StatusOK, b.do(t, asKey(key), "GET", "/api/v1/auth/me", nil).Code, "the key still works")
	})

	t.Run("NeedsAuthentication", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		requireRefused(t, b.do(t, anonymous, "POST", "/api/v1/auth/logout", nil), http.StatusUnauthorized, "unauthenticated", "")
	})
}

func TestMe(t *testing.T) {
	t.Parallel()

	t.Run("DescribesASession", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		viewer := b.user(t, "watcher", store.RoleViewer)
		res := b.do(t, asSession(b.session(t, viewer)), "GET", "/api/v1/auth/me", nil)
		require.Equal(t, http.StatusOK, res.Code, "body: %s", res.Body)
		var me Me
		res.decode(t, &me)
		require.Equal(t, viewer.ID, me.User.ID)
		require.Equal(t, store.RoleViewer, me.Role)
		require.Equal(t, "session", me.AuthMethod)
		require.NotNil(t, me.Session)
		require.Nil(t, me.APIKey)
		require.Equal(t, []backupmgmt.Permission{backupmgmt.PermRead, backupmgmt.PermSelf}, me.Permissions)
		require.NotContains(t, string(res.Body), "password_hash")
	})

	t.Run("DescribesAnAPIKeyWithItsScopes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		key := b.key(t, b.admin, "", store.ScopeAdmin)
		res := b.do(t, asKey(key), "GET", "/api/v1/auth/me", nil)
		require.Equal(t, http.StatusOK, res.Code, "body: %s", res.Body)
		var me Me
		res.decode(t, &me)
		require.Equal(t, "api_key", me.AuthMethod)
		require.Nil(t, me.Session)
		require.NotNil(t, me.APIKey)
		require.Equal(t, []store.Scope{store.ScopeAdmin}, me.APIKey.Scopes)
		require.Equal(t, b.admin.ID, me.APIKey.UserID)
		require.Equal(t, backupmgmt.Permissions(), me.Permissions)
		requireNoSecret(t, b, res, key)
	})

	t.Run("AnswersEveryKeyWhateverItsScopes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		key := b.key(t, b.admin, "", store.ScopeIngest)
		res := b.do(t, asKey(key), "GET", "/api/v1/auth/me", nil)
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		require.NotContains(t, string(res.Body), key)
	})

	t.Run("NeedsAuthentication", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		requireRefused(t, b.do(t, anonymous, "GET", "/api/v1/auth/me", nil), http.StatusUnauthorized, "unauthenticated", "")
		requireRefused(t, b.do(t, asSession("not-a-session"), "GET", "/api/v1/auth/me", nil), http.StatusUnauthorized, "unauthenticated", "")
	})
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	const newPassword = "a brand new passphrase"

	t.Run("ChangesItAndEndsTheOtherSessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		op := b.user(t, "oper", store.RoleOperator)
		mine, other := b.session(t, op), b.session(t, op)
		res := b.do(t, asSession(mine), "POST", "/api/v1/auth/password",
			map[string]string{"current_password": testPassword, "new_password": newPassword})
		require.Equal(t, http.StatusNoContent, res.Code, "body: %s", res.Body)
		require.Equal(t, http.StatusOK, b.do(t, asSession(mine), "GET", "/api/v1/auth/me", nil).Code, "this session stays")
		require.Equal(t, http.StatusUnauthorized, b.do(t, asSession(other), "GET", "/api/v1/auth/me", nil).Code, "the other one ends")
		require.Equal(t, http.StatusUnauthorized, b.login(t, anonymous, "oper", testPassword, "").Code)
		require.Equal(t, http.StatusOK, b.login(t, anonymous, "oper", newPassword, "").Code)
		requireNoSecret(t, b, res, testPassword, newPassword, mine, other)
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		op := b.user(t, "oper", store.RoleOperator)
		token := b.session(t, op)
		t.Cleanup(func() {
			// Nothing changed: the session lives and the password is the old one.
			require.Equal(t, http.StatusOK, b.do(t, asSession(token), "GET", "/api/v1/auth/me", nil).Code)
			require.Equal(t, http.StatusOK, b.login(t, anonymous, "oper", testPassword, "").Code)
		})
		for _, tc := range []badInput{
			{name: "WrongCurrentPassword", body: map[string]string{"current_password": "not the password at all", "new_password": newPassword}, status: 400, code: "invalid_input", field: "current_password"},
			{name: "TooShort", body: map[string]string{"current_password": testPassword, "new_password": "short"}, status: 400, code: "invalid_input", field: "new_password"},
			{name: "ContainsTheUsername", body: map[string]string{"current_password": testPassword, "new_password": "my oper passphrase"}, status: 400, code: "invalid_input", field: "new_password"},
			{name: "Unchanged", body: map[string]string{"current_password": testPassword, "new_password": testPassword}, status: 400, code: "invalid_input", field: "new_password"},
			{name: "MissingCurrent", body: map[string]string{"new_password": newPassword}, status: 400, code: "invalid_input", field: "current_password"},
			{name: "MissingNew", body: map[string]string{"current_password": testPassword}, status: 400, code: "invalid_input", field: "new_password"},
			{name: "UnknownField", body: map[string]string{"current_password": testPassword, "new_password": newPassword, "old_password": testPassword}, status: 400, code: "invalid_input", field: "old_password"},
			{name: "WrongType", body: `{"current_password": true, "new_password": "a brand new passphrase"}`, status: 400, code: "invalid_input", field: "current_password"},
			{name: "MalformedJSON", body: `{"current_password": `, status: 400, code: "invalid_json"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				res := b.do(t, asSession(token), "POST", "/api/v1/auth/password", tc.body)
				requireRefused(t, res, tc.status, tc.code, tc.field)
				requireNoSecret(t, b, res, testPassword, newPassword)
			})
		}
	})
}
