package backupmgmt

import (
	"context"
	"sync"
	"time"

	"github.com/custos-dev/custos/store"
)

// The anomaly check compares a success with the job's recent successes.
// Reading them for every run cost more than the rest of the record, so the
// service keeps, per job, the sizes and durations of its last
// Config.AnomalyWindow successes in memory: seeded by one query on a miss,
// extended by every run this process records, and only after the run's
// transaction committed, so a rolled-back record never shows in it.
//
// An entry is used only while the job row still reads as the last run
// recorded through the entry left it (ingestJobMark): a run recorded by
// another replica, a missed run of the scheduler or an edit of the job
// changes the row, and the entry is seeded again. What the row does not
// show reaches an entry only when it is reseeded, at the latest
// ingestStatsMaxAge after its seed: a late run recorded by another
// replica, and retention deleting old runs. The check is a heuristic; that
// staleness is bounded and the rest is exact.
//
// An entry also remembers when the job is known to have no unresolved
// backup_anomaly alert, so a normal success skips looking for one to
// resolve. That is exact: only recording a success of the job raises that
// alert, and doing so writes the job row, which makes the entry stale
// (resolving or acknowledging the alert elsewhere opens none).
const (
	// ingestStatsMaxAge is how long an entry is used before it is seeded
	// again from the database. Jobs that run less often than this read the
	// database for every success, which costs them nothing that matters;
	// it is the jobs sending many runs an hour that need the cache.
	ingestStatsMaxAge = 6 * time.Hour
	// ingestStatsJobsMax bounds the jobs the cache holds.
	ingestStatsJobsMax = 10000
)

// ingestStat is one success as the anomaly check reads it.
type ingestStat struct {
	// rank is the run's place among the job's runs by start, newest
	// first, from 0: only runs within ingestAnomalyScan count.
	rank      int
	startedAt time.Time
	size      int64
	dur       time.Duration
}

// ingestJobMark is what a job row says about its last recorded run. Every
// write of the row changes UpdatedAt; the other fields guard a clock that
// stands still.
type ingestJobMark struct {
	updatedAt, lastRunAt time.Time
	lastResult           store.ExecutionStatus
	state                store.JobState
	failures             int
}

func (m ingestJobMark) equal(o ingestJobMark) bool {
	return m.updatedAt.Equal(o.updatedAt) && m.lastRunAt.Equal(o.lastRunAt) &&
		m.lastResult == o.lastResult && m.state == o.state && m.failures == o.failures
}

func ingestMarkOf(j *store.Job) ingestJobMark {
	m := ingestJobMark{updatedAt: j.UpdatedAt, lastResult: j.LastResult, state: j.State, failures: j.ConsecutiveFailures}
	if j.LastRunAt != nil {
		m.lastRunAt = *j.LastRunAt
	}
	return m
}

type ingestStatsEntry struct {
	mark   ingestJobMark
	seeded time.Time
	stats  []ingestStat // newest first; never changed once stored
	// noAnomaly is set when the job is known to have no unresolved
	// backup_anomaly alert.
	noAnomaly bool
}

// ingestStatsCache holds the recent successes of at most
// ingestStatsJobsMax jobs.
type ingestStatsCache struct {
	mu sync.Mutex
	m  map[string]ingestStatsEntry
}

func newIngestStatsCache() *ingestStatsCache {
	return &ingestStatsCache{m: make(map[string]ingestStatsEntry)}
}

// get returns the entry of job when it is current: the job row reads as
// the entry left it and the seed is younger than ingestStatsMaxAge.
func (c *ingestStatsCache) get(job *store.Job, now time.Time) (ingestStatsEntry, bool) {
	c.mu.Lock()
	e, ok := c.m[job.ID]
	c.mu.Unlock()
	if !ok || !e.current(job, now) {
		return ingestStatsEntry{}, false
	}
	return e, true
}

