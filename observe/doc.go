// Package observe is Custos's observability: Prometheus metrics registered
// on a Registerer the caller passes (never the global one), HTTP and
// database query instrumentation, and slog helpers.
//
// NewMetrics registers the event metrics (executions, alerts, verification
// tests, HTTP requests, database statements) and custos_build_info; the
// service calls ExecutionRecorded, AlertRaised and VerificationRecorded
// after a commit. ObserveStore, ObserveCaches and ObserveDB add gauges and
// counters read at scrape time. Middleware labels requests by the route
// pattern the API names with SetRoute; QueryHook labels statements by kind
// and table. A nil *Metrics (metrics off) does nothing, so callers never
// branch.
//
// The per-job series carry the backup job's name in a label called job, as
// DESIGN §8 names it. Prometheus gives every scraped series its own job
// label (the scrape job), so with its default honor_labels: false the
// backup job is stored as exported_job; the shipped rules and dashboard
// read it from there.
//
// NewLogger makes a JSON slog.Logger that adds the request's correlation,
// request and user IDs and redacts secrets; AccessLog writes one line per
// request.
//
// The Prometheus alert rules (prometheus/alerts.yml, with promtool tests in
// prometheus/alerts_test.yml) and the Grafana dashboard
// (grafana/dashboard.json) ship in this directory; a test checks that every
// metric they query is one this package exports.
package observe
