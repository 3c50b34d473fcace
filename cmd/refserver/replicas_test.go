package main

import (
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// TestReplicasSeeEachOthersWrites runs two server processes on one
// database with the caches on and short TTLs: each reads its own writes at
// once, and the other's within the TTL.
func TestReplicasSeeEachOthersWrites(t *testing.T) {
	t.Parallel()
	for _, kind := range []dbopen.Kind{dbopen.Postgres, dbopen.MySQL} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			const ttl = 2 * time.Second
			const password = "replica test operator passphrase"
			env := map[string]string{
				envDB: bunstoretest.DSN(t, kind), envAdminPassword: password,
				envCacheJobTTL: ttl.String(), envCacheCompTTL: ttl.String(), envCacheDashTTL: ttl.String(), envCacheRepTTL: ttl.String(),
			}
			a := startChild(t, env)
			b := startChild(t, env)
			jar, err := cookiejar.New(nil) // one session, valid on both: they share the database
			require.NoError(t, err)
			ca := &e2eClient{t: t, base: "http://" + a.addr, http: &http.Client{Jar: jar}}
			cb := &e2eClient{t: t, base: "http://" + b.addr, http: &http.Client{Jar: jar}}
			code, _, raw := ca.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": password})
			require.Equal(t, http.StatusOK, code, raw)

			names := func(c *e2eClient) map[string]string {
				t.Helper()
				code, page, raw := c.call("GET", "/api/v1/jobs?limit=50", "", nil)
				require.Equal(t, http.StatusOK, code, raw)
				out := map[string]string{}
				for _, it := range page["items"].([]any) {
					j := it.(map[string]any)
					out[j["name"].(string)] = j["description"].(string)
				}
				return out
			}
			require.Empty(t, names(cb), "B caches the empty list")

			code, job, raw := ca.call("POST", "/api/v1/jobs", "", map[string]any{
				"name": "shared", "job_type": "file", "tool": "restic", "description": "v1",
				"schedule": map[string]any{"kind": "manual"},
			})
			require.Equal(t, http.StatusCreated, code, raw)
			require.Contains(t, names(ca), "shared", "A reads its own write at once")
			written := time.Now()
			require.Eventually(t, func() bool { _, ok := names(cb)["shared"]; return ok }, 2*ttl, 50*time.Millisecond,
				"B sees A's job within the TTL")
			t.Logf("B saw A's new job after %s (TTL %s)", time.Since(written).Round(time.Millisecond), ttl)

			for i, d := range []string{"v2", "v3", "v4"} {
				code, _, raw = cb.call("PATCH", "/api/v1/jobs/"+job["id"].(string), "", map[string]any{"description": d})
				require.Equal(t, http.StatusOK, code, raw)
				require.Equal(t, d, names(cb)["shared"], "B reads its own update %d at once", i)
			}
			written = time.Now()
			require.Eventually(t, func() bool { return names(ca)["shared"] == "v4" }, 2*ttl, 50*time.Millisecond,
				"A sees B's update within the TTL")
			t.Logf("A saw B's update after %s", time.Since(written).Round(time.Millisecond))
		})
	}
}
