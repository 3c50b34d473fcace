package backupmgmt

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

const identityPassword = "correct horse battery staple"

// identityUser creates a user through the service with identityPassword.
func (b *testBundle) identityUser(t testing.TB, ctx context.Context, username string, role store.Role) *store.User {
	t.Helper()
	u, err := b.svc.Users().Create(ctx, UserParams{
		Username: username, Email: username + "@example.com", FullName: "User " + username,
		Role: role, Password: identityPassword,
	})
	require.NoError(t, err)
	return u
}

// identityNoSecrets fails if the details of any audit event contain one of
// the secrets, and checks that the chain verifies.
func (b *testBundle) identityNoSecrets(t testing.TB, secrets ...string) {
	t.Helper()
	b.auditActions(t)
	events := b.identityEvents(t)
	require.NotEmpty(t, events)
	for _, e := range events {
		for _, s := range secrets {
			require.NotContains(t, string(e.Details), s, "event %d (%s) leaks a secret", e.Seq, e.Action)
		}
		require.NotContains(t, string(e.Details), "argon2id", "event %d (%s) leaks a hash", e.Seq, e.Action)
		require.NotContains(t, string(e.Details), "password_hash", "event %d (%s)", e.Seq, e.Action)
	}
}

// identityEvents returns every audit event in order.
func (b *testBundle) identityEvents(t testing.TB) []store.AuditEvent {
	t.Helper()
	events, err := b.store.Audit().Range(t.Context(), 0, 100000)
	require.NoError(t, err)
	return events
}

func identityFields(t testing.TB, err error) map[string]string {
	t.Helper()
	var ve *store.ValidationError
	require.ErrorAs(t, err, &ve)
	return ve.Fields
}

