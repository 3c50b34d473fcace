package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/backupmgmt/httpapi"
	"github.com/custos-dev/custos/backupmgmt/notify"
	"github.com/custos-dev/custos/backupmgmt/report"
	"github.com/custos-dev/custos/observe"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// http.Server limits. Requests to refserver are small; the write timeout
// leaves room for slow report downloads later.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 1 << 20
	// shutdownTimeout bounds how long in-flight requests may drain after
	// SIGINT or SIGTERM.
	shutdownTimeout = 15 * time.Second
)

// serveConfig is what serve needs, resolved from flags and environment.
type serveConfig struct {
	Addr     string
	DSN      string
	LogLevel slog.Level
	// BaseURL is the public URL ping URLs are built on; "" means from each
	// request.
	BaseURL        string
	TrustedProxies []netip.Prefix
	TrustedOrigins []string
	// TLSCert and TLSKey name the files of the certificate serve uses for
	// HTTPS; both empty for plain HTTP.
	TLSCert, TLSKey string
	// BehindTLS says a TLS proxy sits in front.
	BehindTLS bool
	// cert is the loaded TLSCert and TLSKey.
	cert *tls.Certificate
	// RateLimits applies the per-principal and per-IP limits of DESIGN §7;
	// off only behind a proxy that limits (and for load tests).
	RateLimits bool
	// Cache puts the read-through caches in front of the store.
	Cache bool
	// CacheTTL are the cache lifetimes by kind of data; zero keeps the
	// cache package's default.
	CacheTTL cacheTTLs
	// Metrics serves /metrics; MetricsAddr, when set, serves it there
	// instead of on Addr; MetricsToken, when set, is the bearer token it
	// asks for.
	Metrics      bool
	MetricsAddr  string
	MetricsToken string
	// MetricsJobHistograms keeps the job label on the run duration and
	// size histograms (about 2.4 KB of memory and two dozen series per job,
	// for the first observe.MaxJobHistogramsDefault jobs).
	MetricsJobHistograms bool
	// Location is the organisation's time zone.
	Location *time.Location
	// ReportFont is the TrueType font PDF reports embed; "" for none.
	ReportFont string
	// NotifyInterval is how often the outbox is drained.
	NotifyInterval time.Duration
}

// cacheTTLs are the --cache-*-ttl settings.
type cacheTTLs struct{ Job, Compliance, Report, Dashboard time.Duration }

// secure reports whether clients reach the server over TLS, its own or a
// proxy's: cookies are Secure and HSTS is sent.
func (c serveConfig) secure() bool { return c.BehindTLS || c.cert != nil }

// serveFlags returns the serve flag set and a function that resolves the
// configuration after parsing. Every error the function returns names the
// flag (and variable) at fault.
func serveFlags(getenv getenvFunc) (*flag.FlagSet, func() (serveConfig, error)) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "listen `address` host:port (env "+envAddr+", default "+addrDefault+")")
	dsn := dbFlag(fs, getenv)
	level := fs.String("log-level", "", "log `level`: debug, info, warn or error (env "+envLogLevel+", default "+logLevelDefault+")")
	baseURL := fs.String("base-url", "", "public `URL` of the server, for ping URLs (env "+envBaseURL+", default: from each request)")
	proxies := fs.String("trusted-proxies", "", "comma-separated `CIDRs` or IPs whose X-Forwarded-For is believed (env "+envTrustedProxies+", default none)")
	origins := fs.String("trusted-origins", "", "comma-separated extra `origins` (scheme://host[:port]) allowed to post with a session cookie (env "+envTrustedOrigins+")")
	cert := fs.String("tls-cert", "", "TLS certificate `file` (PEM); serve HTTPS, needs --tls-key (env "+envTLSCert+")")
	key := fs.String("tls-key", "", "TLS private key `file` (PEM), with --tls-cert (env "+envTLSKey+")")
	behind := fs.Bool("behind-tls", false, "a TLS proxy sits in front: Secure cookies and HSTS (env "+envBehindTLS+")")
	limitsOn := fs.Bool("rate-limits", true, "per-principal and per-IP rate limits; false only behind a proxy that limits (env "+envRateLimits+"); the account lockout stays")
	cacheOn := fs.Bool("cache", true, "read-through caches in front of the database (env "+envCache+")")
	ttlFlags := []struct{ name, env, what string }{
		{"cache-job-ttl", envCacheJobTTL, "job data (default 5m)"},
		{"cache-compliance-ttl", envCacheCompTTL, "compliance data (default 30m)"},
		{"cache-report-ttl", envCacheRepTTL, "report data (default 10m)"},
		{"cache-dashboard-ttl", envCacheDashTTL, "the dashboard summary (default 1m)"},
	}
	ttlValues := make([]*string, len(ttlFlags))
	for i, f := range ttlFlags {
		ttlValues[i] = fs.String(f.name, "", "how long "+f.what+" is cached: with several replicas, how stale a read may be (env "+f.env+")")
	}
	metricsOn := fs.Bool("metrics", true, "serve Prometheus metrics at /metrics (env "+envMetrics+")")
	jobHist := fs.Bool("metrics-job-histograms", true, "label the run duration and size histograms by job; false for very many jobs (env "+envMetricsJobHist+")")
	notifyEvery := fs.String("notify-interval", "", "how often the notification outbox is sent (env "+envNotifyInterval+", default 10s)")
	zone := zoneFlag(fs, getenv)
	font := fontFlag(fs, getenv)
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics on this `address` host:port instead of --addr (env "+envMetricsAddr+"); "+envMetricsToken+" makes it ask for a bearer token")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: refserver serve [--addr ADDR] [--db DSN] [--log-level LEVEL] [--base-url URL]
                       [--trusted-proxies CIDRS] [--trusted-origins ORIGINS]
                       [--tls-cert FILE --tls-key FILE] [--behind-tls]
                       [--rate-limits=false] [--cache=false] [--cache-*-ttl DURATION]
                       [--metrics=false] [--metrics-addr ADDR]
                       [--timezone ZONE] [--report-font FILE]

