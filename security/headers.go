package security

import "net/http"

// Values of the response headers set by [Headers] (DESIGN §7).
const (
	ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
	PermissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), " +
		"microphone=(), payment=(), usb=()"
	StrictTransportSecurity = "max-age=31536000; includeSubDomains"
)

// Headers returns middleware that sets the security response headers of
// DESIGN §7 on every response: Content-Security-Policy, X-Frame-Options,
// X-Content-Type-Options, Referrer-Policy, Permissions-Policy and
// Cross-Origin-Opener-Policy, plus Strict-Transport-Security when hsts is
// true (the server serves TLS or sits behind a TLS proxy). The headers are
// set before next runs, so that errors and 404s written further in carry
// them too. Cache-Control is left to the handlers.
func Headers(hsts bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", ContentSecurityPolicy)
			h.Set("X-Frame-Options", "DENY")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("Permissions-Policy", PermissionsPolicy)
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if hsts {
				h.Set("Strict-Transport-Security", StrictTransportSecurity)
			}
			next.ServeHTTP(w, r)
		})
	}
}
