package security

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type limiterBundle struct {
	clock *testClock
	lim   *Limiter
}

func setupLimiter(t *testing.T, cfg LimiterConfig) limiterBundle {
	t.Helper()
	clock := newTestClock()
	cfg.Now = clock.Now
	lim, err := NewLimiter(cfg)
	require.NoError(t, err)
	return limiterBundle{clock: clock, lim: lim}
}

// allowN calls Allow n times and returns how many were allowed.
func allowN(l *Limiter, key string, n int) int {
	allowed := 0
	for range n {
		if l.Allow(key).Allowed {
			allowed++
		}
	}
	return allowed
}

func TestNewLimiter(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		cfg  LimiterConfig
		want string
	}{
		{"NoLimits", LimiterConfig{}, "LimiterConfig.Limits is required"},
		{"ZeroEvents", LimiterConfig{Limits: []Limit{{5, time.Minute}, {0, time.Hour}}}, "LimiterConfig.Limits[1].Events"},
		{"ZeroPeriod", LimiterConfig{Limits: []Limit{{5, 0}}}, "LimiterConfig.Limits[0].Period"},
		{"HalfAGlobal", LimiterConfig{Limits: LimitLogin, Global: Limit{Events: 10}}, "LimiterConfig.Global.Period"},
		{"NegativeMaxKeys", LimiterConfig{Limits: LimitLogin, MaxKeys: -1}, "LimiterConfig.MaxKeys"},
	}
	for _, tt := range tests {
		t.Run("Rejects"+tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewLimiter(tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}

	t.Run("AcceptsEveryDefaultTable", func(t *testing.T) {
		t.Parallel()
		for _, limits := range [][]Limit{LimitLogin, LimitPasswordReset, LimitAPI, LimitAPIAdmin, LimitReports, LimitImport, LimitIngest, LimitAnonymous} {
			_, err := NewLimiter(LimiterConfig{Limits: limits})
			require.NoError(t, err)
		}
	})
}

func TestLimiter(t *testing.T) {
	t.Parallel()

	t.Run("DeniesOnceTheBurstIsSpent", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin})
		for i := range 5 {
			d := b.lim.Allow("198.51.100.1")
			require.True(t, d.Allowed, "attempt %d", i+1)
			require.Equal(t, 4-i, d.Remaining)
		}
		d := b.lim.Allow("198.51.100.1")
		require.Equal(t, Decision{Allowed: false, Limit: 5, Remaining: 0, Reset: time.Minute, RetryAfter: 12 * time.Second}, d)
	})

	t.Run("ADeniedAttemptCostsNothing", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin})
		require.Equal(t, 5, allowN(b.lim, "k", 5))
		require.Equal(t, 0, allowN(b.lim, "k", 100))
		b.clock.Advance(12 * time.Second)
		require.Equal(t, 1, allowN(b.lim, "k", 2), "100 denied attempts did not push the refill back")
	})

	t.Run("RefillsWithTime", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin})
		require.Equal(t, 5, allowN(b.lim, "k", 6))
		b.clock.Advance(12*time.Second - time.Millisecond)
		require.False(t, b.lim.Allow("k").Allowed, "a token takes 12s")
		b.clock.Advance(time.Millisecond)
		d := b.lim.Allow("k")
		require.True(t, d.Allowed)
		require.Equal(t, 0, d.Remaining)
		b.clock.Advance(time.Minute)
		require.Equal(t, 5, allowN(b.lim, "k", 6), "a full minute refills the whole burst and no more")
	})

	t.Run("RetryAfterIsWhenTheNextRequestSucceeds", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: []Limit{{7, time.Hour}}})
		require.Equal(t, 7, allowN(b.lim, "k", 7))
		b.clock.Advance(100 * time.Second)
		d := b.lim.Allow("k")
		require.False(t, d.Allowed)
		require.Equal(t, (time.Hour/7 - 100*time.Second).Round(time.Millisecond), d.RetryAfter.Round(time.Millisecond))
		b.clock.Advance(d.RetryAfter)
		require.True(t, b.lim.Allow("k").Allowed)
	})

	t.Run("EnforcesBothAnonymousLimits", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitAnonymous})
		d := b.lim.Allow("ip")
		require.Equal(t, 50, d.Limit, "the hourly bucket is the tighter one at first")
		require.Equal(t, 49, d.Remaining)

		// 50 an hour: the daily bucket (200, refilling 200/24 an hour)
		// runs low after a few hours.
		require.Equal(t, 49, allowN(b.lim, "ip", 60))
		want := []int{50, 50, 50, 33}
		for hour, n := range want {
			b.clock.Advance(time.Hour)
			require.Equal(t, n, allowN(b.lim, "ip", 60), "hour %d", hour+1)
		}
		d = b.lim.Allow("ip")
		require.False(t, d.Allowed)
		require.Equal(t, 200, d.Limit, "the daily bucket denies while the hourly one has tokens")
		require.Equal(t, 0, d.Remaining)
		// 1/3 of a token left; 2/3 of a token at 200/day takes 288s.
		require.Equal(t, 288*time.Second, d.RetryAfter.Round(time.Millisecond))
	})

	t.Run("KeepsKeysApart", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin})
		require.Equal(t, 5, allowN(b.lim, "alice", 10))
		d := b.lim.Allow("bob")
		require.True(t, d.Allowed)
		require.Equal(t, 4, d.Remaining)
		require.False(t, b.lim.Allow("alice").Allowed)
		require.Equal(t, 2, b.lim.Len())
	})

	t.Run("AppliesTheGlobalBackstopAcrossKeys", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin, Global: Limit{3, time.Minute}})
		for i, key := range []string{"a", "b", "c"} {
			require.True(t, b.lim.Allow(key).Allowed, "request %d", i+1)
		}
		d := b.lim.Allow("d")
		require.False(t, d.Allowed, "a fresh key is denied once the global bucket is empty")
		require.Equal(t, Decision{Allowed: false, Limit: 3, Remaining: 0, Reset: time.Minute, RetryAfter: 20 * time.Second}, d)
		b.clock.Advance(20 * time.Second)
		require.True(t, b.lim.Allow("d").Allowed)
		d = b.lim.Allow("a")
		require.False(t, d.Allowed, "key a still has 4 tokens, the global bucket has none")
	})

	t.Run("BoundsTheNumberOfKeys", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin, MaxKeys: 100})
		for i := range 10_000 {
			b.lim.Allow(strconv.Itoa(i))
			require.LessOrEqual(t, b.lim.Len(), 100)
			if i%100 == 0 {
				b.clock.Advance(time.Second)
			}
		}
		require.Equal(t, 100, b.lim.Len())
	})

	t.Run("NeverDropsAKeyThatIsStillLimited", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin, MaxKeys: 10})
		require.Equal(t, 5, allowN(b.lim, "victim", 5))
		// An attacker floods the store with many usernames, hoping to
		// evict the victim's bucket and get five fresh guesses.
		for i := range 5_000 {
			b.lim.Allow(fmt.Sprintf("flood-%d", i))
			if i%500 == 0 {
				b.clock.Advance(time.Second)
			}
		}
		require.LessOrEqual(t, b.lim.Len(), 10)
		d := b.lim.Allow("victim")
		require.False(t, d.Allowed, "the victim's bucket survived the flood")
		require.Equal(t, 2*time.Second, d.RetryAfter, "10s of the 12s refill have passed")
	})

	t.Run("KeysBeyondTheBoundShareOneLimit", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin, MaxKeys: 2})
		allowN(b.lim, "a", 1)
		allowN(b.lim, "b", 1)
		allowed := 0
		for i := range 100 {
			if b.lim.Allow(fmt.Sprintf("new-%d", i)).Allowed {
				allowed++
			}
		}
		require.Equal(t, 5, allowed, "the overflow keys together get one burst")
		require.Equal(t, 2, b.lim.Len())
	})

	t.Run("GivesAFullKeysPlaceToANewKey", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin, MaxKeys: 2})
		allowN(b.lim, "a", 5)
		allowN(b.lim, "b", 1)
		b.clock.Advance(12 * time.Second) // b is full again, a is not
		d := b.lim.Allow("c")
		require.True(t, d.Allowed)
		require.Equal(t, 4, d.Remaining, "c has a bucket of its own")
		require.Equal(t, 2, b.lim.Len())
		require.False(t, allowN(b.lim, "a", 2) == 2, "a kept its state")
		d = b.lim.Allow("b")
		require.Equal(t, 4, d.Remaining, "b was dropped while full, so it starts full: nothing lost")
	})

	t.Run("SweepsIdleKeysOnlyOnceTheyAreFull", func(t *testing.T) {
		t.Parallel()
		b := setupLimiter(t, LimiterConfig{Limits: LimitAnonymous})
		allowN(b.lim, "a", 1)
		b.clock.Advance(23 * time.Hour)
		allowN(b.lim, "b", 1)
		require.Equal(t, 0, b.lim.Sweep(), "a has not been idle for a day")
		b.clock.Advance(time.Hour)
		require.Equal(t, 1, b.lim.Sweep())
		require.Equal(t, 1, b.lim.Len())
		b.clock.Advance(24 * time.Hour)
		b.lim.Allow("c") // sweeps lazily
		require.Equal(t, 1, b.lim.Len())
	})

	t.Run("IsSafeForConcurrentUse", func(t *testing.T) {
		t.Parallel()
		hammer := func(l *Limiter, key func(g, i int) string) int64 {
			var allowed atomic.Int64
			var wg sync.WaitGroup
			for g := range 16 {
				wg.Go(func() {
					for i := range 200 {
						if l.Allow(key(g, i)).Allowed {
							allowed.Add(1)
						}
						_ = l.Len()
					}
				})
			}
			wg.Wait()
			return allowed.Load()
		}

		b := setupLimiter(t, LimiterConfig{Limits: []Limit{{100, time.Hour}}})
		require.EqualValues(t, 100, hammer(b.lim, func(int, int) string { return "shared" }), "exactly one burst for one key")

		b = setupLimiter(t, LimiterConfig{Limits: []Limit{{5, time.Hour}}, Global: Limit{1000, time.Hour}})
		require.EqualValues(t, 1000, hammer(b.lim, func(g, i int) string { return fmt.Sprintf("g%d-%d", g, i%40) }),
			"640 keys may have 3200 events, the global backstop allows 1000")

		b = setupLimiter(t, LimiterConfig{Limits: []Limit{{5, time.Hour}}, MaxKeys: 8})
		require.EqualValues(t, 8+5, hammer(b.lim, func(g, i int) string { return fmt.Sprintf("g%d-%d", g, i) }),
			"3200 distinct keys: the first 8 get a bucket each and one event, the rest share the overflow burst")
		require.Equal(t, 8, b.lim.Len())
	})
}

