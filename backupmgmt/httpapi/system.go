package httpapi

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds the checks behind /readyz, so that a hung database
// fails the probe instead of piling up requests.
const readyTimeout = 5 * time.Second

// Health is the body of /healthz and /readyz.
type Health struct {
	// Status is "ok", "ready" or "not_ready".
	Status string `json:"status"`
	// Reason says why the server is not ready; fixed text, never an error's.
	Reason string `json:"reason,omitempty"`
}

func (a *API) systemRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/healthz", public: true, limit: limitNone, tag: "system",
			summary: "Liveness: 200 while the process runs; does not touch the database",
			resp:    Health{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, _ *http.Request) error {
				writeJSON(w, http.StatusOK, Health{Status: "ok"})
				return nil
			},
		},
		{
			method: "GET", path: "/readyz", public: true, limit: limitNone, tag: "system",
			summary: "Readiness: 200 when the database answers and migrations are current, 503 otherwise",
			resp:    Health{}, status: http.StatusOK, respAlt: Health{}, statusAlt: http.StatusServiceUnavailable,
			h: a.readyz,
		},
		{
			method: "GET", path: "/api/v1/openapi.json", public: true, limit: limitAnonymous, tag: "system",
			summary: "This API's OpenAPI 3.1 document",
			resp:    map[string]any{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, _ *http.Request) error {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "public, max-age=300")
				_, _ = w.Write(openAPIDocument)
				return nil
			},
		},
	}
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) error {
	if a.cfg.Ready == nil {
		writeJSON(w, http.StatusOK, Health{Status: "ready"})
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := a.cfg.Ready(ctx); err != nil {
		a.log.WarnContext(ctx, "readiness check failed", "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, Health{Status: "not_ready", Reason: readyReason(err)})
		return nil
	}
	writeJSON(w, http.StatusOK, Health{Status: "ready"})
	return nil
}

// NotReadyError is what a Config.Ready function returns to give /readyz a
// reason clients may see ("migrations pending"); any other error reads as
// "database unreachable".
type NotReadyError struct{ Reason string }

func (e *NotReadyError) Error() string { return e.Reason }

func readyReason(err error) string {
	if nr, ok := err.(*NotReadyError); ok {
		return nr.Reason
	}
	return "database unreachable"
}
