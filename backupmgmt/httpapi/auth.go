package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// LoginRequest is the body of POST /api/v1/auth/login.
type LoginRequest struct {
	Username string `json:"username" required:"true"`
	Password string `json:"password" required:"true"`
}

// PasswordChange is the body of POST /api/v1/auth/password.
type PasswordChange struct {
	CurrentPassword string `json:"current_password" required:"true"`
	NewPassword     string `json:"new_password" required:"true"`
}

// Me is who the caller is: the body of GET /api/v1/auth/me and of a
// successful login, so that a UI learns the same from either.
type Me struct {
	User User `json:"user"`
	// Role is the user's role (also in user.role).
	Role store.Role `json:"role"`
	// AuthMethod is "session" or "api_key".
	AuthMethod string `json:"auth_method"`
	// Session is the browser session; absent for an API key.
	Session *SessionInfo `json:"session,omitempty"`
	// APIKey is the key the call came with; absent for a session.
	APIKey *APIKey `json:"api_key,omitempty"`
	// Permissions are the permissions the caller holds now (its role's,
	// narrowed by a key's scopes), for a UI to show what it may do.
	Permissions []backupmgmt.Permission `json:"permissions"`
}

// SessionInfo describes a browser session; its token is never shown.
type SessionInfo struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is the absolute end of the session; it also ends after the
	// idle timeout without requests.
	ExpiresAt time.Time `json:"expires_at"`
}

const (
	authMethodSession = "session"
	authMethodAPIKey  = "api_key"
)

func sessionInfo(s *store.Session) *SessionInfo {
	return &SessionInfo{ID: s.ID, CreatedAt: utc(s.CreatedAt), ExpiresAt: utc(s.ExpiresAt)}
}

// permissionsOf lists the permissions act holds, in the order of the
// matrix; never null.
func permissionsOf(act backupmgmt.Actor) []backupmgmt.Permission {
	out := []backupmgmt.Permission{}
	for _, p := range backupmgmt.Permissions() {
		if act.Can(p) {
			out = append(out, p)
		}
	}
	return out
}

func (a *API) authRoutes() []*route {
	return []*route{
		{
			method: "POST", path: "/api/v1/auth/login", public: true, limit: limitLogin, tag: "auth",
			summary: "Sign in with a username and password: sets the session cookie and returns who signed in; any refusal (unknown user, wrong password, locked or inactive account) is the same 401 login_failed",
			body:    LoginRequest{}, resp: Me{}, status: http.StatusOK,
			errors: []int{http.StatusUnauthorized},
			h:      a.login,
		},
		{
			method: "POST", path: "/api/v1/auth/logout", perm: backupmgmt.PermSelf, anyCaller: true, tag: "auth",
			summary: "Sign out: ends the session of the cookie and clears it; an API key has no session (400 not_a_session: revoke the key instead)",
			status:  http.StatusNoContent,
			h:       a.logout,
		},
		{
			method: "GET", path: "/api/v1/auth/me", perm: backupmgmt.PermSelf, anyCaller: true, tag: "auth",
			summary: "The caller: user, role, session or API key, and the permissions it holds",
			resp:    Me{}, status: http.StatusOK,
			h: a.me,
		},
		{
			method: "POST", path: "/api/v1/auth/password", perm: backupmgmt.PermSelf, limit: limitPassword, resource: "user", tag: "auth",
			summary: "Change one's own password; every other session of the user ends",
			body:    PasswordChange{}, status: http.StatusNoContent,
			h: a.changePassword,
		},
	}
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var in LoginRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if !a.allowLoginUser(w, r, in.Username) {
		return nil
	}
	p := backupmgmt.LoginParams{
		Username:  in.Username,
		Password:  in.Password,
		IP:        caller(r).IP,
		UserAgent: r.UserAgent(),
	}
	if c, err := r.Cookie(security.SessionCookieName); err == nil {
		p.PreviousToken = c.Value
	}
	res, err := a.svc.Auth().Login(r.Context(), p)
	if err != nil {
		return err
	}
	maxAge := int(res.Session.ExpiresAt.Sub(a.svc.Now()) / time.Second)
	security.SetSessionCookie(w, res.Token.Reveal(), a.cfg.BehindTLS, max(maxAge, 1))
	act := backupmgmt.SessionActor(res.User, res.Session)
	writeJSON(w, http.StatusOK, Me{
		User:        a.userView(res.User),
		Role:        res.User.Role,
		AuthMethod:  authMethodSession,
		Session:     sessionInfo(res.Session),
		Permissions: permissionsOf(act),
	})
	return nil
}

// logout ends the cookie's session. With an API key there is no session:
// answering 204 would let a script believe it had ended its key, so it is
// told to revoke the key instead.
func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	if caller(r).APIKeyID != "" {
		return errorf(http.StatusBadRequest, "not_a_session", "the request was made with an API key, which has no session to end; revoke the key to end it")
	}
	c, err := r.Cookie(security.SessionCookieName)
	if err != nil {
		return errorf(http.StatusBadRequest, "not_a_session", "no session cookie")
	}
	if err := a.svc.Auth().Logout(r.Context(), c.Value); err != nil {
		return err
	}
	security.ClearSessionCookie(w, a.cfg.BehindTLS)
	noContent(w)
	return nil
}

func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	act := caller(r)
	u, err := a.svc.Users().Get(r.Context(), act.UserID)
	if errors.Is(err, store.ErrNotFound) {
		// Deleted since authentication.
		return errorf(http.StatusUnauthorized, "unauthenticated", "the user no longer exists")
	}
	if err != nil {
		return err
	}
	out := Me{
		User:        a.userView(u),
		Role:        act.Role,
		AuthMethod:  authMethodSession,
		Permissions: permissionsOf(act),
	}
	if act.APIKeyID != "" {
		out.AuthMethod = authMethodAPIKey
		k, err := a.svc.APIKeys().Get(r.Context(), act.APIKeyID)
		if err != nil {
			return err
		}
		v := apiKeyView(k)
		out.APIKey = &v
	} else if c, err := r.Cookie(security.SessionCookieName); err == nil {
		// The session was just checked; this second look only reads its
		// times, which the Actor does not carry.
		if _, sess, err := a.svc.Auth().Session(r.Context(), c.Value); err == nil {
			out.Session = sessionInfo(sess)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in PasswordChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	err := a.svc.Users().ChangePassword(r.Context(), caller(r).UserID, in.CurrentPassword, in.NewPassword)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		// The domain names the old password old_password; the wire calls
		// it current_password.
		fields := make(map[string]string, len(ve.Fields))
		for k, v := range ve.Fields {
			if k == "old_password" {
				k = "current_password"
			}
			fields[k] = v
		}
		return invalid(fields)
	}
	if err != nil {
		return err
	}
	noContent(w)
	return nil
}
