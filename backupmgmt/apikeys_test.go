package backupmgmt

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("CreatesAKeyShownOnceThatAuthenticatesAsItsUser", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			op := b.userFixture(t, "ops", store.RoleOperator)
			ctx := actorCtx(t.Context(), op)
			key, text, err := b.svc.APIKeys().Create(ctx, APIKeyParams{Name: " nightly script ", Scopes: []store.Scope{store.ScopeRead, store.ScopeWrite}})
			require.NoError(t, err)
			require.Equal(t, op.ID, key.UserID, "defaults to the actor's user")
			require.Equal(t, "nightly script", key.Name)
			require.True(t, strings.HasPrefix(text.Reveal(), "cst_"+key.Prefix+"_"))
			prefix, secret, err := security.ParseAPIKey(text.Reveal())
			require.NoError(t, err)
			require.Equal(t, key.Prefix, prefix)
			require.Empty(t, key.SecretHash, "the service hands out no hash")
			got, err := b.svc.APIKeys().Get(ctx, key.ID)
			require.NoError(t, err)
			require.Empty(t, got.SecretHash, "the service hands out no hash")
			stored, err := b.store.APIKeys().Get(ctx, key.ID)
			require.NoError(t, err)
			require.Equal(t, security.HashSecret(secret), stored.SecretHash)
			require.Nil(t, stored.LastUsedAt)

			actor, err := b.svc.APIKeys().Authenticate(WithActor(t.Context(), Actor{IP: "203.0.113.5", RequestID: "r-1"}), text.Reveal())
			require.NoError(t, err)
			require.Equal(t, Actor{
				UserID: op.ID, APIKeyID: key.ID, Role: store.RoleOperator,
				Scopes: []store.Scope{store.ScopeRead, store.ScopeWrite}, IP: "203.0.113.5", RequestID: "r-1",
			}, actor)
			require.Equal(t, "apikey:"+key.ID, actor.String())
			require.True(t, actor.Can(PermJobsWrite))
			require.False(t, actor.Can(PermDelete))

			require.Equal(t, []string{"apikey.create"}, b.auditActions(t))
			ev := b.identityEvents(t)[0]
			require.Equal(t, "user:"+op.ID, ev.Actor)
			require.JSONEq(t, `{"name":"nightly script","user_id":"`+op.ID+`","prefix":"`+key.Prefix+`","scopes":["read","write"],"job_id":null,"expires_at":null}`, string(ev.Details))
			b.identityNoSecrets(t, secret, text.Reveal())
		})

		t.Run("ValidatesNamingTheFieldAndStoresNothing", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			admin := b.userFixture(t, "root", store.RoleAdmin)
			viewer := b.userFixture(t, "watcher", store.RoleViewer)
			auditor := b.userFixture(t, "checker", store.RoleAuditor)
			job := b.jobFixture(t, "erp-db", nil)
			ctx := actorCtx(t.Context(), admin)
			past := b.svc.Now().Add(-time.Second)
			missing := "0190d5a0-0000-7000-8000-000000000000"

			cases := []struct {
				name  string
				p     APIKeyParams
				field string
			}{
				{"NoScopes", APIKeyParams{Name: "k"}, "scopes"},
				{"UnknownScope", APIKeyParams{Name: "k", Scopes: []store.Scope{"root"}}, "scopes"},
				{"DuplicateScope", APIKeyParams{Name: "k", Scopes: []store.Scope{store.ScopeRead, store.ScopeRead}}, "scopes"},
				{"ViewerWrite", APIKeyParams{UserID: viewer.ID, Name: "k", Scopes: []store.Scope{store.ScopeWrite}}, "scopes"},
				{"ViewerIngest", APIKeyParams{UserID: viewer.ID, Name: "k", Scopes: []store.Scope{store.ScopeIngest}}, "scopes"},
				{"ViewerAdmin", APIKeyParams{UserID: viewer.ID, Name: "k", Scopes: []store.Scope{store.ScopeAdmin}}, "scopes"},
				{"AuditorIngest", APIKeyParams{UserID: auditor.ID, Name: "k", Scopes: []store.Scope{store.ScopeIngest}}, "scopes"},
				{"NoName", APIKeyParams{Scopes: []store.Scope{store.ScopeRead}}, "name"},
				{"UnknownUser", APIKeyParams{UserID: missing, Name: "k", Scopes: []store.Scope{store.ScopeRead}}, "user_id"},
				{"UnknownJob", APIKeyParams{Name: "k", Scopes: []store.Scope{store.ScopeIngest}, JobID: missing}, "job_id"},
				{"JobBoundKeyThatIsNotIngestOnly", APIKeyParams{Name: "k", Scopes: []store.Scope{store.ScopeIngest, store.ScopeRead}, JobID: job.ID}, "job_id"},
				{"ExpiryInThePast", APIKeyParams{Name: "k", Scopes: []store.Scope{store.ScopeRead}, ExpiresAt: &past}, "expires_at"},
			}
			for _, c := range cases {
				_, text, err := b.svc.APIKeys().Create(ctx, c.p)
				require.Contains(t, identityFields(t, err), c.field, c.name)
				require.Empty(t, text.Reveal(), c.name)
			}
			_, _, err := b.svc.APIKeys().Create(t.Context(), APIKeyParams{Name: "k", Scopes: []store.Scope{store.ScopeRead}})
			require.Contains(t, identityFields(t, err), "user_id", "the system has no user to default to")

			page, err := b.svc.APIKeys().List(ctx, store.ListAPIKeysParams{IncludeRevoked: true})
			require.NoError(t, err)
			require.Empty(t, page.Items)
			require.Empty(t, b.auditActions(t))

			// What the roles do allow.
			_, _, err = b.svc.APIKeys().Create(ctx, APIKeyParams{UserID: viewer.ID, Name: "dash", Scopes: []store.Scope{store.ScopeRead}})
			require.NoError(t, err)
			_, _, err = b.svc.APIKeys().Create(ctx, APIKeyParams{UserID: auditor.ID, Name: "reports", Scopes: []store.Scope{store.ScopeRead, store.ScopeWrite}})
			require.NoError(t, err)
			_, _, err = b.svc.APIKeys().Create(ctx, APIKeyParams{Name: "all", Scopes: []store.Scope{store.ScopeAdmin}})
			require.NoError(t, err)
		})

		t.Run("BindsAnIngestKeyToAJob", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			op := b.userFixture(t, "ops", store.RoleOperator)
			job := b.jobFixture(t, "erp-db", nil)
			ctx := actorCtx(t.Context(), op)
			future := b.svc.Now().Add(24 * time.Hour)
			key, text, err := b.svc.APIKeys().Create(ctx, APIKeyParams{Name: "restic on erp", Scopes: []store.Scope{store.ScopeIngest}, JobID: job.ID, ExpiresAt: &future})
			require.NoError(t, err)
			require.Equal(t, job.ID, *key.JobID)
			actor, err := b.svc.APIKeys().Authenticate(t.Context(), text.Reveal())
			require.NoError(t, err)
			require.Equal(t, job.ID, actor.KeyJobID)
			require.True(t, actor.Can(PermIngest))
			require.False(t, actor.Can(PermRead))
			ev := b.identityEvents(t)[0]
			require.Contains(t, string(ev.Details), `"job_id":"`+job.ID+`"`)
		})

		t.Run("RefusesMalformedUnknownWrongRevokedExpiredAndInactiveAlike", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			op := b.userFixture(t, "ops", store.RoleOperator)
			other := b.userFixture(t, "leaver", store.RoleOperator)
			ctx := actorCtx(t.Context(), op)
			scopes := []store.Scope{store.ScopeIngest}
			in1h := b.svc.Now().Add(time.Hour)

			_, good, err := b.svc.APIKeys().Create(ctx, APIKeyParams{Name: "good", Scopes: scopes})
			require.NoError(t, err)
			revoked, revokedText, err := b.svc.APIKeys().Create(ctx, APIKeyParams{Name: "revoked", Scopes: scopes})
			require.NoError(t, err)
			_, expiring, err := b.svc.APIKeys().Create(ctx, APIKeyParams{Name: "expiring", Scopes: scopes, ExpiresAt: &in1h})
			require.NoError(t, err)
			_, leaverText, err := b.svc.APIKeys().Create(ctx, APIKeyParams{UserID: other.ID, Name: "leaver's", Scopes: scopes})
			require.NoError(t, err)

			_, err = b.svc.APIKeys().Revoke(ctx, revoked.ID)
			require.NoError(t, err)
			off := false
			_, err = b.svc.Users().Update(ctx, other.ID, UserUpdate{Active: &off})
			require.NoError(t, err)
			_, err = b.svc.APIKeys().Authenticate(t.Context(), expiring.Reveal())
			require.NoError(t, err, "still before its expiry")
			b.clock.Advance(time.Hour)

			g := good.Reveal()
			prefix, secret, err := security.ParseAPIKey(g)
			require.NoError(t, err)
			wrongSecret := "cst_" + prefix + "_" + strings.Repeat("a", len(secret))
			unknownPrefix := "cst_" + strings.Repeat("a", len(prefix)) + "_" + secret
			for name, text := range map[string]string{
				"empty":          "",
				"malformed":      "Bearer " + g,
				"uppercase":      strings.ToUpper(g),
				"unknown prefix": unknownPrefix,
				"wrong secret":   wrongSecret,
				"revoked":        revokedText.Reveal(),
				"expired":        expiring.Reveal(),
				"inactive user":  leaverText.Reveal(),
			} {
				actor, err := b.svc.APIKeys().Authenticate(t.Context(), text)
				require.Equal(t, ErrInvalidAPIKey, err, name)
				require.Zero(t, actor, name)
			}
			_, err = b.svc.APIKeys().Authenticate(t.Context(), g)
			require.NoError(t, err)
		})

		t.Run("RecordsLastUseAtMostOnceAMinute", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			op := b.userFixture(t, "ops", store.RoleOperator)
			ctx := actorCtx(t.Context(), op)
			key, text, err := b.svc.APIKeys().Create(ctx, APIKeyParams{Name: "k", Scopes: []store.Scope{store.ScopeIngest}})
			require.NoError(t, err)
			lastUsed := func() time.Time {
				k, err := b.svc.APIKeys().Get(ctx, key.ID)
				require.NoError(t, err)
				require.NotNil(t, k.LastUsedAt)
				return *k.LastUsedAt
			}
			_, err = b.svc.APIKeys().Authenticate(t.Context(), text.Reveal())
			require.NoError(t, err)
			require.Equal(t, testStart, lastUsed())
			b.clock.Advance(59 * time.Second)
			_, err = b.svc.APIKeys().Authenticate(t.Context(), text.Reveal())
			require.NoError(t, err)
			require.Equal(t, testStart, lastUsed(), "not written again within a minute")
			b.clock.Advance(time.Second)
			_, err = b.svc.APIKeys().Authenticate(t.Context(), text.Reveal())
			require.NoError(t, err)
			require.Equal(t, testStart.Add(time.Minute), lastUsed())
			require.Equal(t, []string{"apikey.create"}, b.auditActions(t), "using a key is not audited")
		})

		t.Run("RevokesOnceAndAudits", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			op := b.userFixture(t, "ops", store.RoleOperator)
			ctx := actorCtx(t.Context(), op)
			key, text, err := b.svc.APIKeys().Create(ctx, APIKeyParams{Name: "k", Scopes: []store.Scope{store.ScopeRead}})
			require.NoError(t, err)
			b.clock.Advance(time.Minute)
			got, err := b.svc.APIKeys().Revoke(ctx, key.ID)
			require.NoError(t, err)
			require.Equal(t, b.svc.Now(), *got.RevokedAt)
			again, err := b.svc.APIKeys().Revoke(ctx, key.ID)
			require.NoError(t, err)
			require.Equal(t, got.RevokedAt, again.RevokedAt, "revoking again changes nothing")
			_, err = b.svc.APIKeys().Revoke(ctx, "nope")
			require.ErrorIs(t, err, store.ErrNotFound)

			page, err := b.svc.APIKeys().List(ctx, store.ListAPIKeysParams{UserID: op.ID})
			require.NoError(t, err)
			require.Empty(t, page.Items)
			page, err = b.svc.APIKeys().List(ctx, store.ListAPIKeysParams{UserID: op.ID, IncludeRevoked: true})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			_, err = b.svc.APIKeys().List(ctx, store.ListAPIKeysParams{PageParams: store.PageParams{Limit: 1000}})
			require.Contains(t, identityFields(t, err), "limit")

			require.Equal(t, []string{"apikey.create", "apikey.revoke"}, b.auditActions(t))
			_, secret, err := security.ParseAPIKey(text.Reveal())
			require.NoError(t, err)
			b.identityNoSecrets(t, secret)
		})
	})
}

// BenchmarkAuthenticateAPIKey measures checking an API key, which every
// ingest call does.
func BenchmarkAuthenticateAPIKey(b *testing.B) {
	tb := setup(b, dbopen.SQLite, nil)
	op := tb.userFixture(b, "ops", store.RoleOperator)
	_, text, err := tb.svc.APIKeys().Create(actorCtx(b.Context(), op), APIKeyParams{Name: "k", Scopes: []store.Scope{store.ScopeIngest}})
	require.NoError(b, err)
	key := text.Reveal()
	ctx := b.Context()
	for b.Loop() {
		if _, err := tb.svc.APIKeys().Authenticate(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}
