package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// scrape returns the metric lines of a /metrics answer by series (name and
// labels as written) and the metric names seen.
func scrape(t *testing.T, url, token string) (map[string]float64, map[string]bool) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", raw)
	series := map[string]float64{}
	names := map[string]bool{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, line)
		series[line[:i]] = v
		name := line[:i]
		if j := strings.IndexByte(name, '{'); j >= 0 {
			name = name[:j]
		}
		names[name] = true
	}
	return series, names
}

// shippedMetrics are the custos_ metric names the expressions of the
// shipped alert rules and dashboard query.
func shippedMetrics(t *testing.T) []string {
	t.Helper()
	var exprs []string
	raw, err := os.ReadFile("../../observe/prometheus/alerts.yml")
	require.NoError(t, err)
	var rules struct {
		Groups []struct {
			Rules []struct{ Expr string }
		}
	}
	require.NoError(t, yaml.Unmarshal(raw, &rules))
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	raw, err = os.ReadFile("../../observe/grafana/dashboard.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct{ Definition string }
		}
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		exprs = append(exprs, v.Definition)
	}
	re := regexp.MustCompile(`\bcustos_[a-z0-9_]+`)
	seen := map[string]bool{}
	for _, e := range exprs {
		for _, m := range re.FindAllString(e, -1) {
			seen[m] = true
		}
	}
	out := slices.Sorted(maps.Keys(seen))
	require.Greater(t, len(out), 20, "the rules and dashboard name our metrics")
	return out
}

