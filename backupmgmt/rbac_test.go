package backupmgmt

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

func TestCan(t *testing.T) {
	t.Parallel()

	// DESIGN §7, column by column: admin, operator, viewer, auditor.
	matrix := map[Permission][4]bool{
		PermRead:               {true, true, true, true},
		PermJobsWrite:          {true, true, false, false},
		PermDelete:             {true, false, false, false},
		PermIngest:             {true, true, false, false},
		PermAlertsManage:       {true, true, false, false},
		PermMediaManage:        {true, true, false, false},
		PermVerificationManage: {true, true, false, false},
		PermReportsGenerate:    {true, true, false, true},
		PermAuditRead:          {true, false, false, true},
		PermSettingsRead:       {true, false, false, true},
		PermAdmin:              {true, false, false, false},
		PermSelf:               {true, true, true, true},
	}
	roles := [4]store.Role{store.RoleAdmin, store.RoleOperator, store.RoleViewer, store.RoleAuditor}
	require.ElementsMatch(t, store.RoleValues(), roles[:])
	require.Len(t, Permissions(), len(matrix), "every permission has a row in this test")

	for _, p := range Permissions() {
		require.True(t, p.Valid())
		want, ok := matrix[p]
		require.True(t, ok, "permission %s missing from the test matrix", p)
		for i, role := range roles {
			require.Equal(t, want[i], Can(role, p), "Can(%s, %s)", role, p)
			// A session has exactly its role's permissions.
			require.Equal(t, want[i], Actor{UserID: "u", Role: role}.Can(p), "session of %s: %s", role, p)
		}
	}

	t.Run("UnknownRoleOrPermissionHasNothing", func(t *testing.T) {
		t.Parallel()
		require.False(t, Can("root", PermRead))
		require.False(t, Can(store.RoleAdmin, "everything"))
		require.False(t, Permission("everything").Valid())
		require.False(t, Actor{}.Can(PermRead), "the zero actor is nobody to the HTTP layer")
	})
}

func TestScopes(t *testing.T) {
	t.Parallel()

	// What each scope adds to a key, before the role narrows it.
	grants := map[store.Scope][]Permission{
		store.ScopeRead:   {PermRead, PermAuditRead, PermSettingsRead},
		store.ScopeWrite:  {PermJobsWrite, PermIngest, PermAlertsManage, PermMediaManage, PermVerificationManage, PermReportsGenerate},
		store.ScopeIngest: {PermIngest},
		store.ScopeAdmin:  Permissions(),
	}
	require.Len(t, store.ScopeValues(), len(grants))
	for _, scope := range store.ScopeValues() {
		require.ElementsMatch(t, grants[scope], ScopeGrants(scope), "scope %s", scope)
	}

	t.Run("KeyHasTheIntersectionOfRoleAndScopes", func(t *testing.T) {
		t.Parallel()
		for _, role := range store.RoleValues() {
			for _, scope := range store.ScopeValues() {
				key := Actor{UserID: "u", APIKeyID: "k", Role: role, Scopes: []store.Scope{scope}}
				for _, p := range Permissions() {
					want := Can(role, p)
					if want {
						want = false
						for _, g := range grants[scope] {
							want = want || g == p
						}
					}
					require.Equal(t, want, key.Can(p), "%s key of %s: %s", scope, role, p)
				}
			}
		}
	})

	t.Run("ReadKeyOfAnOperatorCannotReadTheAuditLog", func(t *testing.T) {
		t.Parallel()
		op := Actor{UserID: "u", APIKeyID: "k", Role: store.RoleOperator, Scopes: []store.Scope{store.ScopeRead}}
		require.True(t, op.Can(PermRead))
		require.False(t, op.Can(PermAuditRead))
		aud := Actor{UserID: "u", APIKeyID: "k", Role: store.RoleAuditor, Scopes: []store.Scope{store.ScopeRead}}
		require.True(t, aud.Can(PermAuditRead))
	})

	t.Run("WriteKeyCannotDeleteOrAdminister", func(t *testing.T) {
		t.Parallel()
		k := Actor{UserID: "u", APIKeyID: "k", Role: store.RoleAdmin, Scopes: []store.Scope{store.ScopeWrite}}
		require.True(t, k.Can(PermJobsWrite))
		require.False(t, k.Can(PermDelete))
		require.False(t, k.Can(PermAdmin))
		require.False(t, k.Can(PermRead), "scopes do not imply one another")
	})

	t.Run("KeyWithoutScopesCanDoNothing", func(t *testing.T) {
		t.Parallel()
		k := Actor{UserID: "u", APIKeyID: "k", Role: store.RoleAdmin}
		for _, p := range Permissions() {
			require.False(t, k.Can(p), p)
		}
	})

	t.Run("ScopeAllowedFollowsTheRole", func(t *testing.T) {
		t.Parallel()
		// admin, operator, viewer, auditor
		allowed := map[store.Scope][4]bool{
			store.ScopeRead:   {true, true, true, true},
			store.ScopeWrite:  {true, true, false, true},
			store.ScopeIngest: {true, true, false, false},
			store.ScopeAdmin:  {true, false, false, false},
		}
		roles := [4]store.Role{store.RoleAdmin, store.RoleOperator, store.RoleViewer, store.RoleAuditor}
		for scope, want := range allowed {
			for i, role := range roles {
				require.Equal(t, want[i], ScopeAllowed(role, scope), "%s for %s", scope, role)
			}
		}
		require.False(t, ScopeAllowed(store.RoleAdmin, "root"))
	})

	t.Run("CanManageAccountOwnOrAsAdmin", func(t *testing.T) {
		t.Parallel()
		viewer := Actor{UserID: "v", Role: store.RoleViewer}
		require.True(t, viewer.CanManageAccount("v"))
		require.False(t, viewer.CanManageAccount("someone-else"))
		admin := Actor{UserID: "a", Role: store.RoleAdmin}
		require.True(t, admin.CanManageAccount("someone-else"))
		ingestKey := Actor{UserID: "a", APIKeyID: "k", Role: store.RoleAdmin, Scopes: []store.Scope{store.ScopeIngest}}
		require.False(t, ingestKey.CanManageAccount("a"))
		require.False(t, Actor{}.CanManageAccount(""))
	})
}
