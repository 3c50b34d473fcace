package backupmgmt

import (
	"context"

	"github.com/custos-dev/custos/store"
)

// Actor is who makes a call: a signed-in user, an API key acting for its
// user, or the system itself (the scheduler, a sweep). Audit events name it,
// and the HTTP layer checks its permissions with Can.
type Actor struct {
	// UserID is the user, or the user an API key acts for; empty for the
	// system.
	UserID string
	// APIKeyID is set when the call came with an API key.
	APIKeyID string
	// SessionID is set when the call came with a browser session, so that
	// ending "the other sessions" of a user can spare this one.
	SessionID string
	// Role is the user's role.
	Role store.Role
	// Scopes narrow an API key; nil for a session.
	Scopes []store.Scope
	// KeyJobID binds an ingest key to one job.
	KeyJobID string
	// IP and RequestID are copied into audit events.
	IP        string
	RequestID string
}

// ActorSystem is the audit actor of work nobody asked for.
const ActorSystem = "system"

// String is the audit form of a: "apikey:<id>", "user:<id>" or "system".
func (a Actor) String() string {
	switch {
	case a.APIKeyID != "":
		return "apikey:" + a.APIKeyID
	case a.UserID != "":
		return "user:" + a.UserID
	}
	return ActorSystem
}

// IsSystem reports whether a is the system rather than a person or a key.
func (a Actor) IsSystem() bool { return a.UserID == "" && a.APIKeyID == "" }

// userIDPtr returns the user's ID for "done by" columns, nil for the
// system.
func (a Actor) userIDPtr() *string {
	if a.UserID == "" {
		return nil
	}
	id := a.UserID
	return &id
}

type actorKey struct{}

// WithActor returns a context whose calls are made by a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx; the zero Actor (the system) when none
// was set.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}
