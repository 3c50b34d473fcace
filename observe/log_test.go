package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/slogtest"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/observe"
	"github.com/custos-dev/custos/security"
)

func decodeLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

func TestNewHandlerIsASlogHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	slogtest.Run(t, func(t *testing.T) slog.Handler {
		buf.Reset()
		return observe.NewHandler(slog.NewJSONHandler(&buf, nil))
	}, func(t *testing.T) map[string]any {
		lines := decodeLines(t, &buf)
		require.Len(t, lines, 1)
		return lines[0]
	})
}

func TestNewLogger(t *testing.T) {
	t.Parallel()

	t.Run("RedactsSecrets", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		l := observe.NewLogger(&buf, nil).With("db_dsn", "postgres://u:pw@h/db", "service", "custos")
		key := "cst_abcdefgh_abcdefghijklmnopqrstuvwxyz234567"
		l.Info("auth failed for "+key,
			"password", "hunter2hunter2",
			"Authorization", "Bearer abc.def",
			slog.Group("channel", "webhook_url", "https://hooks.slack.com/T/B/x", "name", "ops",
				slog.Group("smtp", "smtp_password", "p", "host", "mail")),
			"header", "Bearer eyJhbGciOi.payload.sig",
			"note", "client sent "+key+" twice",
			"error", errors.New("lookup "+key+": not found"),
			"api_key_id", "k1",
			"ping_token", "tok123",
			"set_cookie", "session=abc",
			"user_secret", security.Secret("x"),
			"plain", "nothing to hide",
			"request_headers", http.Header{"Authorization": {"Bearer abc.def"}, "Accept": {"application/json"}},
			"query", map[string][]string{"api_key": {"hunter2"}, "limit": {"50"}},
		)
		out := buf.String()
		for _, leak := range []string{"hunter2", "abc.def", "hooks.slack.com", "eyJhbGciOi", key, "tok123", "session=abc", `"p"`, "u:pw"} {
			require.NotContains(t, out, leak)
		}
		line := decodeLines(t, &buf)[0]
		require.Equal(t, "auth failed for [redacted]", line["msg"])
		require.Equal(t, "[redacted]", line["password"])
		require.Equal(t, "[redacted]", line["Authorization"])
		require.Equal(t, "[redacted]", line["db_dsn"])
		require.Equal(t, "custos", line["service"])
		ch := line["channel"].(map[string]any)
		require.Equal(t, "[redacted]", ch["webhook_url"])
		require.Equal(t, "ops", ch["name"])
		require.Equal(t, "[redacted]", ch["smtp"].(map[string]any)["smtp_password"])
		require.Equal(t, "mail", ch["smtp"].(map[string]any)["host"])
		require.Equal(t, "Bearer [redacted]", line["header"])
		require.Equal(t, "client sent [redacted] twice", line["note"])
		require.Equal(t, "lookup [redacted]: not found", line["error"])
		require.Equal(t, "[redacted]", line["api_key_id"], "a key id is named like a key: redacted too")
		require.Equal(t, "nothing to hide", line["plain"])
		require.Equal(t, map[string]any{"Authorization": "[redacted]", "Accept": []any{"application/json"}}, line["request_headers"])
		require.Equal(t, map[string]any{"api_key": "[redacted]", "limit": []any{"50"}}, line["query"])
	})

	t.Run("AddsRequestIDsFromTheContext", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		l := observe.NewLogger(&buf, slog.LevelDebug)
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			observe.SetUser(r.Context(), "user-7")
			l.DebugContext(r.Context(), "inside")
			l.InfoContext(r.Context(), "explicit", "request_id", "mine")
		})
		h = observe.AccessLog(slog.New(slog.DiscardHandler))(security.RequestID(h))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set(security.CorrelationIDHeader, "corr-1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		lines := decodeLines(t, &buf)
		require.Len(t, lines, 2)
		require.Equal(t, "corr-1", lines[0]["correlation_id"])
		require.Equal(t, rec.Header().Get(security.RequestIDHeader), lines[0]["request_id"])
		require.NotEmpty(t, lines[0]["request_id"])
		require.Equal(t, "user-7", lines[0]["user_id"])
		require.Equal(t, "mine", lines[1]["request_id"], "an explicit key wins")
		require.Equal(t, 1, strings.Count(strings.Split(buf.String(), "\n")[1], `"request_id"`))

		buf.Reset()
		l.InfoContext(context.Background(), "plain")
		line := decodeLines(t, &buf)[0]
		require.NotContains(t, line, "request_id")
		require.NotContains(t, line, "user_id")
	})
}

func TestAccessLog(t *testing.T) {
	t.Parallel()

	t.Run("LogsOneLinePerRequestByPattern", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		b := setup(t, nil)
		inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			observe.SetUser(r.Context(), "user-1")
			api().ServeHTTP(w, r)
		})
		h := observe.AccessLog(observe.NewLogger(&buf, nil))(b.m.Middleware(security.RequestID(inner)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/ping/s3cr3t-tok?key=cst_abcdefgh_x", nil))
		require.Equal(t, http.StatusAccepted, rec.Code)
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/jobs/j1", nil))

		require.NotContains(t, buf.String(), "s3cr3t")
		require.NotContains(t, buf.String(), "cst_")
		require.NotContains(t, buf.String(), "/ping/s")
		lines := decodeLines(t, &buf)
		require.Len(t, lines, 2)
		l := lines[0]
		require.Equal(t, "http_request", l["msg"])
		require.Equal(t, "INFO", l["level"])
		require.Equal(t, "POST", l["method"])
		require.Equal(t, "POST /ping/{token}", l["route"])
		require.EqualValues(t, 202, l["status"])
		require.IsType(t, float64(0), l["duration_ms"])
		require.EqualValues(t, 0, l["bytes"])
		require.Equal(t, "user-1", l["user_id"])
		require.NotEmpty(t, l["request_id"])
		require.Equal(t, l["request_id"], l["correlation_id"], "with no incoming one, the correlation ID is the request ID")
		require.EqualValues(t, len(`{"id":"j1"}`), lines[1]["bytes"])
		require.Equal(t, "GET /api/v1/jobs/{id}", lines[1]["route"])
		// The middleware and the access log share the route slot.
		require.Contains(t, b.gather(t, "custos_http_requests_total"), "route=POST /ping/{token}")
	})

	t.Run("LogsServerErrorsAtErrorLevel", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		h := observe.AccessLog(observe.NewLogger(&buf, nil))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom", http.StatusBadGateway)
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
		l := decodeLines(t, &buf)[0]
		require.Equal(t, "ERROR", l["level"])
		require.Equal(t, "unmatched", l["route"])
		require.EqualValues(t, 502, l["status"])
	})
}
