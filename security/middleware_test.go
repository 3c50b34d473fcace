package security

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

type errorEnvelope struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) errorEnvelope {
	t.Helper()
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	var env errorEnvelope
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env), "body: %s", rec.Body)
	return env
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

func TestDefaultErrorWriter(t *testing.T) {
	t.Parallel()

	t.Run("WritesTheEnvelopeWithTheRequestID", func(t *testing.T) {
		t.Parallel()
		h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			DefaultErrorWriter(w, r, http.StatusConflict, "job_exists", "a job with this name exists")
		}))
		rec := serve(h, httptest.NewRequest(http.MethodPost, "/", nil))
		require.Equal(t, http.StatusConflict, rec.Code)
		env := decodeError(t, rec)
		require.Equal(t, "job_exists", env.Error.Code)
		require.Equal(t, "a job with this name exists", env.Error.Message)
		require.Equal(t, rec.Header().Get("X-Request-ID"), env.Error.RequestID)
		require.NotEmpty(t, env.Error.RequestID)
	})
}

func TestHeaders(t *testing.T) {
	t.Parallel()

	want := map[string]string{
		"Content-Security-Policy":    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
		"X-Frame-Options":            "DENY",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "strict-origin-when-cross-origin",
		"Permissions-Policy":         "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ok", okHandler)
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		DefaultErrorWriter(w, r, http.StatusInternalServerError, "internal", "internal error")
	})
	mux.Handle("GET /private", Require("jobs.read", DefaultErrorWriter)(okHandler))

	for _, hsts := range []bool{false, true} {
		for path, status := range map[string]int{"/ok": 200, "/missing": 404, "/fail": 500, "/private": 401} {
			t.Run(fmt.Sprintf("On%dWithHSTS%t", status, hsts), func(t *testing.T) {
				t.Parallel()
				rec := serve(Headers(hsts)(mux), httptest.NewRequest(http.MethodGet, path, nil))
				require.Equal(t, status, rec.Code)
				for name, value := range want {
					require.Equal(t, value, rec.Header().Get(name), name)
				}
				if hsts {
					require.Equal(t, "max-age=31536000; includeSubDomains", rec.Header().Get("Strict-Transport-Security"))
				} else {
					require.Empty(t, rec.Header().Values("Strict-Transport-Security"))
				}
				require.Empty(t, rec.Header().Values("Cache-Control"))
			})
		}
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()

	type seen struct{ request, correlation, header string }
	setup := func() (http.Handler, *seen) {
		s := &seen{}
		return RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.request = RequestIDFrom(r.Context())
			s.correlation = CorrelationIDFrom(r.Context())
			s.header = r.Header.Get("X-Request-ID")
		})), s
	}

	t.Run("GeneratesAnIDAndEchoesIt", func(t *testing.T) {
		t.Parallel()
		h, s := setup()
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/", nil))
		require.Regexp(t, `^[a-z2-7]{26}$`, s.request)
		require.Equal(t, s.request, rec.Header().Get("X-Request-ID"))
		require.Equal(t, s.request, s.correlation, "without X-Correlation-ID the request ID correlates")
		require.Equal(t, s.request, rec.Header().Get("X-Correlation-ID"))
	})

	t.Run("IsUniquePerRequest", func(t *testing.T) {
		t.Parallel()
		h, _ := setup()
		ids := map[string]bool{}
		for range 1000 {
			id := serve(h, httptest.NewRequest(http.MethodGet, "/", nil)).Header().Get("X-Request-ID")
			require.False(t, ids[id], "repeated %s", id)
			ids[id] = true
		}
	})

	t.Run("NeverTrustsAnIncomingRequestID", func(t *testing.T) {
		t.Parallel()
		h, s := setup()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-Request-ID", "forged")
		rec := serve(h, r)
		require.NotEqual(t, "forged", s.request)
		require.Equal(t, s.request, s.header, "handlers reading the header see the server's ID")
		require.Equal(t, s.request, rec.Header().Get("X-Request-ID"))
	})

	t.Run("KeepsAValidCorrelationID", func(t *testing.T) {
		t.Parallel()
		for _, corr := range []string{"a", "trace-42:span_7.x", strings.Repeat("A", 128)} {
			h, s := setup()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("X-Correlation-ID", corr)
			rec := serve(h, r)
			require.Equal(t, corr, s.correlation)
			require.Equal(t, corr, rec.Header().Get("X-Correlation-ID"))
			require.NotEqual(t, corr, s.request)
		}
	})

	t.Run("ReplacesAnInvalidCorrelationID", func(t *testing.T) {
		t.Parallel()
		for _, corr := range []string{"has space", "<script>", "new\\nline", strings.Repeat("A", 129), "ünï"} {
			h, s := setup()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("X-Correlation-ID", corr)
			rec := serve(h, r)
			require.Equal(t, s.request, s.correlation, "correlation ID %q", corr)
			require.Equal(t, s.request, rec.Header().Get("X-Correlation-ID"))
		}
	})
}

