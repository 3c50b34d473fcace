package security_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/custos-dev/custos/security"
)

type role string

func (r role) Allowed(permission string) bool {
	return r == "admin" || permission == "jobs.read"
}

type keys map[string]role

func (k keys) APIKey(_ context.Context, key string) (security.Principal, error) {
	if r, ok := k[key]; ok {
		return r, nil
	}
	return nil, security.ErrUnauthenticated
}

func (keys) Session(context.Context, string) (security.Principal, error) {
	return nil, security.ErrUnauthenticated
}

// A server chains the middleware explicitly: headers first, so that every
// answer carries them, then IDs, body limit, cross-origin protection,
// authentication, and per-route permissions.
func Example() {
	ew := security.DefaultErrorWriter
	crossOrigin, err := security.CrossOrigin(nil, ew)
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/jobs", security.Require("jobs.read", ew)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "[]")
	})))
	mux.Handle("DELETE /api/v1/jobs/{id}", security.Require("jobs.delete", ew)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	var h http.Handler = mux
	h = security.Authenticate(keys{"cst_viewer": "viewer", "cst_admin": "admin"}, ew)(h)
	h = crossOrigin(h)
	h = security.MaxBody(1 << 20)(h)
	h = security.RequestID(h)
	h = security.Headers(true)(h)

	for _, c := range []struct{ method, path, key string }{
		{"GET", "/api/v1/jobs", ""},
		{"GET", "/api/v1/jobs", "cst_viewer"},
		{"DELETE", "/api/v1/jobs/1", "cst_viewer"},
		{"DELETE", "/api/v1/jobs/1", "cst_admin"},
		{"GET", "/api/v1/jobs", "cst_unknown"},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		if c.key != "" {
			r.Header.Set("Authorization", "Bearer "+c.key)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(c.method, c.path, c.key, rec.Code, rec.Header().Get("X-Frame-Options"))
	}
	// Output:
	// GET /api/v1/jobs  401 DENY
	// GET /api/v1/jobs cst_viewer 200 DENY
	// DELETE /api/v1/jobs/1 cst_viewer 403 DENY
	// DELETE /api/v1/jobs/1 cst_admin 204 DENY
	// GET /api/v1/jobs cst_unknown 401 DENY
}

// Logins are limited per client IP with the DESIGN §7 default of 5 a
// minute; the sixth attempt is refused until a token has refilled.
func ExampleLimiter() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lim, err := security.NewLimiter(security.LimiterConfig{
		Limits: security.LimitLogin,
		Now:    func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	for range 5 {
		lim.Allow("198.51.100.7")
	}
	d := lim.Allow("198.51.100.7")
	fmt.Println(d.Allowed, d.Remaining, d.RetryAfter)

	now = now.Add(d.RetryAfter)
	d = lim.Allow("198.51.100.7")
	fmt.Println(d.Allowed, d.Remaining)
	// Output:
	// false 0 12s
	// true 0
}
