package observe

import (
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// CacheStat is the hit and miss counts of one cache since it was created.
type CacheStat struct {
	Cache  string
	Hits   uint64
	Misses uint64
}

// ObserveCaches exports custos_cache_hits_total{cache} and
// custos_cache_misses_total{cache}, read from stats at every scrape. stats
// must be safe to call concurrently and return counts that never go down;
// cache names must be unique and few (one per decorator). A nil *Metrics
// does nothing.
func (m *Metrics) ObserveCaches(stats func() []CacheStat) error {
	if m == nil {
		return nil
	}
	if stats == nil {
		return errors.New("observe: nil cache stats")
	}
	c := &cacheCollector{
		stats: stats,
		hits: prometheus.NewDesc(prometheus.BuildFQName(m.ns, "cache", "hits_total"),
			"Cache lookups answered from the cache.", []string{"cache"}, nil),
		misses: prometheus.NewDesc(prometheus.BuildFQName(m.ns, "cache", "misses_total"),
			"Cache lookups that went to the store.", []string{"cache"}, nil),
	}
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("observe: register cache metrics: %w", err)
	}
	return nil
}

type cacheCollector struct {
	stats        func() []CacheStat
	hits, misses *prometheus.Desc
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hits
	ch <- c.misses
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.stats() {
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits), s.Cache)
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(s.Misses), s.Cache)
	}
}

// ObserveDB exports the state of db's connection pool at every scrape:
// custos_db_connections_open, _in_use, _idle and _max_open (0: unlimited),
// custos_db_connection_waits_total and
// custos_db_connection_wait_seconds_total. Calling it again with another
// pool (bunstore's separate read and write pools on SQLite) adds that pool:
// the values are sums over the pools, and _max_open is 0 if any pool is
// unlimited. A nil *Metrics does nothing.
func (m *Metrics) ObserveDB(db *sql.DB) error {
	if m == nil {
		return nil
	}
	if db == nil {
		return errors.New("observe: nil db")
	}
	m.dbOnce.Do(func() {
		m.dbs = newDBCollector(m.ns)
		if err := m.reg.Register(m.dbs); err != nil {
			m.dbErr = fmt.Errorf("observe: register db metrics: %w", err)
		}
	})
	if m.dbErr != nil {
		return m.dbErr
	}
	m.dbs.add(db)
	return nil
}

type dbCollector struct {
	mu  sync.Mutex
	dbs []*sql.DB

	open, inUse, idle, maxOpen, waits, waitSeconds *prometheus.Desc
}

func newDBCollector(ns string) *dbCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(ns, "db", name), help, nil, nil)
	}
	return &dbCollector{
		open:        d("connections_open", "Open database connections, in use or idle."),
		inUse:       d("connections_in_use", "Database connections in use."),
		idle:        d("connections_idle", "Idle database connections."),
		maxOpen:     d("connections_max_open", "Most database connections the pools open; 0 means unlimited."),
		waits:       d("connection_waits_total", "Times a statement waited for a free database connection."),
		waitSeconds: d("connection_wait_seconds_total", "Time spent waiting for a free database connection."),
	}
}

func (c *dbCollector) add(db *sql.DB) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.dbs {
		if d == db {
			return
		}
	}
	c.dbs = append(c.dbs, db)
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.inUse, c.idle, c.maxOpen, c.waits, c.waitSeconds} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	dbs := c.dbs
	c.mu.Unlock()
	var sum sql.DBStats
	unlimited := false
	for _, db := range dbs {
		s := db.Stats()
		sum.OpenConnections += s.OpenConnections
		sum.InUse += s.InUse
		sum.Idle += s.Idle
		sum.MaxOpenConnections += s.MaxOpenConnections
		unlimited = unlimited || s.MaxOpenConnections == 0
		sum.WaitCount += s.WaitCount
		sum.WaitDuration += s.WaitDuration
	}
	if unlimited {
		sum.MaxOpenConnections = 0
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	gauge(c.open, float64(sum.OpenConnections))
	gauge(c.inUse, float64(sum.InUse))
	gauge(c.idle, float64(sum.Idle))
	gauge(c.maxOpen, float64(sum.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(sum.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, sum.WaitDuration.Seconds())
}
