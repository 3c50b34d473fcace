package security

import "net/http"

// MaxBody returns middleware that limits request bodies to n bytes with
// [http.MaxBytesReader]: reading past n returns an [*http.MaxBytesError],
// which the decoder reports as 413, and the server closes the connection
// rather than read the rest.
func MaxBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}
