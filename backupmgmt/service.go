package backupmgmt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/custos-dev/custos/store"
)

// Defaults of Config.
const (
	// AlertRepeatIntervalDefault is how often an open critical alert is
	// notified again (DESIGN §4.6).
	AlertRepeatIntervalDefault = 4 * time.Hour
	// FailureEscalationDefault is how many consecutive failures turn a
	// backup_failed alert critical.
	FailureEscalationDefault = 3
	// AnomalyWindowDefault is how many recent successes the anomaly check
	// takes the median of.
	AnomalyWindowDefault = 10
	// AnomalyMinSamplesDefault is how many earlier successes a job needs
	// before its runs are judged anomalous.
	AnomalyMinSamplesDefault = 5
	// SessionIdleTimeoutDefault ends a browser session after this long
	// without activity.
	SessionIdleTimeoutDefault = 30 * time.Minute
	// SessionMaxAgeDefault ends a browser session this long after login,
	// however active.
	SessionMaxAgeDefault = 12 * time.Hour
	// LockoutThresholdDefault failed logins within LockoutWindowDefault lock
	// an account for LockoutDurationDefault.
	LockoutThresholdDefault = 5
	// LockoutWindowDefault is the window failed logins are counted in.
	LockoutWindowDefault = 10 * time.Minute
	// LockoutDurationDefault is how long a locked account stays locked.
	LockoutDurationDefault = 10 * time.Minute
	// SLAWindowDefault is the window SLA figures are computed over.
	SLAWindowDefault = 30 * 24 * time.Hour
	// SLATargetDefault is the success rate (and time within RPO) below
	// which a job's SLA is breached.
	SLATargetDefault = 0.95
	// ComplianceRefreshDefault is how old a stored compliance state may get
	// before a sweep rewrites it although nothing in it changed.
	ComplianceRefreshDefault = time.Hour
	// AuditRetentionDefault is how long audit events are kept.
	AuditRetentionDefault = 3 * 365 * 24 * time.Hour
)

// Config holds the optional settings of a Service. The zero value, and a
// nil *Config, mean defaults.
type Config struct {
	// Now is the clock. Defaults to time.Now. Every time the service stores
	// comes from it, in UTC truncated to microseconds.
	Now func() time.Time
	// Logger receives the service's logs. Defaults to discarding them.
	Logger *slog.Logger
	// NewID makes row IDs. Defaults to store.NewID (UUIDv7).
	NewID func() string
	// Policy is the compliance policy of jobs without an asset. Defaults to
	// DefaultPolicy().
	Policy *Policy
	// Presets overrides the policy of an asset classification. A
	// classification missing here gets PresetFor.
	Presets map[store.Classification]Policy
	// Location is the organisation's time zone: it decides which calendar
	// day "today" is for due dates (verification, lendings, rotation).
	// Defaults to UTC.
	Location *time.Location
	// AlertRepeatInterval is how often an open critical alert is notified
	// again. Defaults to AlertRepeatIntervalDefault (4 h).
	AlertRepeatInterval time.Duration
	// FailureEscalation is how many consecutive failures make a
	// backup_failed alert critical. Defaults to FailureEscalationDefault (3).
	FailureEscalation int
	// AnomalyWindow is how many recent successes the anomaly check takes the
	// median of. Defaults to AnomalyWindowDefault (10).
	AnomalyWindow int
	// AnomalyMinSamples is how many earlier successes a job needs before a
	// run can be anomalous. Defaults to AnomalyMinSamplesDefault (5).
	AnomalyMinSamples int
	// SessionIdleTimeout defaults to SessionIdleTimeoutDefault (30 min).
	SessionIdleTimeout time.Duration
	// SessionMaxAge defaults to SessionMaxAgeDefault (12 h).
	SessionMaxAge time.Duration
	// LockoutThreshold defaults to LockoutThresholdDefault (5).
	LockoutThreshold int
	// LockoutWindow defaults to LockoutWindowDefault (10 min).
	LockoutWindow time.Duration
	// LockoutDuration defaults to LockoutDurationDefault (10 min).
	LockoutDuration time.Duration
	// SLAWindow defaults to SLAWindowDefault (30 days).
	SLAWindow time.Duration
	// SLATarget is a fraction in (0, 1]. Defaults to SLATargetDefault (0.95).
	SLATarget float64
	// ComplianceRefresh defaults to ComplianceRefreshDefault (1 h).
	ComplianceRefresh time.Duration
	// AuditRetention defaults to AuditRetentionDefault (3 years).
	AuditRetention time.Duration
	// Observer is told of runs, alerts and restore tests once they
	// committed, for metrics. Defaults to none.
	Observer Observer
	// IngestGroupMax is the most concurrent Record calls that share one
	// commit (group commit). Defaults to IngestGroupMaxDefault; 1 commits
	// every run on its own.
	IngestGroupMax int
}

