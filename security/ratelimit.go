package security

import (
	"cmp"
	"container/list"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is Events per Period: a token bucket of Events tokens refilled at
// Events/Period, so a client may spend a burst of Events at once and then
// one every Period/Events.
type Limit struct {
	Events int
	Period time.Duration
}

func (l Limit) validate(field string) error {
	switch {
	case l.Events <= 0:
		return fmt.Errorf("security: %s.Events must be > 0, got %d", field, l.Events)
	case l.Period <= 0:
		return fmt.Errorf("security: %s.Period must be > 0, got %s", field, l.Period)
	}
	return nil
}

func (l Limit) rate() float64 { return float64(l.Events) / l.Period.Seconds() }

// The DESIGN §7 defaults, one table for servers and docs. Treat them as
// read-only.
var (
	LimitLogin         = []Limit{{5, time.Minute}}                       // per IP and per username
	LimitPasswordReset = []Limit{{3, time.Hour}}                         // per IP
	LimitAPI           = []Limit{{60, time.Minute}}                      // per principal
	LimitAPIAdmin      = []Limit{{600, time.Minute}}                     // per admin principal
	LimitReports       = []Limit{{20, time.Hour}}                        // per principal
	LimitImport        = []Limit{{10, time.Hour}}                        // per principal
	LimitIngest        = []Limit{{6000, time.Minute}}                    // per key or ping token
	LimitAnonymous     = []Limit{{50, time.Hour}, {200, 24 * time.Hour}} // per IP
)

// MaxKeysDefault is the default of [LimiterConfig].MaxKeys.
const MaxKeysDefault = 100_000

// evictScan is how many of the least recently used keys are looked at for one
// whose buckets are full when the store is full and no key has been idle
// long enough to be evicted unseen.
const evictScan = 8

// LimiterConfig configures a [Limiter].
type LimiterConfig struct {
	// Limits apply to every key, and a request must pass all of them
	// ("50/hour and 200/day"). Required: at least one, each with Events > 0
	// and Period > 0.
	Limits []Limit
	// Global is an optional backstop shared by all keys together, so that
	// many keys at once cannot exceed it. Defaults to none (the zero Limit).
	Global Limit
	// MaxKeys bounds the number of keys held. Defaults to [MaxKeysDefault].
	MaxKeys int
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

func (c LimiterConfig) withDefaults() LimiterConfig {
	c.MaxKeys = cmp.Or(c.MaxKeys, MaxKeysDefault)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c LimiterConfig) validate() error {
	if len(c.Limits) == 0 {
		return errors.New("security: LimiterConfig.Limits is required")
	}
	for i, l := range c.Limits {
		if err := l.validate(fmt.Sprintf("LimiterConfig.Limits[%d]", i)); err != nil {
			return err
		}
	}
	if c.Global != (Limit{}) {
		if err := c.Global.validate("LimiterConfig.Global"); err != nil {
			return err
		}
	}
	if c.MaxKeys < 0 {
		return fmt.Errorf("security: LimiterConfig.MaxKeys must be >= 0, got %d", c.MaxKeys)
	}
	return nil
}

// Limiter rate-limits events per key (an IP, a username, a principal) with
// one token bucket per [Limit] for each key, and optionally a global bucket.
//
// The store is bounded by MaxKeys. A key is dropped only when dropping it
// loses nothing, that is when all its buckets are full again (a new key
// starts full): keys idle for the longest Period are swept lazily and by
// [Limiter.Sweep], and when the store is full the least recently used keys
// are checked for full buckets. A key still refilling is never dropped, so a
// flood of distinct keys cannot evict a limited key and hand it a fresh
// burst. When the store is full of such keys, new keys share one overflow
// set of buckets: together they are limited like a single key until room is
// freed.
//
// A Limiter is safe for concurrent use.
type Limiter struct {
	limits    []Limit
	global    *bucket // nil when there is no global limit
	maxKeys   int
	maxPeriod time.Duration
	now       func() time.Time

	mu       sync.Mutex
	keys     map[string]*list.Element // of *entry
	lru      list.List                // front is the most recently used
	overflow *entry
}

type entry struct {
	key     string
	lastUse time.Time
	buckets []bucket
}

type bucket struct {
	limit Limit
	rate  float64 // tokens per second
	lim   *rate.Limiter
}

func newBucket(l Limit) bucket {
	r := l.rate()
	return bucket{limit: l, rate: r, lim: rate.NewLimiter(rate.Limit(r), l.Events)}
}

// NewLimiter returns a Limiter for cfg.
func NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	l := &Limiter{
		limits:  append([]Limit(nil), cfg.Limits...),
		maxKeys: cfg.MaxKeys,
		now:     cfg.Now,
		keys:    make(map[string]*list.Element),
	}
	for _, lim := range l.limits {
		l.maxPeriod = max(l.maxPeriod, lim.Period)
	}
	now := l.now()
	if cfg.Global != (Limit{}) {
		g := newBucket(cfg.Global)
		l.global = &g
	}
	l.overflow = l.newEntry("", now)
	return l, nil
}

func (l *Limiter) newEntry(key string, now time.Time) *entry {
	e := &entry{key: key, lastUse: now, buckets: make([]bucket, len(l.limits))}
	for i, lim := range l.limits {
		e.buckets[i] = newBucket(lim)
	}
	return e
}

// Decision is the outcome of [Limiter.Allow].
type Decision struct {
	// Allowed reports whether the event may happen; if so, a token was taken
	// from every bucket.
	Allowed bool
	// Limit is the Events of the tightest bucket: the one with the fewest
	// tokens left.
	Limit int
	// Remaining is the number of whole tokens left in the tightest bucket
	// after this event (0 or more).
	Remaining int
	// Reset is the time until the tightest bucket is full again.
	Reset time.Duration
	// RetryAfter is, when !Allowed, the time until every bucket has a token
	// again; 0 when Allowed.
	RetryAfter time.Duration
}

// Allow reports whether an event for key may happen now. It takes a token
// from each of the key's buckets (and the global one) only if all of them
// have one, so a denied event costs nothing.
func (l *Limiter) Allow(key string) Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.sweep(now, 2) // amortised: keeps an idle store shrinking without Sweep
	e := l.entry(key, now)

	var d Decision
	d.Allowed = true
	var tokens [4]float64
	toks := tokens[:0]
	l.each(e, func(b *bucket) {
		t := b.lim.TokensAt(now)
		if t < 1 {
			d.Allowed = false
			d.RetryAfter = max(d.RetryAfter, durationFor(1-t, b.rate))
		}
		toks = append(toks, t)
	})
	// The tightest bucket has the fewest whole tokens left; of equals, the
	// one that takes longest to refill.
	i := 0
	l.each(e, func(b *bucket) {
		t := toks[i]
		i++
		if d.Allowed {
			// Cannot fail: the lock is held and TokensAt(now) >= 1.
			b.lim.AllowN(now, 1)
			t--
		}
		left := max(0, int(math.Floor(t)))
		reset := durationFor(float64(b.limit.Events)-t, b.rate)
		if d.Limit == 0 || left < d.Remaining || (left == d.Remaining && reset > d.Reset) {
			d.Limit, d.Remaining, d.Reset = b.limit.Events, left, reset
		}
	})
	e.lastUse = now
	return d
}

