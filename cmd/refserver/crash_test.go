package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

// childEnv makes the test binary run as refserver (TestMain).
const childEnv = "CUSTOS_REFSERVER_CHILD"

// childServer is refserver serve in a process of its own, which the test
// can kill.
type childServer struct {
	cmd  *exec.Cmd
	logs *logLines
	addr string
}

func startChild(t testing.TB, env map[string]string) *childServer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	cmd.Stdout = io.Discard
	require.NoError(t, cmd.Start())
	c := &childServer{cmd: cmd, logs: collectLogs(stderr)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	select {
	case c.addr = <-c.logs.listening:
	case <-c.logs.done:
		_ = cmd.Wait()
		t.Fatalf("refserver exited before listening: %v", c.logs.messages())
	case <-time.After(60 * time.Second):
		t.Fatalf("refserver did not listen within a minute: %v", c.logs.messages())
	}
	return c
}

// TestCrashLosesNoAcknowledgedRun kills the server with SIGKILL while
// runs pour in, restarts it on the same database, and finds every run that
// got a 2xx there: an acknowledged write is durable (DESIGN §13).
func TestCrashLosesNoAcknowledgedRun(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			const password = "crash test operator passphrase"
			env := map[string]string{envDB: bunstoretest.DSN(t, kind), envAdminPassword: password}
			srv := startChild(t, env)
			c := &e2eClient{t: t, base: "http://" + srv.addr, http: &http.Client{}}
			key, jobs := crashSetup(t, c, password)

			var (
				mu    sync.Mutex
				acked = map[string]string{} // run_id → job_id
				n     atomic.Int64
				wg    sync.WaitGroup
			)
			ctx, stop := context.WithCancel(context.Background())
			client := &http.Client{Timeout: 10 * time.Second}
			for w := range 16 {
				wg.Go(func() {
					for i := 0; ctx.Err() == nil; i++ {
						job := jobs[(w+i)%len(jobs)]
						runID := fmt.Sprintf("w%d-%d", w, i)
						started := time.Now().UTC().Add(-time.Hour)
						body, _ := json.Marshal(map[string]any{
							"job_id": job, "run_id": runID, "status": "success",
							"started_at": started.Format(time.RFC3339Nano), "finished_at": started.Add(time.Minute).Format(time.RFC3339Nano),
							"size_bytes": 1 << 20,
						})
						req, _ := http.NewRequest("POST", c.base+"/api/v1/executions", bytes.NewReader(body))
						req.Header.Set("Content-Type", "application/json")
						req.Header.Set("Authorization", "Bearer "+key)
						res, err := client.Do(req)
						if err != nil {
							return // the server is gone
						}
						_, _ = io.Copy(io.Discard, res.Body)
						_ = res.Body.Close()
						if res.StatusCode == http.StatusCreated {
							mu.Lock()
							acked[runID] = job
							mu.Unlock()
							n.Add(1)
						}
					}
				})
			}
			require.Eventually(t, func() bool { return n.Load() >= 300 }, 60*time.Second, 5*time.Millisecond)
			require.NoError(t, srv.cmd.Process.Signal(syscall.SIGKILL))
			_ = srv.cmd.Wait()
			stop()
			wg.Wait()
			t.Logf("%d runs acknowledged before the kill", len(acked))

			srv = startChild(t, env)
			c.base = "http://" + srv.addr
			stored := map[string]bool{}
			for _, job := range jobs {
				cursor := ""
				for {
					path := "/api/v1/executions?limit=200&job_id=" + job
					if cursor != "" {
						path += "&cursor=" + cursor
					}
					code, page, raw := c.call("GET", path, "", nil)
					require.Equal(t, http.StatusOK, code, raw)
					for _, it := range page["items"].([]any) {
						stored[it.(map[string]any)["run_id"].(string)] = true
					}
					next, _ := page["next_cursor"].(string)
					if next == "" {
						break
					}
					cursor = next
				}
			}
			var lost []string
			for runID := range acked {
				if !stored[runID] {
					lost = append(lost, runID)
				}
			}
			require.Empty(t, lost, "acknowledged runs missing after the crash (of %d)", len(acked))
		})
	}
}

// crashSetup signs in (the cookie is kept by c) and returns an ingest key
// and four jobs.
func crashSetup(t *testing.T, c *e2eClient, password string) (string, []string) {
	t.Helper()
	jar, err := cookiejar.New(nil) // host-keyed: the session outlives the restart's new port
	require.NoError(t, err)
	c.http.Jar = jar
	code, _, raw := c.call("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": password})
	require.Equal(t, http.StatusOK, code, raw)
	code, created, raw := c.call("POST", "/api/v1/api-keys", "", map[string]any{"name": "crash", "scopes": []string{"ingest"}})
	require.Equal(t, http.StatusCreated, code, raw)
	var jobs []string
	for i := range 4 {
		code, job, raw := c.call("POST", "/api/v1/jobs", "", map[string]any{
			"name": fmt.Sprintf("crash-%d", i), "job_type": "file", "tool": "restic",
			"schedule": map[string]any{"kind": "interval", "interval_seconds": 3600}, "grace_seconds": 3600,
		})
		require.Equal(t, http.StatusCreated, code, raw)
		jobs = append(jobs, job["id"].(string))
	}
	return created["key"].(string), jobs
}