func (e *ingestStatsEntry) current(job *store.Job, now time.Time) bool {
	return e.mark.equal(ingestMarkOf(job)) && now.Sub(e.seeded) < ingestStatsMaxAge && !now.Before(e.seeded)
}

// ingestPending is an entry a transaction will store once it commits,
// noted for its own later records (a batch recording several runs of a
// job), which the cache does not show yet.
type ingestPending struct {
	jobID string
	entry ingestStatsEntry
}

// ingestStatsOf returns the current entry of job: the one the transaction
// of ctx will store, or else the cache's.
func (s *Service) ingestStatsOf(ctx context.Context, job *store.Job) (ingestStatsEntry, bool) {
	notes := txNotes(ctx)
	for i := len(notes) - 1; i >= 0; i-- {
		if p, ok := notes[i].(*ingestPending); ok && p.jobID == job.ID {
			// The transaction's own word on the job wins over the cache.
			return p.entry, p.entry.current(job, s.Now())
		}
	}
	return s.stats.get(job, s.Now())
}

func (c *ingestStatsCache) put(jobID string, e ingestStatsEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	putBounded(c.m, jobID, e, ingestStatsJobsMax)
}

// putBounded stores v under key in m, first dropping an arbitrary other
// entry when m already holds max: the in-memory caches of the service stay
// bounded without bookkeeping, and a dropped entry is only read again.
func putBounded[V any](m map[string]V, key string, v V, max int) {
	if _, ok := m[key]; !ok && len(m) >= max {
		for k := range m {
			delete(m, k)
			break
		}
	}
	m[key] = v
}

func (c *ingestStatsCache) drop(jobID string) {
	c.mu.Lock()
	delete(c.m, jobID)
	c.mu.Unlock()
}

// ingestWindow is the anomaly window a record read, for extending the
// cache with the record's run once it committed.
type ingestWindow struct {
	known bool
	// fromQuery is set when stats were read from the database: their ranks
	// then leave out the run being recorded.
	fromQuery bool
	seeded    time.Time
	stats     []ingestStat
	// noAnomaly: no unresolved backup_anomaly alert once the record
	// commits, as far as the entry and the record know.
	noAnomaly bool
}

// ingestNoteRun extends the cached window of job with run e once the
// transaction commits. prev is the job as read, job as written; w is what
// the anomaly check read, if it ran. completion is set when e finished a
// stored running row, which its start already counted.
func (s *Service) ingestNoteRun(ctx context.Context, prev, job *store.Job, e *store.Execution, completion bool, w *ingestWindow) {
	if !w.known {
		entry, ok := s.ingestStatsOf(ctx, prev)
		if !ok {
			// Nothing to extend: the next success seeds the entry.
			return
		}
		*w = ingestWindow{known: true, seeded: entry.seeded, stats: entry.stats, noAnomaly: entry.noAnomaly}
	}
	next := make([]ingestStat, 0, s.cfg.AnomalyWindow+1)
	if e.Status == store.ExecutionSuccess {
		next = append(next, ingestStat{startedAt: e.StartedAt, size: e.SizeBytes, dur: e.Duration()})
	}
	shift := 0
	if w.fromQuery || !completion {
		shift = 1
	}
	for _, st := range w.stats {
		st.rank += shift
		if st.rank < ingestAnomalyScan && len(next) < s.cfg.AnomalyWindow {
			next = append(next, st)
		}
	}
	entry := ingestStatsEntry{mark: ingestMarkOf(job), seeded: w.seeded, stats: next, noAnomaly: w.noAnomaly}
	txNote(ctx, &ingestPending{jobID: job.ID, entry: entry})
	afterCommit(ctx, func() { s.stats.put(job.ID, entry) })
}

// ingestForgetRuns drops the cached window of a job once the transaction
// commits: a late run changes it in a way the cache does not follow.
func (s *Service) ingestForgetRuns(ctx context.Context, jobID string) {
	txNote(ctx, &ingestPending{jobID: jobID})
	afterCommit(ctx, func() { s.stats.drop(jobID) })
}
