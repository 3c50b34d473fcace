package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/cache"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// loadConns is the number of concurrent connections of the load tests.
const loadConns = 64

// loadResult is what one load run measured.
type loadResult struct {
	n        int
	elapsed  time.Duration
	p50, p99 time.Duration
	failures int64
}

func (r loadResult) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

// runLoad sends n requests over loadConns keep-alive connections on
// loopback; mk builds request i. Every response must have status want.
func runLoad(tb testing.TB, srv *httptest.Server, n int, want int, mk func(i int) *http.Request) loadResult {
	tb.Helper()
	tr := &http.Transport{MaxIdleConns: loadConns, MaxIdleConnsPerHost: loadConns, MaxConnsPerHost: loadConns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failures atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range loadConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				req := mk(i)
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					_ = res.Body.Close()
				}
				lat[i] = time.Since(t0)
				if err != nil || res.StatusCode != want {
					failures.Add(1)
					firstErr.Do(func() {
						if err != nil {
							tb.Errorf("request %d: %v", i, err)
						} else {
							tb.Errorf("request %d: status %d, want %d", i, res.StatusCode, want)
						}
					})
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return loadResult{n: n, elapsed: elapsed, p50: lat[n/2], p99: lat[n*99/100], failures: failures.Load()}
}

func report(b *testing.B, name string, r loadResult) {
	b.ReportMetric(r.rate(), name+"_req/s")
	b.ReportMetric(float64(r.p50.Microseconds())/1000, name+"_p50_ms")
	b.ReportMetric(float64(r.p99.Microseconds())/1000, name+"_p99_ms")
}

// ceilingServer is the fastest a JSON endpoint can be on this machine: it
// decodes the body, if any, and writes a fixed JSON response of the given
// size, with nothing behind it.
func ceilingServer(respBody []byte, status int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			var v map[string]any
			_ = json.NewDecoder(r.Body).Decode(&v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(respBody)
	}))
}

// loadBundle is a server on a real-clock store of kind, rate limits off (a
// load test measures the server, not the limiter's refusals), with the
// read-through caches in front of the store when cached is set, as
// refserver runs by default.
func loadBundle(b *testing.B, kind dbopen.Kind, cached bool) (*httptest.Server, *backupmgmt.Service) {
	var s store.Store = bunstoretest.New(b, kind, nil)
	if cached {
		c := cache.New(s)
		b.Cleanup(func() { _ = c.Close() })
		s = c
	}
	svc, err := backupmgmt.New(s, nil)
	require.NoError(b, err)
	api, err := New(svc, &Config{Limits: testLimitsOff})
	require.NoError(b, err)
	srv := httptest.NewServer(api)
	b.Cleanup(srv.Close)
	return srv, svc
}

func loadAdmin(b *testing.B, svc *backupmgmt.Service) *store.User {
	u, err := svc.Users().Create(context.Background(), backupmgmt.UserParams{Username: "root", FullName: "root", Role: store.RoleAdmin, Password: testPassword})
	require.NoError(b, err)
	return u
}

// BenchmarkLoadIngest records executions over HTTP with an ingest key, 64
// connections, SQLite, each run durable before its 201; beside it the
// ceiling handler with the same request and response sizes.
func BenchmarkLoadIngest(b *testing.B) {
	for _, kind := range bunstoretest.Dialects {
		b.Run(string(kind), func(b *testing.B) {
			bunstoretest.Require(b, kind)
			loadIngest(b, kind)
		})
	}
}

