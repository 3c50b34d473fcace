package observe

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-dev/custos/store"
)

// Defaults of StoreOptions.
const (
	StoreTimeoutDefault = 5 * time.Second
	StoreMaxAgeDefault  = 5 * time.Second
)

// Compliance rule names of custos_compliance_status, as in
// store.ComplianceReason.Rule.
var complianceRules = []string{"3copies", "2media", "1offsite", "1offline", "0errors"}

// StoreOptions tune ObserveStore. The zero value (or nil) gives the
// defaults.
type StoreOptions struct {
	// Timeout bounds one read of the store. Defaults to StoreTimeoutDefault.
	Timeout time.Duration
	// MaxAge is how long a read serves later scrapes, so that parallel
	// scrapers (several Prometheus replicas) do not each query the
	// database. Defaults to StoreMaxAgeDefault; negative reads on every
	// scrape.
	MaxAge time.Duration
	// NowFunc returns the current time, for the success-rate windows.
	// Defaults to time.Now.
	NowFunc func() time.Time
	// Logger receives a warning when a read fails. Defaults to none.
	Logger *slog.Logger
}

func (o *StoreOptions) withDefaults() StoreOptions {
	var out StoreOptions
	if o != nil {
		out = *o
	}
	out.Timeout = cmp.Or(out.Timeout, StoreTimeoutDefault)
	out.MaxAge = cmp.Or(out.MaxAge, StoreMaxAgeDefault)
	if out.NowFunc == nil {
		out.NowFunc = time.Now
	}
	return out
}

// ObserveStore exports the domain gauges, read from s when Prometheus
// scrapes (pass the cached store: the reads are the dashboard's):
//
//   - custos_backup_jobs{status}: jobs that are active (and not paused),
//     paused, or inactive.
//   - custos_active_jobs: jobs with a run in progress.
//   - custos_backup_last_success_timestamp_seconds{job}: the last successful
//     run of each active job that has had one.
//   - custos_backup_job_up{job}: 1 when an active, unpaused job is healthy
//     (state new, up or running), 0 when it is failed, late or missed.
//     Paused and inactive jobs have no series: nobody expects them to run.
//   - custos_backup_success_rate{period}: successful runs (success or
//     warning) over finished runs (those and failed and missed; canceled
//     runs are left out) started in the last 24 hours (daily), 7 days
//     (weekly) or 30 days (monthly); no series for a period without runs.
//   - custos_alerts_unacknowledged{severity}: open alerts.
//   - custos_compliance_status{job,rule}: per evaluated job and 3-2-1-1-0
//     rule, 0 when the latest evaluation failed the rule as required (a
//     reason of severity error), else 1.
//   - custos_compliance_rate: compliant jobs over evaluated ones (compliant,
//     warning, non-compliant); no series before any evaluation.
//   - custos_queued_notifications: outbox rows pending or failed, not yet
//     sent nor dead.
//
// The job label is the job's name. A read that fails or times out is
// counted in custos_scrape_errors_total; the scrape then has the gauges of
// the parts that were read. A nil *Metrics does nothing.
func (m *Metrics) ObserveStore(s store.Store, opts *StoreOptions) error {
	if m == nil {
		return nil
	}
	if s == nil {
		return errors.New("observe: nil store")
	}
	c := newStoreCollector(m, s, opts.withDefaults())
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("observe: register store metrics: %w", err)
	}
	return nil
}

type storeCollector struct {
	m    *Metrics
	s    store.Store
	opts StoreOptions

	jobs, activeJobs, lastSuccess, jobUp, successRate, alertsOpen,
	complianceStatus, complianceRate, queued *prometheus.Desc

	mu     sync.Mutex
	readAt time.Time
	memo   []prometheus.Metric
}

