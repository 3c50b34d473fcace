package httpapi

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// requireSecurityHeaders checks the DESIGN §7 header set.
func requireSecurityHeaders(t testing.TB, res *resp, hsts bool, what string) {
	t.Helper()
	h := res.Header
	require.Equal(t, security.ContentSecurityPolicy, h.Get("Content-Security-Policy"), what)
	require.Equal(t, "DENY", h.Get("X-Frame-Options"), what)
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), what)
	require.Equal(t, "strict-origin-when-cross-origin", h.Get("Referrer-Policy"), what)
	require.Equal(t, security.PermissionsPolicy, h.Get("Permissions-Policy"), what)
	require.Equal(t, "same-origin", h.Get("Cross-Origin-Opener-Policy"), what)
	require.NotEmpty(t, h.Get("X-Request-ID"), what)
	if hsts {
		require.Equal(t, security.StrictTransportSecurity, h.Get("Strict-Transport-Security"), what)
	} else {
		require.Empty(t, h.Get("Strict-Transport-Security"), what)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()

	t.Run("OnEveryRouteErrorAndFallback", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		viewer := asSession(b.session(t, b.user(t, "viewer", store.RoleViewer)))
		for _, rt := range b.api.routes {
			for _, c := range []cred{anonymous, viewer} {
				var body any
				if rt.body != nil {
					body = "{"
				}
				res := b.do(t, c, rt.method, matrixPath(rt.path), body)
				requireSecurityHeaders(t, res, false, rt.method+" "+rt.path)
			}
		}
		requireSecurityHeaders(t, b.do(t, anonymous, "GET", "/no/such/page", nil), false, "404")
		requireSecurityHeaders(t, b.do(t, anonymous, "PUT", "/healthz", nil), false, "405")
	})

	t.Run("HSTSOnlyBehindTLS", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{BehindTLS: true})
		requireSecurityHeaders(t, b.do(t, anonymous, "GET", "/healthz", nil), true, "healthz")
		requireSecurityHeaders(t, b.do(t, anonymous, "GET", "/api/v1/jobs", nil), true, "401")
	})

	t.Run("IncomingRequestIDIsNotTrusted", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		req := b.newRequest(t, "GET", "/api/v1/jobs", nil)
		req.Header.Set("X-Request-ID", "forged")
		res := b.doReq(t, anonymous, req)
		require.NotEqual(t, "forged", res.Header.Get("X-Request-ID"))
		require.Equal(t, res.Header.Get("X-Request-ID"), res.errBody(t).RequestID)
	})
}

func TestCrossOriginProtection(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	session := b.session(t, b.admin)
	key := b.key(t, b.admin, "", store.ScopeWrite, store.ScopeRead)
	job := map[string]any{
		"name": "nightly", "job_type": "file", "tool": "restic",
		"schedule": map[string]any{"kind": "interval", "interval_seconds": 3600}, "grace_seconds": 600,
	}
	crossSite := func(c cred, name string) *resp {
		j := map[string]any{}
		for k, v := range job {
			j[k] = v
		}
		j["name"] = name
		req := b.newRequest(t, "POST", "/api/v1/jobs", j)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		return b.doReq(t, c, req)
	}

	res := crossSite(asSession(session), "from-evil")
	require.Equal(t, http.StatusForbidden, res.Code, "%s", res.Body)
	require.Equal(t, "cross_origin", res.errBody(t).Code)
	list := b.do(t, asSession(session), "GET", "/api/v1/jobs", nil)
	require.Equal(t, http.StatusOK, list.Code)
	require.NotContains(t, string(list.Body), "from-evil", "the refused request must not have created the job")

	res = crossSite(asKey(key), "from-script")
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)

	// The same cookie request from the server's own origin passes.
	j := map[string]any{}
	for k, v := range job {
		j[k] = v
	}
	j["name"] = "same-origin"
	req := b.newRequest(t, "POST", "/api/v1/jobs", j)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res = b.doReq(t, asSession(session), req)
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
}

