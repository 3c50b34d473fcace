package backupmgmt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
)

// Auth signs users in and out and checks browser sessions (DESIGN §7).
//
// Lockout: Config.LockoutThreshold wrong passwords within
// Config.LockoutWindow lock an account for Config.LockoutDuration. The
// window is fixed, starting at the first failure of a series, and kept in
// the user's LockedUntil while FailedLogins is below the threshold: then
// LockedUntil is the end of the counting window, not a lock. A failure after
// that end starts a new series at 1. Once FailedLogins reaches the
// threshold, LockedUntil is the end of the lock; a failure after it again
// starts a new series. Use Locked to tell whether an account is locked.
type Auth Service

// Auth gives the sign-in and session operations.
func (s *Service) Auth() *Auth { return (*Auth)(s) }

// ErrLoginFailed is the one error of a refused login, whether the user is
// unknown, inactive or locked or the password is wrong, so that a caller
// learns nothing about which accounts exist.
var ErrLoginFailed = errors.New("backupmgmt: invalid username or password")

// ErrSessionExpired is returned for a session token that does not name a
// live session: unknown, idle too long, past its absolute expiry, or of a
// user who is no longer active.
var ErrSessionExpired = errors.New("backupmgmt: session expired")

// sessionTouchEvery is how stale a session's LastSeenAt may get before a
// request writes it again; one write a minute per session is plenty for a
// 30-minute idle timeout.
const sessionTouchEvery = time.Minute

// authMaxUsernameAudit bounds the attempted username kept in the audit
// log: it is whatever a client sent.
const authMaxUsernameAudit = 100

// LoginParams are the inputs of a login.
type LoginParams struct {
	Username string
	Password string
	// IP and UserAgent are stored with the session, IP also in the audit
	// event. IP defaults to the IP of the ctx actor.
	IP        string
	UserAgent string
	// PreviousToken is the session token the browser still holds, if any;
	// its session ends, so that a login always gets a fresh token.
	PreviousToken string
}

// LoginResult is a successful login.
type LoginResult struct {
	// User is the signed-in user, without PasswordHash.
	User    *store.User
	Session *store.Session
	// Token is the session token for the cookie; only its hash is stored.
	Token security.Secret
}

// Locked reports whether u is locked out now.
func (a *Auth) Locked(u *store.User) bool {
	return a.lockedAt(u, (*Service)(a).Now())
}

func (a *Auth) lockedAt(u *store.User, now time.Time) bool {
	return u.FailedLogins >= a.cfg.LockoutThreshold && u.LockedUntil != nil && now.Before(*u.LockedUntil)
}

// recordFailure counts a wrong password on u and reports whether it locked
// the account.
func (a *Auth) recordFailure(u *store.User, now time.Time) bool {
	if u.LockedUntil == nil || !now.Before(*u.LockedUntil) {
		end := now.Add(a.cfg.LockoutWindow)
		u.FailedLogins, u.LockedUntil = 1, &end
	} else {
		u.FailedLogins++
	}
	if u.FailedLogins < a.cfg.LockoutThreshold {
		return false
	}
	until := now.Add(a.cfg.LockoutDuration)
	u.LockedUntil = &until
	return true
}

