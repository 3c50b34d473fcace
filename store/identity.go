package store

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// User is a person who signs in to Custos.
type User struct {
	ID       string
	Username string // unique, case-insensitive; 3–50 of [A-Za-z0-9_.-]
	Email    string // unique, case-insensitive; optional
	FullName string
	// Department is free text, e.g. "Infrastructure".
	Department        string
	Role              Role
	PasswordHash      string // PHC string; never logged
	Active            bool
	FailedLogins      int
	LockedUntil       *time.Time
	LastLoginAt       *time.Time
	PasswordChangedAt *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,50}$`)

// Validate reports the fields of u that no store accepts.
func (u *User) Validate() error {
	var v validator
	if !usernameRE.MatchString(u.Username) {
		v.add("username", "3 to 50 characters of A-Z, a-z, 0-9, _ . -")
	}
	if u.Email != "" && (runeLen(u.Email) > 254 || !strings.Contains(u.Email, "@")) {
		v.add("email", "must be an email address of at most 254 characters")
	} else if u.Email != "" {
		v.key("email", u.Email, 254)
	}
	v.text("full_name", u.FullName, MaxNameLen)
	v.text("department", u.Department, MaxNameLen)
	enum(&v, "role", u.Role, roleValues)
	v.text("password_hash", u.PasswordHash, 1000)
	v.count("failed_logins", u.FailedLogins)
	return v.err()
}

// ListUsersParams filters a list of users, ordered by username.
type ListUsersParams struct {
	PageParams
	Role   Role  // optional
	Active *bool // optional
}

// UserStore stores users.
type UserStore interface {
	Create(ctx context.Context, u *User) error
	Get(ctx context.Context, id string) (*User, error)
	// GetByUsername finds a user by username, ignoring case.
	GetByUsername(ctx context.Context, username string) (*User, error)
	// GetByEmail finds a user by email, ignoring case.
	GetByEmail(ctx context.Context, email string) (*User, error)
	// GetMany returns the users with the given IDs that exist, in no order.
	GetMany(ctx context.Context, ids []string) ([]User, error)
	Update(ctx context.Context, u *User) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListUsersParams) (*Page[User], error)
	// CountActiveAdmins counts active users with the admin role.
	CountActiveAdmins(ctx context.Context) (int, error)
}

// Session is a signed-in browser session. Only the hash of its token is
// stored.
type Session struct {
	ID         string
	TokenHash  string // unique; hex SHA-256 of the cookie token
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
	IP         string
	UserAgent  string // cut to MaxShortTextLen characters when stored
}

// Validate reports the fields of s that no store accepts.
func (s *Session) Validate() error {
	var v validator
	v.key("token_hash", s.TokenHash, 128)
	v.required("user_id", s.UserID)
	if s.ExpiresAt.IsZero() {
		v.add("expires_at", "required")
	}
	v.text("ip", s.IP, 64)
	return v.err()
}

// SessionStore stores sessions.
type SessionStore interface {
	Create(ctx context.Context, s *Session) error
	Get(ctx context.Context, id string) (*Session, error)
	GetByTokenHash(ctx context.Context, tokenHash string) (*Session, error)
	// Touch records activity on a session.
	Touch(ctx context.Context, id string, lastSeenAt time.Time) error
	ListByUser(ctx context.Context, userID string) ([]Session, error)
	Delete(ctx context.Context, id string) error
	// DeleteByUser ends every session of a user, returning how many.
	DeleteByUser(ctx context.Context, userID string) (int64, error)
	// DeleteExpired removes sessions whose ExpiresAt is at or before now.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// SessionUserGetter is an optional capability of a SessionStore: the
// session of a token hash and its user in one statement, where
// GetByTokenHash and UserStore.Get take two, so that authenticating a
// request costs one query. Callers find it by type assertion on the store a
// Repos returns (repos.Sessions().(store.SessionUserGetter)) and fall back
// to the two methods; decorators should forward it.
type SessionUserGetter interface {
	// GetSessionUser returns what GetByTokenHash and then UserStore.Get of
	// the session's UserID return, PasswordHash included; ErrNotFound when
	// either is missing. The session and user are returned as stored,
	// expired or inactive: what that means is the caller's decision. Inside
	// a transaction it locks both rows, as the two Gets do.
	GetSessionUser(ctx context.Context, tokenHash string) (*Session, *User, error)
}

// APIKey lets a script act as its user, narrowed by Scopes. The key text is
// cst_<prefix>_<secret>; only the prefix and the SHA-256 of the secret are
// stored.
type APIKey struct {
	ID         string
	UserID     string
	Name       string
	Prefix     string // public and unique
	SecretHash string // hex SHA-256 of the secret
	Scopes     []Scope
	JobID      *string // an ingest key bound to one job
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Validate reports the fields of k that no store accepts.
func (k *APIKey) Validate() error {
	var v validator
	v.required("user_id", k.UserID)
	v.name("name", k.Name)
	v.key("prefix", k.Prefix, 32)
	v.key("secret_hash", k.SecretHash, 128)
	if len(k.Scopes) == 0 {
		v.add("scopes", "at least one scope")
	}
	for _, s := range k.Scopes {
		enum(&v, "scopes", s, scopeValues)
	}
	return v.err()
}

// ListAPIKeysParams filters a list of API keys, newest first.
type ListAPIKeysParams struct {
	PageParams
	UserID         string // optional
	IncludeRevoked bool
}

// APIKeyStore stores API keys.
type APIKeyStore interface {
	Create(ctx context.Context, k *APIKey) error
	Get(ctx context.Context, id string) (*APIKey, error)
	GetByPrefix(ctx context.Context, prefix string) (*APIKey, error)
	// Update writes Name, Scopes, JobID, ExpiresAt and RevokedAt.
	Update(ctx context.Context, k *APIKey) error
	// TouchLastUsed records a use of the key.
	TouchLastUsed(ctx context.Context, id string, at time.Time) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListAPIKeysParams) (*Page[APIKey], error)
}

// APIKeyUserGetter is an optional capability of an APIKeyStore: the key of
// a prefix and its user in one statement, where GetByPrefix and
// UserStore.Get take two. Callers find it by type assertion on the store a
// Repos returns (repos.APIKeys().(store.APIKeyUserGetter)) and fall back to
// the two methods; decorators should forward it.
type APIKeyUserGetter interface {
	// GetAPIKeyUser returns what GetByPrefix and then UserStore.Get of the
	// key's UserID return, SecretHash and PasswordHash included;
	// ErrNotFound when either is missing. The key and user are returned as
	// stored, revoked, expired or inactive: what that means is the caller's
	// decision. Inside a transaction it locks both rows, as the two Gets do.
	GetAPIKeyUser(ctx context.Context, prefix string) (*APIKey, *User, error)
}
