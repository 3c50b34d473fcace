package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// APIKey is an API key as anyone may see it again: the public prefix, never
// the secret or its hash.
type APIKey struct {
	ID     string        `json:"id"`
	UserID string        `json:"user_id"`
	Name   string        `json:"name"`
	Prefix string        `json:"prefix"`
	Scopes []store.Scope `json:"scopes"`
	// JobID is the one job an ingest key may record runs of.
	JobID      *string    `json:"job_id,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

func apiKeyView(k *store.APIKey) APIKey {
	scopes := slices.Clone(k.Scopes)
	if scopes == nil {
		scopes = []store.Scope{}
	}
	return APIKey{
		ID:         k.ID,
		UserID:     k.UserID,
		Name:       k.Name,
		Prefix:     k.Prefix,
		Scopes:     scopes,
		JobID:      k.JobID,
		ExpiresAt:  utcPtr(k.ExpiresAt),
		LastUsedAt: utcPtr(k.LastUsedAt),
		RevokedAt:  utcPtr(k.RevokedAt),
		CreatedAt:  utc(k.CreatedAt),
	}
}

// NewAPIKey is the body of a created key: the key record and, this once,
// the full key text.
type NewAPIKey struct {
	APIKey
	// Key is the full key (cst_<prefix>_<secret>) for Authorization:
	// Bearer. It is shown only here; only a hash of its secret is stored.
	Key string `json:"key"`
}

// APIKeyCreate is the body of POST /api/v1/api-keys.
type APIKeyCreate struct {
	Name   string        `json:"name" required:"true"`
	Scopes []store.Scope `json:"scopes" required:"true"`
	// JobID binds a key whose one scope is ingest to one job.
	JobID string `json:"job_id"`
	// ExpiresAt must be in the future; absent, the key does not expire.
	ExpiresAt *string `json:"expires_at" format:"date-time"`
	// UserID makes the key for another user; admins only. Defaults to the
	// caller.
	UserID string `json:"user_id"`
}

func (a *API) apiKeyRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/api-keys", perm: backupmgmt.PermSelf, tag: "api-keys",
			summary: "List API keys, newest first: one's own; admins may name another user (user_id) or ask for everyone's (all=true)",
			resp:    List[APIKey]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "user_id", typ: "string", desc: "the keys of this user (admins only, unless it is the caller)"},
				{name: "all", typ: "boolean", desc: "the keys of every user (admins only)"},
				{name: "include_revoked", typ: "boolean", desc: "list revoked keys too"},
			}, pageParams...),
			h: a.listAPIKeys,
		},
		{
			method: "POST", path: "/api/v1/api-keys", perm: backupmgmt.PermSelf, tag: "api-keys",
			summary: "Create an API key (admins may create one for another user with user_id); the response holds the full key, shown only this once",
			body:    APIKeyCreate{}, resp: NewAPIKey{}, status: http.StatusCreated,
			h: a.createAPIKey,
		},
		{
			method: "GET", path: "/api/v1/api-keys/{id}", perm: backupmgmt.PermSelf, resource: "api_key", tag: "api-keys",
			summary: "Get an API key (one's own, or any for an admin)",
			resp:    APIKey{}, status: http.StatusOK,
			h: a.getAPIKey,
		},
		{
			method: "DELETE", path: "/api/v1/api-keys/{id}", perm: backupmgmt.PermSelf, resource: "api_key", tag: "api-keys",
			summary: "Revoke an API key (one's own, or any for an admin); the record stays, listed with include_revoked",
			status:  http.StatusNoContent,
			h: func(w http.ResponseWriter, r *http.Request) error {
				if _, err := a.revokeAPIKey(r); err != nil {
					return err
				}
				noContent(w)
				return nil
			},
		},
		{
			method: "POST", path: "/api/v1/api-keys/{id}/revoke", perm: backupmgmt.PermSelf, resource: "api_key", tag: "api-keys",
			summary: "Revoke an API key (one's own, or any for an admin) and return it; revoking a revoked key changes nothing",
			resp:    APIKey{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, r *http.Request) error {
				k, err := a.revokeAPIKey(r)
				if err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, apiKeyView(k))
				return nil
			},
		},
	}
}

var errOthersKeys = errorf(http.StatusForbidden, "forbidden", "only admins may see or make other users' API keys")

func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	act := caller(r)
	p := store.ListAPIKeysParams{
		PageParams:     q.page(),
		UserID:         q.str("user_id"),
		IncludeRevoked: deref(q.boolean("include_revoked")),
	}
	all := deref(q.boolean("all"))
	if all && p.UserID != "" {
		q.fail("all", "cannot be combined with user_id")
	}
	if err := q.err(); err != nil {
		return err
	}
	switch {
	case all:
		if !act.Can(backupmgmt.PermAdmin) {
			return errOthersKeys
		}
	case p.UserID == "":
		p.UserID = act.UserID
	case !act.CanManageAccount(p.UserID):
		return errOthersKeys
	}
	page, err := a.svc.APIKeys().List(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, apiKeyView))
	return nil
}

func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var in APIKeyCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	expires := p.parseTime("expires_at", in.ExpiresAt)
	if err := p.err(); err != nil {
		return err
	}
	act := caller(r)
	userID := in.UserID
	if userID == "" {
		userID = act.UserID
	}
	if !act.CanManageAccount(userID) {
		return errOthersKeys
	}
	k, secret, err := a.svc.APIKeys().Create(r.Context(), backupmgmt.APIKeyParams{
		UserID:    userID,
		Name:      in.Name,
		Scopes:    in.Scopes,
		JobID:     in.JobID,
		ExpiresAt: expires,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, NewAPIKey{APIKey: apiKeyView(k), Key: secret.Reveal()})
	return nil
}

// ownAPIKey returns the key of the path if the caller may manage it; a key
// of someone else is not found, so that its existence is not revealed.
func (a *API) ownAPIKey(r *http.Request) (*store.APIKey, error) {
	k, err := a.svc.APIKeys().Get(r.Context(), pathID(r, "id"))
	if err != nil {
		return nil, err
	}
	if !caller(r).CanManageAccount(k.UserID) {
		return nil, notFound("api_key")
	}
	return k, nil
}

func (a *API) getAPIKey(w http.ResponseWriter, r *http.Request) error {
	k, err := a.ownAPIKey(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiKeyView(k))
	return nil
}

func (a *API) revokeAPIKey(r *http.Request) (*store.APIKey, error) {
	k, err := a.ownAPIKey(r)
	if err != nil {
		return nil, err
	}
	return a.svc.APIKeys().Revoke(r.Context(), k.ID)
}
