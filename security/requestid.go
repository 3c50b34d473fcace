package security

import (
	"context"
	"crypto/rand"
	"net/http"
)

// Header names used by [RequestID].
const (
	RequestIDHeader     = "X-Request-ID"
	CorrelationIDHeader = "X-Correlation-ID"
)

const maxCorrelationIDLen = 128

type idsKey struct{}

type ids struct {
	request     string
	correlation string
}

// RequestID is middleware that gives every request a new random request ID
// (16 bytes from crypto/rand, 26 characters of lowercase base32), sets it as
// X-Request-ID on the response and stores it in the context
// ([RequestIDFrom]). An incoming X-Request-ID is never trusted: it is
// replaced on the request as well, so later handlers that read the header see
// the server's ID.
//
// The correlation ID ties together the requests of one operation across
// systems: an incoming X-Correlation-ID of 1 to 128 characters of
// [A-Za-z0-9._:-] is kept, anything else is replaced by the request ID. It is
// echoed as X-Correlation-ID and stored in the context
// ([CorrelationIDFrom]).
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		corr := r.Header.Get(CorrelationIDHeader)
		if !validCorrelationID(corr) {
			corr = id
		}
		r.Header.Set(RequestIDHeader, id)
		r.Header.Set(CorrelationIDHeader, corr)
		w.Header().Set(RequestIDHeader, id)
		w.Header().Set(CorrelationIDHeader, corr)
		ctx := context.WithValue(r.Context(), idsKey{}, ids{request: id, correlation: corr})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// RequestIDFrom returns the request ID stored by [RequestID], or "" when
// there is none.
func RequestIDFrom(ctx context.Context) string {
	v, _ := ctx.Value(idsKey{}).(ids)
	return v.request
}

// CorrelationIDFrom returns the correlation ID stored by [RequestID], or ""
// when there is none.
func CorrelationIDFrom(ctx context.Context) string {
	v, _ := ctx.Value(idsKey{}).(ids)
	return v.correlation
}

func newRequestID() string {
	var b [16]byte
	// crypto/rand.Read never returns an error since Go 1.24; it crashes the
	// program instead if the system's source fails.
	_, _ = rand.Read(b[:])
	return keyEncoding.EncodeToString(b[:])
}

func validCorrelationID(s string) bool {
	if len(s) == 0 || len(s) > maxCorrelationIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
