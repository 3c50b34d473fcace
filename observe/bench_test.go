package observe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/observe"
)

func BenchmarkQueryHook(b *testing.B) {
	m, err := observe.NewMetrics(prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	hook := m.QueryHook()
	e := &bun.QueryEvent{
		Query:     `INSERT INTO "executions" ("id", "job_id", "run_id", "status") VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		StartTime: time.Now(),
	}
	b.ReportAllocs()
	for b.Loop() {
		hook.AfterQuery(hook.BeforeQuery(context.Background(), e), e)
	}
}

func BenchmarkMiddleware(b *testing.B) {
	m, err := observe.NewMetrics(prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		observe.SetRoute(r.Context(), "GET /api/v1/jobs/{id}")
		w.WriteHeader(http.StatusOK)
	}))
	req := httptest.NewRequest(http.MethodGet, "/api/v1/jobs/0192", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
