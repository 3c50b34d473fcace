package observe

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-dev/custos/store"
)

// NamespaceDefault is the metric name prefix when Options.Namespace is empty.
const NamespaceDefault = "custos"

// otherLabel replaces a label value outside the known set, so that a bad
// value from a caller cannot grow the series count.
const otherLabel = "other"

// Options tune NewMetrics. The zero value (or nil) gives the defaults.
type Options struct {
	// Namespace prefixes every metric name. Defaults to NamespaceDefault.
	Namespace string
	// DisablePerJob drops the job label from the execution duration and size
	// histograms, which cost a dozen series per job each: set it when there
	// are very many jobs. The scrape-time per-job gauges keep their label
	// (one series per job). Defaults to false: per-job histograms.
	DisablePerJob bool
	// MaxJobHistograms bounds the jobs that get histograms of their own:
	// the runs of jobs beyond the first MaxJobHistograms seen are observed
	// under job="" (the rest of the fleet), so memory (about 2.4 KB a job)
	// and series stay bounded however many jobs there are. Defaults to
	// MaxJobHistogramsDefault; negative means no bound.
	MaxJobHistograms int
}

// MaxJobHistogramsDefault is the default of Options.MaxJobHistograms.
const MaxJobHistogramsDefault = 1000

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	out.Namespace = cmp.Or(out.Namespace, NamespaceDefault)
	out.MaxJobHistograms = cmp.Or(out.MaxJobHistograms, MaxJobHistogramsDefault)
	return out
}

// Buckets of the histograms.
var (
	// ExecutionDurationBuckets span 10 s to an hour.
	executionDurationBuckets = []float64{10, 30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600}
	// SizeBuckets span 1 MB to 1 TB, by factors of 10 with a mid step.
	sizeBuckets = []float64{1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10, 3e10, 1e11, 3e11, 1e12}
	// HTTPDurationBuckets span half a millisecond to 10 s.
	httpDurationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	// QueryDurationBuckets span 0.1 ms to 5 s.
	queryDurationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	// VerificationDurationBuckets span a minute to a day: restore tests are slow.
	verificationDurationBuckets = []float64{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400}
)

// Metrics holds Custos's Prometheus metrics, registered on the Registerer
// given to NewMetrics. A nil *Metrics is valid: every method does nothing,
// so that callers need not branch on whether metrics are on.
type Metrics struct {
	reg    prometheus.Registerer
	ns     string
	perJob bool
	// maxJobs and jobs are Options.MaxJobHistograms and the jobs admitted
	// to histograms of their own.
	maxJobs int
	jobsMu  sync.Mutex
	jobs    map[string]struct{}

	executions           *prometheus.CounterVec
	executionDuration    *prometheus.HistogramVec
	executionSize        *prometheus.HistogramVec
	alerts               *prometheus.CounterVec
	verifications        *prometheus.CounterVec
	verificationDuration prometheus.Histogram
	httpRequests         *prometheus.CounterVec
	httpDuration         *prometheus.HistogramVec
	queryDuration        *prometheus.HistogramVec
	scrapeErrors         prometheus.Counter

	ops operations

	dbOnce sync.Once
	dbErr  error
	dbs    *dbCollector
}

