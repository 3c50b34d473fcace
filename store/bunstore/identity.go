package bunstore

import (
	"context"
	"reflect"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/store"
)

type userRow struct {
	bun.BaseModel `bun:"table:users"`

	ID                string     `bun:"id,pk"`
	Username          string     `bun:"username"`
	UsernameKey       string     `bun:"username_key"`
	Email             string     `bun:"email,nullzero"`
	EmailKey          string     `bun:"email_key,nullzero"`
	FullName          string     `bun:"full_name"`
	Department        string     `bun:"department"`
	Role              string     `bun:"role"`
	PasswordHash      string     `bun:"password_hash"`
	Active            bool       `bun:"active"`
	FailedLogins      int        `bun:"failed_logins"`
	LockedUntil       *time.Time `bun:"locked_until"`
	LastLoginAt       *time.Time `bun:"last_login_at"`
	PasswordChangedAt *time.Time `bun:"password_changed_at"`
	CreatedAt         time.Time  `bun:"created_at"`
	UpdatedAt         time.Time  `bun:"updated_at"`
}

func userToRow(u *store.User) *userRow {
	return &userRow{
		ID:                u.ID,
		Username:          u.Username,
		UsernameKey:       store.NameKey(u.Username),
		Email:             u.Email,
		EmailKey:          store.NameKey(u.Email),
		FullName:          u.FullName,
		Department:        u.Department,
		Role:              string(u.Role),
		PasswordHash:      u.PasswordHash,
		Active:            u.Active,
		FailedLogins:      u.FailedLogins,
		LockedUntil:       u.LockedUntil,
		LastLoginAt:       u.LastLoginAt,
		PasswordChangedAt: u.PasswordChangedAt,
		CreatedAt:         u.CreatedAt,
		UpdatedAt:         u.UpdatedAt,
	}
}

func (r *userRow) toStore() store.User {
	return store.User{
		ID:                r.ID,
		Username:          r.Username,
		Email:             r.Email,
		FullName:          r.FullName,
		Department:        r.Department,
		Role:              store.Role(r.Role),
		PasswordHash:      r.PasswordHash,
		Active:            r.Active,
		FailedLogins:      r.FailedLogins,
		LockedUntil:       utcPtr(r.LockedUntil),
		LastLoginAt:       utcPtr(r.LastLoginAt),
		PasswordChangedAt: utcPtr(r.PasswordChangedAt),
		CreatedAt:         utc(r.CreatedAt),
		UpdatedAt:         utc(r.UpdatedAt),
	}
}

// normUserTimes puts the optional times of u in stored form.
func normUserTimes(u *store.User) {
	u.LockedUntil = normPtr(u.LockedUntil)
	u.LastLoginAt = normPtr(u.LastLoginAt)
	u.PasswordChangedAt = normPtr(u.PasswordChangedAt)
}

var userKeyset = keyset[userRow]{
	keys:   []sortKey{{"username_key", keyString}, {"id", keyString}},
	values: func(r *userRow) []any { return []any{r.UsernameKey, r.ID} },
}

type userRepo struct{ *conn }

var _ store.UserStore = userRepo{}

func (r userRepo) Create(ctx context.Context, u *store.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if u.ID == "" {
		u.ID = r.newID()
	}
	u.CreatedAt = store.NormalizeTime(cmpTime(u.CreatedAt, r.stamp()))
	u.UpdatedAt = u.CreatedAt
	normUserTimes(u)
	_, err := r.insert(userToRow(u)).Exec(ctx)
	return mapErr(err)
}

func (r userRepo) Get(ctx context.Context, id string) (*store.User, error) {
	return r.getBy(ctx, "id", id)
}

func (r userRepo) GetByUsername(ctx context.Context, username string) (*store.User, error) {
	return r.getBy(ctx, "username_key", store.NameKey(username))
}

func (r userRepo) GetByEmail(ctx context.Context, email string) (*store.User, error) {
	key := store.NameKey(email)
	if key == "" {
		// Users without an email store NULL, which matches nothing.
		return nil, store.ErrNotFound
	}
	return r.getBy(ctx, "email_key", key)
}

func (r userRepo) getBy(ctx context.Context, col, v string) (*store.User, error) {
	return getOneBy(ctx, r.conn, col, v, (*userRow).toStore)
}