On first start, when the database has no user, serve creates the user admin
with the password in `+envAdminPassword+`, or with a generated one it prints
once on stdout.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, func() (serveConfig, error) {
		set := make(map[string]bool)
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		cfg := serveConfig{
			Addr:    cmp.Or(*addr, getenv(envAddr), addrDefault),
			DSN:     dsn(),
			BaseURL: cmp.Or(*baseURL, getenv(envBaseURL)),
			TLSCert: cmp.Or(*cert, getenv(envTLSCert)),
			TLSKey:  cmp.Or(*key, getenv(envTLSKey)),
		}
		if err := checkAddr(cfg.Addr); err != nil {
			return cfg, fmt.Errorf("--addr (%s) %q: %w", envAddr, cfg.Addr, err)
		}
		lv := cmp.Or(*level, getenv(envLogLevel), logLevelDefault)
		switch lv {
		case "debug", "info", "warn", "error":
		default:
			return cfg, fmt.Errorf("--log-level (%s): log level %q: want debug, info, warn or error", envLogLevel, lv)
		}
		if err := cfg.LogLevel.UnmarshalText([]byte(lv)); err != nil {
			return cfg, fmt.Errorf("--log-level (%s): %w", envLogLevel, err)
		}
		if cfg.BaseURL != "" {
			u, err := checkBaseURL(cfg.BaseURL)
			if err != nil {
				return cfg, fmt.Errorf("--base-url (%s) %q: %w", envBaseURL, cfg.BaseURL, err)
			}
			cfg.BaseURL = u
		}
		var err error
		if cfg.TrustedProxies, err = security.ParseTrustedProxies(cmp.Or(*proxies, getenv(envTrustedProxies))); err != nil {
			return cfg, fmt.Errorf("--trusted-proxies (%s): %w", envTrustedProxies, err)
		}
		if cfg.TrustedOrigins, err = parseOrigins(cmp.Or(*origins, getenv(envTrustedOrigins))); err != nil {
			return cfg, fmt.Errorf("--trusted-origins (%s): %w", envTrustedOrigins, err)
		}
		for _, b := range []struct {
			flag, env string
			val       bool
			dst       *bool
		}{
			{"behind-tls", envBehindTLS, *behind, &cfg.BehindTLS},
			{"rate-limits", envRateLimits, *limitsOn, &cfg.RateLimits},
			{"cache", envCache, *cacheOn, &cfg.Cache},
			{"metrics", envMetrics, *metricsOn, &cfg.Metrics},
			{"metrics-job-histograms", envMetricsJobHist, *jobHist, &cfg.MetricsJobHistograms},
		} {
			*b.dst = b.val
			if v := getenv(b.env); !set[b.flag] && v != "" {
				if *b.dst, err = strconv.ParseBool(v); err != nil {
					return cfg, fmt.Errorf("--%s (%s) %q: want true or false", b.flag, b.env, v)
				}
			}
		}
		ttlDst := []*time.Duration{&cfg.CacheTTL.Job, &cfg.CacheTTL.Compliance, &cfg.CacheTTL.Report, &cfg.CacheTTL.Dashboard}
		for i, f := range ttlFlags {
			v := cmp.Or(*ttlValues[i], getenv(f.env))
			if v == "" {
				continue
			}
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return cfg, fmt.Errorf("--%s (%s) %q: want a positive duration such as 30s or 5m", f.name, f.env, v)
			}
			*ttlDst[i] = d
		}
		cfg.MetricsAddr = cmp.Or(*metricsAddr, getenv(envMetricsAddr))
		if cfg.MetricsAddr != "" {
			if err := checkAddr(cfg.MetricsAddr); err != nil {
				return cfg, fmt.Errorf("--metrics-addr (%s) %q: %w", envMetricsAddr, cfg.MetricsAddr, err)
			}
			if !cfg.Metrics {
				return cfg, fmt.Errorf("--metrics-addr (%s) needs --metrics", envMetricsAddr)
			}
		}
		cfg.MetricsToken = getenv(envMetricsToken)
		cfg.NotifyInterval = notifyIntervalDefault
		if v := cmp.Or(*notifyEvery, getenv(envNotifyInterval)); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 100*time.Millisecond {
				return cfg, fmt.Errorf("--notify-interval (%s) %q: want a duration of at least 100ms such as 10s", envNotifyInterval, v)
			}
			cfg.NotifyInterval = d
		}
		if cfg.Location, err = zone(); err != nil {
			return cfg, err
		}
		if cfg.ReportFont, err = font(); err != nil {
			return cfg, err
		}
		switch {
		case cfg.TLSCert != "" && cfg.TLSKey == "":
			return cfg, fmt.Errorf("--tls-cert (%s) needs --tls-key (%s)", envTLSCert, envTLSKey)
		case cfg.TLSCert == "" && cfg.TLSKey != "":
			return cfg, fmt.Errorf("--tls-key (%s) needs --tls-cert (%s)", envTLSKey, envTLSCert)
		case cfg.TLSCert != "":
			c, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
			if err != nil {
				return cfg, fmt.Errorf("--tls-cert and --tls-key (%s, %s): %w", envTLSCert, envTLSKey, err)
			}
			cfg.cert = &c
		}
		return cfg, nil
	}
}