func TestClientIP(t *testing.T) {
	t.Parallel()

	trusted, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.7 ,2001:db8:ffff::/48")
	require.NoError(t, err)

	tests := []struct {
		name   string
		remote string
		xff    []string
		realIP string
		want   string
	}{
		{"PeerWithoutHeaders", "203.0.113.9:5000", nil, "", "203.0.113.9"},
		{"UntrustedPeerIgnoresXFF", "203.0.113.9:5000", []string{"198.51.100.1"}, "", "203.0.113.9"},
		{"UntrustedPeerIgnoresXRealIP", "203.0.113.9:5000", nil, "198.51.100.1", "203.0.113.9"},
		{"TrustedProxyGivesTheRightMostUntrustedHop", "10.1.2.3:443", []string{"1.1.1.1, 198.51.100.1, 10.9.9.9"}, "", "198.51.100.1"},
		{"SpoofedLeftEntriesAreIgnored", "192.0.2.7:443", []string{"10.0.0.1, 198.51.100.1"}, "", "198.51.100.1"},
		{"SeveralHeaderLinesAreOneList", "10.1.2.3:443", []string{"1.1.1.1", "198.51.100.1, 10.0.0.2"}, "", "198.51.100.1"},
		{"AllHopsTrustedGivesTheLeftMost", "10.1.2.3:443", []string{"10.0.0.5, 10.0.0.6"}, "", "10.0.0.5"},
		{"TrustedProxyWithXRealIP", "10.1.2.3:443", nil, "198.51.100.4", "198.51.100.4"},
		{"TrustedProxyWithoutHeadersGivesThePeer", "10.1.2.3:443", nil, "", "10.1.2.3"},
		{"IPv6Peer", "[2001:db8::1]:8080", nil, "", "2001:db8::1"},
		{"IPv6TrustedProxyAndClient", "[2001:db8:ffff::1]:443", []string{"2001:DB8:0:0::abcd"}, "", "2001:db8::abcd"},
		{"IPv4MappedPeerIsNormalised", "[::ffff:203.0.113.9]:5000", nil, "", "203.0.113.9"},
		{"XFFEntryWithPort", "10.1.2.3:443", []string{"198.51.100.1:1234"}, "", "198.51.100.1"},
		{"BadRightMostXFFGivesTheProxy", "10.1.2.3:443", []string{"198.51.100.1, not-an-ip"}, "", "10.1.2.3"},
		{"BadXFFBehindATrustedHopGivesThatHop", "10.1.2.3:443", []string{"garbage, 10.0.0.9"}, "", "10.0.0.9"},
		{"EmptyXFF", "10.1.2.3:443", []string{""}, "", "10.1.2.3"},
		{"UnixSocketPeerIsReturnedAsIs", "@", []string{"198.51.100.1"}, "", "@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.realIP != "" {
				r.Header.Set("X-Real-IP", tt.realIP)
			}
			require.Equal(t, tt.want, ClientIP(r, trusted))
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()

	t.Run("ParsesPrefixesAndAddresses", func(t *testing.T) {
		t.Parallel()
		got, err := ParseTrustedProxies(" 10.1.2.3/8,192.0.2.7,, ::1, ::ffff:172.16.0.0/108 ")
		require.NoError(t, err)
		require.Equal(t, []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("192.0.2.7/32"),
			netip.MustParsePrefix("::1/128"),
			netip.MustParsePrefix("172.16.0.0/12"),
		}, got)
	})

	t.Run("EmptyListTrustsNoOne", func(t *testing.T) {
		t.Parallel()
		got, err := ParseTrustedProxies("  ")
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("NamesTheBadEntry", func(t *testing.T) {
		t.Parallel()
		for _, bad := range []string{"10.0.0.0/33", "proxy.local", "10.0.0.1/8/8", "1.2.3"} {
			_, err := ParseTrustedProxies("10.0.0.0/8, " + bad)
			require.ErrorContains(t, err, fmt.Sprintf("%q", bad))
		}
	})
}

func TestMaxBody(t *testing.T) {
	t.Parallel()

	read := func(body string) error {
		var err error
		h := MaxBody(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err = io.ReadAll(r.Body)
		}))
		serve(h, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body)))
		return err
	}

	t.Run("ABodyOverTheLimitFailsWithMaxBytesError", func(t *testing.T) {
		t.Parallel()
		var mbe *http.MaxBytesError
		require.ErrorAs(t, read("01234567890"), &mbe)
		require.EqualValues(t, 10, mbe.Limit)
	})

	t.Run("ABodyAtTheLimitIsRead", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, read("0123456789"))
	})
}

