package observe_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-dev/custos/observe"
)

// The service records domain events after each commit; the API names its
// routes so that requests are labelled by pattern.
func ExampleNewMetrics() {
	reg := prometheus.NewRegistry()
	m, err := observe.NewMetrics(reg, nil)
	if err != nil {
		panic(err)
	}
	m.ExecutionRecorded("nightly-db", "success", 12*time.Minute, 3<<30)
	m.AlertRaised("critical", "backup_failed")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		observe.SetRoute(r.Context(), r.Pattern)
		fmt.Fprint(w, "{}")
	})
	h := m.Middleware(mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/jobs/0192", nil))

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		switch mf.GetName() {
		case "custos_backup_executions_total", "custos_alerts_total", "custos_http_requests_total":
			for _, s := range mf.GetMetric() {
				fmt.Print(mf.GetName())
				for _, l := range s.GetLabel() {
					fmt.Printf(" %s=%q", l.GetName(), l.GetValue())
				}
				fmt.Println(" ", s.GetCounter().GetValue())
			}
		}
	}
	// Output:
	// custos_alerts_total alert_type="backup_failed" severity="critical"  1
	// custos_backup_executions_total result="success"  1
	// custos_http_requests_total code="200" method="GET" route="GET /api/v1/jobs/{id}"  1
}

// A nil *Metrics, from a nil Registerer, turns metrics off without a branch
// at any call site.
func ExampleNewMetrics_off() {
	m, _ := observe.NewMetrics(nil, nil)
	m.ExecutionRecorded("nightly-db", "failed", time.Minute, 0)
	fmt.Println(m == nil)
	// Output: true
}

// NewLogger is NewHandler over a JSON handler; here the time is left out
// so that the output is stable.
func ExampleNewHandler() {
	l := slog.New(observe.NewHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	})))
	l.InfoContext(context.Background(), "channel test",
		"channel", "ops", "webhook_url", "https://hooks.example.com/T0/B0/x",
		"header", "Bearer cst_abcdefgh_abcdefghijklmnopqrstuvwxyz234567")
	// Output:
	// {"level":"INFO","msg":"channel test","channel":"ops","webhook_url":"[redacted]","header":"Bearer [redacted]"}
}