// TestMetricsFollowTheDomain runs the server, drives ingest, alerts, a
// restore test and reads, and checks what /metrics says: every metric the
// shipped rules and dashboard name exists, counters and gauges follow the
// events, the compliance gauges agree with the API, the correlation ID is
// echoed and logged, and no log line holds a secret.
func TestMetricsFollowTheDomain(t *testing.T) {
	t.Parallel()
	const password = "metrics test operator passphrase"
	srv := startServe(t, map[string]string{envDB: bunstoretest.DSN(t, dbopen.SQLite), envAdminPassword: password})
	base := "http://" + srv.addr
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &e2eClient{t: t, base: base, http: &http.Client{Jar: jar}}
	code, _, raw := c.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": password})
	require.Equal(t, http.StatusOK, code, raw)
	var session string
	for _, ck := range jar.Cookies(mustURL(t, base)) {
		session = ck.Value
	}
	require.NotEmpty(t, session)
	code, created, raw := c.call("POST", "/api/v1/api-keys", "", map[string]any{"name": "metrics", "scopes": []string{"ingest"}})
	require.Equal(t, http.StatusCreated, code, raw)
	key := created["key"].(string)
	code, job, raw := c.call("POST", "/api/v1/jobs", "", map[string]any{
		"name": "nightly", "job_type": "file", "tool": "restic",
		"schedule": map[string]any{"kind": "interval", "interval_seconds": 86400}, "grace_seconds": 3600,
	})
	require.Equal(t, http.StatusCreated, code, raw)
	jobID := job["id"].(string)
	code, cp, raw := c.call("POST", "/api/v1/jobs/"+jobID+"/copies", "", map[string]any{"name": "nas", "role": "primary", "media_type": "nas"})
	require.Equal(t, http.StatusCreated, code, raw)

	run := func(runID, status string, ago time.Duration) {
		t.Helper()
		started := time.Now().UTC().Add(-ago)
		code, _, raw := c.call("POST", "/api/v1/executions", key, map[string]any{
			"job_id": jobID, "run_id": runID, "status": status, "copy_id": cp["id"],
			"started_at": started.Format(time.RFC3339Nano), "finished_at": started.Add(2 * time.Minute).Format(time.RFC3339Nano),
			"size_bytes": 3 << 30,
		})
		require.Equal(t, http.StatusCreated, code, raw)
	}
	run("r1", "success", time.Hour)
	code, _, raw = c.call("POST", "/api/v1/verification/tests", "", map[string]any{"job_id": jobID, "test_type": "partial_restore", "result": "success", "duration_seconds": 120})
	require.Equal(t, http.StatusCreated, code, raw)
	for range 2 {
		code, _, raw = c.call("GET", "/api/v1/jobs?limit=50", "", nil)
		require.Equal(t, http.StatusOK, code, raw)
		code, _, raw = c.call("GET", "/api/v1/jobs/"+jobID, "", nil)
		require.Equal(t, http.StatusOK, code, raw)
		code, _, raw = c.call("GET", "/api/v1/dashboard/summary", "", nil)
		require.Equal(t, http.StatusOK, code, raw)
	}

	series, _ := scrape(t, base+"/metrics", "")
	require.Equal(t, 1.0, series[`custos_backup_executions_total{result="success"}`])
	require.Equal(t, 0.0, series[`custos_backup_executions_total{result="failed"}`])
	require.Eventually(t, func() bool {
		series, _ = scrape(t, base+"/metrics", "")
		return series[`custos_backup_job_up{job="nightly"}`] == 1
	}, 15*time.Second, 200*time.Millisecond, "the job is up after a success")

	run("r2", "failed", 30*time.Minute)
	series, names := scrape(t, base+"/metrics", "")
	require.Equal(t, 1.0, series[`custos_backup_executions_total{result="failed"}`], "a failed run counts at once")
	require.Positive(t, series[`custos_alerts_total{alert_type="backup_failed",severity="error"}`], "the failure raised an alert")
	// Store gauges are read at scrape time, at most StoreMaxAgeDefault apart.
	require.Eventually(t, func() bool {
		series, names = scrape(t, base+"/metrics", "")
		return series[`custos_backup_job_up{job="nightly"}`] == 0
	}, 15*time.Second, 200*time.Millisecond, "the job's up gauge drops after a failure")
	require.Positive(t, series[`custos_http_requests_total{code="201",method="POST",route="/api/v1/executions"}`])
	require.Positive(t, series[`custos_cache_hits_total{cache="jobs"}`], "the second read of the job came from the cache")

	var missing []string
	for _, m := range shippedMetrics(t) {
		if !names[m] {
			missing = append(missing, m)
		}
	}
	require.Empty(t, missing, "metrics named by observe/prometheus/alerts.yml or observe/grafana/dashboard.json that /metrics lacks")

	// The compliance gauges say what the API says: a rule is 0 when the
	// latest evaluation lists an error against it.
	code, comp, raw := c.call("GET", "/api/v1/jobs/"+jobID+"/compliance", "", nil)
	require.Equal(t, http.StatusOK, code, raw)
	failing := map[string]bool{}
	for _, r := range comp["reasons"].([]any) {
		r := r.(map[string]any)
		if r["severity"] == "error" {
			failing[r["rule"].(string)] = true
		}
	}
	require.NotEmpty(t, failing, "one copy fails the 3-2-1-1-0 rule: %s", raw)
	require.Eventually(t, func() bool {
		series, _ = scrape(t, base+"/metrics", "")
		for _, rule := range []string{"3copies", "2media", "1offsite", "1offline", "0errors"} {
			want := 1.0
			if failing[rule] {
				want = 0
			}
			got, ok := series[fmt.Sprintf(`custos_compliance_status{job="nightly",rule=%q}`, rule)]
			if !ok || got != want {
				return false
			}
		}
		return true
	}, 15*time.Second, 200*time.Millisecond, "compliance gauges follow the API: %v", failing)

	// The correlation ID comes back and is in the access log line.
	req, err := http.NewRequest("GET", base+"/api/v1/jobs/"+jobID, nil)
	require.NoError(t, err)
	req.Header.Set("X-Correlation-ID", "change-4711")
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	require.Equal(t, "change-4711", res.Header.Get("X-Correlation-ID"))
	require.Eventually(t, func() bool {
		for _, l := range srv.logs.snapshot() {
			if l["msg"] == "http_request" && l["correlation_id"] == "change-4711" && l["route"] == "/api/v1/jobs/{id}" {
				return true
			}
		}
		return false
	}, 5*time.Second, 50*time.Millisecond, "the access log line carries the correlation ID")

	code = srv.stop(t)
	require.Equal(t, exitOK, code)
	secrets := []string{password, key, session, key[strings.LastIndexByte(key, '_')+1:]}
	for _, l := range srv.logs.snapshot() {
		line, err := json.Marshal(l)
		require.NoError(t, err)
		for _, s := range secrets {
			require.NotContains(t, string(line), s, "a log line holds a secret")
		}
	}
}

// TestMetricsOnTheirOwnAddress: --metrics-addr serves /metrics there,
// behind CUSTOS_METRICS_TOKEN, and not on the API's address.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	srv := startServe(t, map[string]string{
		envDB: bunstoretest.DSN(t, dbopen.SQLite), envAdminPassword: "metrics address passphrase",
		envMetricsAddr: "127.0.0.1:0", envMetricsToken: "scrape-secret",
	})
	var addr string
	require.Eventually(t, func() bool {
		for _, l := range srv.logs.snapshot() {
			if l["msg"] == "metrics listening" {
				addr, _ = l["addr"].(string)
			}
		}
		return addr != ""
	}, 5*time.Second, 20*time.Millisecond)
	code, _ := get(t, nil, "http://"+addr+"/metrics")
	require.Equal(t, http.StatusUnauthorized, code)
	_, names := scrape(t, "http://"+addr+"/metrics", "scrape-secret")
	require.True(t, names["custos_build_info"])
	require.True(t, names["go_goroutines"], "the Go runtime collector")
	code, _ = get(t, nil, "http://"+srv.addr+"/metrics")
	require.Equal(t, http.StatusNotFound, code, "the API's address does not serve metrics then")
}

// snapshot returns a copy of the log lines read so far.
func (l *logLines) snapshot() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.lines)
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
