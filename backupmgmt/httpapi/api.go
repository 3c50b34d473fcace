package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/observe"
	"github.com/custos-dev/custos/security"
)

// Body limits (DESIGN §6).
const (
	// MaxBodyBytesDefault caps a request body.
	MaxBodyBytesDefault = 1 << 20
	// MaxBatchBodyBytesDefault caps a batch of executions (up to 1000 runs).
	MaxBatchBodyBytesDefault = 8 << 20
	// MaxPingBodyBytesDefault caps a ping's log body; the excerpt kept is
	// smaller, the rest is read and dropped so the sender never sees an error.
	MaxPingBodyBytesDefault = 1 << 20
)

// Config configures an API. The zero value serves with the defaults.
type Config struct {
	// Logger receives request failures (never secrets). Defaults to
	// discarding.
	Logger *slog.Logger
	// BaseURL is the server's public URL ("https://custos.example.com"),
	// used to build each job's ping_url. Defaults to the scheme and host of
	// the request.
	BaseURL string
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. Defaults to none.
	TrustedProxies []netip.Prefix
	// TrustedOrigins are extra origins allowed to make cookie-authenticated
	// unsafe requests, besides the server's own.
	TrustedOrigins []string
	// BehindTLS says the server is reached over TLS (its own or a proxy's):
	// cookies are Secure and Strict-Transport-Security is sent.
	BehindTLS bool
	// MaxBodyBytes caps a request body. Defaults to MaxBodyBytesDefault.
	MaxBodyBytes int64
	// MaxBatchBodyBytes caps a batch of executions. Defaults to
	// MaxBatchBodyBytesDefault.
	MaxBatchBodyBytes int64
	// Limits are the rate limits; a nil field takes the DESIGN §7 default.
	Limits Limits
	// Ready reports whether the server can take traffic (the database
	// answers, migrations are current), for /readyz. Defaults to always
	// ready.
	Ready func(ctx context.Context) error
	// NowFunc is the clock of the rate limiters. Defaults to the service's
	// clock.
	NowFunc func() time.Time
	// ResponseCacheTTL bounds how long the job list and the dashboard are
	// served from their encoded bytes when the service's store is a
	// read-through cache (cache.New); a write through that store is seen
	// at once regardless. Defaults to ResponseCacheTTLDefault; negative
	// turns it off.
	ResponseCacheTTL time.Duration
	// ChannelTester sends the test message of POST
	// /api/v1/channels/{id}/test (a notify.Dispatcher). Defaults to none:
	// the route answers 501 not_configured.
	ChannelTester ChannelTester
	// Reports generates the reports of POST /api/v1/reports (a
	// report.Generator). Defaults to none: the route answers 501
	// not_configured; stored reports are listed and served either way.
	Reports ReportGenerator
}

// Limits are the rate limits of DESIGN §7. A nil field means the default of
// the security package; an empty non-nil slice turns that limit off.
type Limits struct {
	Login, PasswordChange, API, APIAdmin, Reports, Import, Ingest, Anonymous []security.Limit
}

func (c *Config) withDefaults(svc *backupmgmt.Service) Config {
	var out Config
	if c != nil {
		out = *c
	}
	if out.Logger == nil {
		out.Logger = slog.New(slog.DiscardHandler)
	}
	out.MaxBodyBytes = cmp.Or(out.MaxBodyBytes, MaxBodyBytesDefault)
	out.MaxBatchBodyBytes = cmp.Or(out.MaxBatchBodyBytes, MaxBatchBodyBytesDefault)
	out.ResponseCacheTTL = cmp.Or(out.ResponseCacheTTL, ResponseCacheTTLDefault)
	if out.NowFunc == nil {
		out.NowFunc = svc.Now
	}
	l := &out.Limits
	for _, f := range []struct {
		v   *[]security.Limit
		def []security.Limit
	}{
		{&l.Login, security.LimitLogin},
		{&l.PasswordChange, security.LimitPasswordReset},
		{&l.API, security.LimitAPI},
		{&l.APIAdmin, security.LimitAPIAdmin},
		{&l.Reports, security.LimitReports},
		{&l.Import, security.LimitImport},
		{&l.Ingest, security.LimitIngest},
		{&l.Anonymous, security.LimitAnonymous},
	} {
		if *f.v == nil {
			*f.v = f.def
		}
	}
	return out
}

func (c *Config) validate() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("httpapi: BaseURL %q: want an absolute http or https URL", c.BaseURL)
		}
	}
	if c.MaxBodyBytes < 0 || c.MaxBatchBodyBytes < 0 {
		return errors.New("httpapi: MaxBodyBytes and MaxBatchBodyBytes must not be negative")
	}
	return nil
}

