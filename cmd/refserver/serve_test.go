package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
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

func TestServeAnswersProbesAndShutsDownGracefully(t *testing.T) {
	t.Parallel()
	dsn := bunstoretest.DSN(t, dbopen.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	logs := collectLogs(pr)
	exited := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, io.Discard, pw, envFunc(map[string]string{envDB: dsn}))
		_ = pw.Close()
		exited <- code
	}()

	var addr string
	select {
	case addr = <-logs.listening:
	case code := <-exited:
		<-logs.done
		t.Fatalf("serve exited with %d before listening: %v", code, logs.messages())
	}
	require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)

	for path, want := range map[string]string{"/healthz": `{"status":"ok"}`, "/readyz": `{"status":"ready"}`} {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.JSONEq(t, want, string(body), path)
	}

	cancel()
	require.Equal(t, exitOK, <-exited, "serve returns cleanly after the context ends")
	<-logs.done
	msgs := logs.messages()
	require.Contains(t, msgs, "INFO migrations applied")
	require.Contains(t, msgs, "INFO shutting down")
	require.Contains(t, msgs, "INFO stopped")
	for _, m := range msgs {
		require.False(t, strings.HasPrefix(m, "ERROR"), "unexpected log line %q", m)
	}
	_, err := http.Get("http://" + addr + "/healthz")
	require.Error(t, err, "the listener is closed after shutdown")
}
