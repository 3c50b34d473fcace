package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// APIKeys manages the keys scripts and collectors authenticate with
// (DESIGN §7): cst_<prefix>_<secret>, the secret shown once and stored as a
// SHA-256 hash.
type APIKeys Service

// APIKeys gives the API-key operations.
func (s *Service) APIKeys() *APIKeys { return (*APIKeys)(s) }

// ErrInvalidAPIKey is the one error of a refused API key, whether it is
// malformed, unknown, wrong, revoked, expired or its user inactive, so that
// a caller learns nothing about which keys exist.
var ErrInvalidAPIKey = errors.New("backupmgmt: invalid API key")

// apiKeyTouchEvery is how stale a key's LastUsedAt may get before a use
// writes it again, so that a collector sending thousands of runs a minute
// costs one write a minute.
const apiKeyTouchEvery = time.Minute

// apiKeyDummyHash is compared against when no key has the prefix, so that
// an unknown prefix costs the same as a wrong secret.
var apiKeyDummyHash = security.HashSecret("")

// APIKeyParams are the fields of a new API key.
type APIKeyParams struct {
	// UserID is the user the key acts for. Defaults to the user of the ctx
	// actor.
	UserID string
	Name   string
	// Scopes narrow what the key may do; each must be allowed for the
	// user's role (ScopeAllowed).
	Scopes []store.Scope
	// JobID binds an ingest key to one job; optional, and only for keys
	// whose one scope is ingest.
	JobID string
	// ExpiresAt is optional and must be in the future.
	ExpiresAt *time.Time
}

// Create makes a key and returns it with its full text, which is shown
// once and never stored. Whether the caller may make keys for the user is
// the caller's check (Actor.CanManageAccount), as for Revoke.
func (k *APIKeys) Create(ctx context.Context, p APIKeyParams) (*store.APIKey, security.Secret, error) {
	s := (*Service)(k)
	gen, err := security.NewAPIKey()
	if err != nil {
		return nil, "", err
	}
	userID := p.UserID
	if userID == "" {
		userID = ActorFrom(ctx).UserID
	}
	var out *store.APIKey
	err = s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		now := s.Now()
		key := &store.APIKey{
			ID:         s.cfg.NewID(),
			UserID:     userID,
			Name:       strings.TrimSpace(p.Name),
			Prefix:     gen.Prefix,
			SecretHash: security.HashSecret(gen.Secret.Reveal()),
			Scopes:     slices.Clone(p.Scopes),
			ExpiresAt:  p.ExpiresAt,
			CreatedAt:  now,
		}
		if p.JobID != "" {
			key.JobID = &p.JobID
		}
		if err := k.validate(ctx, tx, key, now); err != nil {
			return err
		}
		if err := tx.APIKeys().Create(ctx, key); err != nil {
			return err
		}
		out = key
		return s.audit(ctx, tx, "apikey.create", "api_key", key.ID, map[string]any{
			"name":       key.Name,
			"user_id":    key.UserID,
			"prefix":     key.Prefix,
			"scopes":     key.Scopes,
			"job_id":     key.JobID,
			"expires_at": key.ExpiresAt,
		})
	})
	if err != nil {
		return nil, "", err
	}
	return apiKeyPublic(out), gen.Text, nil
}

// validate checks a new key against the rules no store knows: the user
// exists, is active and may hold the scopes; the job exists; the expiry is
// ahead.
func (k *APIKeys) validate(ctx context.Context, tx store.Repos, key *store.APIKey, now time.Time) error {
	fields := usersFields(key.Validate())
	delete(fields, "prefix")
	delete(fields, "secret_hash")
	var user *store.User
	if key.UserID != "" {
		u, err := tx.Users().Get(ctx, key.UserID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			fields["user_id"] = "no such user"
		case err != nil:
			return err
		case !u.Active:
			fields["user_id"] = "user is not active"
		default:
			user = u
		}
	}
	seen := make(map[store.Scope]bool, len(key.Scopes))
	for _, sc := range key.Scopes {
		switch {
		case !sc.Valid():
			fields["scopes"] = "unknown scope " + string(sc)
		case seen[sc]:
			fields["scopes"] = "scope " + string(sc) + " given twice"
		case user != nil && !ScopeAllowed(user.Role, sc):
			fields["scopes"] = fmt.Sprintf("a user with role %s cannot hold a key with scope %s", user.Role, sc)
		}
		seen[sc] = true
	}
	if key.JobID != nil {
		if !slices.Equal(key.Scopes, []store.Scope{store.ScopeIngest}) {
			fields["job_id"] = "only an ingest key (scopes [ingest]) can be bound to a job"
		} else if _, err := tx.Jobs().Get(ctx, *key.JobID); errors.Is(err, store.ErrNotFound) {
			fields["job_id"] = "no such job"
		} else if err != nil {
			return err
		}
	}
	if key.ExpiresAt != nil && !key.ExpiresAt.After(now) {
		fields["expires_at"] = "must be in the future"
	}
	if len(fields) > 0 {
		return &store.ValidationError{Fields: fields}
	}
	return nil
}

// Get returns a key by ID; its secret hash is of no use to anyone.
func (k *APIKeys) Get(ctx context.Context, id string) (*store.APIKey, error) {
	key, err := k.store.APIKeys().Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return apiKeyPublic(key), nil
}

