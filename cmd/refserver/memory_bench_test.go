package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// BenchmarkServerMemory measures the resident memory of a refserver
// process (defaults: SQLite, caches on) holding 10,000 jobs and 1,000,000
// executions while 64 connections ingest runs and read the job list and
// the dashboard (issue 5: < 150 MiB). It reports the peak (VmHWM) and the
// final resident set of the process.
func BenchmarkServerMemory(b *testing.B) {
	b.Run("defaults", func(b *testing.B) { serverMemory(b, nil) })
	// Per-job histograms are the one cost that grows with the fleet.
	b.Run("job_histograms_off", func(b *testing.B) {
		serverMemory(b, map[string]string{envMetricsJobHist: "false"})
	})
}

func serverMemory(b *testing.B, extra map[string]string) {
	const jobs, runsPerJob = 10_000, 100
	dsn := "sqlite:" + filepath.Join(b.TempDir(), "custos.db")
	ctx := context.Background()
	ids := memSeed(b, ctx, dsn, jobs, runsPerJob)

	const password = "memory bench operator passphrase"
	env := map[string]string{envDB: dsn, envAdminPassword: password, envRateLimits: "false"}
	maps.Copy(env, extra)
	srv := startChild(b, env)
	base := "http://" + srv.addr
	jar, err := cookiejar.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	c := &e2eClient{t: b, base: base, http: &http.Client{Jar: jar}}
	key := func(scope string) string {
		code, created, raw := c.call("POST", "/api/v1/api-keys", "", map[string]any{"name": scope, "scopes": []string{scope}})
		if code != http.StatusCreated {
			b.Fatalf("create %s key: %d %s", scope, code, raw)
		}
		return created["key"].(string)
	}
	if code, _, raw := c.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": password}); code != http.StatusOK {
		b.Fatalf("login: %d %s", code, raw)
	}
	ingestKey, readKey := key("ingest"), key("read")

	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	n := max(b.N, 30_000)
	var next, failures atomic.Int64
	var wg sync.WaitGroup
	start := time.Now().UTC()
	b.ResetTimer()
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				var req *http.Request
				switch i % 3 {
				case 0:
					started := start.Add(-time.Hour + time.Duration(i)*time.Millisecond)
					raw, _ := json.Marshal(map[string]any{
						"job_id": ids[int(i)%len(ids)], "run_id": "load-" + strconv.FormatInt(i, 10), "status": "success",
						"started_at": started.Format(time.RFC3339Nano), "finished_at": started.Add(time.Minute).Format(time.RFC3339Nano), "size_bytes": 1 << 30,
					})
					req, _ = http.NewRequest("POST", base+"/api/v1/executions", bytes.NewReader(raw))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+ingestKey)
				case 1:
					req, _ = http.NewRequest("GET", base+"/api/v1/jobs?limit=50", nil)
					req.Header.Set("Authorization", "Bearer "+readKey)
				default:
					req, _ = http.NewRequest("GET", base+"/api/v1/dashboard/summary", nil)
					req.Header.Set("Authorization", "Bearer "+readKey)
				}
				res, err := client.Do(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				if res.StatusCode >= 300 {
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d requests failed", f)
	}
	hwm, rss := procMemory(b, srv.cmd.Process.Pid)
	if res, err := http.Get(base + "/metrics"); err == nil {
		raw, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		for line := range strings.SplitSeq(string(raw), "\n") {
			for _, m := range []struct{ name, unit string }{
				{"go_memstats_heap_inuse_bytes ", "go_heap_inuse_MiB"},
				{"go_memstats_sys_bytes ", "go_sys_MiB"},
			} {
				if v, ok := strings.CutPrefix(line, m.name); ok {
					f, _ := strconv.ParseFloat(v, 64)
					b.ReportMetric(f/(1<<20), m.unit)
				}
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(hwm, "peak_rss_MiB")
	b.ReportMetric(rss, "rss_MiB")
}

// memSeed migrates dsn and stores the jobs and runsPerJob finished runs of
// each, a day apart; it returns the job IDs.
func memSeed(b *testing.B, ctx context.Context, dsn string, jobs, runsPerJob int) []string {
	s, err := dbopen.OpenStore(ctx, dsn, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := bunstore.Migrate(ctx, s.DB()); err != nil {
		b.Fatal(err)
	}
	svc, err := backupmgmt.New(s, nil)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, jobs)
	for i := range ids {
		j, err := svc.Jobs().Create(ctx, backupmgmt.JobParams{
			Name: fmt.Sprintf("job-%05d", i), JobType: store.JobTypeFile, Tool: store.ToolRestic,
			Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *", Timezone: "Europe/Berlin"}, Grace: time.Hour,
		})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = j.ID
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	batch := make([]*store.Execution, 0, 1000)
	for d := range runsPerJob {
		for i, id := range ids {
			started := now.Add(-time.Duration(d+1)*24*time.Hour - time.Duration(i)*time.Second)
			finished := started.Add(10 * time.Minute)
			batch = append(batch, &store.Execution{
				ID: store.NewID(), JobID: id, RunID: fmt.Sprintf("seed-%03d", d), Status: store.ExecutionSuccess,
				StartedAt: started, FinishedAt: &finished, SizeBytes: 1 << 30, Files: 100,
				Message: "seeded", Source: store.SourceAPI, CreatedAt: finished,
			})
			if len(batch) == cap(batch) {
				if _, err := s.Executions().InsertBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	return ids
}

// procMemory reads the peak and current resident set of a process, in MiB.
func procMemory(b *testing.B, pid int) (hwm, rss float64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmHWM:":
			hwm = kb / 1024
		case "VmRSS:":
			rss = kb / 1024
		}
	}
	return hwm, rss
}
