package backupmgmt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// Users manages the people who sign in (DESIGN §3, §7). The users it
// returns carry no PasswordHash.
type Users Service

// Users gives the user operations.
func (s *Service) Users() *Users { return (*Users)(s) }

// ErrLastAdmin is returned for a change that would leave no active admin:
// deleting, deactivating or demoting the last one.
var ErrLastAdmin = errors.New("backupmgmt: the last active admin cannot be removed, deactivated or demoted")

// UserParams are the fields of a new user.
type UserParams struct {
	Username   string
	Email      string // optional
	FullName   string
	Department string
	Role       store.Role
	// Password is the initial password; it must pass security.CheckPassword.
	Password string
}

// UserUpdate changes the fields that are not nil.
type UserUpdate struct {
	Email      *string
	FullName   *string
	Department *string
	Role       *store.Role
	Active     *bool
}

// Create adds an active user with a hashed password. A taken username or
// email is a *store.ConstraintError (ErrConflict) naming the field.
func (us *Users) Create(ctx context.Context, p UserParams) (*store.User, error) {
	s := (*Service)(us)
	u := &store.User{
		Username:   strings.TrimSpace(p.Username),
		Email:      strings.TrimSpace(p.Email),
		FullName:   strings.TrimSpace(p.FullName),
		Department: strings.TrimSpace(p.Department),
		Role:       p.Role,
		Active:     true,
	}
	fields := usersFields(u.Validate())
	if err := security.CheckPassword(p.Password, u.Username); err != nil {
		fields["password"] = err.Error()
	}
	if len(fields) > 0 {
		return nil, &store.ValidationError{Fields: fields}
	}
	// Hashing takes tens of milliseconds; do it before the transaction so
	// that it holds no lock meanwhile.
	hash, err := security.HashPassword(p.Password)
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		now := s.Now()
		row := *u
		row.ID = s.cfg.NewID()
		row.PasswordHash = hash
		row.PasswordChangedAt = &now
		row.CreatedAt = now
		if err := usersUnique(ctx, tx, &row, ""); err != nil {
			return err
		}
		if err := tx.Users().Create(ctx, &row); err != nil {
			return err
		}
		*u = row
		return s.audit(ctx, tx, "user.create", "user", row.ID, map[string]any{
			"username":   row.Username,
			"email":      row.Email,
			"full_name":  row.FullName,
			"department": row.Department,
			"role":       row.Role,
		})
	})
	if err != nil {
		return nil, err
	}
	return usersPublic(u), nil
}

// Get returns a user by ID.
func (us *Users) Get(ctx context.Context, id string) (*store.User, error) {
	return usersPublicErr(us.store.Users().Get(ctx, id))
}

// GetByUsername returns a user by username, ignoring case.
func (us *Users) GetByUsername(ctx context.Context, username string) (*store.User, error) {
	return usersPublicErr(us.store.Users().GetByUsername(ctx, username))
}

// List returns users ordered by username.
func (us *Users) List(ctx context.Context, p store.ListUsersParams) (*store.Page[store.User], error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Role != "" && !p.Role.Valid() {
		return nil, &store.ValidationError{Fields: map[string]string{"role": "unknown role " + string(p.Role)}}
	}
	page, err := us.store.Users().List(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range page.Items {
		page.Items[i].PasswordHash = ""
	}
	return page, nil
}

// Update changes a user's profile, role or active flag. Deactivating a user
// ends their sessions. Demoting or deactivating the last active admin fails
// with ErrLastAdmin.
func (us *Users) Update(ctx context.Context, id string, p UserUpdate) (*store.User, error) {
	s := (*Service)(us)
	var out *store.User
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		locked, err := usersLockAdmins(ctx, tx, id)
		if err != nil {
			return err
		}
		before := locked[id]
		u := *before
		changes := make(map[string]any)
		if p.Email != nil && strings.TrimSpace(*p.Email) != u.Email {
			u.Email = strings.TrimSpace(*p.Email)
			changes["email"] = u.Email
		}
		if p.FullName != nil && strings.TrimSpace(*p.FullName) != u.FullName {
			u.FullName = strings.TrimSpace(*p.FullName)
			changes["full_name"] = u.FullName
		}
		if p.Department != nil && strings.TrimSpace(*p.Department) != u.Department {
			u.Department = strings.TrimSpace(*p.Department)
			changes["department"] = u.Department
		}
		if p.Role != nil && *p.Role != u.Role {
			u.Role = *p.Role
			changes["role"] = u.Role
		}
		if p.Active != nil && *p.Active != u.Active {
			u.Active = *p.Active
			changes["active"] = u.Active
		}
		if err := u.Validate(); err != nil {
			return err
		}
		out = &u
		if len(changes) == 0 {
			return nil
		}
		if _, ok := changes["email"]; ok {
			if err := usersUnique(ctx, tx, &u, id); err != nil {
				return err
			}
		}
		if err := usersGuardLastAdmin(locked, before, &u); err != nil {
			return err
		}
		s.identityChanged(ctx)
		if err := tx.Users().Update(ctx, &u); err != nil {
			return err
		}
		if err := usersCheckAdminsLeft(ctx, tx, before, &u); err != nil {
			return err
		}
		if before.Active && !u.Active {
			if _, err := tx.Sessions().DeleteByUser(ctx, id); err != nil {
				return err
			}
		}
		changes["username"] = u.Username
		return s.audit(ctx, tx, "user.update", "user", id, changes)
	})
	if err != nil {
		return nil, err
	}
	return usersPublic(out), nil
}