// each calls f for the key's buckets and then the global one.
func (l *Limiter) each(e *entry, f func(*bucket)) {
	for i := range e.buckets {
		f(&e.buckets[i])
	}
	if l.global != nil {
		f(l.global)
	}
}

// durationFor returns the time to gain tokens at r tokens per second,
// rounded to the nanosecond.
func durationFor(tokens, r float64) time.Duration {
	if tokens <= 0 {
		return 0
	}
	return time.Duration(math.Round(tokens / r * float64(time.Second)))
}

// entry returns the key's entry, creating it if there is room, or the shared
// overflow entry if there is none. Called with l.mu held.
func (l *Limiter) entry(key string, now time.Time) *entry {
	if el, ok := l.keys[key]; ok {
		l.lru.MoveToFront(el)
		return el.Value.(*entry)
	}
	if len(l.keys) >= l.maxKeys {
		l.sweep(now, -1)
	}
	if len(l.keys) >= l.maxKeys && !l.evictFull(now) {
		return l.overflow
	}
	e := l.newEntry(key, now)
	l.keys[key] = l.lru.PushFront(e)
	return e
}

// sweep drops up to n (all if n < 0) keys unused for at least the longest
// Period, from the least recently used end: their buckets have certainly
// refilled. Called with l.mu held.
func (l *Limiter) sweep(now time.Time, n int) int {
	dropped := 0
	for el := l.lru.Back(); el != nil && dropped != n; el = l.lru.Back() {
		e := el.Value.(*entry)
		if now.Sub(e.lastUse) < l.maxPeriod {
			break
		}
		l.drop(el)
		dropped++
	}
	return dropped
}

// evictFull drops one of the least recently used keys whose buckets are all
// full, if there is one among the last evictScan. Called with l.mu held.
func (l *Limiter) evictFull(now time.Time) bool {
	el := l.lru.Back()
	for range evictScan {
		if el == nil {
			return false
		}
		if l.full(el.Value.(*entry), now) {
			l.drop(el)
			return true
		}
		el = el.Prev()
	}
	return false
}

func (l *Limiter) full(e *entry, now time.Time) bool {
	for i := range e.buckets {
		if e.buckets[i].lim.TokensAt(now) < float64(e.buckets[i].limit.Events) {
			return false
		}
	}
	return true
}

func (l *Limiter) drop(el *list.Element) {
	delete(l.keys, el.Value.(*entry).key)
	l.lru.Remove(el)
}

// Sweep drops the keys unused for at least the longest Period and returns
// how many it dropped. Allow sweeps lazily too; a server may also call Sweep
// on a timer to return memory sooner.
func (l *Limiter) Sweep() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sweep(l.now(), -1)
}

// Len returns the number of keys held, not counting the overflow buckets.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// WriteRateHeaders sets X-RateLimit-Limit, X-RateLimit-Remaining and
// X-RateLimit-Reset (whole seconds, rounded up) from d and, when d is a
// denial, Retry-After (whole seconds, rounded up, at least 1).
func WriteRateHeaders(w http.ResponseWriter, d Decision) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(ceilSeconds(d.Reset), 10))
	if !d.Allowed {
		h.Set("Retry-After", strconv.FormatInt(max(1, ceilSeconds(d.RetryAfter)), 10))
	}
}

func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// RateLimit returns middleware that limits requests with l. key returns the
// request's key and whether to limit it at all (false lets it through
// untouched). Limited requests get the rate headers ([WriteRateHeaders])
// and 429 with code "rate_limited" through ew; allowed ones get the
// X-RateLimit-* headers and go on to next.
func RateLimit(l *Limiter, key func(*http.Request) (string, bool), ew ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, ok := key(r)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			d := l.Allow(k)
			WriteRateHeaders(w, d)
			if !d.Allowed {
				ew(w, r, http.StatusTooManyRequests, "rate_limited", "too many requests; retry later")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