func TestWriteRateHeaders(t *testing.T) {
	t.Parallel()

	t.Run("WritesAllowedHeaders", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		WriteRateHeaders(rec, Decision{Allowed: true, Limit: 60, Remaining: 59, Reset: 1500 * time.Millisecond})
		require.Equal(t, "60", rec.Header().Get("X-RateLimit-Limit"))
		require.Equal(t, "59", rec.Header().Get("X-RateLimit-Remaining"))
		require.Equal(t, "2", rec.Header().Get("X-RateLimit-Reset"))
		require.Empty(t, rec.Header().Values("Retry-After"))
	})

	t.Run("RoundsRetryAfterUpToAtLeastOneSecond", func(t *testing.T) {
		t.Parallel()
		for retry, want := range map[time.Duration]string{
			time.Millisecond:                     "1",
			0:                                    "1",
			time.Second:                          "1",
			time.Second + time.Nanosecond:        "2",
			12 * time.Second:                     "12",
			288*time.Second + 3*time.Microsecond: "289",
		} {
			rec := httptest.NewRecorder()
			WriteRateHeaders(rec, Decision{Limit: 5, Reset: time.Minute, RetryAfter: retry})
			require.Equal(t, want, rec.Header().Get("Retry-After"), "RetryAfter %s", retry)
			require.Equal(t, "60", rec.Header().Get("X-RateLimit-Reset"))
			require.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining"))
		}
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()

	setup := func(t *testing.T) http.Handler {
		b := setupLimiter(t, LimiterConfig{Limits: LimitLogin})
		key := func(r *http.Request) (string, bool) {
			if r.Method != http.MethodPost {
				return "", false
			}
			return ClientIP(r, nil), true
		}
		return RequestID(RateLimit(b.lim, key, DefaultErrorWriter)(okHandler))
	}

	t.Run("AllowedRequestsCarryTheHeaders", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		rec := serve(h, httptest.NewRequest(http.MethodPost, "/login", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "5", rec.Header().Get("X-RateLimit-Limit"))
		require.Equal(t, "4", rec.Header().Get("X-RateLimit-Remaining"))
		require.Equal(t, "12", rec.Header().Get("X-RateLimit-Reset"))
		require.Empty(t, rec.Header().Values("Retry-After"))
	})

	t.Run("TheSixthLoginGets429", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		for range 5 {
			require.Equal(t, http.StatusOK, serve(h, httptest.NewRequest(http.MethodPost, "/login", nil)).Code)
		}
		rec := serve(h, httptest.NewRequest(http.MethodPost, "/login", nil))
		require.Equal(t, http.StatusTooManyRequests, rec.Code)
		require.Equal(t, "rate_limited", decodeError(t, rec).Error.Code)
		require.Equal(t, "5", rec.Header().Get("X-RateLimit-Limit"))
		require.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining"))
		require.Equal(t, "60", rec.Header().Get("X-RateLimit-Reset"))
		require.Equal(t, "12", rec.Header().Get("Retry-After"))

		other := httptest.NewRequest(http.MethodPost, "/login", nil)
		other.RemoteAddr = "198.51.100.2:1234"
		require.Equal(t, http.StatusOK, serve(h, other).Code, "another IP is not limited")
	})

	t.Run("RequestsTheKeyFuncSkipsAreNotLimited", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		for range 10 {
			rec := serve(h, httptest.NewRequest(http.MethodGet, "/login", nil))
			require.Equal(t, http.StatusOK, rec.Code)
			require.Empty(t, rec.Header().Values("X-RateLimit-Limit"))
		}
	})
}

func BenchmarkLimiterAllow(b *testing.B) {
	lim, err := NewLimiter(LimiterConfig{Limits: LimitAnonymous})
	require.NoError(b, err)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		i := n.Add(1) << 20
		for pb.Next() {
			lim.Allow(strconv.FormatInt(i%1024, 10))
			i++
		}
	})
}