// Delete removes a user, with their sessions and API keys. Deleting the
// last active admin fails with ErrLastAdmin; a user who still owns jobs,
// assets or open lendings cannot be deleted (store.ErrForeignKey):
// deactivate them instead.
func (us *Users) Delete(ctx context.Context, id string) error {
	s := (*Service)(us)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		locked, err := usersLockAdmins(ctx, tx, id)
		if err != nil {
			return err
		}
		before := locked[id]
		if err := usersGuardLastAdmin(locked, before, nil); err != nil {
			return err
		}
		s.identityChanged(ctx)
		if err := tx.Users().Delete(ctx, id); err != nil {
			if errors.Is(err, store.ErrForeignKey) {
				return fmt.Errorf("user %s still owns jobs, assets or lendings; deactivate instead: %w", before.Username, err)
			}
			return err
		}
		if err := usersCheckAdminsLeft(ctx, tx, before, nil); err != nil {
			return err
		}
		return s.audit(ctx, tx, "user.delete", "user", id, map[string]any{"username": before.Username})
	})
}

// SetPassword sets a user's password as an administrator would reset it:
// it unlocks the account and ends every session of the user.
func (us *Users) SetPassword(ctx context.Context, id, password string) error {
	s := (*Service)(us)
	u, err := us.store.Users().Get(ctx, id)
	if err != nil {
		return err
	}
	if err := security.CheckPassword(password, u.Username); err != nil {
		return &store.ValidationError{Fields: map[string]string{"password": err.Error()}}
	}
	hash, err := security.HashPassword(password)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		u, err := tx.Users().Get(ctx, id)
		if err != nil {
			return err
		}
		now := s.Now()
		u.PasswordHash = hash
		u.PasswordChangedAt = &now
		u.FailedLogins, u.LockedUntil = 0, nil
		s.identityChanged(ctx)
		if err := tx.Users().Update(ctx, u); err != nil {
			return err
		}
		n, err := tx.Sessions().DeleteByUser(ctx, id)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, "user.password", "user", id, map[string]any{
			"username": u.Username, "reset": true, "sessions_ended": n,
		})
	})
}

// ChangePassword is a user changing their own password: oldPassword must be the
// current one. Every other session of the user ends; the session of the
// caller (Actor.SessionID) stays.
func (us *Users) ChangePassword(ctx context.Context, id, oldPassword, newPassword string) error {
	s := (*Service)(us)
	u, err := us.store.Users().Get(ctx, id)
	if err != nil {
		return err
	}
	ok, _, err := security.VerifyPassword(u.PasswordHash, oldPassword)
	if err != nil {
		return fmt.Errorf("backupmgmt: stored password hash of user %s: %w", id, err)
	}
	fields := make(map[string]string)
	if !ok {
		fields["old_password"] = "does not match the current password"
	}
	if err := security.CheckPassword(newPassword, u.Username); err != nil {
		fields["new_password"] = err.Error()
	} else if newPassword == oldPassword {
		fields["new_password"] = "must differ from the current password"
	}
	if len(fields) > 0 {
		return &store.ValidationError{Fields: fields}
	}
	hash, err := security.HashPassword(newPassword)
	if err != nil {
		return err
	}
	keep := ActorFrom(ctx).SessionID
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		cur, err := tx.Users().Get(ctx, id)
		if err != nil {
			return err
		}
		if cur.PasswordHash != u.PasswordHash {
			// Changed since it was verified: oldPassword is no longer proven.
			return &store.ValidationError{Fields: map[string]string{"old_password": "does not match the current password"}}
		}
		now := s.Now()
		cur.PasswordHash = hash
		cur.PasswordChangedAt = &now
		s.identityChanged(ctx)
		if err := tx.Users().Update(ctx, cur); err != nil {
			return err
		}
		sessions, err := tx.Sessions().ListByUser(ctx, id)
		if err != nil {
			return err
		}
		ended := 0
		for _, sess := range sessions {
			if sess.ID == keep {
				continue
			}
			if err := tx.Sessions().Delete(ctx, sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			ended++
		}
		return s.audit(ctx, tx, "user.password", "user", id, map[string]any{
			"username": cur.Username, "reset": false, "sessions_ended": ended,
		})
	})
}