// API serves Custos's REST API (/api/v1), the ping URLs (/ping/...) and the
// health probes over a [backupmgmt.Service]. It is an http.Handler; an
// embedder mounts it at the root of its own mux or server.
type API struct {
	svc     *backupmgmt.Service
	cfg     Config
	log     *slog.Logger
	routes  []*route
	limits  *limiters
	memo    *respMemo
	handler http.Handler
}

// New returns the API of svc.
func New(svc *backupmgmt.Service, cfg *Config) (*API, error) {
	if svc == nil {
		return nil, errors.New("httpapi: nil Service")
	}
	c := cfg.withDefaults(svc)
	if err := c.validate(); err != nil {
		return nil, err
	}
	a := &API{svc: svc, cfg: c, log: c.Logger, memo: newRespMemo(svc.Store(), c.ResponseCacheTTL)}
	var err error
	if a.limits, err = newLimiters(c); err != nil {
		return nil, err
	}
	a.routes = a.routeTable()
	if err := a.checkRoutes(); err != nil {
		return nil, err
	}
	crossOrigin, err := security.CrossOrigin(c.TrustedOrigins, a.errorWriter)
	if err != nil {
		return nil, fmt.Errorf("httpapi: TrustedOrigins: %w", err)
	}
	mux := http.NewServeMux()
	for _, rt := range a.routes {
		mux.Handle(rt.method+" "+rt.path, a.chain(rt, crossOrigin))
	}
	mux.Handle("/", a.fallback(mux))
	a.handler = security.RequestID(security.Headers(c.BehindTLS)(a.recoverer(mux)))
	return a, nil
}

// ServeHTTP serves one request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// handlerFunc is what a route runs; a returned error is written in the
// envelope by writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one entry of the route table: what the server does, who may do
// it, and what the OpenAPI document says of it.
type route struct {
	method, path string
	// perm is the permission the caller needs. Only public routes have none.
	perm backupmgmt.Permission
	// public routes need no authentication: login, the probes, the OpenAPI
	// document, and the ping URLs (their token is the credential).
	public bool
	// anyCaller routes are open to every authenticated caller, whatever its
	// role or key scopes (who am I, sign out); perm documents the matrix row.
	anyCaller bool
	// resource names what a store.ErrNotFound means: "job" → job_not_found.
	resource string
	limit    limitClass
	summary  string
	tag      string
	// body is a value of the request body's type; nil when there is none.
	body any
	// bodyAlt is a second accepted body type (a JSON array for batches).
	bodyAlt any
	// resp is a value of the success body's type; nil for 204.
	resp any
	// respAlt is the body of a second success status (200 for a repeated
	// run, say); its status is statusAlt.
	respAlt   any
	status    int
	statusAlt int
	// rawResp names the non-JSON success media types ("text/csv", "text/plain";
	// several separated by ", " when the stored file decides);
	// with resp set too, the route also answers in JSON.
	rawResp string
	// rawBody describes a request body that is not JSON the route decodes
	// (a tool's report, read by its parser).
	rawBody string
	query   []queryParam
	// errors are statuses the route answers with beyond those its shape
	// implies (a 401 from a public login, say), for the OpenAPI document.
	errors  []int
	maxBody int64
	h       handlerFunc
}

// queryParam declares a query parameter; enum values are enforced.
type queryParam struct {
	name, typ, desc string
	enum            []string
	required        bool
}

type routeKey struct{}

func routeFrom(ctx context.Context) *route {
	rt, _ := ctx.Value(routeKey{}).(*route)
	return rt
}

// routeTable is every route the API serves, grouped by resource.
func (a *API) routeTable() []*route {
	var all []*route
	for _, group := range [][]*route{
		a.systemRoutes(),
		a.authRoutes(),
		a.userRoutes(),
		a.apiKeyRoutes(),
		a.settingsRoutes(),
		a.assetRoutes(),
		a.jobRoutes(),
		a.executionRoutes(),
		a.ingestRoutes(),
		a.complianceRoutes(),
		a.alertRoutes(),
		a.channelRoutes(),
		a.notificationRoutes(),
		a.reportRoutes(),
		a.mediaRoutes(),
		a.rotationRoutes(),
		a.verificationRoutes(),
		a.dashboardRoutes(),
		a.auditRoutes(),
		a.pingRoutes(),
	} {
		all = append(all, group...)
	}
	return all
}

