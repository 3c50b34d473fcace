package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func settingKeys(t testing.TB, res *resp) []string {
	t.Helper()
	require.Equal(t, http.StatusOK, res.Code, "body: %s", res.Body)
	var l List[Setting]
	res.decode(t, &l)
	out := []string{}
	for _, s := range l.Items {
		out = append(out, s.Key)
	}
	return out
}

func TestSettings(t *testing.T) {
	t.Parallel()

	t.Run("PutsGetsListsAndDeletes", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := asSession(b.session(t, b.admin))
			res := b.do(t, admin, "PUT", "/api/v1/settings/alerts.repeat", `{"every_seconds": 3600, "channels": ["ops"]}`)
			require.Equal(t, http.StatusOK, res.Code, "body: %s", res.Body)
			var s Setting
			res.decode(t, &s)
			require.Equal(t, "alerts.repeat", s.Key)
			require.JSONEq(t, `{"every_seconds": 3600, "channels": ["ops"]}`, string(s.Value))
			require.NotNil(t, s.UpdatedBy)
			require.Equal(t, b.admin.ID, *s.UpdatedBy)
			require.Equal(t, testStart, s.UpdatedAt)

			for _, v := range []string{`42`, `"text"`, `true`, `null`, `[1, 2]`} {
				res = b.do(t, admin, "PUT", "/api/v1/settings/scalar", v)
				require.Equal(t, http.StatusOK, res.Code, "value %s: %s", v, res.Body)
				res = b.do(t, admin, "GET", "/api/v1/settings/scalar", nil)
				require.Equal(t, http.StatusOK, res.Code)
				res.decode(t, &s)
				require.JSONEq(t, v, string(s.Value))
			}

			require.Equal(t, []string{"alerts.repeat", "scalar"}, settingKeys(t, b.do(t, admin, "GET", "/api/v1/settings", nil)))
			res = b.do(t, admin, "DELETE", "/api/v1/settings/scalar", nil)
			require.Equal(t, http.StatusNoContent, res.Code, "body: %s", res.Body)
			requireRefused(t, b.do(t, admin, "GET", "/api/v1/settings/scalar", nil), http.StatusNotFound, "setting_not_found", "")
			requireRefused(t, b.do(t, admin, "DELETE", "/api/v1/settings/scalar", nil), http.StatusNotFound, "setting_not_found", "")
			require.Equal(t, []string{"alerts.repeat"}, settingKeys(t, b.do(t, admin, "GET", "/api/v1/settings", nil)))
		})
	})

	t.Run("AuditorsReadAndOnlyAdminsWrite", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		require.Equal(t, http.StatusOK, b.do(t, admin, "PUT", "/api/v1/settings/k", `1`).Code)
		auditor := asSession(b.session(t, b.user(t, "audit", store.RoleAuditor)))
		operator := asSession(b.session(t, b.user(t, "oper", store.RoleOperator)))

		require.Equal(t, []string{"k"}, settingKeys(t, b.do(t, auditor, "GET", "/api/v1/settings", nil)))
		require.Equal(t, http.StatusOK, b.do(t, auditor, "GET", "/api/v1/settings/k", nil).Code)
		requireRefused(t, b.do(t, auditor, "PUT", "/api/v1/settings/k", `2`), http.StatusForbidden, "forbidden", "")
		requireRefused(t, b.do(t, auditor, "DELETE", "/api/v1/settings/k", nil), http.StatusForbidden, "forbidden", "")
		requireRefused(t, b.do(t, operator, "GET", "/api/v1/settings", nil), http.StatusForbidden, "forbidden", "")
		requireRefused(t, b.do(t, operator, "GET", "/api/v1/settings/k", nil), http.StatusForbidden, "forbidden", "")
		requireRefused(t, b.do(t, anonymous, "GET", "/api/v1/settings", nil), http.StatusUnauthorized, "unauthenticated", "")

		res := b.do(t, admin, "GET", "/api/v1/settings/k", nil)
		var s Setting
		res.decode(t, &s)
		require.JSONEq(t, `1`, string(s.Value), "unchanged")
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		t.Cleanup(func() {
			require.Equal(t, []string{}, settingKeys(t, b.do(t, admin, "GET", "/api/v1/settings", nil)), "nothing was stored")
		})
		for _, tc := range []struct {
			badInput
			key string
		}{
			{badInput: badInput{name: "MalformedJSON", body: `{"a": `, status: 400, code: "invalid_json"}},
			{badInput: badInput{name: "NotJSON", body: `yes please`, status: 400, code: "invalid_json"}},
			{badInput: badInput{name: "EmptyBody", body: ``, status: 400, code: "invalid_body"}},
			{badInput: badInput{name: "TrailingData", body: `1 2`, status: 400, code: "invalid_body"}},
			{badInput: badInput{name: "KeyTooLong", body: `1`, status: 400, code: "invalid_input", field: "key"}, key: strings.Repeat("k", 300)},
			{badInput: badInput{name: "KeyWithSpaces", body: `1`, status: 400, code: "invalid_input", field: "key"}, key: "%20k%20"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				key := tc.key
				if key == "" {
					key = "k"
				}
				requireRefused(t, b.do(t, admin, "PUT", "/api/v1/settings/"+key, tc.body), tc.status, tc.code, tc.field)
			})
		}
	})

	t.Run("RefusesAValueOverTheBodyLimit", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		big := `"` + strings.Repeat("x", MaxBodyBytesDefault) + `"`
		requireRefused(t, b.do(t, admin, "PUT", "/api/v1/settings/k", big), http.StatusRequestEntityTooLarge, "body_too_large", "")
		require.Equal(t, []string{}, settingKeys(t, b.do(t, admin, "GET", "/api/v1/settings", nil)))
	})
}
