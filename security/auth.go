package security

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Principal is an authenticated user or API key.
type Principal interface {
	// Allowed reports whether the principal may use the named permission.
	Allowed(permission string) bool
}

// Authenticator resolves credentials to principals. The application
// implements it over its session and API key tables.
type Authenticator interface {
	// Session resolves a session cookie's token. It returns
	// [ErrUnauthenticated] (or an error wrapping it) for an unknown or
	// expired session.
	Session(ctx context.Context, token string) (Principal, error)
	// APIKey resolves the text after "Bearer ". It returns
	// [ErrUnauthenticated] (or an error wrapping it) for an unknown,
	// revoked or expired key.
	APIKey(ctx context.Context, key string) (Principal, error)
}

// ErrUnauthenticated is returned by an [Authenticator] for credentials that
// do not identify anyone. Any other error is taken as the authenticator
// failing (a database down) and answered with 503.
var ErrUnauthenticated = errors.New("security: not authenticated")

// SessionCookieName is the name of the browser session cookie.
const SessionCookieName = "custos_session"

type principalKey struct{}

// Authenticate returns middleware that resolves the request's credentials
// and stores the principal in the context ([PrincipalFrom]):
//
//   - "Authorization: Bearer <key>" goes to a.APIKey;
//   - otherwise the [SessionCookieName] cookie goes to a.Session;
//   - with neither the request is anonymous and next still runs: [Require]
//     decides whether a route needs a principal.
//
// A malformed Authorization header (another scheme, no key) or a credential
// the authenticator rejects gets 401 with code "unauthenticated" and
// "WWW-Authenticate: Bearer"; a rejected session cookie is also cleared, so
// that the browser's next request is anonymous and can reach the login page.
// Any other authenticator error gets 503 with code "unavailable"; its text
// never reaches the client.
func Authenticate(a Authenticator, ew ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var (
				p       Principal
				err     error
				session bool
			)
			if auth := r.Header.Values("Authorization"); len(auth) > 0 {
				key, ok := bearerKey(auth)
				if !ok {
					unauthenticated(w, r, ew, "malformed Authorization header: want Bearer <key>")
					return
				}
				p, err = a.APIKey(r.Context(), key)
			} else if c, cerr := r.Cookie(SessionCookieName); cerr == nil && c.Value != "" {
				session = true
				p, err = a.Session(r.Context(), c.Value)
			} else {
				next.ServeHTTP(w, r)
				return
			}
			switch {
			case errors.Is(err, ErrUnauthenticated):
				if session {
					ClearSessionCookie(w, r.TLS != nil)
				}
				unauthenticated(w, r, ew, "invalid or expired credentials")
				return
			case err != nil || p == nil:
				ew(w, r, http.StatusServiceUnavailable, "unavailable", "authentication is temporarily unavailable")
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// bearerKey returns the key of a single "Bearer <key>" header value.
func bearerKey(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, key, ok := strings.Cut(values[0], " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return "", false
	}
	return key, true
}

func unauthenticated(w http.ResponseWriter, r *http.Request, ew ErrorWriter, message string) {
	w.Header().Set("WWW-Authenticate", "Bearer")
	ew(w, r, http.StatusUnauthorized, "unauthenticated", message)
}

// PrincipalFrom returns the principal stored by [Authenticate] or
// [WithPrincipal].
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok && p != nil
}

// WithPrincipal returns a context carrying p, for handlers that authenticate
// by other means (a ping token) and for tests.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Require returns middleware that lets a request through only when its
// principal has permission: without a principal it answers 401 with code
// "unauthenticated" (and "WWW-Authenticate: Bearer"), with a principal that
// is not allowed 403 with code "forbidden".
func Require(permission string, ew ErrorWriter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			if !ok {
				unauthenticated(w, r, ew, "authentication required")
				return
			}
			if !p.Allowed(permission) {
				ew(w, r, http.StatusForbidden, "forbidden", "permission denied")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// SetSessionCookie sets the session cookie to token: HttpOnly, SameSite=Lax,
// Path=/, and Secure when secure (the site is served over TLS). maxAge is in
// seconds; 0 makes a browser-session cookie.
func SetSessionCookie(w http.ResponseWriter, token string, secure bool, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookieName,
		Value:    token,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie tells the browser to delete the session cookie, with the
// same attributes it was set with.
func ClearSessionCookie(w http.ResponseWriter, secure bool) {
	SetSessionCookie(w, "", secure, -1)
}
