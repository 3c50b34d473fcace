package backupmgmt

import (
	"slices"

	"github.com/custos-dev/custos/store"
)

// Permission is a capability of the RBAC matrix (DESIGN §7). The HTTP layer
// names one per route and asks the caller's Actor whether it has it.
type Permission string

// The capabilities of DESIGN §7, one per row of the matrix.
const (
	// PermRead reads the dashboard, jobs, executions, alerts, media,
	// verification and reports.
	PermRead Permission = "read"
	// PermJobsWrite creates and edits jobs, copies and assets, and pauses
	// and resumes jobs.
	PermJobsWrite Permission = "jobs.write"
	// PermDelete deletes jobs, media, reports and schedules.
	PermDelete Permission = "delete"
	// PermIngest records executions and pings.
	PermIngest Permission = "ingest"
	// PermAlertsManage acknowledges and resolves alerts.
	PermAlertsManage Permission = "alerts.manage"
	// PermMediaManage manages offline media: lend, return, rotation.
	PermMediaManage Permission = "media.manage"
	// PermVerificationManage records verification tests and manages their
	// schedules.
	PermVerificationManage Permission = "verification.manage"
	// PermReportsGenerate generates reports.
	PermReportsGenerate Permission = "reports.generate"
	// PermAuditRead reads, exports and verifies the audit log.
	PermAuditRead Permission = "audit.read"
	// PermSettingsRead reads the runtime settings.
	PermSettingsRead Permission = "settings.read"
	// PermAdmin manages users, others' API keys, settings and channels.
	PermAdmin Permission = "admin"
	// PermSelf changes one's own password and manages one's own API keys.
	PermSelf Permission = "self"
)

// rbacMatrix is DESIGN §7 as a table: which roles have each permission. It
// is the one place the matrix lives; Can reads nothing else.
var rbacMatrix = []struct {
	perm  Permission
	roles []store.Role
}{
	{PermRead, []store.Role{store.RoleAdmin, store.RoleOperator, store.RoleViewer, store.RoleAuditor}},
	{PermJobsWrite, []store.Role{store.RoleAdmin, store.RoleOperator}},
	{PermDelete, []store.Role{store.RoleAdmin}},
	{PermIngest, []store.Role{store.RoleAdmin, store.RoleOperator}},
	{PermAlertsManage, []store.Role{store.RoleAdmin, store.RoleOperator}},
	{PermMediaManage, []store.Role{store.RoleAdmin, store.RoleOperator}},
	{PermVerificationManage, []store.Role{store.RoleAdmin, store.RoleOperator}},
	{PermReportsGenerate, []store.Role{store.RoleAdmin, store.RoleOperator, store.RoleAuditor}},
	{PermAuditRead, []store.Role{store.RoleAdmin, store.RoleAuditor}},
	{PermSettingsRead, []store.Role{store.RoleAdmin, store.RoleAuditor}},
	{PermAdmin, []store.Role{store.RoleAdmin}},
	{PermSelf, []store.Role{store.RoleAdmin, store.RoleOperator, store.RoleViewer, store.RoleAuditor}},
}

// scopeGrants says which permissions each API-key scope lets a key use; a
// key never gets more than its user's role on top of that. Scopes do not
// imply one another: a key that writes and reads needs both.
var scopeGrants = map[store.Scope][]Permission{
	store.ScopeRead: {PermRead, PermAuditRead, PermSettingsRead},
	store.ScopeWrite: {
		PermJobsWrite, PermIngest, PermAlertsManage, PermMediaManage,
		PermVerificationManage, PermReportsGenerate,
	},
	store.ScopeIngest: {PermIngest},
	store.ScopeAdmin:  Permissions(),
}

// Permissions returns every permission, in the order of the matrix.
func Permissions() []Permission {
	out := make([]Permission, len(rbacMatrix))
	for i, row := range rbacMatrix {
		out[i] = row.perm
	}
	return out
}

// Valid reports whether p is one of the defined permissions.
func (p Permission) Valid() bool { return slices.Contains(Permissions(), p) }

// Can reports whether role has permission p. Unknown roles and permissions
// have nothing.
func Can(role store.Role, p Permission) bool {
	for _, row := range rbacMatrix {
		if row.perm == p {
			return slices.Contains(row.roles, role)
		}
	}
	return false
}

// ScopeGrants returns the permissions an API-key scope lets a key use,
// before its user's role narrows them.
func ScopeGrants(scope store.Scope) []Permission { return slices.Clone(scopeGrants[scope]) }

// ScopeAllowed reports whether a user of role may hold a key with scope: the
// scope must give the key at least one permission the role has, and the
// admin scope needs the admin role. So a viewer may hold read keys only, and
// an auditor a write key that can do no more than generate reports.
func ScopeAllowed(role store.Role, scope store.Scope) bool {
	if scope == store.ScopeAdmin {
		return Can(role, PermAdmin)
	}
	return slices.ContainsFunc(scopeGrants[scope], func(p Permission) bool { return Can(role, p) })
}

// Can reports whether a may use permission p: its role must have it and,
// for an API key, one of the key's scopes must grant it. The system actor
// (the zero Actor) has no role and so no permission: permissions are for
// callers from outside, and the service's own work does not ask.
func (a Actor) Can(p Permission) bool {
	if !Can(a.Role, p) {
		return false
	}
	if a.APIKeyID == "" {
		return true
	}
	return slices.ContainsFunc(a.Scopes, func(s store.Scope) bool { return slices.Contains(scopeGrants[s], p) })
}

// CanManageAccount reports whether a may change the password and API keys
// of the user userID: its own with PermSelf, anyone's with PermAdmin.
func (a Actor) CanManageAccount(userID string) bool {
	if a.UserID != "" && a.UserID == userID && a.Can(PermSelf) {
		return true
	}
	return a.Can(PermAdmin)
}
