package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

// e2eClient talks to a running server as a browser would (cookies kept)
// or as a script (a Bearer key).
type e2eClient struct {
	t    testing.TB
	base string
	http *http.Client
}

func (c *e2eClient) call(method, path, key string, body any) (int, map[string]any, string) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := c.http
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
		client = http.DefaultClient // no cookie beside the key
	}
	res, err := client.Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out, string(raw)
}

// TestEndToEnd drives the real server over HTTP through an operator's
// first day: sign in, create an ingest key, a job and its copies, record
// runs with the key and with ping URLs, read compliance, acknowledge the
// alert a failure raised, and verify the audit chain — on every database.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			dsn := bunstoretest.DSN(t, kind)
			const password = "end to end operator passphrase"
			srv := startServe(t, map[string]string{envDB: dsn, envAdminPassword: password})
			jar, err := cookiejar.New(nil)
			require.NoError(t, err)
			c := &e2eClient{t: t, base: "http://" + srv.addr, http: &http.Client{Jar: jar}}

			code, me, raw := c.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": password})
			require.Equal(t, http.StatusOK, code, raw)
			require.Equal(t, "admin", me["user"].(map[string]any)["username"])

			code, created, raw := c.call("POST", "/api/v1/api-keys", "", map[string]any{"name": "backup host", "scopes": []string{"ingest"}})
			require.Equal(t, http.StatusCreated, code, raw)
			key := created["key"].(string)
			require.True(t, strings.HasPrefix(key, "cst_"), key)

			code, job, raw := c.call("POST", "/api/v1/jobs", "", map[string]any{
				"name": "erp-db nightly", "job_type": "database", "tool": "pg_dump",
				"schedule":      map[string]any{"kind": "cron", "cron": "0 2 * * *", "timezone": "Asia/Tokyo"},
				"grace_seconds": 3600,
			})
			require.Equal(t, http.StatusCreated, code, raw)
			jobID := job["id"].(string)
			pingURL := job["ping_url"].(string)
			require.True(t, strings.HasPrefix(pingURL, c.base+"/ping/"), pingURL)

			var primary string
			for _, cp := range []map[string]any{
				{"name": "nas", "role": "primary", "media_type": "nas", "offsite": false, "offline": false, "immutable": false},
				{"name": "s3 object lock", "role": "offsite", "media_type": "cloud_object", "offsite": true, "offline": false, "immutable": true},
				{"name": "weekly tape", "role": "offline", "media_type": "tape", "offsite": true, "offline": true, "immutable": false},
			} {
				code, copy, raw := c.call("POST", "/api/v1/jobs/"+jobID+"/copies", "", cp)
				require.Equal(t, http.StatusCreated, code, raw)
				if primary == "" {
					primary = copy["id"].(string)
				}
			}

			now := time.Now().UTC()
			run := map[string]any{
				"job_id": jobID, "run_id": "2026-12-01", "status": "success",
				"started_at": now.Add(-20 * time.Minute).Format(time.RFC3339), "finished_at": now.Add(-time.Minute).Format(time.RFC3339),
				"size_bytes": 5 << 30, "files": 1, "message": "dump ok", "copy_id": primary,
			}
			code, _, raw = c.call("POST", "/api/v1/executions", key, run)
			require.Equal(t, http.StatusCreated, code, raw)
			code, _, raw = c.call("POST", "/api/v1/executions", key, run)
			require.Equal(t, http.StatusOK, code, "a repeated run_id is the stored run: %s", raw)

			for _, u := range []string{pingURL + "/start?rid=ping-1", pingURL + "?rid=ping-1"} {
				res, err := http.Post(u, "text/plain", strings.NewReader("pg_dump: done\n"))
				require.NoError(t, err)
				body, _ := io.ReadAll(res.Body)
				_ = res.Body.Close()
				require.Equal(t, http.StatusOK, res.StatusCode, string(body))
				require.Equal(t, "OK", strings.TrimSpace(string(body)))
			}
			code, list, raw := c.call("GET", "/api/v1/jobs/"+jobID+"/executions", "", nil)
			require.Equal(t, http.StatusOK, code, raw)
			require.Len(t, list["items"], 2, "one run from the API, one from the paired pings: %s", raw)

			code, comp, raw := c.call("GET", "/api/v1/jobs/"+jobID+"/compliance", "", nil)
			require.Equal(t, http.StatusOK, code, raw)
			require.Contains(t, []any{"compliant", "warning", "non_compliant"}, comp["status"], raw)
			require.Contains(t, comp, "score")
			require.Contains(t, comp, "reasons")

			res, err := http.Post(pingURL+"/fail", "text/plain", strings.NewReader("disk full"))
			require.NoError(t, err)
			_ = res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)
			code, alerts, raw := c.call("GET", "/api/v1/alerts?state=open", "", nil)
			require.Equal(t, http.StatusOK, code, raw)
			items := alerts["items"].([]any)
			require.NotEmpty(t, items, "the failed run raised an alert: %s", raw)
			alertID := items[0].(map[string]any)["id"].(string)
			code, ack, raw := c.call("POST", "/api/v1/alerts/"+alertID+"/acknowledge", "", map[string]string{"note": "on it"})
			require.Equal(t, http.StatusOK, code, raw)
			require.Equal(t, "acknowledged", ack["state"])

			code, _, raw = c.call("GET", "/api/v1/jobs", key, nil)
			require.Equal(t, http.StatusForbidden, code, "an ingest key reads nothing: %s", raw)

			code, verify, raw := c.call("POST", "/api/v1/audit/verify", "", nil)
			require.Equal(t, http.StatusOK, code, raw)
			require.Equal(t, true, verify["ok"], raw)

			require.Equal(t, exitOK, srv.stop(t))
			r := runCmd(t, map[string]string{envDB: dsn}, "audit", "verify")
			require.Equal(t, exitOK, r.code, r.stderr)
			require.Contains(t, r.stdout, "audit chain intact")
			require.NotContains(t, strings.Join(srv.logs.messages(), "\n"), key, "the key never reaches the log")
		})
	}
}