func loadIngest(b *testing.B, kind dbopen.Kind) {
	srv, svc := loadBundle(b, kind, false)
	ctx := context.Background()
	admin := loadAdmin(b, svc)
	_, key, err := svc.APIKeys().Create(ctx, backupmgmt.APIKeyParams{UserID: admin.ID, Name: "ingest", Scopes: []store.Scope{store.ScopeIngest}})
	require.NoError(b, err)
	const jobs = 100
	ids := make([]string, jobs)
	for i := range ids {
		j, err := svc.Jobs().Create(ctx, backupmgmt.JobParams{
			Name: fmt.Sprintf("job-%03d", i), JobType: store.JobTypeFile, Tool: store.ToolRestic,
			Schedule: store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour}, Grace: time.Hour,
		})
		require.NoError(b, err)
		ids[i] = j.ID
	}
	now := time.Now().UTC()
	// Each job's runs start one after another, as a real job's do (runs of
	// one job with the same start would defeat the anomaly cache).
	bodies := func(i int) []byte {
		started := now.Add(-time.Hour + time.Duration(i+2)*100*time.Microsecond)
		raw, _ := json.Marshal(map[string]any{
			"job_id": ids[(i%jobs+jobs)%jobs], "run_id": fmt.Sprintf("run-%d-%d", b.N, i), "status": "success",
			"started_at": started.Format(time.RFC3339Nano), "finished_at": started.Add(time.Minute).Format(time.RFC3339Nano),
			"size_bytes": 1 << 30, "files": 1200, "message": "ok",
		})
		return raw
	}
	var sample []byte
	{
		req := ingestRequest(srv.URL, key.Reveal(), bodies(-2))
		res, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		sample, _ = io.ReadAll(res.Body)
		_ = res.Body.Close()
	}
	ceiling := ceilingServer(sample, http.StatusCreated)
	defer ceiling.Close()

	b.ResetTimer()
	n := max(b.N, 2000)
	api := runLoad(b, srv, n, http.StatusCreated, func(i int) *http.Request { return ingestRequest(srv.URL, key.Reveal(), bodies(i)) })
	ceil := runLoad(b, ceiling, n, http.StatusCreated, func(i int) *http.Request { return ingestRequest(ceiling.URL, key.Reveal(), bodies(i)) })
	b.StopTimer()
	report(b, "api", api)
	report(b, "ceiling", ceil)
	b.ReportMetric(api.rate()/ceil.rate()*100, "pct_of_ceiling")
}

func ingestRequest(base, key string, body []byte) *http.Request {
	req, _ := http.NewRequest("POST", base+"/api/v1/executions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

// BenchmarkLoadListJobs reads GET /api/v1/jobs (page of 50) with 10,000
// jobs stored, over 64 connections with a read key; beside it the ceiling
// handler writing a body of the same size.
func BenchmarkLoadListJobs(b *testing.B) {
	for _, cached := range []bool{false, true} {
		name := "uncached"
		if cached {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) { loadRead(b, cached, "/api/v1/jobs?limit=50") })
	}
}

// BenchmarkLoadDashboard reads GET /api/v1/dashboard/summary with 10,000
// jobs, cached and not.
func BenchmarkLoadDashboard(b *testing.B) {
	for _, cached := range []bool{false, true} {
		name := "uncached"
		if cached {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) { loadRead(b, cached, "/api/v1/dashboard/summary") })
	}
}

// loadRead sends GETs of path with a read key over 64 connections, 10,000
// jobs stored, beside the ceiling handler writing a body of the same size.
func loadRead(b *testing.B, cached bool, path string) {
	srv, svc := loadBundle(b, dbopen.SQLite, cached)
	ctx := context.Background()
	admin := loadAdmin(b, svc)
	_, key, err := svc.APIKeys().Create(ctx, backupmgmt.APIKeyParams{UserID: admin.ID, Name: "read", Scopes: []store.Scope{store.ScopeRead}})
	require.NoError(b, err)
	for i := range 10_000 {
		_, err := svc.Jobs().Create(ctx, backupmgmt.JobParams{
			Name: fmt.Sprintf("job-%05d", i), JobType: store.JobTypeFile, Tool: store.ToolRestic,
			Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *", Timezone: "Europe/Berlin"}, Grace: time.Hour,
			Tags: []string{"prod"},
		})
		require.NoError(b, err)
	}
	get := func(base string) *http.Request {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+key.Reveal())
		return req
	}
	res, err := http.DefaultClient.Do(get(srv.URL))
	require.NoError(b, err)
	sample, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	require.Equal(b, http.StatusOK, res.StatusCode, "%s", sample)
	ceiling := ceilingServer(sample, http.StatusOK)
	defer ceiling.Close()

	b.ResetTimer()
	n := max(b.N, 5000)
	api := runLoad(b, srv, n, http.StatusOK, func(int) *http.Request { return get(srv.URL) })
	ceil := runLoad(b, ceiling, n, http.StatusOK, func(int) *http.Request { return get(ceiling.URL) })
	b.StopTimer()
	report(b, "api", api)
	report(b, "ceiling", ceil)
	b.ReportMetric(api.rate()/ceil.rate()*100, "pct_of_ceiling")
}
