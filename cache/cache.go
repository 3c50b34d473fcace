package cache

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jellydator/ttlcache/v3"
	"golang.org/x/sync/singleflight"

	"github.com/custos-dev/custos/store"
)

// Default TTLs and capacity (DESIGN §9).
const (
	// JobTTLDefault is how long job data is kept (WithJobTTL).
	JobTTLDefault = 300 * time.Second
	// ReportTTLDefault is how long reports and rollups are kept.
	ReportTTLDefault = 600 * time.Second
	// ComplianceTTLDefault is how long compliance data is kept.
	ComplianceTTLDefault = 1800 * time.Second
	// DashboardTTLDefault is how long dashboard counts are kept.
	DashboardTTLDefault = 60 * time.Second
	// CapacityDefault is the most entries of each named cache.
	CapacityDefault = 10_000
)

// Store is a store.Store with read-through caches in front of it. Its
// dynamic type also implements exactly those optional capabilities of the
// wrapped store (store.DashboardCounter, store.ComplianceInputReader, …)
// that the wrapped store implements, so callers that find them by type
// assertion keep finding them.
type Store interface {
	store.Store
	// Stats returns the counters of every named cache, in a fixed order.
	Stats() []Stat
	// Version changes whenever a write through the Store (or a committed
	// transaction) may have changed cached data. A caller that keeps
	// something derived from cached reads, such as an encoded response,
	// may serve it while Version is what it was when the reads began.
	Version() uint64
}

// Stat is what one named cache has served since New.
type Stat struct {
	// Name is one of Names.
	Name string
	// Hits counts reads answered from the cache; Misses those that went to
	// the wrapped store (entries expired or dropped by a write included).
	Hits, Misses uint64
	// Entries is how many entries the cache holds now, stale ones included
	// until they are read or expire.
	Entries int
}

// Option sets an optional parameter of New.
type Option func(*config)

type config struct {
	ttl      [numCaches]time.Duration
	capacity uint64
}

// WithJobTTL sets how long job data is kept: jobs, copies, assets,
// executions, verification tests and schedules, media, media events,
// lendings and rotation plans. Defaults to JobTTLDefault.
func WithJobTTL(d time.Duration) Option {
	return func(c *config) {
		for _, i := range []cacheID{cJobs, cCopies, cAssets, cExecutions, cVerification, cMedia} {
			c.ttl[i] = d
		}
	}
}

// WithReportTTL sets how long reports and daily rollups are kept. Defaults
// to ReportTTLDefault.
func WithReportTTL(d time.Duration) Option {
	return func(c *config) { c.ttl[cReports], c.ttl[cRollups] = d, d }
}

// WithComplianceTTL sets how long compliance states and history are kept.
// Defaults to ComplianceTTLDefault.
func WithComplianceTTL(d time.Duration) Option {
	return func(c *config) { c.ttl[cCompliance] = d }
}

// WithDashboardTTL sets how long store.DashboardCounter results are kept.
// Defaults to DashboardTTLDefault.
func WithDashboardTTL(d time.Duration) Option {
	return func(c *config) { c.ttl[cDashboard] = d }
}

// WithCapacity sets the most entries each named cache holds; the least
// recently used entry goes first. Defaults to CapacityDefault.
func WithCapacity(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.capacity = uint64(n)
		}
	}
}

// cacheID names one cache; it is also the unit of invalidation: a write
// bumps the generation of every cache whose data it may change.
type cacheID int

const (
	cJobs cacheID = iota
	cCopies
	cAssets
	cExecutions
	cVerification
	cMedia
	cCompliance
	cReports
	cRollups
	cDashboard
	numCaches
)

// Names returns the names Stats reports, in its order. They are stable:
// metrics are labelled with them.
func Names() []string { return slices.Clone(names[:]) }

var names = [numCaches]string{
	cJobs:         "jobs",
	cCopies:       "copies",
	cAssets:       "assets",
	cExecutions:   "executions",
	cVerification: "verification",
	cMedia:        "media",
	cCompliance:   "compliance",
	cReports:      "reports",
	cRollups:      "rollups",
	cDashboard:    "dashboard",
}

// mask is a set of caches.
type mask uint32

func bit(ids ...cacheID) mask {
	var m mask
	for _, id := range ids {
		m |= 1 << id
	}
	return m
}

// everything is what a write bumps when it may touch rows of other
// aggregates (deletes cascade or set references to NULL) or when its
// effect is unknown.
const everything mask = 1<<numCaches - 1

// entry is a cached value with the generation of its cache read before it
// was loaded: once a write bumps the generation, the entry is not served.
type entry struct {
	gen uint64
	val any
}

type namedCache struct {
	gen    atomic.Uint64
	hits   atomic.Uint64
	misses atomic.Uint64
	ttl    *ttlcache.Cache[string, entry]
	sf     singleflight.Group
}

// cached is the Store New returns, before the optional capabilities of the
// wrapped store are added to it (caps_gen.go).
type cached struct {
	under  store.Store
	caches [numCaches]*namedCache
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

// janitor drops expired entries every interval until Close. Expired
// entries are never served (Get checks the expiry); this only frees their
// memory. One goroutine serves every cache rather than ttlcache's Start,
// one per cache, whose Stop does nothing if it runs before Start began.
func (c *cached) janitor(interval time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			for _, nc := range c.caches {
				nc.ttl.DeleteExpired()
			}
		}
	}
}

