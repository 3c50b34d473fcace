package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"
)

// readyTimeout bounds the database checks behind /readyz, so that a hung
// database makes the probe fail instead of piling up requests.
const readyTimeout = 5 * time.Second

// Reasons /readyz gives for 503. They are fixed strings: the database's own
// error text is logged, never sent.
const (
	reasonUnreachable = "database unreachable"
	reasonPending     = "migrations pending"
)

// pinger is the part of the store that /readyz needs.
type pinger interface {
	Ping(ctx context.Context) error
}

// pendingFunc returns the migrations not yet applied.
type pendingFunc func(ctx context.Context) ([]string, error)

// newHandler returns refserver's HTTP handler:
//
//   - GET /healthz: 200 while the process runs; it does not touch the database.
//   - GET /readyz: 200 when the database answers and no migration is pending,
//     503 with a fixed reason otherwise.
func newHandler(db pinger, pending pendingFunc, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if reason := notReady(ctx, db, pending, log); reason != "" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": reason})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	return mux
}

// notReady returns why the server cannot take traffic, or "" when it can.
// A failure to read the migration state counts as the database being
// unreachable: either way the store cannot serve.
func notReady(ctx context.Context, db pinger, pending pendingFunc, log *slog.Logger) string {
	if err := db.Ping(ctx); err != nil {
		log.WarnContext(ctx, "readiness: database ping failed", "error", err.Error())
		return reasonUnreachable
	}
	p, err := pending(ctx)
	if err != nil {
		log.WarnContext(ctx, "readiness: reading migration state failed", "error", err.Error())
		return reasonUnreachable
	}
	if len(p) > 0 {
		log.WarnContext(ctx, "readiness: migrations pending", "versions", p)
		return reasonPending
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