func newStoreCollector(m *Metrics, s store.Store, opts StoreOptions) *storeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(m.ns, "", name), help, labels, nil)
	}
	return &storeCollector{
		m: m, s: s, opts: opts,
		jobs:             d("backup_jobs", "Backup jobs by status: active, paused or inactive.", "status"),
		activeJobs:       d("active_jobs", "Backup jobs with a run in progress."),
		lastSuccess:      d("backup_last_success_timestamp_seconds", "When each active job's last successful run happened, as a Unix time.", "job"),
		jobUp:            d("backup_job_up", "1 when an active, unpaused job is healthy; 0 when it is failed, late or missed.", "job"),
		successRate:      d("backup_success_rate", "Successful over finished runs started in the period (daily 24 h, weekly 7 d, monthly 30 d).", "period"),
		alertsOpen:       d("alerts_unacknowledged", "Open alerts nobody has acknowledged, by severity.", "severity"),
		complianceStatus: d("compliance_status", "1 when a job's latest evaluation meets a 3-2-1-1-0 rule, 0 when it fails it as required.", "job", "rule"),
		complianceRate:   d("compliance_rate", "Compliant jobs over evaluated jobs."),
		queued:           d("queued_notifications", "Notifications waiting to be sent (pending or failed, not dead)."),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.jobs, c.activeJobs, c.lastSuccess, c.jobUp, c.successRate,
		c.alertsOpen, c.complianceStatus, c.complianceRate, c.queued} {
		ch <- d
	}
	c.m.scrapeErrors.Describe(ch)
}

// Collect serves the memo when it is fresh; otherwise it reads the store,
// holding the lock so that concurrent scrapes wait for one read.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.memo == nil || c.opts.MaxAge < 0 || time.Since(c.readAt) >= c.opts.MaxAge {
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
		metrics, err := c.read(ctx)
		cancel()
		if err != nil {
			c.m.scrapeErrors.Inc()
			if c.opts.Logger != nil {
				c.opts.Logger.Warn("observe: read store for metrics", slog.Any("error", err))
			}
		}
		c.memo, c.readAt = metrics, time.Now()
	}
	memo := c.memo
	c.mu.Unlock()
	for _, mt := range memo {
		ch <- mt
	}
	// The error counter is collected here, after the read, so that a scrape
	// whose read failed shows the failure.
	c.m.scrapeErrors.Collect(ch)
}

// read gathers the gauges. Each part is read on its own: a failing part
// leaves out its gauges and the error is returned with the others'.
func (c *storeCollector) read(ctx context.Context) ([]prometheus.Metric, error) {
	out := make([]prometheus.Metric, 0, 64)
	add := func(d *prometheus.Desc, v float64, labels ...string) {
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
	}
	var errs []error
	now := c.opts.NowFunc()

	names, err := c.readJobs(ctx, add)
	if err != nil {
		errs = append(errs, err)
	} else if err := c.readCompliance(ctx, names, add); err != nil {
		errs = append(errs, err)
	}

	var dash *store.DashboardCounts
	if dc, ok := c.s.(store.DashboardCounter); ok {
		dash, err = dc.DashboardCounts(ctx, store.DashboardCountsParams{
			Since: now.Add(-24 * time.Hour), Today: store.DateOf(now, time.UTC),
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("dashboard counts: %w", err))
			dash = nil
		}
	}
	for _, p := range []struct {
		period string
		window time.Duration
	}{{"daily", 24 * time.Hour}, {"weekly", 7 * 24 * time.Hour}, {"monthly", 30 * 24 * time.Hour}} {
		var counts map[store.ExecutionStatus]int64
		if dash != nil && p.period == "daily" {
			counts = dash.Executions
		} else {
			counts, err = c.s.Executions().CountByStatus(ctx, "", store.TimeRange{From: now.Add(-p.window)})
			if err != nil {
				errs = append(errs, fmt.Errorf("count executions: %w", err))
				continue
			}
		}
		ok := counts[store.ExecutionSuccess] + counts[store.ExecutionWarning]
		runs := ok + counts[store.ExecutionFailed] + counts[store.ExecutionMissed]
		if runs > 0 {
			add(c.successRate, float64(ok)/float64(runs), p.period)
		}
	}

	alerts, alertsOK := map[store.AlertState]map[store.Severity]int(nil), true
	if dash != nil {
		alerts = dash.Alerts
	} else if alerts, err = c.s.Alerts().CountUnresolved(ctx); err != nil {
		errs = append(errs, fmt.Errorf("count alerts: %w", err))
		alertsOK = false
	}
	if alertsOK {
		for _, sev := range severities {
			add(c.alertsOpen, float64(alerts[store.AlertOpen][sev]), string(sev))
		}
	}

	if n, err := c.s.Notifications().CountByState(ctx); err != nil {
		errs = append(errs, fmt.Errorf("count notifications: %w", err))
	} else {
		add(c.queued, float64(n[store.NotificationPending]+n[store.NotificationFailed]))
	}
	return out, errors.Join(errs...)
}

