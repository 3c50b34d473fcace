package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/backupmgmt/httpapi"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// fakeDB is a readiness whose answers the test chooses.
type fakeDB struct {
	pingErr    error
	pending    []string
	pendingErr error
}

func (f fakeDB) Ping(context.Context) error                { return f.pingErr }
func (f fakeDB) Pending(context.Context) ([]string, error) { return f.pending, f.pendingErr }

type testBundle struct {
	handler http.Handler
	logs    *syncBuffer
}

// setup returns the API refserver serves, over a fresh migrated SQLite
// store, with /readyz asking db.
func setup(t *testing.T, db readiness) *testBundle {
	t.Helper()
	return setupOn(t, bunstoretest.New(t, dbopen.SQLite, nil), db)
}

func setupOn(t *testing.T, s *bunstore.Store, db readiness) *testBundle {
	t.Helper()
	svc, err := backupmgmt.New(s, nil)
	require.NoError(t, err)
	logs := &syncBuffer{}
	api, err := httpapi.New(svc, &httpapi.Config{Logger: newJSONLogger(logs), Ready: readyFunc(db)})
	require.NoError(t, err)
	return &testBundle{handler: api, logs: logs}
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
	down := errors.New("down")
	b := setup(t, fakeDB{pingErr: down, pendingErr: down})
	code, body := b.do(t, http.MethodGet, "/healthz")
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"status":"ok"}`, body)
}

func TestProbesOnlyAnswerGetAndHead(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeDB{})
	for _, path := range []string{"/healthz", "/readyz"} {
		code, _ := b.do(t, http.MethodHead, path)
		require.Equal(t, http.StatusOK, code, path)
		code, _ = b.do(t, http.MethodPost, path)
		require.Equal(t, http.StatusMethodNotAllowed, code, path)
	}
}

func TestReadyzMapsEachFailureToAFixedReason(t *testing.T) {
	t.Parallel()
	const driverText = "pq: password authentication failed for user custos at 10.0.0.5"
	tests := []struct {
		name     string
		db       fakeDB
		wantCode int
		wantBody string
		wantLog  string
	}{
		{"Ready", fakeDB{},
			http.StatusOK, `{"status":"ready"}`, ""},
		{"PingFails", fakeDB{pingErr: errors.New(driverText)},
			http.StatusServiceUnavailable, `{"status":"not_ready","reason":"database unreachable"}`, driverText},
		{"MigrationStateUnreadable", fakeDB{pendingErr: errors.New(driverText)},
			http.StatusServiceUnavailable, `{"status":"not_ready","reason":"database unreachable"}`, driverText},
		{"MigrationsPending", fakeDB{pending: []string{"20990101000000_next"}},
			http.StatusServiceUnavailable, `{"status":"not_ready","reason":"migrations pending"}`, "migrations pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.db)
			code, body := b.do(t, http.MethodGet, "/readyz")
			require.Equal(t, tt.wantCode, code)
			require.JSONEq(t, tt.wantBody, body)
			require.NotContains(t, body, "10.0.0.5", "driver text never reaches a client")
			require.Contains(t, b.logs.String(), tt.wantLog, "the cause is logged")
		})
	}
}

func TestReadyzOnARealStore(t *testing.T) {
	t.Parallel()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			t.Run("ReadyWhenMigrated", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				code, body := setupOn(t, s, s).do(t, http.MethodGet, "/readyz")
				require.Equal(t, http.StatusOK, code)
				require.JSONEq(t, `{"status":"ready"}`, body)
			})
			t.Run("MigrationsPendingWhenNotMigrated", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, &bunstoretest.Options{NoMigrate: true})
				code, body := setupOn(t, s, s).do(t, http.MethodGet, "/readyz")
				require.Equal(t, http.StatusServiceUnavailable, code)
				require.JSONEq(t, `{"status":"not_ready","reason":"migrations pending"}`, body)
			})
			t.Run("UnreachableWhenClosed", func(t *testing.T) {
				t.Parallel()
				s := bunstoretest.New(t, kind, nil)
				b := setupOn(t, s, s)
				require.NoError(t, s.Close())
				code, body := b.do(t, http.MethodGet, "/readyz")
				require.Equal(t, http.StatusServiceUnavailable, code)
				require.JSONEq(t, `{"status":"not_ready","reason":"database unreachable"}`, body)
				require.Contains(t, b.logs.String(), "database is closed", "the cause is logged")
			})
		})
	}
}