func (r userRepo) GetMany(ctx context.Context, ids []string) ([]store.User, error) {
	return getByIDs(ctx, r.r, ids, (*userRow).toStore)
}

func (r userRepo) Update(ctx context.Context, u *store.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	u.UpdatedAt = r.stamp()
	normUserTimes(u)
	res, err := r.w.NewUpdate().Model(userToRow(u)).
		Column("username", "username_key", "email", "email_key", "full_name", "department", "role",
			"password_hash", "active", "failed_logins", "locked_until", "last_login_at",
			"password_changed_at", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "users", "id", u.ID)
}

func (r userRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("users").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "users", "id", id)
}

func (r userRepo) List(ctx context.Context, p store.ListUsersParams) (*store.Page[store.User], error) {
	q := r.r.NewSelect().Model((*userRow)(nil))
	if p.Role != "" {
		q = q.Where("role = ?", p.Role)
	}
	if p.Active != nil {
		q = q.Where("active = ?", *p.Active)
	}
	return listPage(ctx, q, userKeyset, p.PageParams, (*userRow).toStore)
}

func (r userRepo) CountActiveAdmins(ctx context.Context) (int, error) {
	n, err := r.r.NewSelect().TableExpr("users").
		Where("role = ?", store.RoleAdmin).Where("active = ?", true).Count(ctx)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(n), nil
}

type sessionRow struct {
	bun.BaseModel `bun:"table:sessions"`

	ID         string    `bun:"id,pk"`
	TokenHash  string    `bun:"token_hash"`
	UserID     string    `bun:"user_id"`
	CreatedAt  time.Time `bun:"created_at"`
	LastSeenAt time.Time `bun:"last_seen_at"`
	ExpiresAt  time.Time `bun:"expires_at"`
	IP         string    `bun:"ip"`
	UserAgent  string    `bun:"user_agent"`
}

func sessionToRow(s *store.Session) *sessionRow {
	return &sessionRow{
		ID:         s.ID,
		TokenHash:  s.TokenHash,
		UserID:     s.UserID,
		CreatedAt:  s.CreatedAt,
		LastSeenAt: s.LastSeenAt,
		ExpiresAt:  s.ExpiresAt,
		IP:         s.IP,
		UserAgent:  s.UserAgent,
	}
}

func (r *sessionRow) toStore() store.Session {
	return store.Session{
		ID:         r.ID,
		TokenHash:  r.TokenHash,
		UserID:     r.UserID,
		CreatedAt:  utc(r.CreatedAt),
		LastSeenAt: utc(r.LastSeenAt),
		ExpiresAt:  utc(r.ExpiresAt),
		IP:         r.IP,
		UserAgent:  r.UserAgent,
	}
}

type sessionRepo struct{ *conn }

var (
	_ store.SessionStore      = sessionRepo{}
	_ store.SessionUserGetter = sessionRepo{}
)

func (r sessionRepo) Create(ctx context.Context, s *store.Session) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.ID == "" {
		s.ID = r.newID()
	}
	s.CreatedAt = store.NormalizeTime(cmpTime(s.CreatedAt, r.stamp()))
	s.LastSeenAt = store.NormalizeTime(cmpTime(s.LastSeenAt, s.CreatedAt))
	s.ExpiresAt = store.NormalizeTime(s.ExpiresAt)
	s.UserAgent = store.TruncateText(s.UserAgent, store.MaxShortTextLen)
	_, err := r.insert(sessionToRow(s)).Exec(ctx)
	return mapErr(err)
}

func (r sessionRepo) Get(ctx context.Context, id string) (*store.Session, error) {
	return r.getBy(ctx, "id", id)
}

func (r sessionRepo) GetByTokenHash(ctx context.Context, tokenHash string) (*store.Session, error) {
	return r.getBy(ctx, "token_hash", tokenHash)
}

func (r sessionRepo) getBy(ctx context.Context, col, v string) (*store.Session, error) {
	return getOneBy(ctx, r.conn, col, v, (*sessionRow).toStore)
}

// sessionUserRow is a session with its user, each under its own column
// prefix: both tables have an id.
type sessionUserRow struct {
	Session sessionRow `bun:"embed:s__"`
	User    userRow    `bun:"embed:u__"`
}