// List returns keys, newest first.
func (k *APIKeys) List(ctx context.Context, p store.ListAPIKeysParams) (*store.Page[store.APIKey], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	page, err := k.store.APIKeys().List(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range page.Items {
		apiKeyPublic(&page.Items[i])
	}
	return page, nil
}

// Revoke ends a key for good. Revoking a revoked key changes nothing.
func (k *APIKeys) Revoke(ctx context.Context, id string) (*store.APIKey, error) {
	s := (*Service)(k)
	var out *store.APIKey
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		key, err := tx.APIKeys().Get(ctx, id)
		if err != nil {
			return err
		}
		out = key
		if key.RevokedAt != nil {
			return nil
		}
		now := s.Now()
		key.RevokedAt = &now
		if err := tx.APIKeys().Update(ctx, key); err != nil {
			return err
		}
		s.identityChanged(ctx)
		return s.audit(ctx, tx, "apikey.revoke", "api_key", key.ID, map[string]any{
			"name": key.Name, "user_id": key.UserID, "prefix": key.Prefix,
		})
	})
	if err != nil {
		return nil, err
	}
	return apiKeyPublic(out), nil
}

// Authenticate checks the text of a key (cst_<prefix>_<secret>) and returns
// the actor it makes calls as: its user, narrowed by its scopes, with the IP
// and request ID of the ctx actor. Every refusal is ErrInvalidAPIKey. With
// a store.APIKeyUserGetter it costs one query while no use is due to be
// written.
func (k *APIKeys) Authenticate(ctx context.Context, keyText string) (Actor, error) {
	s := (*Service)(k)
	prefix, secret, err := security.ParseAPIKey(keyText)
	if err != nil {
		return Actor{}, ErrInvalidAPIKey
	}
	now := s.Now()
	var key *store.APIKey
	var u *store.User
	if e, ok := s.keys.get(prefix, now); ok {
		if !security.SecretMatches(secret, e.key.SecretHash) {
			return Actor{}, ErrInvalidAPIKey
		}
		if e.key.ExpiresAt != nil && !now.Before(*e.key.ExpiresAt) {
			return Actor{}, ErrInvalidAPIKey
		}
		key, u = e.key, e.user
		if key.LastUsedAt == nil || now.Sub(*key.LastUsedAt) >= apiKeyTouchEvery {
			if err := s.apiKeyTouch(ctx, key.ID, now); err != nil {
				return Actor{}, err
			}
			s.keys.touched(prefix, e, now)
		}
	} else {
		gen := s.keys.gen.Load()
		if key, u, err = s.apiKeyLoad(ctx, prefix, secret, now); err != nil {
			return Actor{}, err
		}
		if key.LastUsedAt == nil || now.Sub(*key.LastUsedAt) >= apiKeyTouchEvery {
			if err := s.apiKeyTouch(ctx, key.ID, now); err != nil {
				return Actor{}, err
			}
			key.LastUsedAt = &now
		}
		s.keys.put(prefix, &apiKeyEntry{gen: gen, loaded: now, key: key, user: u})
	}
	base := ActorFrom(ctx)
	var jobID string
	if key.JobID != nil {
		jobID = *key.JobID
	}
	return Actor{
		UserID:    u.ID,
		APIKeyID:  key.ID,
		Role:      u.Role,
		Scopes:    slices.Clone(key.Scopes),
		KeyJobID:  jobID,
		IP:        base.IP,
		RequestID: base.RequestID,
	}, nil
}

// apiKeyLoad reads and checks the key of prefix and its user: every
// refusal is ErrInvalidAPIKey.
func (s *Service) apiKeyLoad(ctx context.Context, prefix, secret string, now time.Time) (*store.APIKey, *store.User, error) {
	var (
		key *store.APIKey
		u   *store.User // nil until read
		err error
	)
	if g, ok := s.store.APIKeys().(store.APIKeyUserGetter); ok {
		key, u, err = g.GetAPIKeyUser(ctx, prefix)
	} else {
		key, err = s.store.APIKeys().GetByPrefix(ctx, prefix)
	}
	if errors.Is(err, store.ErrNotFound) {
		security.SecretMatches(secret, apiKeyDummyHash)
		return nil, nil, ErrInvalidAPIKey
	}
	if err != nil {
		return nil, nil, err
	}
	if !security.SecretMatches(secret, key.SecretHash) {
		return nil, nil, ErrInvalidAPIKey
	}
	if key.RevokedAt != nil || (key.ExpiresAt != nil && !now.Before(*key.ExpiresAt)) {
		return nil, nil, ErrInvalidAPIKey
	}
	if u == nil {
		u, err = s.store.Users().Get(ctx, key.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, ErrInvalidAPIKey
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if !u.Active {
		return nil, nil, ErrInvalidAPIKey
	}
	return key, u, nil
}

// apiKeyTouch records a use of a key.
func (s *Service) apiKeyTouch(ctx context.Context, id string, now time.Time) error {
	err := s.store.APIKeys().TouchLastUsed(ctx, id, now)
	if errors.Is(err, store.ErrNotFound) {
		s.keys.invalidate()
		return ErrInvalidAPIKey // deleted meanwhile
	}
	return err
}

// apiKeyPublic clears the secret's hash of a key the service hands out, as
// usersPublic does for passwords: nothing outside needs it, so it cannot
// reach a response or a log.
func apiKeyPublic(k *store.APIKey) *store.APIKey {
	k.SecretHash = ""
	return k
}
