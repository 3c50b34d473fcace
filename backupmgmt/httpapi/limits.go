package httpapi

import (
	"fmt"
	"net/http"

	"github.com/custos-dev/custos/security"
)

// limitClass picks a route's rate limit (DESIGN §7).
type limitClass int

const (
	// limitAPI is the general limit, per principal (admins have their own,
	// higher one); anonymous callers fall under limitAnonymous.
	limitAPI limitClass = iota
	// limitNone is for the health probes, which orchestrators call often.
	limitNone
	// limitAnonymous is for public routes, per client IP.
	limitAnonymous
	// limitLogin is per client IP here and per username in the handler.
	limitLogin
	// limitPassword is for password changes, per client IP.
	limitPassword
	// limitIngest is for recording executions, per API key (or user).
	limitIngest
	// limitPing is for the ping URLs, per ping token.
	limitPing
	// limitReports is for report generation, per principal.
	limitReports
	// limitImport is for imports and uploads, per principal.
	limitImport
)

// limiters holds one security.Limiter per limit of DESIGN §7.
type limiters struct {
	login, loginUser, password, api, apiAdmin, reports, imports, ingest, anonymous *security.Limiter
}

func newLimiters(c Config) (*limiters, error) {
	var l limiters
	for _, f := range []struct {
		name   string
		dst    **security.Limiter
		limits []security.Limit
	}{
		{"Login", &l.login, c.Limits.Login},
		{"Login", &l.loginUser, c.Limits.Login},
		{"PasswordChange", &l.password, c.Limits.PasswordChange},
		{"API", &l.api, c.Limits.API},
		{"APIAdmin", &l.apiAdmin, c.Limits.APIAdmin},
		{"Reports", &l.reports, c.Limits.Reports},
		{"Import", &l.imports, c.Limits.Import},
		{"Ingest", &l.ingest, c.Limits.Ingest},
		{"Anonymous", &l.anonymous, c.Limits.Anonymous},
	} {
		if len(f.limits) == 0 {
			continue // turned off
		}
		lim, err := security.NewLimiter(security.LimiterConfig{Limits: f.limits, Now: c.NowFunc})
		if err != nil {
			return nil, fmt.Errorf("httpapi: Limits.%s: %w", f.name, err)
		}
		*f.dst = lim
	}
	return &l, nil
}

// rateLimit applies the route's limit class before the permission check,
// so that a flood of unauthenticated requests is refused cheaply too.
func (a *API) rateLimit(rt *route, next http.Handler) http.Handler {
	if rt.limit == limitNone {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lim, key := a.limiterFor(rt, r)
		if lim != nil {
			d := lim.Allow(key)
			security.WriteRateHeaders(w, d)
			if !d.Allowed {
				a.errorWriter(w, r, http.StatusTooManyRequests, "rate_limited", "too many requests; retry after the time in Retry-After")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// limiterFor returns the limiter and key of a request; a nil limiter means
// the limit is turned off.
func (a *API) limiterFor(rt *route, r *http.Request) (*security.Limiter, string) {
	act := caller(r)
	ip := act.IP
	principalKey := "u:" + act.UserID
	if act.APIKeyID != "" {
		principalKey = "k:" + act.APIKeyID
	}
	anonymous := act.UserID == ""
	switch rt.limit {
	case limitLogin:
		return a.limits.login, ip
	case limitPassword:
		return a.limits.password, ip
	case limitPing:
		return a.limits.ingest, "p:" + r.PathValue("token")
	case limitAnonymous:
		return a.limits.anonymous, ip
	}
	if anonymous {
		return a.limits.anonymous, ip
	}
	switch rt.limit {
	case limitAPI:
	case limitIngest:
		return a.limits.ingest, principalKey
	case limitReports:
		return a.limits.reports, principalKey
	case limitImport:
		return a.limits.imports, principalKey
	}
	if isAdmin(r) {
		return a.limits.apiAdmin, principalKey
	}
	return a.limits.api, principalKey
}

// allowLoginUser applies the per-username login limit; false means the
// response has been written.
func (a *API) allowLoginUser(w http.ResponseWriter, r *http.Request, username string) bool {
	if a.limits.loginUser == nil {
		return true
	}
	d := a.limits.loginUser.Allow("n:" + foldUsername(username))
	if !d.Allowed {
		security.WriteRateHeaders(w, d)
		a.errorWriter(w, r, http.StatusTooManyRequests, "rate_limited", "too many sign-in attempts; retry after the time in Retry-After")
		return false
	}
	return true
}