func (c *Config) withDefaults() Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	if out.NewID == nil {
		out.NewID = store.NewID
	}
	if out.Policy == nil {
		p := DefaultPolicy()
		out.Policy = &p
	}
	if out.Observer == nil {
		out.Observer = nopObserver{}
	}
	if out.Location == nil {
		out.Location = time.UTC
	}
	out.AlertRepeatInterval = cmp.Or(out.AlertRepeatInterval, AlertRepeatIntervalDefault)
	out.FailureEscalation = cmp.Or(out.FailureEscalation, FailureEscalationDefault)
	out.AnomalyWindow = cmp.Or(out.AnomalyWindow, AnomalyWindowDefault)
	out.AnomalyMinSamples = cmp.Or(out.AnomalyMinSamples, AnomalyMinSamplesDefault)
	out.SessionIdleTimeout = cmp.Or(out.SessionIdleTimeout, SessionIdleTimeoutDefault)
	out.SessionMaxAge = cmp.Or(out.SessionMaxAge, SessionMaxAgeDefault)
	out.LockoutThreshold = cmp.Or(out.LockoutThreshold, LockoutThresholdDefault)
	out.LockoutWindow = cmp.Or(out.LockoutWindow, LockoutWindowDefault)
	out.LockoutDuration = cmp.Or(out.LockoutDuration, LockoutDurationDefault)
	out.SLAWindow = cmp.Or(out.SLAWindow, SLAWindowDefault)
	out.SLATarget = cmp.Or(out.SLATarget, SLATargetDefault)
	out.ComplianceRefresh = cmp.Or(out.ComplianceRefresh, ComplianceRefreshDefault)
	out.AuditRetention = cmp.Or(out.AuditRetention, AuditRetentionDefault)
	out.IngestGroupMax = cmp.Or(out.IngestGroupMax, IngestGroupMaxDefault)
	return out
}

func (c *Config) validate() error {
	fields := make(map[string]string)
	if err := c.Policy.Validate(); err != nil {
		fields["policy"] = complianceFields(err)
	}
	for class, p := range c.Presets {
		if !class.Valid() {
			fields["presets"] = "unknown classification " + string(class)
		} else if err := p.Validate(); err != nil {
			fields["presets."+string(class)] = complianceFields(err)
		}
	}
	for field, d := range map[string]time.Duration{
		"alert_repeat_interval": c.AlertRepeatInterval,
		"session_idle_timeout":  c.SessionIdleTimeout,
		"session_max_age":       c.SessionMaxAge,
		"lockout_window":        c.LockoutWindow,
		"lockout_duration":      c.LockoutDuration,
		"sla_window":            c.SLAWindow,
		"compliance_refresh":    c.ComplianceRefresh,
		"audit_retention":       c.AuditRetention,
	} {
		if d < 0 {
			fields[field] = "must not be negative"
		}
	}
	for field, n := range map[string]int{
		"failure_escalation":  c.FailureEscalation,
		"anomaly_window":      c.AnomalyWindow,
		"anomaly_min_samples": c.AnomalyMinSamples,
		"lockout_threshold":   c.LockoutThreshold,
		"ingest_group_max":    c.IngestGroupMax,
	} {
		if n < 0 {
			fields[field] = "must not be negative"
		}
	}
	if c.AnomalyMinSamples > c.AnomalyWindow {
		fields["anomaly_min_samples"] = "must not exceed anomaly_window"
	}
	if c.SLATarget < 0 || c.SLATarget > 1 {
		fields["sla_target"] = "must be between 0 and 1"
	}
	if len(fields) > 0 {
		return &store.ValidationError{Fields: fields}
	}
	return nil
}

// Service is Custos's domain: everything the API, the scheduler and an
// embedder do goes through it. Its parts are grouped by subject; they share
// one store, clock and policy.
type Service struct {
	store store.Store
	cfg   Config
	log   *slog.Logger
	// stats caches the anomaly check's recent successes per job.
	stats *ingestStatsCache
	// swept is set once a Compliance.SweepAll has completed: until then the
	// stored states may come from another policy (Compliance.Sweep).
	swept atomic.Bool
	// group is the group commit queue of Record.
	group groupCommit
	// keys caches checked API keys (apikeys_cache.go).
	keys *apiKeyCache
}

// New returns a Service over s. The store must be migrated.
func New(s store.Store, cfg *Config) (*Service, error) {
	if s == nil {
		return nil, errors.New("backupmgmt: nil store")
	}
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("backupmgmt: config: %w", err)
	}
	return &Service{store: s, cfg: c, log: c.Logger, stats: newIngestStatsCache(), keys: newAPIKeyCache()}, nil
}