// readJobs pages through every job, adding the job gauges, and returns the
// names of the jobs by ID.
func (c *storeCollector) readJobs(ctx context.Context, add func(*prometheus.Desc, float64, ...string)) (map[string]string, error) {
	names := make(map[string]string)
	seen := make(map[string]bool)
	var active, paused, inactive, running int
	type jobGauge struct {
		name        string
		up          float64
		hasUp       bool
		lastSuccess *time.Time
	}
	var gauges []jobGauge
	p := store.ListJobsParams{PageParams: store.PageParams{Limit: store.LimitMax}}
	for {
		page, err := c.s.Jobs().List(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("list jobs: %w", err)
		}
		for i := range page.Items {
			j := &page.Items[i]
			// A job renamed or replaced between two pages may be listed twice;
			// a repeated series would fail the whole scrape.
			if _, dup := names[j.ID]; dup || seen[j.Name] {
				continue
			}
			names[j.ID] = j.Name
			seen[j.Name] = true
			if j.State == store.JobStateRunning {
				running++
			}
			g := jobGauge{name: j.Name}
			switch {
			case !j.Active:
				inactive++
			case j.Paused:
				paused++
			default:
				active++
				g.up, g.hasUp = jobUp(j.State)
			}
			if j.Active {
				g.lastSuccess = j.LastSuccessAt
			}
			gauges = append(gauges, g)
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	add(c.jobs, float64(active), "active")
	add(c.jobs, float64(paused), "paused")
	add(c.jobs, float64(inactive), "inactive")
	add(c.activeJobs, float64(running))
	for _, g := range gauges {
		if g.hasUp {
			add(c.jobUp, g.up, g.name)
		}
		if g.lastSuccess != nil {
			add(c.lastSuccess, float64(g.lastSuccess.UnixMicro())/1e6, g.name)
		}
	}
	return names, nil
}

// jobUp maps an active, unpaused job's state to custos_backup_job_up; false
// for a state that has no value (paused, or one added later).
func jobUp(s store.JobState) (float64, bool) {
	switch s {
	case store.JobStateNew, store.JobStateUp, store.JobStateRunning:
		return 1, true
	case store.JobStateFailed, store.JobStateLate, store.JobStateMissed:
		return 0, true
	}
	return 0, false
}

// readCompliance pages through the jobs' latest compliance states.
func (c *storeCollector) readCompliance(ctx context.Context, names map[string]string, add func(*prometheus.Desc, float64, ...string)) error {
	counts := make(map[store.ComplianceStatus]int)
	done := make(map[string]bool)
	p := store.ListComplianceStatesParams{SubjectType: store.SubjectJob, PageParams: store.PageParams{Limit: store.LimitMax}}
	for {
		page, err := c.s.Compliance().ListStates(ctx, p)
		if err != nil {
			return fmt.Errorf("list compliance states: %w", err)
		}
		for i := range page.Items {
			st := &page.Items[i]
			name, ok := names[st.SubjectID]
			if !ok || done[st.SubjectID] || st.Status == store.ComplianceUnknown {
				continue
			}
			done[st.SubjectID] = true
			counts[st.Status]++
			for _, rule := range complianceRules {
				v := 1.0
				for _, r := range st.Reasons {
					if r.Rule == rule && r.Severity == string(store.SeverityError) {
						v = 0
						break
					}
				}
				add(c.complianceStatus, v, name, rule)
			}
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	evaluated := counts[store.ComplianceCompliant] + counts[store.ComplianceWarning] + counts[store.ComplianceNonCompliant]
	if evaluated > 0 {
		add(c.complianceRate, float64(counts[store.ComplianceCompliant])/float64(evaluated))
	}
	return nil
}
