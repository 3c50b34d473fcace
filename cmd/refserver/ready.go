package main

import (
	"context"
	"fmt"

	"github.com/custos-dev/custos/backupmgmt/httpapi"
)

// reasonPending is what /readyz says while migrations are pending. Other
// failures read as "database unreachable" (httpapi's fixed reason); the
// database's own error text is logged, never sent.
const reasonPending = "migrations pending"

// readiness is the part of the store that /readyz needs.
type readiness interface {
	Ping(ctx context.Context) error
	// Pending returns the migrations not yet applied.
	Pending(ctx context.Context) ([]string, error)
}

// readyFunc returns the httpapi.Config.Ready of db: ready when the database
// answers and no migration is pending. A failure to read the migration state
// counts as the database being unreachable: either way the store cannot
// serve. bunstore.Store's Ping and Pending go through the read pool, so on
// SQLite a probe does not wait for a write.
func readyFunc(db readiness) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := db.Ping(ctx); err != nil {
			return fmt.Errorf("database ping: %w", err)
		}
		p, err := db.Pending(ctx)
		if err != nil {
			return fmt.Errorf("reading the migration state: %w", err)
		}
		if len(p) > 0 {
			// httpapi reads the reason with a type assertion: not wrapped.
			return &httpapi.NotReadyError{Reason: reasonPending}
		}
		return nil
	}
}