// Store returns the store the service works on, for reads the service does
// not wrap.
func (s *Service) Store() store.Store { return s.store }

// Now returns the service clock's time in stored form.
func (s *Service) Now() time.Time { return store.NormalizeTime(s.cfg.Now()) }

// Today returns the calendar date of now in the organisation's zone.
func (s *Service) Today() store.Date { return store.DateOf(s.cfg.Now(), s.cfg.Location) }

// Location is the organisation's time zone (Config.Location): reports,
// digests and messages show dates in it.
func (s *Service) Location() *time.Location { return s.cfg.Location }

// SLATarget is the configured SLA target (Config.SLATarget), a fraction.
func (s *Service) SLATarget() float64 { return s.cfg.SLATarget }

// Alerts gives the alert operations.
func (s *Service) Alerts() *Alerts { return (*Alerts)(s) }

// Compliance gives the compliance operations.
func (s *Service) Compliance() *Compliance { return (*Compliance)(s) }

// Audit gives the audit log operations.
func (s *Service) Audit() *Audit { return (*Audit)(s) }

// txMaxAttempts bounds how often a transaction the database aborted to
// resolve a deadlock (store.ErrRetry) is run again.
const txMaxAttempts = 5

// inTx runs fn in a transaction of the store, again when the database
// aborted it for a concurrent one. fn must be safe to run more than once:
// it must not change anything outside the transaction.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	var err error
	for attempt := 1; attempt <= txMaxAttempts; attempt++ {
		memo := &txMemo{}
		err = s.store.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
			return fn(context.WithValue(ctx, txMemoKey{}, memo), tx)
		})
		if err == nil {
			for _, f := range memo.afterCommit {
				f()
			}
			return nil
		}
		if !errors.Is(err, store.ErrRetry) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		s.log.DebugContext(ctx, "transaction retried", "attempt", attempt)
	}
	return err
}

// txMemo holds what one transaction of inTx read once and reuses, and
// what is to be done once it committed.
type txMemo struct {
	channels       []store.Channel
	channelsLoaded bool
	// afterCommit runs, in order, after the transaction committed; a
	// rolled-back or retried attempt drops it with its memo.
	afterCommit []func()
	// notes are what the transaction's later steps look up of what its
	// earlier ones did (ingest's cache entries, which reach the cache only
	// after the commit); a savepoint rolled back undoes them as it undoes
	// afterCommit.
	notes []any
	// groupJobs are the jobs a group commit read for its runs in one
	// statement, locked; each run's effects update the job in place, so
	// the next run of the same job sees them.
	groupJobs map[string]*store.Job
}

type txMemoKey struct{}

// afterCommit registers f to run once the transaction of ctx (of s.inTx)
// committed, for in-process state that must never see a write that was
// rolled back. Outside s.inTx, f is dropped.
func afterCommit(ctx context.Context, f func()) {
	if memo, _ := ctx.Value(txMemoKey{}).(*txMemo); memo != nil {
		memo.afterCommit = append(memo.afterCommit, f)
	}
}

// txNote records v for later steps of the transaction of ctx (txNotes);
// outside s.inTx it is dropped.
func txNote(ctx context.Context, v any) {
	if memo, _ := ctx.Value(txMemoKey{}).(*txMemo); memo != nil {
		memo.notes = append(memo.notes, v)
	}
}

// txNotes returns the notes of the transaction of ctx, oldest first.
func txNotes(ctx context.Context) []any {
	if memo, _ := ctx.Value(txMemoKey{}).(*txMemo); memo != nil {
		return memo.notes
	}
	return nil
}

// txMark is how many functions and notes a transaction has registered.
type txMark struct{ afterCommit, notes int }

// afterCommitMark returns the mark of the transaction of ctx;
// afterCommitUndo drops the functions and notes registered since, for a
// savepoint that was rolled back.
func afterCommitMark(ctx context.Context) txMark {
	if memo, _ := ctx.Value(txMemoKey{}).(*txMemo); memo != nil {
		return txMark{len(memo.afterCommit), len(memo.notes)}
	}
	return txMark{}
}

func afterCommitUndo(ctx context.Context, mark txMark) {
	memo, _ := ctx.Value(txMemoKey{}).(*txMemo)
	if memo == nil {
		return
	}
	if len(memo.afterCommit) > mark.afterCommit {
		clear(memo.afterCommit[mark.afterCommit:])
		memo.afterCommit = memo.afterCommit[:mark.afterCommit]
	}
	if len(memo.notes) > mark.notes {
		clear(memo.notes[mark.notes:])
		memo.notes = memo.notes[:mark.notes]
	}
}