// Login checks a username and password and starts a session. Every refusal
// is ErrLoginFailed after the same work (one password verification), and is
// audited as a failed auth.login with the attempted username and the
// reason. A bcrypt hash (or a weaker argon2id one) is replaced by a fresh
// argon2id hash on success.
func (a *Auth) Login(ctx context.Context, p LoginParams) (*LoginResult, error) {
	s := (*Service)(a)
	username := strings.TrimSpace(p.Username)
	known, err := s.store.Users().GetByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	// The password is verified outside the transaction: it costs tens of
	// milliseconds and must not hold a row lock, or SQLite's one writer,
	// meanwhile. The transaction re-checks that the hash is unchanged.
	var ok, rehash bool
	if known == nil {
		security.DummyVerify(p.Password)
	} else {
		ok, rehash, err = security.VerifyPassword(known.PasswordHash, p.Password)
		if err != nil {
			// Do the work a readable hash costs, so corruption is no tell.
			security.DummyVerify(p.Password)
			s.log.WarnContext(ctx, "stored password hash unreadable", "user_id", known.ID, "error", err)
			ok = false
		}
	}
	var newHash string
	if ok && rehash {
		if newHash, err = security.HashPassword(p.Password); err != nil {
			return nil, err
		}
	}
	token, err := security.NewSessionToken()
	if err != nil {
		return nil, err
	}
	ip := cmp.Or(p.IP, ActorFrom(ctx).IP)

	var res *LoginResult
	err = s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		res = nil
		now := s.Now()
		fail := authFailure{username: username, ip: ip}
		if known == nil {
			fail.reason = "unknown_user"
			return a.auditFailure(ctx, tx, fail)
		}
		u, err := tx.Users().Get(ctx, known.ID)
		if errors.Is(err, store.ErrNotFound) {
			fail.reason = "unknown_user"
			return a.auditFailure(ctx, tx, fail)
		}
		if err != nil {
			return err
		}
		fail.userID = u.ID
		switch {
		case !u.Active:
			fail.reason = "inactive"
		case a.lockedAt(u, now):
			fail.reason = "locked"
		case !ok || u.PasswordHash != known.PasswordHash:
			fail.reason = "wrong_password"
			fail.locked = a.recordFailure(u, now)
			if err := tx.Users().Update(ctx, u); err != nil {
				return err
			}
			fail.failures = u.FailedLogins
		}
		if fail.reason != "" {
			return a.auditFailure(ctx, tx, fail)
		}

		u.FailedLogins, u.LockedUntil, u.LastLoginAt = 0, nil, &now
		if newHash != "" {
			u.PasswordHash = newHash
		}
		if err := tx.Users().Update(ctx, u); err != nil {
			return err
		}
		if p.PreviousToken != "" {
			if err := authEndSession(ctx, tx, p.PreviousToken); err != nil {
				return err
			}
		}
		sess := &store.Session{
			ID:         s.cfg.NewID(),
			TokenHash:  security.HashToken(token),
			UserID:     u.ID,
			CreatedAt:  now,
			LastSeenAt: now,
			ExpiresAt:  now.Add(a.cfg.SessionMaxAge),
			IP:         store.TruncateText(ip, 64),
			UserAgent:  p.UserAgent,
		}
		if err := tx.Sessions().Create(ctx, sess); err != nil {
			return err
		}
		actor := SessionActor(u, sess)
		actor.IP, actor.RequestID = ip, ActorFrom(ctx).RequestID
		details := map[string]any{"username": u.Username, "session_id": sess.ID}
		if newHash != "" {
			details["password_rehashed"] = true
		}
		if err := s.audit(WithActor(ctx, actor), tx, "auth.login", "user", u.ID, details); err != nil {
			return err
		}
		res = &LoginResult{User: usersPublic(u), Session: sess, Token: security.Secret(token)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, ErrLoginFailed
	}
	return res, nil
}

// authFailure is what the audit event of a refused login says.
type authFailure struct {
	username string
	userID   string // empty for an unknown user
	ip       string
	reason   string
	failures int  // the failure count after a wrong password
	locked   bool // this failure locked the account
}

// auditFailure writes the failed auth.login event. It returns nil so that
// the transaction commits the event and the failure count; Login turns the
// missing result into ErrLoginFailed.
func (a *Auth) auditFailure(ctx context.Context, tx store.Repos, f authFailure) error {
	actor := ActorSystem
	if f.userID != "" {
		actor = "user:" + f.userID
	}
	details := map[string]any{
		"username": store.TruncateText(f.username, authMaxUsernameAudit),
		"reason":   f.reason,
	}
	if f.failures > 0 {
		details["failed_logins"] = f.failures
	}
	if f.locked {
		details["locked"] = true
	}
	_, err := (*Service)(a).appendAudit(ctx, tx, AuditEntry{
		Actor:        actor,
		Action:       "auth.login",
		ResourceType: "user",
		ResourceID:   f.userID,
		Result:       store.AuditFailed,
		IP:           f.ip,
		Details:      details,
	})
	return err
}

