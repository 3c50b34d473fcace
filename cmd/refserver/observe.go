package main

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/custos-dev/custos/backupmgmt/httpapi"
	"github.com/custos-dev/custos/cache"
	"github.com/custos-dev/custos/observe"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
)

// newHTTPServer is an http.Server with every timeout set.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// decorate puts the query hook and the caches in front of s, as cfg asks,
// registers the store's gauges with metrics (nil: none), and returns the
// store the service uses with the function that closes it all.
func decorate(s *bunstore.Store, cfg serveConfig, metrics *observe.Metrics) (store.Store, func() error, error) {
	var st store.Store = s
	closeAll := s.Close
	if metrics != nil {
		hooked := s.WithQueryHook(metrics.QueryHook())
		st = hooked
		if err := metrics.ObserveDB(s.DB().DB); err != nil {
			return nil, nil, err
		}
		if r := s.ReadDB(); r != s.DB() {
			if err := metrics.ObserveDB(r.DB); err != nil {
				return nil, nil, err
			}
		}
	}
	if cfg.Cache {
		var opts []cache.Option
		for _, o := range []struct {
			d   time.Duration
			opt func(time.Duration) cache.Option
		}{
			{cfg.CacheTTL.Job, cache.WithJobTTL},
			{cfg.CacheTTL.Compliance, cache.WithComplianceTTL},
			{cfg.CacheTTL.Report, cache.WithReportTTL},
			{cfg.CacheTTL.Dashboard, cache.WithDashboardTTL},
		} {
			if o.d > 0 {
				opts = append(opts, o.opt(o.d))
			}
		}
		c := cache.New(st, opts...)
		st, closeAll = c, c.Close // closes the store under it too
		if metrics != nil {
			if err := metrics.ObserveCaches(func() []observe.CacheStat {
				stats := c.Stats()
				out := make([]observe.CacheStat, len(stats))
				for i, s := range stats {
					out[i] = observe.CacheStat{Cache: s.Name, Hits: s.Hits, Misses: s.Misses}
				}
				return out
			}); err != nil {
				_ = c.Close()
				return nil, nil, err
			}
		}
	}
	if metrics != nil {
		if err := metrics.ObserveStore(st, &observe.StoreOptions{}); err != nil {
			_ = closeAll()
			return nil, nil, err
		}
	}
	return st, closeAll, nil
}

// metricsHandler serves the registry, asking for token as a bearer token
// when one is set.
func metricsHandler(reg *prometheus.Registry, token string, log *slog.Logger) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		EnableOpenMetrics: true,
	})
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		observe.SetRoute(r.Context(), "/metrics")
		if token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="custos metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// limitsOf is the API's rate limits: the defaults, or none at all.
func limitsOf(cfg serveConfig) httpapi.Limits {
	if cfg.RateLimits {
		return httpapi.Limits{} // nil fields take the defaults
	}
	none := []security.Limit{}
	return httpapi.Limits{Login: none, PasswordChange: none, API: none, APIAdmin: none, Reports: none, Import: none, Ingest: none, Anonymous: none}
}