func TestUsers(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("CreatesAUserWithAnArgon2idHashAndAudits", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			admin := b.userFixture(t, "root", store.RoleAdmin)
			ctx := actorCtx(t.Context(), admin)

			u := b.identityUser(t, ctx, "alice", store.RoleOperator)
			require.Empty(t, u.PasswordHash, "the service hands out no hash")
			pub, err := b.svc.Users().GetByUsername(t.Context(), "ALICE")
			require.NoError(t, err)
			require.Equal(t, u.ID, pub.ID)
			require.Empty(t, pub.PasswordHash)
			got, err := b.store.Users().Get(t.Context(), u.ID)
			require.NoError(t, err)
			require.True(t, got.Active)
			require.Equal(t, store.RoleOperator, got.Role)
			require.True(t, strings.HasPrefix(got.PasswordHash, "$argon2id$"))
			ok, rehash, err := security.VerifyPassword(got.PasswordHash, identityPassword)
			require.NoError(t, err)
			require.True(t, ok)
			require.False(t, rehash)
			require.NotNil(t, got.PasswordChangedAt)

			require.Equal(t, []string{"user.create"}, b.auditActions(t))
			ev := b.identityEvents(t)
			require.Equal(t, "user:"+admin.ID, ev[0].Actor)
			require.Equal(t, u.ID, ev[0].ResourceID)
			require.Contains(t, string(ev[0].Details), `"alice"`)
			b.identityNoSecrets(t, identityPassword)
		})

		t.Run("RejectsBadFieldsNamingEach", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			_, err := b.svc.Users().Create(t.Context(), UserParams{
				Username: "a b", Email: "not-an-email", Role: "root", Password: "short",
			})
			f := identityFields(t, err)
			require.Contains(t, f, "username")
			require.Contains(t, f, "email")
			require.Contains(t, f, "role")
			require.Contains(t, f, "password")

			_, err = b.svc.Users().Create(t.Context(), UserParams{
				Username: "bob", Role: store.RoleViewer, Password: "my name is bob, truly",
			})
			require.Equal(t, "password must not contain the username", identityFields(t, err)["password"])

			page, err := b.svc.Users().List(t.Context(), store.ListUsersParams{})
			require.NoError(t, err)
			require.Empty(t, page.Items)
			require.Empty(t, b.auditActions(t))

			_, err = b.svc.Users().List(t.Context(), store.ListUsersParams{Role: "root"})
			require.Contains(t, identityFields(t, err), "role")
		})

		t.Run("RejectsATakenUsernameOrEmailNamingTheField", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			b.identityUser(t, ctx, "alice", store.RoleViewer)

			_, err := b.svc.Users().Create(ctx, UserParams{Username: "Alice", Role: store.RoleViewer, Password: identityPassword})
			require.ErrorIs(t, err, store.ErrConflict)
			var ce *store.ConstraintError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "username", ce.Field)

			_, err = b.svc.Users().Create(ctx, UserParams{Username: "alice2", Email: "ALICE@example.com", Role: store.RoleViewer, Password: identityPassword})
			require.ErrorIs(t, err, store.ErrConflict)
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "email", ce.Field)

			bob := b.identityUser(t, ctx, "bob", store.RoleViewer)
			taken := "alice@example.com"
			_, err = b.svc.Users().Update(ctx, bob.ID, UserUpdate{Email: &taken})
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "email", ce.Field)
			require.Equal(t, []string{"user.create", "user.create"}, b.auditActions(t))
		})

		t.Run("OneOfTwoConcurrentCreatesOfTheSameUsernameWins", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = b.svc.Users().Create(ctx, UserParams{Username: "zoe", Role: store.RoleViewer, Password: identityPassword})
				})
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
					continue
				}
				require.ErrorIs(t, err, store.ErrConflict)
				var ce *store.ConstraintError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, "username", ce.Field)
			}
			require.Equal(t, 1, ok)
			require.Equal(t, []string{"user.create"}, b.auditActions(t))
		})

		t.Run("UpdatesTheGivenFieldsAndAuditsTheChanges", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "carol", store.RoleViewer)
			name, dept, role := "Carol Jones", "Infrastructure", store.RoleOperator
			got, err := b.svc.Users().Update(ctx, u.ID, UserUpdate{FullName: &name, Department: &dept, Role: &role})
			require.NoError(t, err)
			require.Equal(t, name, got.FullName)
			stored, err := b.svc.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.Equal(t, dept, stored.Department)
			require.Equal(t, store.RoleOperator, stored.Role)
			require.Equal(t, u.Email, stored.Email, "fields not given stay")

			// No change, no event.
			_, err = b.svc.Users().Update(ctx, u.ID, UserUpdate{Role: &role})
			require.NoError(t, err)

			bad := store.Role("root")
			_, err = b.svc.Users().Update(ctx, u.ID, UserUpdate{Role: &bad})
			require.Contains(t, identityFields(t, err), "role")

			require.Equal(t, []string{"user.create", "user.update"}, b.auditActions(t))
			ev := b.identityEvents(t)
			require.JSONEq(t, `{"username":"carol","full_name":"Carol Jones","department":"Infrastructure","role":"operator"}`, string(ev[1].Details))

			_, err = b.svc.Users().Update(ctx, "nope", UserUpdate{Role: &role})
			require.ErrorIs(t, err, store.ErrNotFound)
		})

		t.Run("DeactivatingEndsTheSessions", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "dave", store.RoleOperator)
			res, err := b.svc.Auth().Login(ctx, LoginParams{Username: "dave", Password: identityPassword})
			require.NoError(t, err)
			off := false
			_, err = b.svc.Users().Update(ctx, u.ID, UserUpdate{Active: &off})
			require.NoError(t, err)
			sessions, err := b.store.Sessions().ListByUser(ctx, u.ID)
			require.NoError(t, err)
			require.Empty(t, sessions)
			_, _, err = b.svc.Auth().Session(ctx, res.Token.Reveal())
			require.ErrorIs(t, err, ErrSessionExpired)
		})

		t.Run("DeletesAndAudits", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "erin", store.RoleViewer)
			require.NoError(t, b.svc.Users().Delete(ctx, u.ID))
			_, err := b.svc.Users().Get(ctx, u.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
			require.ErrorIs(t, b.svc.Users().Delete(ctx, u.ID), store.ErrNotFound)
			require.Equal(t, []string{"user.create", "user.delete"}, b.auditActions(t))
		})

		t.Run("RefusesToDeleteAUserWhoOwnsAJob", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "frank", store.RoleOperator)
			b.jobFixture(t, "erp-db", func(j *store.Job) { j.OwnerID = &u.ID })
			require.ErrorIs(t, b.svc.Users().Delete(ctx, u.ID), store.ErrForeignKey)
			_, err := b.svc.Users().Get(ctx, u.ID)
			require.NoError(t, err)
		})

		t.Run("GuardsTheLastActiveAdmin", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			a1 := b.identityUser(t, ctx, "admin1", store.RoleAdmin)
			viewer, off := store.RoleViewer, false

			_, err := b.svc.Users().Update(ctx, a1.ID, UserUpdate{Role: &viewer})
			require.ErrorIs(t, err, ErrLastAdmin)
			_, err = b.svc.Users().Update(ctx, a1.ID, UserUpdate{Active: &off})
			require.ErrorIs(t, err, ErrLastAdmin)
			require.ErrorIs(t, b.svc.Users().Delete(ctx, a1.ID), ErrLastAdmin)
			got, err := b.svc.Users().Get(ctx, a1.ID)
			require.NoError(t, err)
			require.Equal(t, store.RoleAdmin, got.Role)
			require.True(t, got.Active)

			// An inactive admin does not count.
			a2 := b.identityUser(t, ctx, "admin2", store.RoleAdmin)
			_, err = b.svc.Users().Update(ctx, a2.ID, UserUpdate{Active: &off})
			require.NoError(t, err)
			_, err = b.svc.Users().Update(ctx, a1.ID, UserUpdate{Role: &viewer})
			require.ErrorIs(t, err, ErrLastAdmin)

			// With another active admin, one may go.
			a3 := b.identityUser(t, ctx, "admin3", store.RoleAdmin)
			_, err = b.svc.Users().Update(ctx, a1.ID, UserUpdate{Role: &viewer})
			require.NoError(t, err)
			require.ErrorIs(t, b.svc.Users().Delete(ctx, a3.ID), ErrLastAdmin)
			n, err := b.store.Users().CountActiveAdmins(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			require.Equal(t, []string{"user.create", "user.create", "user.update", "user.create", "user.update"}, b.auditActions(t))
		})

		t.Run("OneOfTwoConcurrentDemotionsOfTheLastTwoAdminsSucceeds", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			admins := []*store.User{b.userFixture(t, "admin1", store.RoleAdmin), b.userFixture(t, "admin2", store.RoleAdmin)}
			for round := range 5 {
				var wg sync.WaitGroup
				errs := make([]error, 2)
				start := make(chan struct{})
				for i, a := range admins {
					wg.Go(func() {
						<-start
						role := store.RoleOperator
						_, errs[i] = b.svc.Users().Update(ctx, a.ID, UserUpdate{Role: &role})
					})
				}
				close(start)
				wg.Wait()
				ok := 0
				for _, err := range errs {
					if err == nil {
						ok++
					} else {
						require.ErrorIs(t, err, ErrLastAdmin, "round %d", round)
					}
				}
				require.Equal(t, 1, ok, "round %d: exactly one demotion succeeds", round)
				n, err := b.store.Users().CountActiveAdmins(ctx)
				require.NoError(t, err)
				require.Equal(t, 1, n)
				// Promote back for the next round.
				for _, a := range admins {
					u, err := b.store.Users().Get(ctx, a.ID)
					require.NoError(t, err)
					u.Role = store.RoleAdmin
					require.NoError(t, b.store.Users().Update(ctx, u))
				}
			}
			b.auditActions(t)
		})

		t.Run("SetPasswordResetsUnlocksAndEndsSessions", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "gina", store.RoleViewer)
			_, err := b.svc.Auth().Login(ctx, LoginParams{Username: "gina", Password: identityPassword})
			require.NoError(t, err)
			for range 5 {
				_, err := b.svc.Auth().Login(ctx, LoginParams{Username: "gina", Password: "wrong password!!"})
				require.ErrorIs(t, err, ErrLoginFailed)
			}
			locked, err := b.svc.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.True(t, b.svc.Auth().Locked(locked))

			require.Contains(t, identityFields(t, b.svc.Users().SetPassword(ctx, u.ID, "tiny")), "password")
			const fresh = "a brand new passphrase"
			require.NoError(t, b.svc.Users().SetPassword(ctx, u.ID, fresh))
			got, err := b.svc.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			require.False(t, b.svc.Auth().Locked(got))
			require.Zero(t, got.FailedLogins)
			sessions, err := b.store.Sessions().ListByUser(ctx, u.ID)
			require.NoError(t, err)
			require.Empty(t, sessions)
			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "gina", Password: fresh})
			require.NoError(t, err)
			require.Contains(t, b.auditActions(t), "user.password")
			b.identityNoSecrets(t, identityPassword, fresh, "wrong password!!")
		})

		t.Run("ChangePasswordChecksTheOldOneAndEndsOtherSessions", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			u := b.identityUser(t, ctx, "hank", store.RoleOperator)
			phone, err := b.svc.Auth().Login(ctx, LoginParams{Username: "hank", Password: identityPassword})
			require.NoError(t, err)
			laptop, err := b.svc.Auth().Login(ctx, LoginParams{Username: "hank", Password: identityPassword})
			require.NoError(t, err)
			const fresh = "another good passphrase"

			err = b.svc.Users().ChangePassword(ctx, u.ID, "not my password", fresh)
			require.Contains(t, identityFields(t, err), "old_password")
			err = b.svc.Users().ChangePassword(ctx, u.ID, identityPassword, "short")
			require.Contains(t, identityFields(t, err), "new_password")
			err = b.svc.Users().ChangePassword(ctx, u.ID, identityPassword, identityPassword)
			require.Contains(t, identityFields(t, err), "new_password")

			me := WithActor(ctx, SessionActor(laptop.User, laptop.Session))
			require.NoError(t, b.svc.Users().ChangePassword(me, u.ID, identityPassword, fresh))
			_, _, err = b.svc.Auth().Session(ctx, phone.Token.Reveal())
			require.ErrorIs(t, err, ErrSessionExpired, "other sessions end")
			_, _, err = b.svc.Auth().Session(ctx, laptop.Token.Reveal())
			require.NoError(t, err, "the caller's session stays")

			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "hank", Password: identityPassword})
			require.ErrorIs(t, err, ErrLoginFailed)
			_, err = b.svc.Auth().Login(ctx, LoginParams{Username: "hank", Password: fresh})
			require.NoError(t, err)
			require.Equal(t, []string{"user.create", "auth.login", "auth.login", "user.password", "auth.login", "auth.login"}, b.auditActions(t))
			b.identityNoSecrets(t, identityPassword, fresh)
		})
	})
}