// checkRoutes refuses a table in which a route has no permission without
// being public, or no documented success status: every route is decided,
// none by omission.
func (a *API) checkRoutes() error {
	seen := make(map[string]bool)
	for _, rt := range a.routes {
		key := rt.method + " " + rt.path
		switch {
		case seen[key]:
			return fmt.Errorf("httpapi: route %s registered twice", key)
		case rt.h == nil:
			return fmt.Errorf("httpapi: route %s has no handler", key)
		case !rt.public && !rt.perm.Valid():
			return fmt.Errorf("httpapi: route %s has no valid permission and is not public", key)
		case rt.anyCaller && rt.public:
			return fmt.Errorf("httpapi: route %s cannot be public and for any caller", key)
		case rt.public && rt.perm != "":
			return fmt.Errorf("httpapi: route %s is public but names a permission", key)
		case rt.status == 0:
			return fmt.Errorf("httpapi: route %s has no success status", key)
		case rt.summary == "":
			return fmt.Errorf("httpapi: route %s has no summary", key)
		}
		seen[key] = true
	}
	return nil
}

// chain is the middleware of one route, outermost first: cross-origin
// check, body cap, unknown query parameters, authentication, rate limit,
// permission, handler.
func (a *API) chain(rt *route, crossOrigin func(http.Handler) http.Handler) http.Handler {
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := rt.h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
	switch {
	case rt.anyCaller:
		h = a.requireCaller(h)
	case !rt.public:
		h = security.Require(string(rt.perm), a.errorWriter)(h)
	}
	h = a.rateLimit(rt, h)
	h = a.withActor(h)
	if !rt.public {
		h = security.Authenticate(authenticator{a.svc, a.log}, a.errorWriter)(h)
	}
	h = a.checkQuery(rt, h)
	maxBody := cmp.Or(rt.maxBody, a.cfg.MaxBodyBytes)
	h = security.MaxBody(maxBody)(h)
	h = crossOrigin(h)
	pattern := rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Metrics and access logs name the route by its pattern: a raw
		// path would hold IDs, and ping tokens.
		observe.SetRoute(r.Context(), pattern)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, rt)))
	})
}

// requireCaller lets any authenticated caller through: 401 otherwise.
func (a *API) requireCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := security.PrincipalFrom(r.Context()); !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="custos"`)
			a.errorWriter(w, r, http.StatusUnauthorized, "unauthenticated", "authentication required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkQuery refuses query parameters the route does not declare, so that a
// misspelt filter is an error rather than a silently unfiltered list.
func (a *API) checkQuery(rt *route, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p problems
		for name := range r.URL.Query() {
			if !slices.ContainsFunc(rt.query, func(q queryParam) bool { return q.name == name }) {
				p.fail(name, "unknown query parameter")
			}
		}
		for _, q := range rt.query {
			if q.required && r.URL.Query().Get(q.name) == "" {
				p.fail(q.name, "required")
			}
		}
		if err := p.err(); err != nil {
			a.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fallback answers what no route matches: 405 with Allow when the path
// exists for other methods, 404 otherwise, both in the envelope.
func (a *API) fallback(mux *http.ServeMux) http.Handler {
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range methods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			if slices.Contains(allow, http.MethodGet) {
				allow = append(allow, http.MethodHead)
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			a.errorWriter(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "method "+r.Method+" is not allowed here")
			return
		}
		a.errorWriter(w, r, http.StatusNotFound, "not_found", "no such endpoint")
	})
}

// recoverer turns a panic into a 500 in the envelope; the panic is logged.
func (a *API) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.log.ErrorContext(r.Context(), "handler panicked",
					slog.String("route", r.Pattern),
					slog.String("request_id", security.RequestIDFrom(r.Context())),
					slog.Any("panic", v))
				a.errorWriter(w, r, http.StatusInternalServerError, "internal", "internal error; the request ID is in the server log")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// writeJSON writes v with status. API responses are never cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if f, ok := v.(fastJSON); ok {
		bp := jsonBufs.Get().(*[]byte)
		if b, ok := f.appendJSON((*bp)[:0]); ok {
			b = append(b, '\n') // as json.Encoder ends a value
			writeBody(w, status, b)
			if cap(b) <= maxPooledJSON {
				*bp = b
				jsonBufs.Put(bp)
			}
			return
		}
		jsonBufs.Put(bp)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// jsonBufs holds the buffers of fastJSON responses; buffers over
// maxPooledJSON are left to the collector.
var jsonBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

const maxPooledJSON = 1 << 20

// noContent writes 204.
func noContent(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
