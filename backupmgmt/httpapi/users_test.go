package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// usernames lists the usernames of a user list response.
func usernames(t testing.TB, res *resp) ([]string, string) {
	t.Helper()
	require.Equal(t, http.StatusOK, res.Code, "body: %s", res.Body)
	var l List[User]
	res.decode(t, &l)
	out := []string{}
	for _, u := range l.Items {
		out = append(out, u.Username)
	}
	return out, l.NextCursor
}

func TestUsers(t *testing.T) {
	t.Parallel()

	t.Run("CreatesGetsChangesAndDeletesAUser", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := asSession(b.session(t, b.admin))
			const pw = "initial passphrase 1"
			res := b.do(t, admin, "POST", "/api/v1/users", map[string]string{
				"username": "alice", "email": "alice@example.com", "full_name": "Alice A",
				"department": "Infra", "role": "operator", "password": pw,
			})
			require.Equal(t, http.StatusCreated, res.Code, "body: %s", res.Body)
			var u User
			res.decode(t, &u)
			require.NotEmpty(t, u.ID)
			require.Equal(t, "alice", u.Username)
			require.Equal(t, "alice@example.com", u.Email)
			require.Equal(t, "Alice A", u.FullName)
			require.Equal(t, "Infra", u.Department)
			require.Equal(t, store.RoleOperator, u.Role)
			require.True(t, u.Active)
			require.False(t, u.Locked)
			require.Equal(t, testStart, u.CreatedAt)
			require.NotContains(t, string(res.Body), `"password"`)
			require.NotContains(t, string(res.Body), "password_hash")
			require.NotContains(t, string(res.Body), "$argon2id")
			requireNoSecret(t, b, res, pw)

			res = b.do(t, admin, "GET", "/api/v1/users/"+u.ID, nil)
			require.Equal(t, http.StatusOK, res.Code)
			var got User
			res.decode(t, &got)
			require.Equal(t, u, got)

			res = b.do(t, admin, "PATCH", "/api/v1/users/"+u.ID, map[string]any{"role": "viewer", "department": "Ops", "active": false})
			require.Equal(t, http.StatusOK, res.Code, "body: %s", res.Body)
			res.decode(t, &got)
			require.Equal(t, store.RoleViewer, got.Role)
			require.Equal(t, "Ops", got.Department)
			require.False(t, got.Active)
			require.Equal(t, "alice@example.com", got.Email, "absent fields are kept")

			res = b.do(t, admin, "DELETE", "/api/v1/users/"+u.ID, nil)
			require.Equal(t, http.StatusNoContent, res.Code, "body: %s", res.Body)
			requireRefused(t, b.do(t, admin, "GET", "/api/v1/users/"+u.ID, nil), http.StatusNotFound, "user_not_found", "")
		})
	})

	t.Run("ListsWithFiltersAndSearch", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		b.user(t, "bob", store.RoleOperator)
		b.user(t, "bobby", store.RoleViewer)
		carol := b.user(t, "carol", store.RoleOperator)
		_, err := b.svc.Users().Update(context.Background(), carol.ID, backupmgmt.UserUpdate{FullName: new("Carol Bobson")})
		require.NoError(t, err)
		_, err = b.svc.Users().Update(context.Background(), carol.ID, backupmgmt.UserUpdate{Active: new(false)})
		require.NoError(t, err)

		names, next := usernames(t, b.do(t, admin, "GET", "/api/v1/users", nil))
		require.Equal(t, []string{"bob", "bobby", "carol", "root"}, names)
		require.Empty(t, next)
		names, _ = usernames(t, b.do(t, admin, "GET", "/api/v1/users?role=operator", nil))
		require.Equal(t, []string{"bob", "carol"}, names)
		names, _ = usernames(t, b.do(t, admin, "GET", "/api/v1/users?active=false", nil))
		require.Equal(t, []string{"carol"}, names)
		names, _ = usernames(t, b.do(t, admin, "GET", "/api/v1/users?q=BOB", nil))
		require.Equal(t, []string{"bob", "bobby", "carol"}, names, "matches username and full name, ignoring case")
		names, _ = usernames(t, b.do(t, admin, "GET", "/api/v1/users?q=bob&active=true&role=viewer", nil))
		require.Equal(t, []string{"bobby"}, names)
		names, _ = usernames(t, b.do(t, admin, "GET", "/api/v1/users?q=nobody", nil))
		require.Equal(t, []string{}, names)

		// A search pages like any list: no duplicates, no gaps.
		var all []string
		cursor := ""
		for range 5 {
			path := "/api/v1/users?q=bob&limit=2"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			names, cursor = usernames(t, b.do(t, admin, "GET", path, nil))
			require.LessOrEqual(t, len(names), 2)
			all = append(all, names...)
			if cursor == "" {
				break
			}
		}
		require.Equal(t, []string{"bob", "bobby", "carol"}, all)
	})

	t.Run("AdminSetsAPasswordUnlockingAndEndingSessions", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		op := b.user(t, "oper", store.RoleOperator)
		opSession := b.session(t, op)
		for range backupmgmt.LockoutThresholdDefault {
			b.login(t, anonymous, "oper", "wrong password, long enough", "")
		}
		const pw = "reset passphrase 22"
		res := b.do(t, admin, "POST", "/api/v1/users/"+op.ID+"/password", map[string]string{"password": pw})
		require.Equal(t, http.StatusNoContent, res.Code, "body: %s", res.Body)
		requireNoSecret(t, b, res, pw)
		require.Equal(t, http.StatusUnauthorized, b.do(t, asSession(opSession), "GET", "/api/v1/auth/me", nil).Code)
		require.Equal(t, http.StatusOK, b.login(t, anonymous, "oper", pw, "").Code, "unlocked, with the new password")
	})

	t.Run("GuardsTheLastAdmin", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		path := "/api/v1/users/" + b.admin.ID
		requireRefused(t, b.do(t, admin, "PATCH", path, map[string]any{"role": "viewer"}), http.StatusConflict, "last_admin", "")
		requireRefused(t, b.do(t, admin, "PATCH", path, map[string]any{"active": false}), http.StatusConflict, "last_admin", "")
		requireRefused(t, b.do(t, admin, "DELETE", path, nil), http.StatusConflict, "last_admin", "")
		u, err := b.svc.Users().Get(context.Background(), b.admin.ID)
		require.NoError(t, err)
		require.Equal(t, store.RoleAdmin, u.Role)
		require.True(t, u.Active)
	})

	t.Run("RefusesToDeleteAnOwnerOfJobs", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := asSession(b.session(t, b.admin))
			op := b.user(t, "oper", store.RoleOperator)
			_, err := b.svc.Jobs().Create(context.Background(), backupmgmt.JobParams{
				Name: "nightly", JobType: store.JobTypeFile, Tool: store.ToolRestic,
				Schedule: store.Schedule{Kind: store.ScheduleManual}, OwnerID: &op.ID,
			})
			require.NoError(t, err)
			requireRefused(t, b.do(t, admin, "DELETE", "/api/v1/users/"+op.ID, nil), http.StatusConflict, "user_in_use", "")
			_, err = b.svc.Users().Get(context.Background(), op.ID)
			require.NoError(t, err)
		})
	})

	t.Run("IsForAdminsOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		op := b.user(t, "oper", store.RoleOperator)
		s := asSession(b.session(t, op))
		for _, rq := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/v1/users", nil},
			{"POST", "/api/v1/users", map[string]string{"username": "mallory", "role": "admin", "password": testPassword}},
			{"GET", "/api/v1/users/" + b.admin.ID, nil},
			{"PATCH", "/api/v1/users/" + op.ID, map[string]string{"role": "admin"}},
			{"DELETE", "/api/v1/users/" + b.admin.ID, nil},
			{"POST", "/api/v1/users/" + b.admin.ID + "/password", map[string]string{"password": "owned you now 123"}},
		} {
			requireRefused(t, b.do(t, s, rq.method, rq.path, rq.body), http.StatusForbidden, "forbidden", "")
		}
		u, err := b.svc.Users().Get(context.Background(), op.ID)
		require.NoError(t, err)
		require.Equal(t, store.RoleOperator, u.Role)
		_, err = b.svc.Users().GetByUsername(context.Background(), "mallory")
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("RefusesBadCreates", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		t.Cleanup(func() {
			names, _ := usernames(t, b.do(t, admin, "GET", "/api/v1/users", nil))
			require.Equal(t, []string{"root"}, names, "nothing was created")
		})
		ok := func(mod map[string]any) map[string]any {
			m := map[string]any{"username": "dave", "role": "operator", "password": testPassword}
			for k, v := range mod {
				if v == nil {
					delete(m, k)
				} else {
					m[k] = v
				}
			}
			return m
		}
		for _, tc := range []badInput{
			{name: "MalformedJSON", body: `{"username": "dave"`, status: 400, code: "invalid_json"},
			{name: "MissingUsername", body: ok(map[string]any{"username": nil}), status: 400, code: "invalid_input", field: "username"},
			{name: "MissingRole", body: ok(map[string]any{"role": nil}), status: 400, code: "invalid_input", field: "role"},
			{name: "MissingPassword", body: ok(map[string]any{"password": nil}), status: 400, code: "invalid_input", field: "password"},
			{name: "UnknownRole", body: ok(map[string]any{"role": "superuser"}), status: 400, code: "invalid_input", field: "role"},
			{name: "BadUsername", body: ok(map[string]any{"username": "da ve!"}), status: 400, code: "invalid_input", field: "username"},
			{name: "BadEmail", body: ok(map[string]any{"email": "not-an-email"}), status: 400, code: "invalid_input", field: "email"},
			{name: "ShortPassword", body: ok(map[string]any{"password": "short"}), status: 400, code: "invalid_input", field: "password"},
			{name: "WrongType", body: ok(map[string]any{"role": 3}), status: 400, code: "invalid_input", field: "role"},
			{name: "UnknownField", body: ok(map[string]any{"password_hash": "$argon2id$..."}), status: 400, code: "invalid_input", field: "password_hash"},
			{name: "TakenUsername", body: ok(map[string]any{"username": "ROOT"}), status: 409, code: "conflict", field: "username"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				res := b.do(t, admin, "POST", "/api/v1/users", tc.body)
				requireRefused(t, res, tc.status, tc.code, tc.field)
				requireNoSecret(t, b, res, testPassword)
			})
		}
	})

	t.Run("RefusesBadPatches", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		op := b.user(t, "oper", store.RoleOperator)
		t.Cleanup(func() {
			u, err := b.svc.Users().Get(context.Background(), op.ID)
			require.NoError(t, err)
			require.Equal(t, op.Role, u.Role)
			require.Equal(t, op.Email, u.Email)
			require.True(t, u.Active)
			require.Equal(t, op.UpdatedAt, u.UpdatedAt)
		})
		for _, tc := range []badInput{
			{name: "MalformedJSON", body: `{"role": `, status: 400, code: "invalid_json"},
			{name: "UnknownRole", body: `{"role": "superuser"}`, status: 400, code: "invalid_input", field: "role"},
			{name: "WrongType", body: `{"active": "yes"}`, status: 400, code: "invalid_input", field: "active"},
			{name: "BadEmail", body: `{"email": "nope"}`, status: 400, code: "invalid_input", field: "email"},
			{name: "UsernameCannotChange", body: `{"username": "other"}`, status: 400, code: "invalid_input", field: "username"},
			{name: "NotAnObject", body: `[]`, status: 400, code: "invalid_json"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				requireRefused(t, b.do(t, admin, "PATCH", "/api/v1/users/"+op.ID, tc.body), tc.status, tc.code, tc.field)
			})
		}
		requireRefused(t, b.do(t, admin, "PATCH", "/api/v1/users/no-such-user", `{"role": "viewer"}`), http.StatusNotFound, "user_not_found", "")
	})

	t.Run("RefusesBadPasswordsAndUnknownUsers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		op := b.user(t, "oper", store.RoleOperator)
		path := "/api/v1/users/" + op.ID + "/password"
		requireRefused(t, b.do(t, admin, "POST", path, `{"password": "short"}`), 400, "invalid_input", "password")
		requireRefused(t, b.do(t, admin, "POST", path, `{"password": "oper is in this one"}`), 400, "invalid_input", "password")
		requireRefused(t, b.do(t, admin, "POST", path, `{}`), 400, "invalid_input", "password")
		requireRefused(t, b.do(t, admin, "POST", path, `{"password": ["x"]}`), 400, "invalid_input", "password")
		requireRefused(t, b.do(t, admin, "POST", "/api/v1/users/no-such-user/password", `{"password": "a fine passphrase"}`), 404, "user_not_found", "")
		requireRefused(t, b.do(t, admin, "DELETE", "/api/v1/users/no-such-user", nil), 404, "user_not_found", "")
		require.Equal(t, http.StatusOK, b.login(t, anonymous, "oper", testPassword, "").Code, "the password is unchanged")
	})

	t.Run("RefusesBadListParameters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		for _, tc := range []struct{ query, field string }{
			{"role=superuser", "role"},
			{"active=maybe", "active"},
			{"limit=0", "limit"},
			{"limit=1000", "limit"},
			{"cursor=garbage", "cursor"},
			{"q=bob&cursor=garbage", "cursor"},
			{"sort=username", "sort"},
		} {
			t.Run(tc.query, func(t *testing.T) {
				t.Parallel()
				requireRefused(t, b.do(t, admin, "GET", "/api/v1/users?"+tc.query, nil), http.StatusBadRequest, "invalid_input", tc.field)
			})
		}
	})
}
