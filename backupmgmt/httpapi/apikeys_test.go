package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// keyIDs lists the IDs of an API-key list response.
func keyIDs(t testing.TB, res *resp) []string {
	t.Helper()
	require.Equal(t, http.StatusOK, res.Code, "body: %s", res.Body)
	var l List[APIKey]
	res.decode(t, &l)
	out := []string{}
	for _, k := range l.Items {
		out = append(out, k.ID)
	}
	return out
}

// createKey creates a key through the API and returns the response.
func (b *testBundle) createKey(t testing.TB, c cred, body any) (NewAPIKey, *resp) {
	t.Helper()
	res := b.do(t, c, "POST", "/api/v1/api-keys", body)
	var k NewAPIKey
	if res.Code == http.StatusCreated {
		res.decode(t, &k)
	}
	return k, res
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()

	t.Run("CreatesAKeyShowingItsSecretOnce", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := asSession(b.session(t, b.admin))
			expires := testStart.Add(30 * 24 * time.Hour)
			k, res := b.createKey(t, admin, map[string]any{
				"name": "reader", "scopes": []string{"read"}, "expires_at": expires.Format(time.RFC3339),
			})
			require.Equal(t, http.StatusCreated, res.Code, "body: %s", res.Body)
			require.True(t, strings.HasPrefix(k.Key, "cst_"+k.Prefix+"_"), "key %q, prefix %q", k.Key, k.Prefix)
			require.NotEmpty(t, k.ID)
			require.Equal(t, b.admin.ID, k.UserID)
			require.Equal(t, "reader", k.Name)
			require.Equal(t, []store.Scope{store.ScopeRead}, k.Scopes)
			require.Equal(t, expires, *k.ExpiresAt)
			require.Nil(t, k.RevokedAt)
			require.NotContains(t, string(res.Body), "secret_hash")

			// The key works, and is never shown again.
			used := b.do(t, asKey(k.Key), "GET", "/api/v1/settings", nil)
			require.Equal(t, http.StatusOK, used.Code, "body: %s", used.Body)
			got := b.do(t, admin, "GET", "/api/v1/api-keys/"+k.ID, nil)
			require.Equal(t, http.StatusOK, got.Code)
			var view APIKey
			got.decode(t, &view)
			require.Equal(t, k.APIKey.ID, view.ID)
			require.NotNil(t, view.LastUsedAt)
			require.NotContains(t, string(got.Body), `"key"`)
			list := b.do(t, admin, "GET", "/api/v1/api-keys", nil)
			require.Equal(t, []string{k.ID}, keyIDs(t, list))
			secret := k.Key[strings.LastIndex(k.Key, "_")+1:]
			for _, r := range []*resp{got, list, used} {
				requireNoSecret(t, b, r, k.Key, secret)
			}
			requireNoSecret(t, b, nil, k.Key, secret)
		})
	})

	t.Run("BindsAnIngestKeyToAJob", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		job, err := b.svc.Jobs().Create(context.Background(), backupmgmt.JobParams{
			Name: "nightly", JobType: store.JobTypeFile, Tool: store.ToolRestic, Schedule: store.Schedule{Kind: store.ScheduleManual},
		})
		require.NoError(t, err)
		k, res := b.createKey(t, asSession(b.session(t, b.admin)), map[string]any{"name": "collector", "scopes": []string{"ingest"}, "job_id": job.ID})
		require.Equal(t, http.StatusCreated, res.Code, "body: %s", res.Body)
		require.NotNil(t, k.JobID)
		require.Equal(t, job.ID, *k.JobID)
	})

	t.Run("ListsOnesOwnAndOnlyAdminsSeeOthers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		op := b.user(t, "oper", store.RoleOperator)
		opS := asSession(b.session(t, op))
		mine, res := b.createKey(t, opS, map[string]any{"name": "mine", "scopes": []string{"ingest"}})
		require.Equal(t, http.StatusCreated, res.Code, "body: %s", res.Body)
		require.Equal(t, op.ID, mine.UserID)
		made, res := b.createKey(t, admin, map[string]any{"name": "for oper", "scopes": []string{"write"}, "user_id": op.ID})
		require.Equal(t, http.StatusCreated, res.Code, "body: %s", res.Body)
		require.Equal(t, op.ID, made.UserID)
		rootKey, res := b.createKey(t, admin, map[string]any{"name": "root's", "scopes": []string{"admin"}})
		require.Equal(t, http.StatusCreated, res.Code, "body: %s", res.Body)

		require.Equal(t, []string{made.ID, mine.ID}, keyIDs(t, b.do(t, opS, "GET", "/api/v1/api-keys", nil)))
		require.Equal(t, []string{made.ID, mine.ID}, keyIDs(t, b.do(t, opS, "GET", "/api/v1/api-keys?user_id="+op.ID, nil)))
		requireRefused(t, b.do(t, opS, "GET", "/api/v1/api-keys?user_id="+b.admin.ID, nil), http.StatusForbidden, "forbidden", "")
		requireRefused(t, b.do(t, opS, "GET", "/api/v1/api-keys?all=true", nil), http.StatusForbidden, "forbidden", "")
		require.Equal(t, []string{rootKey.ID}, keyIDs(t, b.do(t, admin, "GET", "/api/v1/api-keys", nil)))
		require.Equal(t, []string{made.ID, mine.ID}, keyIDs(t, b.do(t, admin, "GET", "/api/v1/api-keys?user_id="+op.ID, nil)))
		require.Equal(t, []string{rootKey.ID, made.ID, mine.ID}, keyIDs(t, b.do(t, admin, "GET", "/api/v1/api-keys?all=true", nil)))

		// An operator cannot make keys for someone else.
		_, res = b.createKey(t, opS, map[string]any{"name": "sneaky", "scopes": []string{"read"}, "user_id": b.admin.ID})
		requireRefused(t, res, http.StatusForbidden, "forbidden", "")
		require.Equal(t, []string{rootKey.ID}, keyIDs(t, b.do(t, admin, "GET", "/api/v1/api-keys", nil)))
	})

	t.Run("RevokesOwnKeysAndHidesOthers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		op := b.user(t, "oper", store.RoleOperator)
		opS := asSession(b.session(t, op))
		rootKey, res := b.createKey(t, admin, map[string]any{"name": "root's", "scopes": []string{"admin"}})
		require.Equal(t, http.StatusCreated, res.Code)
		opKey, res := b.createKey(t, opS, map[string]any{"name": "oper's", "scopes": []string{"write"}})
		require.Equal(t, http.StatusCreated, res.Code)
		opKey2, res := b.createKey(t, opS, map[string]any{"name": "oper's 2", "scopes": []string{"ingest"}})
		require.Equal(t, http.StatusCreated, res.Code)

		// Someone else's key is not found, whatever the operation.
		for _, rq := range [][2]string{
			{"GET", "/api/v1/api-keys/" + rootKey.ID},
			{"DELETE", "/api/v1/api-keys/" + rootKey.ID},
			{"POST", "/api/v1/api-keys/" + rootKey.ID + "/revoke"},
			{"GET", "/api/v1/api-keys/no-such-key"},
		} {
			requireRefused(t, b.do(t, opS, rq[0], rq[1], nil), http.StatusNotFound, "api_key_not_found", "")
		}
		require.Equal(t, http.StatusOK, b.do(t, asKey(rootKey.Key), "GET", "/api/v1/auth/me", nil).Code, "root's key still works")

		res = b.do(t, opS, "DELETE", "/api/v1/api-keys/"+opKey.ID, nil)
		require.Equal(t, http.StatusNoContent, res.Code, "body: %s", res.Body)
		requireRefused(t, b.do(t, asKey(opKey.Key), "GET", "/api/v1/auth/me", nil), http.StatusUnauthorized, "unauthenticated", "")

		// An admin revokes anyone's.
		res = b.do(t, admin, "POST", "/api/v1/api-keys/"+opKey2.ID+"/revoke", nil)
		require.Equal(t, http.StatusOK, res.Code, "body: %s", res.Body)
		var revoked APIKey
		res.decode(t, &revoked)
		require.NotNil(t, revoked.RevokedAt)
		require.Equal(t, testStart, *revoked.RevokedAt)

		require.Equal(t, []string{}, keyIDs(t, b.do(t, opS, "GET", "/api/v1/api-keys", nil)))
		require.Equal(t, []string{opKey2.ID, opKey.ID}, keyIDs(t, b.do(t, opS, "GET", "/api/v1/api-keys?include_revoked=true", nil)))
	})

	t.Run("RefusesBadCreates", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		viewer := b.user(t, "watcher", store.RoleViewer)
		viewerS := asSession(b.session(t, viewer))
		t.Cleanup(func() {
			require.Equal(t, []string{}, keyIDs(t, b.do(t, admin, "GET", "/api/v1/api-keys?all=true&include_revoked=true", nil)), "no key was made")
		})
		past := testStart.Add(-time.Hour).Format(time.RFC3339)
		for _, tc := range []struct {
			badInput
			as cred
		}{
			{badInput: badInput{name: "MalformedJSON", body: `{"name": "x", `, status: 400, code: "invalid_json"}},
			{badInput: badInput{name: "MissingName", body: `{"scopes": ["read"]}`, status: 400, code: "invalid_input", field: "name"}},
			{badInput: badInput{name: "MissingScopes", body: `{"name": "x"}`, status: 400, code: "invalid_input", field: "scopes"}},
			{badInput: badInput{name: "NoScopes", body: `{"name": "x", "scopes": []}`, status: 400, code: "invalid_input", field: "scopes"}},
			{badInput: badInput{name: "UnknownScope", body: `{"name": "x", "scopes": ["superpower"]}`, status: 400, code: "invalid_input", field: "scopes"}},
			{badInput: badInput{name: "ScopesNotAnArray", body: `{"name": "x", "scopes": "read"}`, status: 400, code: "invalid_input", field: "scopes"}},
			{badInput: badInput{name: "DuplicateScope", body: `{"name": "x", "scopes": ["read", "read"]}`, status: 400, code: "invalid_input", field: "scopes"}},
			{badInput: badInput{name: "BadExpiry", body: `{"name": "x", "scopes": ["read"], "expires_at": "tomorrow"}`, status: 400, code: "invalid_input", field: "expires_at"}},
			{badInput: badInput{name: "PastExpiry", body: `{"name": "x", "scopes": ["read"], "expires_at": "` + past + `"}`, status: 400, code: "invalid_input", field: "expires_at"}},
			{badInput: badInput{name: "JobOnAReadKey", body: `{"name": "x", "scopes": ["read"], "job_id": "j"}`, status: 400, code: "invalid_input", field: "job_id"}},
			{badInput: badInput{name: "UnknownJob", body: `{"name": "x", "scopes": ["ingest"], "job_id": "no-such-job"}`, status: 400, code: "invalid_input", field: "job_id"}},
			{badInput: badInput{name: "UnknownUser", body: `{"name": "x", "scopes": ["read"], "user_id": "no-such-user"}`, status: 400, code: "invalid_input", field: "user_id"}},
			{badInput: badInput{name: "UnknownField", body: `{"name": "x", "scopes": ["read"], "secret": "mine"}`, status: 400, code: "invalid_input", field: "secret"}},
			{badInput: badInput{name: "ScopeBeyondTheRole", body: `{"name": "x", "scopes": ["write"]}`, status: 400, code: "invalid_input", field: "scopes"}, as: viewerS},
			{badInput: badInput{name: "AdminScopeForAViewer", body: `{"name": "x", "scopes": ["admin"], "user_id": "` + viewer.ID + `"}`, status: 400, code: "invalid_input", field: "scopes"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				as := tc.as
				if as == (cred{}) {
					as = admin
				}
				_, res := b.createKey(t, as, tc.body)
				requireRefused(t, res, tc.status, tc.code, tc.field)
			})
		}
	})

	t.Run("RefusesBadListParameters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := asSession(b.session(t, b.admin))
		for _, tc := range []struct{ query, field string }{
			{"all=maybe", "all"},
			{"all=true&user_id=" + b.admin.ID, "all"},
			{"include_revoked=2", "include_revoked"},
			{"limit=-1", "limit"},
			{"cursor=garbage", "cursor"},
			{"owner=me", "owner"},
		} {
			t.Run(tc.query, func(t *testing.T) {
				t.Parallel()
				requireRefused(t, b.do(t, admin, "GET", "/api/v1/api-keys?"+tc.query, nil), http.StatusBadRequest, "invalid_input", tc.field)
			})
		}
	})

	t.Run("NeedsTheSelfPermission", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		key := b.key(t, b.admin, "", store.ScopeRead)
		requireRefused(t, b.do(t, asKey(key), "GET", "/api/v1/api-keys", nil), http.StatusForbidden, "forbidden", "")
		_, res := b.createKey(t, asKey(key), map[string]any{"name": "escalate", "scopes": []string{"admin"}})
		requireRefused(t, res, http.StatusForbidden, "forbidden", "")
		requireRefused(t, b.do(t, anonymous, "GET", "/api/v1/api-keys", nil), http.StatusUnauthorized, "unauthenticated", "")
	})
}
