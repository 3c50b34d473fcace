package observe

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/custos-dev/custos/security"
)

// Redacted replaces a secret in log output.
const Redacted = "[redacted]"

// Log keys added from a call's context.
const (
	KeyCorrelationID = "correlation_id"
	KeyRequestID     = "request_id"
	KeyUserID        = "user_id"
)

// NewLogger returns a JSON logger writing to w at level (nil: info) that
//
//   - adds correlation_id and request_id (security.RequestID) and user_id
//     (SetUser) to every record logged with a context that has them, unless
//     the record already has the key; like every attribute of a record,
//     they go inside the groups opened with WithGroup;
//   - redacts: the value of any attribute, in groups too, whose key contains
//     password, passwd, secret, token, api_key, apikey, authorization,
//     cookie, webhook or dsn (case-insensitive) becomes "[redacted]" (so do
//     the entries of an http.Header, url.Values or string-keyed map value,
//     which are logged as groups); in the message and every string value
//     (errors included) a Custos API key (cst_…) or a Bearer credential is
//     replaced.
//
// Use snake_case keys. The logger is not installed anywhere: pass it on.
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	if level == nil {
		level = slog.LevelInfo
	}
	return slog.New(NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// NewHandler wraps h with the context attributes and the redaction of
// NewLogger, for callers that want another output format.
func NewHandler(h slog.Handler) slog.Handler { return &handler{inner: h} }

type handler struct {
	inner slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = redactAttr(a)
	}
	return &handler{inner: h.inner.WithAttrs(out)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{inner: h.inner.WithGroup(name)}
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redactString(r.Message), r.PC)
	var haveCorr, haveReq, haveUser bool
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case KeyCorrelationID:
			haveCorr = true
		case KeyRequestID:
			haveReq = true
		case KeyUserID:
			haveUser = true
		}
		out.AddAttrs(redactAttr(a))
		return true
	})
	if ctx != nil {
		if v := security.CorrelationIDFrom(ctx); v != "" && !haveCorr {
			out.AddAttrs(slog.String(KeyCorrelationID, v))
		}
		if v := security.RequestIDFrom(ctx); v != "" && !haveReq {
			out.AddAttrs(slog.String(KeyRequestID, v))
		}
		if s := slotFrom(ctx); s != nil && !haveUser {
			if _, user := s.get(); user != "" {
				out.AddAttrs(slog.String(KeyUserID, user))
			}
		}
	}
	return h.inner.Handle(ctx, out)
}

// sensitiveKeys are the parts of attribute keys whose values are secrets.
var sensitiveKeys = []string{
	"password", "passwd", "secret", "token", "api_key", "apikey",
	"authorization", "cookie", "webhook", "dsn",
}

func sensitiveKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range sensitiveKeys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func redactAttr(a slog.Attr) slog.Attr {
	if sensitiveKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); hasCredential(s) {
			return slog.String(a.Key, redactString(s))
		}
	case slog.KindGroup:
		as := v.Group()
		out := make([]slog.Attr, len(as))
		for i, g := range as {
			out[i] = redactAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			if s := x.Error(); hasCredential(s) {
				return slog.String(a.Key, redactString(s))
			}
		// Header maps carry Authorization and Cookie: redact them by key too.
		case http.Header:
			return slog.Attr{Key: a.Key, Value: redactMap(x)}
		case url.Values:
			return slog.Attr{Key: a.Key, Value: redactMap(x)}
		case map[string][]string:
			return slog.Attr{Key: a.Key, Value: redactMap(x)}
		case map[string]string:
			return slog.Attr{Key: a.Key, Value: redactMap(x)}
		case map[string]any:
			return slog.Attr{Key: a.Key, Value: redactMap(x)}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redactMap turns a map into a group, sorted by key, with each entry
// redacted as an attribute.
func redactMap[M ~map[string]V, V any](m M) slog.Value {
	keys := slices.Sorted(maps.Keys(m))
	as := make([]slog.Attr, len(keys))
	for i, k := range keys {
		as[i] = redactAttr(slog.Any(k, m[k]))
	}
	return slog.GroupValue(as...)
}

// credentialPattern matches a Custos API key (cst_ and its key characters)
// and the credential of a Bearer authorization value.
var credentialPattern = regexp.MustCompile(`cst_[A-Za-z0-9_]+|(?i:\bbearer\s+)[^\s"',;]+`)

// hasCredential is the fast test before the pattern runs.
func hasCredential(s string) bool {
	if strings.Contains(s, "cst_") {
		return true
	}
	for i := 0; i+6 <= len(s); i++ {
		if (s[i] == 'b' || s[i] == 'B') && strings.EqualFold(s[i:i+6], "bearer") {
			return true
		}
	}
	return false
}

func redactString(s string) string {
	if !hasCredential(s) {
		return s
	}
	return credentialPattern.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "cst_") {
			return Redacted
		}
		// Keep the scheme and the space after it.
		i := strings.IndexAny(m, " \t\r\n")
		j := i
		for j < len(m) && strings.IndexByte(" \t\r\n", m[j]) >= 0 {
			j++
		}
		return m[:j] + Redacted
	})
}

// AccessLog returns middleware that logs one line per request on l when the
// handler returns: msg "http_request" with method, route (the pattern given
// to SetRoute, else "unmatched"), status, duration_ms, bytes, request_id
// and correlation_id (from the response headers security.RequestID sets,
// so AccessLog may sit outside it) and user_id (SetUser). The path and the
// query string are never logged: they may carry tokens (/ping/{token}).
// Server errors (5xx) log at error level, the rest at info. A nil l returns
// handlers unchanged.
func AccessLog(l *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if l == nil {
			return next
		}
		return observed(next, func(r *http.Request, rw *responseWriter, status int, route, user string, took time.Duration) {
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			h := rw.Header()
			l.LogAttrs(r.Context(), level, "http_request",
				slog.String("method", methodLabel(r.Method)),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(took.Microseconds())/1000),
				slog.Int64("bytes", rw.bytes),
				slog.String(KeyRequestID, h.Get(security.RequestIDHeader)),
				slog.String(KeyCorrelationID, h.Get(security.CorrelationIDHeader)),
				slog.String(KeyUserID, user),
			)
		})
	}
}