// New returns s behind read-through caches with absolute TTLs. Reads
// outside transactions of jobs, copies, assets, executions (Get and List),
// verification tests and schedules, media, media events, lendings,
// rotation plans, compliance states and history, rollups, reports (not
// their content) and store.DashboardCounter are cached; every value is
// copied on the way out, so callers may change what they get. Concurrent
// misses of one key share one load. Errors are never cached.
//
// Every write through the returned Store, and every transaction that
// commits, drops what it may have changed, so a read after a write on the
// same process never sees older data. Writes made elsewhere (another
// replica) show after the TTL.
//
// Not cached, for security or because callers need fresh rows: users,
// sessions, API keys, settings, audit, alerts, channels, notifications,
// report content, GetByRunID, counts and sums of executions, ListDue and
// every read of a transaction (InTx passes the wrapped store's Repos to fn
// unchanged). Their writes still drop the cached data they affect.
//
// Close stops the caches' cleanup goroutines and closes s.
func New(s store.Store, opts ...Option) Store {
	cfg := config{capacity: CapacityDefault}
	for i := range cfg.ttl {
		cfg.ttl[i] = JobTTLDefault
	}
	cfg.ttl[cReports], cfg.ttl[cRollups] = ReportTTLDefault, ReportTTLDefault
	cfg.ttl[cCompliance] = ComplianceTTLDefault
	cfg.ttl[cDashboard] = DashboardTTLDefault
	for _, o := range opts {
		o(&cfg)
	}
	c := &cached{under: s, stop: make(chan struct{})}
	sweep := cfg.ttl[0]
	for i := range c.caches {
		c.caches[i] = &namedCache{ttl: ttlcache.New(
			ttlcache.WithTTL[string, entry](cfg.ttl[i]),
			ttlcache.WithCapacity[string, entry](cfg.capacity),
			ttlcache.WithDisableTouchOnHit[string, entry](),
		)}
		sweep = min(sweep, cfg.ttl[i])
	}
	c.wg.Add(1)
	go c.janitor(max(sweep, time.Second))
	return withStoreCaps(c)
}

// core returns c; the types of caps_gen.go promote it, so tests reach the
// caches behind any of them.
func (c *cached) core() *cached { return c }

// Stats reports every cache in the order of Names.
func (c *cached) Stats() []Stat {
	out := make([]Stat, numCaches)
	for i, nc := range c.caches {
		out[i] = Stat{
			Name:    names[i],
			Hits:    nc.hits.Load(),
			Misses:  nc.misses.Load(),
			Entries: nc.ttl.Len(),
		}
	}
	return out
}

// Version is the sum of the caches' generations: each only grows, so the
// sum changes with any of them.
func (c *cached) Version() uint64 {
	var v uint64
	for _, nc := range c.caches {
		v += nc.gen.Load()
	}
	return v
}

// Close stops the cleanup goroutine and closes the wrapped store.
func (c *cached) Close() error {
	c.once.Do(func() {
		close(c.stop)
		c.wg.Wait()
	})
	return c.under.Close()
}

// Ping asks the wrapped store.
func (c *cached) Ping(ctx context.Context) error { return c.under.Ping(ctx) }

// InTx runs fn in a transaction of the wrapped store with its Repos,
// unchanged: reads inside are not cached and every capability of the
// transaction stays. After a commit, or when the outcome is unknown, every
// cache is dropped.
func (c *cached) InTx(ctx context.Context, fn func(ctx context.Context, tx store.Repos) error) error {
	var fnErr error
	err := c.under.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
		fnErr = fn(ctx, tx)
		return fnErr
	})
	// fn's own error rolled the transaction back; any other error (a
	// failed commit) may have left it committed.
	if err == nil || fnErr == nil || !errors.Is(err, fnErr) {
		c.bump(everything)
	}
	return err
}

// bump makes every entry of the caches in m stale.
func (c *cached) bump(m mask) {
	for i, nc := range c.caches {
		if m&(1<<i) != 0 {
			nc.gen.Add(1)
		}
	}
}

// wrote bumps m after a write that returned err, unless err says the write
// certainly changed nothing (refused input, a missing or conflicting row).
func (c *cached) wrote(m mask, err error) {
	if err == nil || !certainNoop(err) {
		c.bump(m)
	}
}

func certainNoop(err error) bool {
	var ve *store.ValidationError
	return errors.As(err, &ve) || errors.Is(err, store.ErrNotFound) ||
		errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrForeignKey)
}

// read returns the value of key in cache id, loading it with fetch on a
// miss, and a copy of it made by clone. Concurrent misses of one key under
// one generation share one fetch.
func read[T any](ctx context.Context, c *cached, id cacheID, key string, clone func(T) T, fetch func(ctx context.Context) (T, error)) (T, error) {
	if key == "" {
		return fetch(ctx)
	}
	nc := c.caches[id]
	gen := nc.gen.Load()
	if it := nc.ttl.Get(key); it != nil {
		if e := it.Value(); e.gen == gen {
			nc.hits.Add(1)
			return clone(e.val.(T)), nil
		}
	}
	nc.misses.Add(1)
	// The generation is part of the flight's key: a read that starts after
	// a write must not share a load that started before it. The first
	// caller loads in its own goroutine (Do, not DoChan: a goroutine per
	// miss cost 30 % on a dashboard miss); the others wait for it.
	v, err, _ := nc.sf.Do(strconv.FormatUint(gen, 36)+"|"+key, func() (any, error) {
		v, err := fetch(ctx)
		if err != nil {
			return nil, err
		}
		if nc.gen.Load() == gen {
			nc.ttl.Set(key, entry{gen: gen, val: v}, ttlcache.DefaultTTL)
		}
		return v, nil
	})
	if err != nil {
		// The load ran with the context of the first caller; if that one
		// gave up, the others try on their own.
		if ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return fetch(ctx)
		}
		var zero T
		return zero, err
	}
	return clone(v.(T)), nil
}
