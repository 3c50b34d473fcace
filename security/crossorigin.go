package security

import (
	"fmt"
	"net/http"
	"strings"
)

// CrossOrigin returns middleware that rejects cross-origin browser requests
// with unsafe methods (anything but GET, HEAD and OPTIONS) with 403 and code
// "cross_origin" through ew. It is [http.CrossOriginProtection]: a request is
// cross-origin when Sec-Fetch-Site says so or, without it, when the Origin
// host differs from Host. Requests with neither header (curl, scripts) pass.
//
// Requests with an "Authorization: Bearer" header are exempt: a browser
// never adds one by itself, so a cross-site page cannot forge it, and API
// clients need not send Origin. Other schemes (Basic, which browsers do
// replay) get no exemption. Everything else is checked, with or without a
// session cookie, so that a login form cannot be posted from another site.
//
// trustedOrigins are extra origins allowed to post ("https://custos.example.com");
// an origin that is not scheme://host[:port] returns an error.
func CrossOrigin(trustedOrigins []string, ew ErrorWriter) (func(http.Handler) http.Handler, error) {
	cop := http.NewCrossOriginProtection()
	for _, o := range trustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("security: trusted origin %q: %w", o, err)
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !hasBearer(r) {
				if err := cop.Check(r); err != nil {
					ew(w, r, http.StatusForbidden, "cross_origin", "cross-origin request rejected")
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

func hasBearer(r *http.Request) bool {
	scheme, _, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer")
}
