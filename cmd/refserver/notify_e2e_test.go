package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt/notify"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

// hookReceiver is a webhook endpoint that keeps the bodies whose signature
// verifies.
type hookReceiver struct {
	mu     sync.Mutex
	bodies []map[string]any
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	err := notify.VerifySignature([]byte(hookSecret), r.Header.Get("X-Custos-Timestamp"), r.Header.Get("X-Custos-Signature"), body, time.Now(), 0)
	if err != nil {
		h.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var v map[string]any
	_ = json.Unmarshal(body, &v)
	h.bodies = append(h.bodies, v)
}

func (h *hookReceiver) received() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.bodies...)
}

const hookSecret = "a webhook secret of some length"

// TestNotificationsAndReportsEndToEnd runs the server with its dispatcher
// and report generator: a channel is tested, a failed run's alert reaches
// the webhook signed, and a PDF report is generated and downloaded.
func TestNotificationsAndReportsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			hook := &hookReceiver{}
			recv := httptest.NewServer(hook)
			t.Cleanup(recv.Close)
			const password = "notifications end to end"
			srv := startServe(t, map[string]string{
				envDB: bunstoretest.DSN(t, kind), envAdminPassword: password, envNotifyInterval: "100ms", envTimezone: "Asia/Tokyo",
			})
			jar, err := cookiejar.New(nil)
			require.NoError(t, err)
			c := &e2eClient{t: t, base: "http://" + srv.addr, http: &http.Client{Jar: jar}}
			code, _, raw := c.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": password})
			require.Equal(t, http.StatusOK, code, raw)

			code, ch, raw := c.call("POST", "/api/v1/channels", "", map[string]any{
				"kind": "webhook", "name": "ops hook", "min_severity": "warning",
				"settings": map[string]any{"url": recv.URL + "/custos?token=hook-token-123", "secret": hookSecret},
			})
			require.Equal(t, http.StatusCreated, code, raw)
			require.NotContains(t, raw, hookSecret)
			require.NotContains(t, raw, "hook-token-123")
			code, _, raw = c.call("POST", "/api/v1/channels/"+ch["id"].(string)+"/test", "", nil)
			require.Equal(t, http.StatusOK, code, raw)
			require.Len(t, hook.received(), 1, "the test message")

			code, created, raw := c.call("POST", "/api/v1/api-keys", "", map[string]any{"name": "host", "scopes": []string{"ingest"}})
			require.Equal(t, http.StatusCreated, code, raw)
			key := created["key"].(string)
			code, job, raw := c.call("POST", "/api/v1/jobs", "", map[string]any{
				"name": "erp-db", "job_type": "database", "tool": "pg_dump", "schedule": map[string]any{"kind": "manual"},
			})
			require.Equal(t, http.StatusCreated, code, raw)
			now := time.Now().UTC()
			code, _, raw = c.call("POST", "/api/v1/executions", key, map[string]any{
				"job_id": job["id"], "run_id": "r1", "status": "failed", "message": "disk full",
				"started_at": now.Add(-time.Minute).Format(time.RFC3339), "finished_at": now.Format(time.RFC3339),
			})
			require.Equal(t, http.StatusCreated, code, raw)

			// The alert's message leaves within the outbox interval (the
			// job, having no copy yet, also raised a compliance violation).
			alertOf := func(typ string) map[string]any {
				for _, m := range hook.received() {
					if a, ok := m["alert"].(map[string]any); ok && a["type"] == typ {
						return m
					}
				}
				return nil
			}
			require.Eventually(t, func() bool { return alertOf("backup_failed") != nil }, 10*time.Second, 50*time.Millisecond)
			msg := alertOf("backup_failed")
			require.Equal(t, "opened", msg["event"])
			require.Equal(t, "disk full", msg["alert"].(map[string]any)["message"])
			require.Zero(t, hook.bad)
			code, outbox, raw := c.call("GET", "/api/v1/notifications?state=sent", "", nil)
			require.Equal(t, http.StatusOK, code, raw)
			require.Len(t, outbox["items"], len(hook.received())-1, "every alert message sent once: %s", raw)

			code, rep, raw := c.call("POST", "/api/v1/reports", "", map[string]any{"type": "iso27001", "format": "pdf"})
			require.Equal(t, http.StatusCreated, code, raw)
			res, err := c.http.Get(c.base + "/api/v1/reports/" + rep["id"].(string) + "/download")
			require.NoError(t, err)
			pdf, err := io.ReadAll(res.Body)
			_ = res.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode)
			require.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
			require.True(t, strings.HasPrefix(string(pdf), "%PDF-"))
			sum := sha256.Sum256(pdf)
			require.Equal(t, hex.EncodeToString(sum[:]), rep["sha256"])
		})
	}
}