func (r sessionRepo) GetSessionUser(ctx context.Context, tokenHash string) (*store.Session, *store.User, error) {
	var row sessionUserRow
	if err := getWithUser(ctx, r.conn, "sessions", (*sessionRow)(nil), "s__", "token_hash", tokenHash, &row); err != nil {
		return nil, nil, err
	}
	s, u := row.Session.toStore(), row.User.toStore()
	return &s, &u, nil
}

func (r sessionRepo) Touch(ctx context.Context, id string, lastSeenAt time.Time) error {
	at := store.NormalizeTime(cmpTime(lastSeenAt, r.stamp()))
	res, err := r.w.NewUpdate().TableExpr("sessions").Set("last_seen_at = ?", at).Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "sessions", "id", id)
}

func (r sessionRepo) ListByUser(ctx context.Context, userID string) ([]store.Session, error) {
	var rows []sessionRow
	if err := r.r.NewSelect().Model(&rows).Where("user_id = ?", userID).
		OrderExpr("created_at DESC").OrderExpr("id DESC").Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.Session, len(rows))
	for i := range rows {
		out[i] = rows[i].toStore()
	}
	return out, nil
}

func (r sessionRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("sessions").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "sessions", "id", id)
}

func (r sessionRepo) DeleteByUser(ctx context.Context, userID string) (int64, error) {
	res, err := r.w.NewDelete().TableExpr("sessions").Where("user_id = ?", userID).Exec(ctx)
	return countAffected(res, err)
}

func (r sessionRepo) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := r.w.NewDelete().TableExpr("sessions").
		Where("expires_at <= ?", store.NormalizeTime(now)).Exec(ctx)
	return countAffected(res, err)
}

