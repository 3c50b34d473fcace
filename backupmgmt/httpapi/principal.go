package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/observe"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// principal is a caller the security middleware authenticated.
type principal struct {
	actor backupmgmt.Actor
}

// Allowed implements security.Principal with the domain's RBAC table.
func (p principal) Allowed(permission string) bool {
	return p.actor.Can(backupmgmt.Permission(permission))
}

// authenticator resolves session cookies and API keys through the domain.
// Failures other than a bad credential (the database is down) are logged
// here: the middleware answers 503 without their text.
type authenticator struct {
	svc *backupmgmt.Service
	log *slog.Logger
}

func (au authenticator) Session(ctx context.Context, token string) (security.Principal, error) {
	u, sess, err := au.svc.Auth().Session(ctx, token)
	if errors.Is(err, backupmgmt.ErrSessionExpired) {
		return nil, security.ErrUnauthenticated
	}
	if err != nil {
		au.log.ErrorContext(ctx, "session lookup failed", slog.String("request_id", security.RequestIDFrom(ctx)), slog.String("error", err.Error()))
		return nil, err
	}
	return principal{actor: backupmgmt.SessionActor(u, sess)}, nil
}

func (au authenticator) APIKey(ctx context.Context, key string) (security.Principal, error) {
	a, err := au.svc.APIKeys().Authenticate(ctx, key)
	if errors.Is(err, backupmgmt.ErrInvalidAPIKey) {
		return nil, security.ErrUnauthenticated
	}
	if err != nil {
		au.log.ErrorContext(ctx, "API key lookup failed", slog.String("request_id", security.RequestIDFrom(ctx)), slog.String("error", err.Error()))
		return nil, err
	}
	return principal{actor: a}, nil
}

// withActor puts the caller into the context as a backupmgmt.Actor, with
// the client's IP and the request ID the audit log records. Anonymous
// callers get an Actor with only those two.
func (a *API) withActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		act := actorOf(r)
		act.IP = security.ClientIP(r, a.cfg.TrustedProxies)
		act.RequestID = security.RequestIDFrom(r.Context())
		if act.UserID != "" {
			observe.SetUser(r.Context(), act.UserID)
		}
		next.ServeHTTP(w, r.WithContext(backupmgmt.WithActor(r.Context(), act)))
	})
}

// actorOf returns the authenticated caller of r, or the zero Actor.
func actorOf(r *http.Request) backupmgmt.Actor {
	if p, ok := security.PrincipalFrom(r.Context()); ok {
		if pp, ok := p.(principal); ok {
			return pp.actor
		}
	}
	return backupmgmt.Actor{}
}

// caller returns the Actor of the request as the domain sees it.
func caller(r *http.Request) backupmgmt.Actor { return backupmgmt.ActorFrom(r.Context()) }

// isAdmin reports whether the caller acts with the admin role and, for a
// key, the admin scope.
func isAdmin(r *http.Request) bool {
	act := caller(r)
	return act.Role == store.RoleAdmin && act.Can(backupmgmt.PermAdmin)
}
