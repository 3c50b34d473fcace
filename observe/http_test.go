package observe_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/observe"
)

// api is a small API that names its routes as httpapi does.
func api() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		observe.SetRoute(r.Context(), r.Pattern)
		_, _ = w.Write([]byte(`{"id":"` + r.PathValue("id") + `"}`))
	})
	mux.HandleFunc("POST /ping/{token}", func(w http.ResponseWriter, r *http.Request) {
		observe.SetRoute(r.Context(), r.Pattern)
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		observe.SetRoute(r.Context(), r.Pattern)
		_, _ = w.Write([]byte("a"))
		_ = http.NewResponseController(w).Flush()
	})
	return mux
}

func TestMiddleware(t *testing.T) {
	t.Parallel()

	t.Run("LabelsByRoutePattern", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		h := b.m.Middleware(api())
		for _, path := range []string{"/api/v1/jobs/a", "/api/v1/jobs/b", "/api/v1/jobs/c"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			require.Equal(t, http.StatusOK, rec.Code)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/ping/secret-token?x=1", nil))
		require.Equal(t, http.StatusAccepted, rec.Code)
		require.NoError(t, testutil.GatherAndCompare(b.reg, strings.NewReader(`
# HELP custos_http_requests_total HTTP requests served, by method, route pattern and status code.
# TYPE custos_http_requests_total counter
custos_http_requests_total{code="200",method="GET",route="GET /api/v1/jobs/{id}"} 3
custos_http_requests_total{code="202",method="POST",route="POST /ping/{token}"} 1
`), "custos_http_requests_total"))
		require.Equal(t, uint64(4), histogramCount(t, b.reg, "custos_http_request_duration_seconds"))
	})

	t.Run("UnroutedRequestsAreUnmatched", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		h := b.m.Middleware(api())
		for _, path := range []string{"/nope", "/wp-admin.php", "/api/v1/jobs"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			require.Equal(t, http.StatusNotFound, rec.Code)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("BREW", "/api/v1/jobs/a", nil))
		require.NoError(t, testutil.GatherAndCompare(b.reg, strings.NewReader(`
# HELP custos_http_requests_total HTTP requests served, by method, route pattern and status code.
# TYPE custos_http_requests_total counter
custos_http_requests_total{code="404",method="GET",route="unmatched"} 3
custos_http_requests_total{code="405",method="OTHER",route="unmatched"} 1
`), "custos_http_requests_total"))
	})

	t.Run("KeepsFlushWorking", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		rec := httptest.NewRecorder()
		b.m.Middleware(api()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/stream", nil))
		require.True(t, rec.Flushed)
		require.Equal(t, "a", rec.Body.String())
		require.Contains(t, b.gather(t, "custos_http_requests_total"), "code=200")
	})

	t.Run("LetsResponseControllerReachTheConnection", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		errs := make(chan error, 1)
		h := observe.AccessLog(slog.New(slog.DiscardHandler))(b.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Only the server's own writer has deadlines: Unwrap must reach it
			// through both wrappers.
			errs <- http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute))
		})))
		srv := httptest.NewServer(h)
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.NoError(t, <-errs)
	})

	t.Run("CountsAPanicAsServerError", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		h := b.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			observe.SetRoute(r.Context(), "GET /boom")
			panic("boom")
		}))
		require.Panics(t, func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/boom", nil))
		})
		require.Contains(t, b.gather(t, "custos_http_requests_total"), "code=500 method=GET route=GET /boom")
	})
}
