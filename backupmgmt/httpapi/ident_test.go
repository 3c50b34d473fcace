package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/security"
)

// requireNoSecret fails if any secret appears in the response body, its
// headers (Set-Cookie aside, which carries the session token on purpose
// at login) or anything logged so far.
func requireNoSecret(t testing.TB, b *testBundle, res *resp, secrets ...string) {
	t.Helper()
	logs := b.logBuf.String()
	for _, s := range secrets {
		require.NotEmpty(t, s)
		if res != nil {
			require.NotContains(t, string(res.Body), s, "secret in the response body")
			for name, vs := range res.Header {
				if name == "Set-Cookie" {
					continue
				}
				for _, v := range vs {
					require.NotContains(t, v, s, "secret in the response header %s", name)
				}
			}
		}
		require.NotContains(t, logs, s, "secret in the log")
	}
}

// login posts a login from ip.
func (b *testBundle) login(t testing.TB, c cred, username, password, ip string) *resp {
	t.Helper()
	req := b.newRequest(t, "POST", "/api/v1/auth/login", map[string]string{"username": username, "password": password})
	if ip != "" {
		req.RemoteAddr = ip + ":40000"
	}
	return b.doReq(t, c, req)
}

// sessionCookie returns the session cookie a response sets, or nil.
func sessionCookie(res *resp) *http.Cookie {
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == security.SessionCookieName {
			return c
		}
	}
	return nil
}

// badInput is one malformed request of a table test.
type badInput struct {
	name   string
	body   any
	status int
	code   string
	// field, when set, must be named in the envelope's fields.
	field string
}

// requireRefused checks a refused request's envelope.
func requireRefused(t testing.TB, res *resp, status int, code, field string) {
	t.Helper()
	require.Equal(t, status, res.Code, "body: %s", res.Body)
	e := res.errBody(t)
	if code != "" {
		require.Equal(t, code, e.Code, "body: %s", res.Body)
	}
	if field != "" {
		require.Contains(t, e.Fields, field, "body: %s", res.Body)
	}
	// The message, not the body: a random request ID may spell "sql".
	require.False(t, strings.Contains(strings.ToLower(e.Message), "sql"), "driver text in %s", res.Body)
}