type apiKeyRow struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID         string     `bun:"id,pk"`
	UserID     string     `bun:"user_id"`
	Name       string     `bun:"name"`
	Prefix     string     `bun:"prefix"`
	SecretHash string     `bun:"secret_hash"`
	Scopes     string     `bun:"scopes"`
	JobID      string     `bun:"job_id,nullzero"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
	CreatedAt  time.Time  `bun:"created_at"`
	UpdatedAt  time.Time  `bun:"updated_at"`
}

func apiKeyToRow(k *store.APIKey) *apiKeyRow {
	return &apiKeyRow{
		ID:         k.ID,
		UserID:     k.UserID,
		Name:       k.Name,
		Prefix:     k.Prefix,
		SecretHash: k.SecretHash,
		Scopes:     jsonText(k.Scopes),
		JobID:      strVal(k.JobID),
		ExpiresAt:  k.ExpiresAt,
		LastUsedAt: k.LastUsedAt,
		RevokedAt:  k.RevokedAt,
		CreatedAt:  k.CreatedAt,
		UpdatedAt:  k.UpdatedAt,
	}
}

func (r *apiKeyRow) toStore() store.APIKey {
	return store.APIKey{
		ID:         r.ID,
		UserID:     r.UserID,
		Name:       r.Name,
		Prefix:     r.Prefix,
		SecretHash: r.SecretHash,
		Scopes:     fromJSONText[store.Scope](r.Scopes),
		JobID:      strPtr(r.JobID),
		ExpiresAt:  utcPtr(r.ExpiresAt),
		LastUsedAt: utcPtr(r.LastUsedAt),
		RevokedAt:  utcPtr(r.RevokedAt),
		CreatedAt:  utc(r.CreatedAt),
		UpdatedAt:  utc(r.UpdatedAt),
	}
}

var apiKeyKeyset = keyset[apiKeyRow]{
	keys:   []sortKey{{"created_at", keyTime}, {"id", keyString}},
	desc:   true,
	values: func(r *apiKeyRow) []any { return []any{r.CreatedAt, r.ID} },
}

type apiKeyRepo struct{ *conn }

var (
	_ store.APIKeyStore      = apiKeyRepo{}
	_ store.APIKeyUserGetter = apiKeyRepo{}
)

func (r apiKeyRepo) Create(ctx context.Context, k *store.APIKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	if k.ID == "" {
		k.ID = r.newID()
	}
	k.CreatedAt = store.NormalizeTime(cmpTime(k.CreatedAt, r.stamp()))
	k.UpdatedAt = k.CreatedAt
	k.ExpiresAt = normPtr(k.ExpiresAt)
	k.LastUsedAt = normPtr(k.LastUsedAt)
	k.RevokedAt = normPtr(k.RevokedAt)
	if k.JobID != nil && *k.JobID == "" {
		k.JobID = nil
	}
	_, err := r.insert(apiKeyToRow(k)).Exec(ctx)
	return mapErr(err)
}

func (r apiKeyRepo) Get(ctx context.Context, id string) (*store.APIKey, error) {
	return r.getBy(ctx, "id", id)
}

func (r apiKeyRepo) GetByPrefix(ctx context.Context, prefix string) (*store.APIKey, error) {
	return r.getBy(ctx, "prefix", prefix)
}

func (r apiKeyRepo) getBy(ctx context.Context, col, v string) (*store.APIKey, error) {
	return getOneBy(ctx, r.conn, col, v, (*apiKeyRow).toStore)
}

// apiKeyUserRow is a key with its user, each under its own column prefix.
type apiKeyUserRow struct {
	Key  apiKeyRow `bun:"embed:k__"`
	User userRow   `bun:"embed:u__"`
}

func (r apiKeyRepo) GetAPIKeyUser(ctx context.Context, prefix string) (*store.APIKey, *store.User, error) {
	var row apiKeyUserRow
	if err := getWithUser(ctx, r.conn, "api_keys", (*apiKeyRow)(nil), "k__", "prefix", prefix, &row); err != nil {
		return nil, nil, err
	}
	k, u := row.Key.toStore(), row.User.toStore()
	return &k, &u, nil
}

func (r apiKeyRepo) Update(ctx context.Context, k *store.APIKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	k.UpdatedAt = r.stamp()
	k.ExpiresAt = normPtr(k.ExpiresAt)
	k.RevokedAt = normPtr(k.RevokedAt)
	if k.JobID != nil && *k.JobID == "" {
		k.JobID = nil
	}
	res, err := r.w.NewUpdate().Model(apiKeyToRow(k)).
		Column("name", "scopes", "job_id", "expires_at", "revoked_at", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "api_keys", "id", k.ID)
}

func (r apiKeyRepo) TouchLastUsed(ctx context.Context, id string, at time.Time) error {
	t := store.NormalizeTime(cmpTime(at, r.stamp()))
	res, err := r.w.NewUpdate().TableExpr("api_keys").Set("last_used_at = ?", t).Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "api_keys", "id", id)
}

func (r apiKeyRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("api_keys").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "api_keys", "id", id)
}

func (r apiKeyRepo) List(ctx context.Context, p store.ListAPIKeysParams) (*store.Page[store.APIKey], error) {
	q := r.r.NewSelect().Model((*apiKeyRow)(nil))
	if p.UserID != "" {
		q = q.Where("user_id = ?", p.UserID)
	}
	if !p.IncludeRevoked {
		q = q.Where("revoked_at IS NULL")
	}
	return listPage(ctx, q, apiKeyKeyset, p.PageParams, (*apiKeyRow).toStore)
}

// getWithUser scans into dest, in one statement, the row of table whose
// col equals v, joined with the row of the user its user_id names: the
// columns of model (the table's row type) under prefix, those of userRow
// under u__. No row, or no user, is store.ErrNotFound. Inside a
// transaction it locks both rows, as getOneBy does one; a value with a NUL
// character matches nothing.
func getWithUser(ctx context.Context, c *conn, table string, model any, prefix, col, v string, dest any) error {
	if v == "" || strings.IndexByte(v, 0) >= 0 {
		return store.ErrNotFound
	}
	q := c.r.NewSelect().TableExpr("? AS t", bun.Ident(table)).
		Join("JOIN users AS u ON u.id = t.user_id")
	q = prefixedColumns(q, "t", prefix, model)
	q = prefixedColumns(q, "u", "u__", (*userRow)(nil))
	q = c.forUpdate(q.Where("t.? = ?", bun.Ident(col), v).Limit(1))
	return mapErr(q.Scan(ctx, dest))
}

// prefixedColumns selects every column of model from the table of alias,
// each as prefix + its name.
func prefixedColumns(q *bun.SelectQuery, alias, prefix string, model any) *bun.SelectQuery {
	for _, f := range q.Dialect().Tables().Get(reflect.TypeOf(model).Elem()).Fields {
		q = q.ColumnExpr("?.? AS ?", bun.Ident(alias), bun.Ident(f.Name), bun.Ident(prefix+f.Name))
	}
	return q
}
