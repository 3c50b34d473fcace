package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// User is a person who signs in. The password hash is never part of it.
type User struct {
	ID         string     `json:"id"`
	Username   string     `json:"username"`
	Email      string     `json:"email"`
	FullName   string     `json:"full_name"`
	Department string     `json:"department"`
	Role       store.Role `json:"role"`
	Active     bool       `json:"active"`
	// Locked says the account is locked out after failed logins.
	Locked bool `json:"locked"`
	// FailedLogins counts the wrong passwords of the current series.
	FailedLogins int `json:"failed_logins"`
	// LockedUntil is when the lockout ends; absent when not locked (the
	// stored value is otherwise the end of the counting window, which
	// would read as a lock).
	LockedUntil       *time.Time `json:"locked_until,omitempty"`
	LastLoginAt       *time.Time `json:"last_login_at,omitempty"`
	PasswordChangedAt *time.Time `json:"password_changed_at,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

func (a *API) userView(u *store.User) User {
	v := User{
		ID:                u.ID,
		Username:          u.Username,
		Email:             u.Email,
		FullName:          u.FullName,
		Department:        u.Department,
		Role:              u.Role,
		Active:            u.Active,
		Locked:            a.svc.Auth().Locked(u),
		FailedLogins:      u.FailedLogins,
		LastLoginAt:       utcPtr(u.LastLoginAt),
		PasswordChangedAt: utcPtr(u.PasswordChangedAt),
		CreatedAt:         utc(u.CreatedAt),
		UpdatedAt:         utc(u.UpdatedAt),
	}
	if v.Locked {
		v.LockedUntil = utcPtr(u.LockedUntil)
	}
	return v
}

// UserCreate is the body of POST /api/v1/users.
type UserCreate struct {
	Username   string     `json:"username" required:"true"`
	Email      string     `json:"email"`
	FullName   string     `json:"full_name"`
	Department string     `json:"department"`
	Role       store.Role `json:"role" required:"true"`
	// Password is the initial password: at least 12 characters, not
	// containing the username.
	Password string `json:"password" required:"true"`
}

// UserPatch is the body of PATCH /api/v1/users/{id}; absent fields are
// kept. The username cannot change.
type UserPatch struct {
	Email      *string     `json:"email"`
	FullName   *string     `json:"full_name"`
	Department *string     `json:"department"`
	Role       *store.Role `json:"role"`
	Active     *bool       `json:"active"`
}

// PasswordSet is the body of POST /api/v1/users/{id}/password.
type PasswordSet struct {
	Password string `json:"password" required:"true"`
}

func (a *API) userRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/users", perm: backupmgmt.PermAdmin, tag: "users",
			summary: "List users, ordered by username",
			resp:    List[User]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "role", typ: "string", desc: "only users of this role", enum: enumOf[store.Role]()},
				{name: "active", typ: "boolean", desc: "only active (true) or inactive (false) users"},
				{name: "q", typ: "string", desc: "only users whose username, email or full name contains this text, ignoring case"},
			}, pageParams...),
			h: a.listUsers,
		},
		{
			method: "POST", path: "/api/v1/users", perm: backupmgmt.PermAdmin, tag: "users",
			summary: "Create a user with an initial password",
			body:    UserCreate{}, resp: User{}, status: http.StatusCreated,
			h: a.createUser,
		},
		{
			method: "GET", path: "/api/v1/users/{id}", perm: backupmgmt.PermAdmin, resource: "user", tag: "users",
			summary: "Get a user",
			resp:    User{}, status: http.StatusOK,
			h: a.getUser,
		},
		{
			method: "PATCH", path: "/api/v1/users/{id}", perm: backupmgmt.PermAdmin, resource: "user", tag: "users",
			summary: "Change a user's email, name, department, role or active flag; deactivating ends their sessions; the last active admin cannot be demoted or deactivated (409 last_admin)",
			body:    UserPatch{}, resp: User{}, status: http.StatusOK,
			h: a.patchUser,
		},
		{
			method: "DELETE", path: "/api/v1/users/{id}", perm: backupmgmt.PermAdmin, resource: "user", tag: "users",
			summary: "Delete a user with their sessions and API keys; the last active admin cannot be deleted (409 last_admin), nor a user who owns jobs, assets or open lendings (409 user_in_use: deactivate instead)",
			status:  http.StatusNoContent,
			h:       a.deleteUser,
		},
		{
			method: "POST", path: "/api/v1/users/{id}/password", perm: backupmgmt.PermAdmin, resource: "user", tag: "users",
			summary: "Set a user's password as an administrator: unlocks the account and ends every session of the user",
			body:    PasswordSet{}, status: http.StatusNoContent,
			h: a.setUserPassword,
		},
	}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListUsersParams{
		PageParams: q.page(),
		Role:       store.Role(q.str("role")),
		Active:     q.boolean("active"),
	}
	search := strings.ToLower(strings.TrimSpace(q.str("q")))
	if err := q.err(); err != nil {
		return err
	}
	var page *store.Page[store.User]
	var err error
	if search == "" {
		page, err = a.svc.Users().List(r.Context(), p)
	} else {
		page, err = a.searchUsers(r.Context(), p, search)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, a.userView))
	return nil
}

// userSearchRounds bounds the store pages one search request reads; a
// rarer match than that returns a short page with a next_cursor, which
// pagination allows.
const userSearchRounds = 5

// searchUsers filters the user list by text, which the store cannot do:
// it reads full pages from p.Cursor and keeps the matches. When a page
// holds more matches than are wanted, the same page is read again up to
// the last match kept, so that the cursor handed out is the store's own
// and the next page starts right after it.
func (a *API) searchUsers(ctx context.Context, p store.ListUsersParams, search string) (*store.Page[store.User], error) {
	want := p.PageLimit()
	out := &store.Page[store.User]{Items: []store.User{}}
	cursor := p.Cursor
	for range userSearchRounds {
		sp := p
		sp.Cursor, sp.Limit = cursor, store.LimitMax
		page, err := a.svc.Users().List(ctx, sp)
		if err != nil {
			return nil, err
		}
		for i := range page.Items {
			if !userMatches(&page.Items[i], search) {
				continue
			}
			out.Items = append(out.Items, page.Items[i])
			if len(out.Items) < want {
				continue
			}
			if i == len(page.Items)-1 {
				out.NextCursor = page.NextCursor
				return out, nil
			}
			sp.Limit = i + 1
			upTo, err := a.svc.Users().List(ctx, sp)
			if err != nil {
				return nil, err
			}
			out.NextCursor = upTo.NextCursor
			return out, nil
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
	out.NextCursor = cursor
	return out, nil
}

func userMatches(u *store.User, search string) bool {
	return strings.Contains(strings.ToLower(u.Username), search) ||
		strings.Contains(strings.ToLower(u.Email), search) ||
		strings.Contains(strings.ToLower(u.FullName), search)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request) error {
	var in UserCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := a.svc.Users().Create(r.Context(), backupmgmt.UserParams{
		Username:   in.Username,
		Email:      in.Email,
		FullName:   in.FullName,
		Department: in.Department,
		Role:       in.Role,
		Password:   in.Password,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.userView(u))
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := a.svc.Users().Get(r.Context(), pathID(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.userView(u))
	return nil
}

func (a *API) patchUser(w http.ResponseWriter, r *http.Request) error {
	var in UserPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := a.svc.Users().Update(r.Context(), pathID(r, "id"), backupmgmt.UserUpdate{
		Email:      in.Email,
		FullName:   in.FullName,
		Department: in.Department,
		Role:       in.Role,
		Active:     in.Active,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.userView(u))
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) error {
	err := a.svc.Users().Delete(r.Context(), pathID(r, "id"))
	if errors.Is(err, store.ErrForeignKey) {
		// The generic mapping would name the referring column as a bad
		// input field; here nothing in the request is wrong.
		return errorf(http.StatusConflict, "user_in_use", "the user owns jobs, assets or open lendings; deactivate the user instead")
	}
	if err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (a *API) setUserPassword(w http.ResponseWriter, r *http.Request) error {
	var in PasswordSet
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := a.svc.Users().SetPassword(r.Context(), pathID(r, "id"), in.Password); err != nil {
		return err
	}
	noContent(w)
	return nil
}