// authEndSession deletes the session of token, if there is one.
func authEndSession(ctx context.Context, tx store.Repos, token string) error {
	sess, err := tx.Sessions().GetByTokenHash(ctx, security.HashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := tx.Sessions().Delete(ctx, sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// Session returns the user and session of a session token, and records the
// activity. A session idle for Config.SessionIdleTimeout, past its absolute
// expiry, or of an inactive user is deleted and gives ErrSessionExpired, as
// does an unknown token. With a store.SessionUserGetter it costs one query
// while no activity is due to be written.
func (a *Auth) Session(ctx context.Context, token string) (*store.User, *store.Session, error) {
	s := (*Service)(a)
	if token == "" {
		return nil, nil, ErrSessionExpired
	}
	var (
		sess *store.Session
		u    *store.User // nil until read
		err  error
	)
	hash := security.HashToken(token)
	if g, ok := s.store.Sessions().(store.SessionUserGetter); ok {
		sess, u, err = g.GetSessionUser(ctx, hash)
	} else {
		sess, err = s.store.Sessions().GetByTokenHash(ctx, hash)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrSessionExpired
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= a.cfg.SessionIdleTimeout {
		return nil, nil, a.expire(ctx, sess.ID)
	}
	if u == nil {
		u, err = s.store.Users().Get(ctx, sess.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, ErrSessionExpired
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if !u.Active {
		return nil, nil, a.expire(ctx, sess.ID)
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouchEvery {
		if err := s.store.Sessions().Touch(ctx, sess.ID, now); errors.Is(err, store.ErrNotFound) {
			return nil, nil, ErrSessionExpired // logged out meanwhile
		} else if err != nil {
			return nil, nil, err
		}
		sess.LastSeenAt = now
	}
	return usersPublic(u), sess, nil
}

// expire deletes a dead session and returns ErrSessionExpired, or the error
// of the delete.
func (a *Auth) expire(ctx context.Context, id string) error {
	if err := a.store.Sessions().Delete(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("backupmgmt: deleting expired session: %w", err)
	}
	return ErrSessionExpired
}

// Logout ends the session of token and audits auth.logout. An unknown
// token is nothing to end and no error.
func (a *Auth) Logout(ctx context.Context, token string) error {
	s := (*Service)(a)
	if token == "" {
		return nil
	}
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		sess, err := tx.Sessions().GetByTokenHash(ctx, security.HashToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.Sessions().Delete(ctx, sess.ID); err != nil {
			return err
		}
		if ActorFrom(ctx).IsSystem() {
			actor := Actor{UserID: sess.UserID, SessionID: sess.ID, IP: sess.IP, RequestID: ActorFrom(ctx).RequestID}
			ctx = WithActor(ctx, actor)
		}
		return s.audit(ctx, tx, "auth.logout", "user", sess.UserID, map[string]any{"session_id": sess.ID})
	})
}

// SessionActor is the actor of calls made in a browser session of u. The
// HTTP layer adds the IP and request ID.
func SessionActor(u *store.User, sess *store.Session) Actor {
	return Actor{UserID: u.ID, Role: u.Role, SessionID: sess.ID}
}

// PurgeExpiredSessions deletes the sessions past their absolute expiry and
// reports how many went; the scheduler runs it. Sessions that only went
// idle are deleted when next presented, or here once their absolute expiry
// passes.
func (a *Auth) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	n, err := a.store.Sessions().DeleteExpired(ctx, (*Service)(a).Now())
	if err != nil {
		return 0, fmt.Errorf("backupmgmt: purging sessions: %w", err)
	}
	return n, nil
}