func TestCrossOrigin(t *testing.T) {
	t.Parallel()

	mw, err := CrossOrigin([]string{"https://admin.example.com"}, DefaultErrorWriter)
	require.NoError(t, err)
	h := mw(okHandler)

	request := func(method string, headers ...string) *http.Request {
		r := httptest.NewRequest(method, "https://custos.example.com/api/v1/jobs", strings.NewReader("{}"))
		r.AddCookie(&http.Cookie{Name: SessionCookieName, Value: "session-token"})
		for i := 0; i < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		return r
	}
	rejected := func(t *testing.T, r *http.Request) {
		t.Helper()
		rec := serve(h, r)
		require.Equal(t, http.StatusForbidden, rec.Code)
		require.Equal(t, "cross_origin", decodeError(t, rec).Error.Code)
	}
	passes := func(t *testing.T, r *http.Request) {
		t.Helper()
		rec := serve(h, r)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		require.Equal(t, "ok", rec.Body.String())
	}

	t.Run("RejectsACrossSitePostWithACookie", func(t *testing.T) {
		t.Parallel()
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			rejected(t, request(m, "Sec-Fetch-Site", "cross-site"))
		}
		rejected(t, request(http.MethodPost, "Sec-Fetch-Site", "same-site", "Origin", "https://other.example.com"))
	})

	t.Run("RejectsAnOriginThatIsNotTheHost", func(t *testing.T) {
		t.Parallel()
		rejected(t, request(http.MethodPost, "Origin", "https://evil.example"))
	})

	t.Run("RejectsACrossSiteLoginWithoutACookie", func(t *testing.T) {
		t.Parallel()
		r := httptest.NewRequest(http.MethodPost, "https://custos.example.com/api/v1/auth/login", nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		rejected(t, r)
	})

	t.Run("PassesACrossSitePostWithABearerKey", func(t *testing.T) {
		t.Parallel()
		passes(t, request(http.MethodPost, "Sec-Fetch-Site", "cross-site", "Authorization", "Bearer cst_abc_def"))
		passes(t, request(http.MethodPost, "Origin", "https://evil.example", "Authorization", "bearer cst_abc_def"))
	})

	t.Run("DoesNotExemptBasicAuthorization", func(t *testing.T) {
		t.Parallel()
		rejected(t, request(http.MethodPost, "Sec-Fetch-Site", "cross-site", "Authorization", "Basic YTpi"))
	})

	t.Run("PassesASameOriginPost", func(t *testing.T) {
		t.Parallel()
		passes(t, request(http.MethodPost, "Sec-Fetch-Site", "same-origin"))
		passes(t, request(http.MethodPost, "Origin", "https://custos.example.com"))
	})

	t.Run("PassesACrossSiteGet", func(t *testing.T) {
		t.Parallel()
		passes(t, request(http.MethodGet, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"))
	})

	t.Run("PassesATrustedOrigin", func(t *testing.T) {
		t.Parallel()
		passes(t, request(http.MethodPost, "Sec-Fetch-Site", "cross-site", "Origin", "https://admin.example.com"))
	})

	t.Run("PassesARequestWithoutBrowserHeaders", func(t *testing.T) {
		t.Parallel()
		passes(t, request(http.MethodPost))
	})

	t.Run("RejectsAMalformedTrustedOrigin", func(t *testing.T) {
		t.Parallel()
		_, err := CrossOrigin([]string{"https://ok.example", "custos.example.com/path"}, DefaultErrorWriter)
		require.ErrorContains(t, err, `"custos.example.com/path"`)
	})
}

type testPrincipal struct {
	name  string
	perms map[string]bool
}

func (p testPrincipal) Allowed(perm string) bool { return p.perms[perm] }

// testAuthenticator knows one API key and one session; "down" fails like a
// database that is unreachable.
type testAuthenticator struct{}

var errDatabaseDown = errors.New("dial tcp 10.0.0.5:5432: connection refused (password=hunter2)")

func (testAuthenticator) APIKey(_ context.Context, key string) (Principal, error) {
	switch key {
	case "cst_good":
		return testPrincipal{name: "key", perms: map[string]bool{"jobs.read": true}}, nil
	case "down":
		return nil, errDatabaseDown
	}
	return nil, fmt.Errorf("api key: %w", ErrUnauthenticated)
}

func (testAuthenticator) Session(_ context.Context, token string) (Principal, error) {
	switch token {
	case "good-session":
		return testPrincipal{name: "session", perms: map[string]bool{"jobs.read": true, "jobs.write": true}}, nil
	case "down":
		return nil, errDatabaseDown
	}
	return nil, ErrUnauthenticated
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()

	var (
		auth = Authenticate(testAuthenticator{}, DefaultErrorWriter)
		mux  = http.NewServeMux()
	)
	mux.Handle("GET /public", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := PrincipalFrom(r.Context())
		_, _ = fmt.Fprintf(w, "public principal=%t", ok)
	}))
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		_, _ = io.WriteString(w, p.(testPrincipal).name)
	})
	mux.Handle("GET /jobs", Require("jobs.read", DefaultErrorWriter)(whoami))
	mux.Handle("POST /jobs", Require("jobs.write", DefaultErrorWriter)(whoami))
	h := auth(mux)

	request := func(method, path, authz, cookie string) *http.Request {
		r := httptest.NewRequest(method, path, nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		if cookie != "" {
			r.AddCookie(&http.Cookie{Name: SessionCookieName, Value: cookie})
		}
		return r
	}
	requireError := func(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) errorEnvelope {
		t.Helper()
		require.Equal(t, status, rec.Code, rec.Body.String())
		env := decodeError(t, rec)
		require.Equal(t, code, env.Error.Code)
		if status == http.StatusUnauthorized {
			require.Equal(t, "Bearer", rec.Header().Get("WWW-Authenticate"))
		}
		return env
	}

	t.Run("AnonymousReachesAPublicRoute", func(t *testing.T) {
		t.Parallel()
		rec := serve(h, request(http.MethodGet, "/public", "", ""))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "public principal=false", rec.Body.String())
	})

	t.Run("AnonymousGets401FromRequire", func(t *testing.T) {
		t.Parallel()
		requireError(t, serve(h, request(http.MethodGet, "/jobs", "", "")), http.StatusUnauthorized, "unauthenticated")
	})

	t.Run("AValidKeyReachesTheHandlerWithItsPrincipal", func(t *testing.T) {
		t.Parallel()
		rec := serve(h, request(http.MethodGet, "/jobs", "Bearer cst_good", ""))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "key", rec.Body.String())
	})

	t.Run("AValidSessionReachesTheHandlerWithItsPrincipal", func(t *testing.T) {
		t.Parallel()
		rec := serve(h, request(http.MethodPost, "/jobs", "", "good-session"))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "session", rec.Body.String())
	})

	t.Run("TheBearerKeyWinsOverTheCookie", func(t *testing.T) {
		t.Parallel()
		rec := serve(h, request(http.MethodPost, "/jobs", "Bearer cst_good", "good-session"))
		requireError(t, rec, http.StatusForbidden, "forbidden")
	})

	t.Run("APrincipalWithoutThePermissionGets403", func(t *testing.T) {
		t.Parallel()
		requireError(t, serve(h, request(http.MethodPost, "/jobs", "Bearer cst_good", "")), http.StatusForbidden, "forbidden")
	})

	t.Run("ABadKeyGets401EvenOnAPublicRoute", func(t *testing.T) {
		t.Parallel()
		requireError(t, serve(h, request(http.MethodGet, "/public", "Bearer cst_wrong", "")), http.StatusUnauthorized, "unauthenticated")
	})

	t.Run("AMalformedAuthorizationHeaderGets401", func(t *testing.T) {
		t.Parallel()
		for _, authz := range []string{"Basic YTpi", "Bearer", "Bearer   ", "cst_good", "Token cst_good"} {
			requireError(t, serve(h, request(http.MethodGet, "/jobs", authz, "good-session")), http.StatusUnauthorized, "unauthenticated")
		}
		r := request(http.MethodGet, "/jobs", "Bearer cst_good", "")
		r.Header.Add("Authorization", "Bearer cst_other")
		requireError(t, serve(h, r), http.StatusUnauthorized, "unauthenticated")
	})

	t.Run("AnExpiredSessionGets401AndTheCookieIsCleared", func(t *testing.T) {
		t.Parallel()
		rec := serve(h, request(http.MethodGet, "/public", "", "expired"))
		requireError(t, rec, http.StatusUnauthorized, "unauthenticated")
		cookies := rec.Result().Cookies()
		require.Len(t, cookies, 1)
		require.Equal(t, SessionCookieName, cookies[0].Name)
		require.Empty(t, cookies[0].Value)
		require.Negative(t, cookies[0].MaxAge)
	})

	t.Run("AFailingAuthenticatorGets503WithoutItsText", func(t *testing.T) {
		t.Parallel()
		for _, r := range []*http.Request{
			request(http.MethodGet, "/jobs", "Bearer down", ""),
			request(http.MethodGet, "/jobs", "", "down"),
		} {
			rec := serve(h, r)
			requireError(t, rec, http.StatusServiceUnavailable, "unavailable")
			require.NotContains(t, rec.Body.String(), "5432")
			require.NotContains(t, rec.Body.String(), "hunter2")
		}
	})

	t.Run("WithPrincipalSatisfiesRequire", func(t *testing.T) {
		t.Parallel()
		r := request(http.MethodGet, "/jobs", "", "")
		r = r.WithContext(WithPrincipal(r.Context(), testPrincipal{name: "ping", perms: map[string]bool{"jobs.read": true}}))
		rec := serve(mux, r)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "ping", rec.Body.String())
	})
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()

	t.Run("SetsASecureHttpOnlyLaxCookie", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		SetSessionCookie(rec, "tok", true, 3600)
		require.Equal(t, "custos_session=tok; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", rec.Header().Get("Set-Cookie"))
	})

	t.Run("SetsASessionCookieWithoutSecureOverPlainHTTP", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		SetSessionCookie(rec, "tok", false, 0)
		require.Equal(t, "custos_session=tok; Path=/; HttpOnly; SameSite=Lax", rec.Header().Get("Set-Cookie"))
	})

	t.Run("ClearsTheCookie", func(t *testing.T) {
		t.Parallel()
		rec := httptest.NewRecorder()
		ClearSessionCookie(rec, true)
		require.Equal(t, "custos_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax", rec.Header().Get("Set-Cookie"))
	})
}