// requireLimited checks a 429 and its headers.
func requireLimited(t testing.TB, res *resp, limit int) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, res.Code, "%s", res.Body)
	require.Equal(t, "rate_limited", res.errBody(t).Code)
	require.Equal(t, strconv.Itoa(limit), res.Header.Get("X-RateLimit-Limit"))
	require.Equal(t, "0", res.Header.Get("X-RateLimit-Remaining"))
	ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, ra)
	require.NotEmpty(t, res.Header.Get("X-RateLimit-Reset"))
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	two := []security.Limit{{Events: 2, Period: time.Minute}}
	off := []security.Limit{}

	t.Run("LoginPerIPThenRefills", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Limits: Limits{Login: two, Anonymous: off}})
		login := func(user string) *resp {
			return b.do(t, anonymous, "POST", "/api/v1/auth/login", map[string]string{"username": user, "password": "wrong password here"})
		}
		require.Equal(t, http.StatusUnauthorized, login("a").Code)
		res := login("b")
		require.Equal(t, http.StatusUnauthorized, res.Code)
		require.Equal(t, "0", res.Header.Get("X-RateLimit-Remaining"))
		requireLimited(t, login("c"), 2)
		b.clock.Advance(31 * time.Second) // one token back at 2 per minute
		require.Equal(t, http.StatusUnauthorized, login("d").Code)
	})

	t.Run("LoginPerUsernameAcrossIPs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Limits: Limits{Login: two, Anonymous: off}})
		for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests} {
			req := b.newRequest(t, "POST", "/api/v1/auth/login", map[string]string{"username": "Root", "password": "wrong password here"})
			req.RemoteAddr = "192.0.2." + strconv.Itoa(10+i) + ":4000"
			res := b.doReq(t, anonymous, req)
			require.Equal(t, want, res.Code, "attempt %d: %s", i+1, res.Body)
		}
	})

	t.Run("APIPerPrincipalWithAdminsApart", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Limits: Limits{API: two, APIAdmin: []security.Limit{{Events: 3, Period: time.Minute}}}})
		viewer := asSession(b.session(t, b.user(t, "viewer", store.RoleViewer)))
		other := asSession(b.session(t, b.user(t, "other", store.RoleViewer)))
		admin := asSession(b.session(t, b.admin))
		for range 2 {
			require.Equal(t, http.StatusOK, b.do(t, viewer, "GET", "/api/v1/jobs", nil).Code)
		}
		requireLimited(t, b.do(t, viewer, "GET", "/api/v1/jobs", nil), 2)
		require.Equal(t, http.StatusOK, b.do(t, other, "GET", "/api/v1/jobs", nil).Code, "another user has their own budget")
		for range 3 {
			require.Equal(t, http.StatusOK, b.do(t, admin, "GET", "/api/v1/jobs", nil).Code)
		}
		requireLimited(t, b.do(t, admin, "GET", "/api/v1/jobs", nil), 3)
	})

	t.Run("IngestPerKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Limits: Limits{Ingest: two}})
		job := b.createJob(t, "nightly")
		k1 := asKey(b.key(t, b.admin, "", store.ScopeIngest))
		k2 := asKey(b.key(t, b.admin, "", store.ScopeIngest))
		run := func(c cred, id string) *resp {
			return b.do(t, c, "POST", "/api/v1/executions", map[string]any{
				"job_id": job, "run_id": id, "status": "success",
				"started_at": testStart.Add(-time.Hour).Format(time.RFC3339), "finished_at": testStart.Format(time.RFC3339),
			})
		}
		require.Equal(t, http.StatusCreated, run(k1, "r1").Code)
		require.Equal(t, http.StatusCreated, run(k1, "r2").Code)
		requireLimited(t, run(k1, "r3"), 2)
		require.Equal(t, http.StatusCreated, run(k2, "r3").Code, "another key has its own budget")
	})

	t.Run("PingPerToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Limits: Limits{Ingest: two}})
		token := b.pingToken(t, b.createJob(t, "nightly"))
		require.Equal(t, http.StatusOK, b.do(t, anonymous, "POST", "/ping/"+token+"/start", nil).Code)
		require.Equal(t, http.StatusOK, b.do(t, anonymous, "POST", "/ping/"+token, nil).Code)
		res := b.do(t, anonymous, "POST", "/ping/"+token, nil)
		require.Equal(t, http.StatusTooManyRequests, res.Code)
		require.NotEmpty(t, res.Header.Get("Retry-After"))
	})

	t.Run("AnonymousPerIPHourlyAndDaily", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Limits: Limits{Anonymous: []security.Limit{{Events: 2, Period: time.Hour}, {Events: 3, Period: 24 * time.Hour}}}})
		get := func() *resp { return b.do(t, anonymous, "GET", "/api/v1/jobs", nil) }
		require.Equal(t, http.StatusUnauthorized, get().Code)
		require.Equal(t, http.StatusUnauthorized, get().Code)
		requireLimited(t, get(), 2)
		b.clock.Advance(time.Hour)
		require.Equal(t, http.StatusUnauthorized, get().Code, "the hourly limit refilled")
		res := get()
		require.Equal(t, http.StatusTooManyRequests, res.Code, "the daily limit holds: %s", res.Body)
		require.Equal(t, http.StatusOK, b.do(t, anonymous, "GET", "/healthz", nil).Code, "probes are never limited")
	})

	t.Run("PasswordChangePerIP", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{Limits: Limits{PasswordChange: []security.Limit{{Events: 1, Period: time.Hour}}}})
		s := asSession(b.session(t, b.admin))
		body := map[string]string{"current_password": "not the password", "new_password": "another long passphrase"}
		require.NotEqual(t, http.StatusTooManyRequests, b.do(t, s, "POST", "/api/v1/auth/password", body).Code)
		requireLimited(t, b.do(t, s, "POST", "/api/v1/auth/password", body), 1)
	})
}