// notifyIntervalDefault is how often the outbox is looked at: an alert's
// message leaves within this much of the alert.
const notifyIntervalDefault = 10 * time.Second

// mailHostname names the server in SMTP's EHLO and in Message-IDs: the
// host of the public URL when there is one.
func mailHostname(baseURL string) string {
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return notify.HostnameDefault
}

// checkAddr accepts host:port with a numeric port; the host may be empty
// (every interface).
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return errors.New("the port must be a number from 0 to 65535")
	}
	return nil
}

// checkBaseURL accepts an absolute http or https URL without user
// information, query or fragment, and returns it without a trailing slash.
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("want an http:// or https:// URL")
	case u.Host == "":
		return "", errors.New("the URL has no host")
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", errors.New("the URL must not have user information, a query or a fragment")
	}
	return strings.TrimRight(raw, "/"), nil
}

// parseOrigins splits a comma-separated list of origins and checks each the
// way the cross-origin protection will.
func parseOrigins(list string) ([]string, error) {
	var out []string
	check := http.NewCrossOriginProtection()
	for o := range strings.SplitSeq(list, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if err := check.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("origin %q: want scheme://host[:port]", o)
		}
		out = append(out, o)
	}
	return out, nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, resolve := serveFlags(getenv)
	fs.SetOutput(stderr)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageErr(fs, "unexpected argument %q", fs.Arg(0))
	}
	cfg, err := resolve()
	if err != nil {
		return usageErr(fs, "%v", err)
	}
	log := observe.NewLogger(stderr, cfg.LogLevel)
	if err := serve(ctx, cfg, stdout, getenv, log); err != nil {
		log.Error("refserver stopped", "error", secretScrubber(cfg.DSN)(err.Error()))
		return exitFail
	}
	return exitOK
}

