package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// logLines collects the JSON log lines a running refserver writes.
type logLines struct {
	mu        sync.Mutex
	lines     []map[string]any
	listening chan string // the address, once "listening" is logged
	done      chan struct{}
}

func collectLogs(r io.Reader) *logLines {
	l := &logLines{listening: make(chan string, 1), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"level": "ERROR", "msg": "not JSON: " + sc.Text()}
			}
			l.mu.Lock()
			l.lines = append(l.lines, m)
			l.mu.Unlock()
			if m["msg"] == "listening" {
				addr, _ := m["addr"].(string)
				l.listening <- addr
			}
		}
	}()
	return l
}

func (l *logLines) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.lines {
		out = append(out, m["level"].(string)+" "+m["msg"].(string))
	}
	return out
}

// server is a refserver serve running in-process.
type server struct {
	addr   string
	logs   *logLines
	stdout *syncBuffer
	cancel context.CancelFunc
	exited chan int
}

// startServe runs serve with env and args (--addr 127.0.0.1:0 is added)
// until it listens. It fails the test if serve exits first.
func startServe(t testing.TB, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	srv := &server{logs: collectLogs(pr), stdout: &syncBuffer{}, cancel: cancel, exited: make(chan int, 1)}
	go func() {
		code := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), srv.stdout, pw, envFunc(env))
		_ = pw.Close()
		srv.exited <- code
	}()
	select {
	case srv.addr = <-srv.logs.listening:
	case code := <-srv.exited:
		cancel()
		<-srv.logs.done
		t.Fatalf("serve exited with %d before listening: %v", code, srv.logs.messages())
	}
	t.Cleanup(func() {
		if srv.cancel != nil {
			srv.stop(t)
		}
	})
	return srv
}

// stop cancels serve's context, as SIGTERM does, and returns its exit code
// once it has returned and its log is read.
func (s *server) stop(t testing.TB) int {
	t.Helper()
	s.cancel()
	s.cancel = nil
	code := <-s.exited
	<-s.logs.done
	return code
}

// get fetches path with client (http.DefaultClient when nil).
func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestServeAnswersProbesAndShutsDownGracefully(t *testing.T) {
	t.Parallel()
	dsn := bunstoretest.DSN(t, dbopen.SQLite)
	srv := startServe(t, map[string]string{envDB: dsn})
	require.True(t, strings.HasPrefix(srv.addr, "127.0.0.1:"), srv.addr)

	for path, want := range map[string]string{"/healthz": `{"status":"ok"}`, "/readyz": `{"status":"ready"}`} {
		code, body := get(t, nil, "http://"+srv.addr+path)
		require.Equal(t, http.StatusOK, code, path)
		require.JSONEq(t, want, body, path)
	}
	code, _ := get(t, nil, "http://"+srv.addr+"/api/v1/openapi.json")
	require.Equal(t, http.StatusOK, code, "the API is served, not only the probes")

	require.Equal(t, exitOK, srv.stop(t), "serve returns cleanly after the context ends")
	msgs := srv.logs.messages()
	require.Contains(t, msgs, "INFO migrations applied")
	require.Contains(t, msgs, "INFO shutting down")
	require.Contains(t, msgs, "INFO stopped")
	require.Contains(t, msgs, "INFO background work stopped")
	for _, m := range msgs {
		require.False(t, strings.HasPrefix(m, "ERROR"), "unexpected log line %q", m)
	}
	_, err := http.Get("http://" + srv.addr + "/healthz")
	require.Error(t, err, "the listener is closed after shutdown")
}

func TestServeReadyzSaysMigrationsPendingAfterARollback(t *testing.T) {
	t.Parallel()
	dsn := bunstoretest.DSN(t, dbopen.SQLite)
	srv := startServe(t, map[string]string{envDB: dsn})

	r := runCmd(t, map[string]string{envDB: dsn}, "migrate", "down")
	require.Equal(t, exitOK, r.code, r.stderr)
	code, body := get(t, nil, "http://"+srv.addr+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.JSONEq(t, `{"status":"not_ready","reason":"migrations pending"}`, body)
	code, _ = get(t, nil, "http://"+srv.addr+"/healthz")
	require.Equal(t, http.StatusOK, code, "the process is still up")
	require.Equal(t, exitOK, srv.stop(t))
}

func TestServeOverTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile := writeCert(t, t.TempDir())
	dsn := bunstoretest.DSN(t, dbopen.SQLite)
	srv := startServe(t, map[string]string{envDB: dsn, envTLSCert: certFile}, "--tls-key", keyFile)

	pemBytes, err := os.ReadFile(certFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()

	code, body := get(t, client, "https://"+srv.addr+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":"ok"}`, body)
	code, _ = get(t, nil, "http://"+srv.addr+"/healthz")
	require.Equal(t, http.StatusBadRequest, code, "plain HTTP to the TLS port is refused")
	require.Equal(t, exitOK, srv.stop(t))
	require.Contains(t, srv.logs.messages(), "INFO listening")
}
