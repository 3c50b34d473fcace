package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
)

type fakeDB struct{ err error }

func (f fakeDB) Ping(context.Context) error { return f.err }

func pendingOf(versions []string, err error) pendingFunc {
	return func(context.Context) ([]string, error) { return versions, err }
}

type testBundle struct {
	handler http.Handler
	logs    *bytes.Buffer
}

func setup(t *testing.T, db pinger, pending pendingFunc) *testBundle {
	t.Helper()
	var logs bytes.Buffer
	return &testBundle{
		handler: newHandler(db, pending, slog.New(slog.NewJSONHandler(&logs, nil))),
		logs:    &logs,
	}
}

// do serves one request and returns the status and body.
func (b *testBundle) do(t *testing.T, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	b.handler.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	if rec.Code < 300 || rec.Code == http.StatusServiceUnavailable {
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	}
	return rec.Code, rec.Body.String()
}

func TestHealthzAnswersWithoutTheDatabase(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeDB{err: errors.New("down")}, pendingOf(nil, errors.New("down")))
	code, body := b.do(t, http.MethodGet, "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":"ok"}`, body)
}

func TestProbesOnlyAnswerGetAndHead(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeDB{}, pendingOf(nil, nil))
	for _, path := range []string{"/healthz", "/readyz"} {
		code, _ := b.do(t, http.MethodHead, path)
		require.Equal(t, http.StatusOK, code, path)
		code, _ = b.do(t, http.MethodPost, path)
		require.Equal(t, http.StatusMethodNotAllowed, code, path)
	}
	code, _ := b.do(t, http.MethodGet, "/nope")
	require.Equal(t, http.StatusNotFound, code)
}

func TestReadyzMapsEachFailureToAFixedReason(t *testing.T) {
	t.Parallel()
	const driverText = "pq: password authentication failed for user custos at 10.0.0.5"
	tests := []struct {
		name     string
		db       pinger
		pending  pendingFunc
		wantCode int
		wantBody string
		wantLog  string
	}{
		{"Ready", fakeDB{}, pendingOf(nil, nil),
			http.StatusOK, `{"status":"ready"}`, ""},
		{"PingFails", fakeDB{err: errors.New(driverText)}, pendingOf(nil, nil),
			http.StatusServiceUnavailable, `{"status":"not_ready","reason":"database unreachable"}`, driverText},
		{"MigrationStateUnreadable", fakeDB{}, pendingOf(nil, errors.New(driverText)),
			http.StatusServiceUnavailable, `{"status":"not_ready","reason":"database unreachable"}`, driverText},
		{"MigrationsPending", fakeDB{}, pendingOf([]string{"20990101000000_next"}, nil),
			http.StatusServiceUnavailable, `{"status":"not_ready","reason":"migrations pending"}`, "20990101000000_next"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.db, tt.pending)
			code, body := b.do(t, http.MethodGet, "/readyz")
			require.Equal(t, tt.wantCode, code)
			require.JSONEq(t, tt.wantBody, body)
			require.Contains(t, b.logs.String(), tt.wantLog)
		})
	}
}

func TestReadyzOnARealStore(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			pending := func(s *bunstore.Store) pendingFunc {
				return func(ctx context.Context) ([]string, error) { return bunstore.Pending(ctx, s.DB()) }
			}

			t.Run("ReadyWhenMigrated", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				code, body := setup(t, s, pending(s)).do(t, http.MethodGet, "/readyz")
				require.Equal(t, http.StatusOK, code)
				require.JSONEq(t, `{"status":"ready"}`, body)
			})
			t.Run("MigrationsPendingWhenNotMigrated", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, &bunstoretest.Options{NoMigrate: true})
				code, body := setup(t, s, pending(s)).do(t, http.MethodGet, "/readyz")
				require.Equal(t, http.StatusServiceUnavailable, code)
				require.JSONEq(t, `{"status":"not_ready","reason":"migrations pending"}`, body)
			})
			t.Run("UnreachableWhenClosed", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				require.NoError(t, s.Close())
				b := setup(t, s, pending(s))
				code, body := b.do(t, http.MethodGet, "/readyz")
				require.Equal(t, http.StatusServiceUnavailable, code)
				require.JSONEq(t, `{"status":"not_ready","reason":"database unreachable"}`, body)
				require.Contains(t, b.logs.String(), "database is closed", "the cause is logged")
			})
		})
	}
}