// serve opens and migrates the store, creates the first admin if there is
// no user, then serves the API and runs the background work until ctx is
// done and in-flight requests have drained.
func serve(ctx context.Context, cfg serveConfig, stdout io.Writer, getenv getenvFunc, log *slog.Logger) (err error) {
	reg := prometheus.NewRegistry()
	var metrics *observe.Metrics
	if cfg.Metrics {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		if metrics, err = observe.NewMetrics(reg, &observe.Options{DisablePerJob: !cfg.MetricsJobHistograms}); err != nil {
			return err
		}
	}

	log.Info("opening database", "db", dbopen.Redact(cfg.DSN))
	s, err := dbopen.OpenStore(ctx, cfg.DSN, nil)
	if err != nil {
		return err
	}
	st, closeStore, err := decorate(s, cfg, metrics)
	if err != nil {
		_ = s.Close()
		return err
	}
	defer func() {
		if cerr := closeStore(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()

	applied, err := migrateWaiting(ctx, s.DB(), log)
	if err != nil {
		return migrateErr(err)
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "versions", applied)
	} else {
		log.Info("database schema is up to date")
	}

	bcfg := &backupmgmt.Config{Logger: log, Location: cfg.Location}
	if metrics != nil {
		bcfg.Observer = metrics
	}
	svc, err := backupmgmt.New(st, bcfg)
	if err != nil {
		return err
	}
	if err := ensureAdmin(ctx, svc, getenv(envAdminPassword), stdout, log); err != nil {
		return err
	}
	reports, err := report.New(svc, &report.Options{FontPath: cfg.ReportFont})
	if err != nil {
		return err
	}
	dispatcher := notify.New(svc, &notify.Config{Logger: log, BaseURL: cfg.BaseURL, Hostname: mailHostname(cfg.BaseURL)})
	api, err := httpapi.New(svc, &httpapi.Config{
		ChannelTester:  dispatcher,
		Reports:        reports,
		Logger:         log,
		BaseURL:        cfg.BaseURL,
		TrustedProxies: cfg.TrustedProxies,
		TrustedOrigins: cfg.TrustedOrigins,
		BehindTLS:      cfg.secure(),
		Ready:          readyFunc(s),
		Limits:         limitsOf(cfg),
	})
	if err != nil {
		return err
	}

	root := http.NewServeMux()
	root.Handle("/", api)
	var metricsSrv *http.Server
	if cfg.Metrics {
		h := metricsHandler(reg, cfg.MetricsToken, log)
		if cfg.MetricsAddr == "" {
			root.Handle("GET /metrics", h)
		} else {
			mux := http.NewServeMux()
			mux.Handle("GET /metrics", h)
			metricsSrv = newHTTPServer(metrics.Middleware(mux), log)
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	var metricsLn net.Listener
	if metricsSrv != nil {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			_ = ln.Close()
			return err
		}
	}
	srv := newHTTPServer(metrics.Middleware(observe.AccessLog(log)(root)), log)
	if cfg.cert != nil {
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*cfg.cert}}
	}

	// The background work stops before the store closes (the deferred
	// Close above runs after this one).
	bgCtx, stopBackground := context.WithCancel(ctx)
	background := make(chan struct{})
	go func() {
		defer close(background)
		// The time-driven work runs in the replica holding the background
		// lock; the outbox is drained by every replica, each row claimed
		// by one. Both return nil when bgCtx ends.
		digest := func(ctx context.Context) error {
			_, err := reports.TickDigest(ctx)
			return err
		}
		var wg sync.WaitGroup
		wg.Go(func() { _ = dispatcher.Run(bgCtx, cfg.NotifyInterval) })
		wg.Go(func() { _ = svc.Run(bgCtx, backupmgmt.BackgroundIntervalDefault, digest) })
		wg.Wait()
	}()
	defer func() {
		stopBackground()
		<-background
		log.Info("background work stopped")
	}()

	served := make(chan error, 2)
	go func() {
		if cfg.cert != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	log.Info("listening", "addr", ln.Addr().String(), "tls", cfg.cert != nil)
	servers := []*http.Server{srv}
	if metricsSrv != nil {
		servers = append(servers, metricsSrv)
		go func() { served <- metricsSrv.Serve(metricsLn) }()
		log.Info("metrics listening", "addr", metricsLn.Addr().String())
	}

	var failed error
	select {
	case err := <-served:
		failed = fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, sv := range servers {
		if err := sv.Shutdown(sctx); err != nil {
			return errors.Join(failed, fmt.Errorf("shutdown: %w", err))
		}
	}
	if failed != nil {
		return failed
	}
	for range servers {
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
	}
	log.Info("stopped")
	return nil
}

// migrateLockWait is how long serve waits for another process to finish
// migrating: replicas that start together take turns instead of failing.
const migrateLockWait = 2 * time.Minute

// migrateWaiting migrates, waiting while another process holds the lock.
func migrateWaiting(ctx context.Context, db *bun.DB, log *slog.Logger) ([]string, error) {
	deadline := time.Now().Add(migrateLockWait)
	for {
		applied, err := bunstore.Migrate(ctx, db)
		if !errors.Is(err, bunstore.ErrLocked) || time.Now().After(deadline) {
			return applied, err
		}
		log.Info("another process is migrating the database; waiting")
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// migrateErr adds the way out to bunstore.ErrLocked.
func migrateErr(err error) error {
	if errors.Is(err, bunstore.ErrLocked) {
		return fmt.Errorf("%w; if no other process is migrating, a crashed one left the lock behind: run 'refserver migrate unlock' with the same database", err)
	}
	return err
}
