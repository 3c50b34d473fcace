package observe

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RouteUnmatched is the route label of a request whose handler never called
// SetRoute (a 404, or a handler outside the API): the raw path is never a
// label.
const RouteUnmatched = "unmatched"

// slot is the mutable per-request state the middleware puts in the request
// context: the API fills it as it routes and authenticates, and the
// middleware reads it when the handler returns.
type slot struct {
	mu    sync.Mutex
	route string
	user  string
}

type slotKey struct{}

func slotFrom(ctx context.Context) *slot {
	s, _ := ctx.Value(slotKey{}).(*slot)
	return s
}

// withSlot returns r with a slot in its context, reusing the one an outer
// middleware put there.
func withSlot(r *http.Request) (*http.Request, *slot) {
	if s := slotFrom(r.Context()); s != nil {
		return r, s
	}
	s := &slot{}
	return r.WithContext(context.WithValue(r.Context(), slotKey{}, s)), s
}

func (s *slot) get() (route, user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.route, s.user
}

// SetRoute names the route pattern of the request whose context ctx is (for
// example "GET /api/v1/jobs/{id}" or "/api/v1/jobs/{id}"), for the HTTP
// metrics and the access log. It does nothing when ctx did not pass through
// Middleware or AccessLog. Pass the pattern, never the path.
func SetRoute(ctx context.Context, pattern string) {
	if s := slotFrom(ctx); s != nil {
		s.mu.Lock()
		s.route = pattern
		s.mu.Unlock()
	}
}

// SetUser records the authenticated user of the request whose context ctx
// is, for the access log and the user_id of log lines written with ctx
// (NewLogger). It does nothing when ctx did not pass through Middleware or
// AccessLog. It is never a metric label.
func SetUser(ctx context.Context, userID string) {
	if s := slotFrom(ctx); s != nil {
		s.mu.Lock()
		s.user = userID
		s.mu.Unlock()
	}
}

// Middleware counts and times the requests next serves in
// custos_http_requests_total and custos_http_request_duration_seconds,
// labelled by method, the route pattern given to SetRoute (else
// RouteUnmatched) and status code. A nil *Metrics returns next unchanged.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return observed(next, func(r *http.Request, rw *responseWriter, status int, route, _ string, took time.Duration) {
		labels := []string{methodLabel(r.Method), route, strconv.Itoa(status)}
		m.httpRequests.WithLabelValues(labels...).Inc()
		m.httpDuration.WithLabelValues(labels...).Observe(took.Seconds())
	})
}

// observed serves next and then calls done with the status (500 for a
// handler that panicked before writing; the panic goes on untouched), the
// route given to SetRoute (else RouteUnmatched), the user given to SetUser
// and the time taken.
func observed(next http.Handler, done func(r *http.Request, rw *responseWriter, status int, route, user string, took time.Duration)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r, s := withSlot(r)
		rw := &responseWriter{ResponseWriter: w}
		returned := false
		defer func() {
			status := rw.statusCode()
			if !returned && !rw.wroteHeader {
				status = http.StatusInternalServerError
			}
			route, user := s.get()
			if route == "" {
				route = RouteUnmatched
			}
			done(r, rw, status, route, user, time.Since(start))
		}()
		next.ServeHTTP(rw, r)
		returned = true
	})
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// responseWriter records the status and the body bytes of a response. It
// keeps http.Flusher (for handlers that test for it) and Unwrap, through
// which http.ResponseController reaches everything else (Hijack, deadlines).
type responseWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	bytes       int64
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush implements http.Flusher; it does nothing when the underlying writer
// cannot flush.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode is the status the client got: 200 when the handler wrote
// nothing.
func (w *responseWriter) statusCode() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.status
}

var _ http.Flusher = (*responseWriter)(nil)