// usersPublic clears the password hash of u: the users the service returns
// go to callers that have no use for it, and a hash that is never handed
// out cannot end up in a response or a log.
func usersPublic(u *store.User) *store.User {
	u.PasswordHash = ""
	return u
}

func usersPublicErr(u *store.User, err error) (*store.User, error) {
	if err != nil {
		return nil, err
	}
	return usersPublic(u), nil
}

// usersFields returns the field errors of err, or an empty map for nil.
func usersFields(err error) map[string]string {
	fields := make(map[string]string)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		for k, v := range ve.Fields {
			fields[k] = v
		}
	}
	return fields
}

// usersUnique reports a username or email that another user than self
// already has as a conflict naming the field. The unique indexes stay the
// last word under a race; this gives the common case a clear error.
func usersUnique(ctx context.Context, tx store.Repos, u *store.User, self string) error {
	if other, err := tx.Users().GetByUsername(ctx, u.Username); err == nil && other.ID != self {
		return &store.ConstraintError{Err: store.ErrConflict, Table: "users", Field: "username"}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if u.Email == "" {
		return nil
	}
	if other, err := tx.Users().GetByEmail(ctx, u.Email); err == nil && other.ID != self {
		return &store.ConstraintError{Err: store.ErrConflict, Table: "users", Field: "email"}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// usersLockAdmins locks the rows of every active admin and of the user id,
// in ID order so that concurrent callers queue instead of deadlocking, and
// returns them by ID. The locked reads see the latest committed rows on
// every database (a plain read on MySQL would see the transaction's
// snapshot), so two transactions demoting the last two admins cannot both
// count the other as remaining.
func usersLockAdmins(ctx context.Context, tx store.Repos, id string) (map[string]*store.User, error) {
	active := true
	ids := []string{id}
	p := store.ListUsersParams{Role: store.RoleAdmin, Active: &active, PageParams: store.PageParams{Limit: store.LimitMax}}
	for {
		page, err := tx.Users().List(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, u := range page.Items {
			ids = append(ids, u.ID)
		}
		if page.NextCursor == "" {
			break
		}
		p.Cursor = page.NextCursor
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[string]*store.User, len(ids))
	for _, uid := range ids {
		u, err := tx.Users().Get(ctx, uid)
		if errors.Is(err, store.ErrNotFound) && uid != id {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out[uid] = u
	}
	return out, nil
}

func usersIsActiveAdmin(u *store.User) bool {
	return u != nil && u.Active && u.Role == store.RoleAdmin
}

// usersGuardLastAdmin fails with ErrLastAdmin when before is an active admin,
// after (nil for a deletion) is not, and no other locked row is one.
func usersGuardLastAdmin(locked map[string]*store.User, before, after *store.User) error {
	if !usersIsActiveAdmin(before) || usersIsActiveAdmin(after) {
		return nil
	}
	for uid, u := range locked {
		if uid != before.ID && usersIsActiveAdmin(u) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is the only one", ErrLastAdmin, before.Username)
}

// usersCheckAdminsLeft counts the active admins after a change that removed
// one and fails with ErrLastAdmin if none is left, so the transaction rolls
// back. With the rows locked by usersLockAdmins this only confirms; it keeps
// the rule true should a caller forget the lock.
func usersCheckAdminsLeft(ctx context.Context, tx store.Repos, before, after *store.User) error {
	if !usersIsActiveAdmin(before) || usersIsActiveAdmin(after) {
		return nil
	}
	n, err := tx.Users().CountActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s is the only one", ErrLastAdmin, before.Username)
	}
	return nil
}