// NewMetrics creates the metrics and registers them on reg. A nil reg
// returns (nil, nil): metrics are off, and the nil *Metrics does nothing.
//
// The event metrics (executions, alerts, verification, HTTP, queries) and
// custos_build_info are registered here; the scrape-time gauges are added
// by ObserveStore, ObserveCaches and ObserveDB.
func NewMetrics(reg prometheus.Registerer, opts *Options) (*Metrics, error) {
	if reg == nil {
		return nil, nil
	}
	o := opts.withDefaults()
	ns := o.Namespace
	m := &Metrics{reg: reg, ns: ns, perJob: !o.DisablePerJob, maxJobs: o.MaxJobHistograms, jobs: map[string]struct{}{}}
	var jobLabels []string
	if m.perJob {
		jobLabels = []string{"job"}
	}
	m.executions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "backup_executions_total",
		Help: "Backup executions recorded, by result.",
	}, []string{"result"})
	m.executionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "backup_execution_duration_seconds",
		Help:    "Duration of finished backup executions.",
		Buckets: executionDurationBuckets,
	}, jobLabels)
	m.executionSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "backup_size_bytes",
		Help:    "Size of finished backup executions that reported one.",
		Buckets: sizeBuckets,
	}, jobLabels)
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "alerts_total",
		Help: "Alerts raised, by severity and type.",
	}, []string{"severity", "alert_type"})
	m.verifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "verification_tests_total",
		Help: "Restore verification tests recorded, by result.",
	}, []string{"result"})
	m.verificationDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "verification_duration_seconds",
		Help:    "Duration of restore verification tests that reported one.",
		Buckets: verificationDurationBuckets,
	})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "http_requests_total",
		Help: "HTTP requests served, by method, route pattern and status code.",
	}, []string{"method", "route", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "http_request_duration_seconds",
		Help:    "Time to serve HTTP requests, by method, route pattern and status code.",
		Buckets: httpDurationBuckets,
	}, []string{"method", "route", "code"})
	m.queryDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "db_query_duration_seconds",
		Help:    "Database statement duration, by operation (statement kind and table).",
		Buckets: queryDurationBuckets,
	}, []string{"operation"})
	// Registered by ObserveStore, the one that counts.
	m.scrapeErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "scrape_errors_total",
		Help: "Scrapes whose store read failed or timed out; the gauges then export what was read.",
	})
	m.ops.init(m.queryDuration)

	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Name: "build_info",
		Help:        "Always 1; the labels name the build.",
		ConstLabels: prometheus.Labels{"version": buildVersion(), "goversion": runtime.Version()},
	})
	buildInfo.Set(1)

	var errs []error
	for _, c := range []prometheus.Collector{
		m.executions, m.executionDuration, m.executionSize, m.alerts, m.verifications,
		m.verificationDuration, m.httpRequests, m.httpDuration, m.queryDuration, buildInfo,
	} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("observe: register metrics: %w", err)
	}
	return m, nil
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// ExecutionRecorded counts a recorded execution by its status and, once it
// has finished, observes its duration and size (when positive). The service
// calls it after the commit. An unknown status counts as "other".
func (m *Metrics) ExecutionRecorded(job string, status string, duration time.Duration, sizeBytes int64) {
	if m == nil {
		return
	}
	st := store.ExecutionStatus(status)
	m.executions.WithLabelValues(known(st, executionStatuses)).Inc()
	if st == store.ExecutionRunning {
		return
	}
	var lv []string
	if m.perJob {
		lv = []string{m.jobLabel(job)}
	}
	if duration > 0 {
		m.executionDuration.WithLabelValues(lv...).Observe(duration.Seconds())
	}
	if sizeBytes > 0 {
		m.executionSize.WithLabelValues(lv...).Observe(float64(sizeBytes))
	}
}

// jobLabel is job while it is among the first maxJobs seen, else "".
func (m *Metrics) jobLabel(job string) string {
	if m.maxJobs < 0 {
		return job
	}
	m.jobsMu.Lock()
	defer m.jobsMu.Unlock()
	if _, ok := m.jobs[job]; ok {
		return job
	}
	if len(m.jobs) >= m.maxJobs {
		return ""
	}
	m.jobs[job] = struct{}{}
	return job
}

// AlertRaised counts a newly raised alert. Unknown severities and types
// count as "other".
func (m *Metrics) AlertRaised(severity, alertType string) {
	if m == nil {
		return
	}
	m.alerts.WithLabelValues(
		known(store.Severity(severity), severities),
		known(store.AlertType(alertType), alertTypes),
	).Inc()
}

// VerificationRecorded counts a recorded restore test by result
// (success/warning/failed, else "other") and observes its duration when
// positive.
func (m *Metrics) VerificationRecorded(result string, duration time.Duration) {
	if m == nil {
		return
	}
	m.verifications.WithLabelValues(known(store.TestResult(result), testResults)).Inc()
	if duration > 0 {
		m.verificationDuration.Observe(duration.Seconds())
	}
}

// The label values the event metrics accept.
var (
	executionStatuses = store.ExecutionStatusValues()
	severities        = store.SeverityValues()
	alertTypes        = store.AlertTypeValues()
	testResults       = store.TestResultValues()
)

// known returns v as a label value when it is one of values, else "other".
func known[T ~string](v T, values []T) string {
	if slices.Contains(values, v) {
		return string(v)
	}
	return otherLabel
}
