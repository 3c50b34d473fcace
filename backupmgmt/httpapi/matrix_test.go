package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// designMatrix is DESIGN §7's RBAC table, written out again here rather
// than read from backupmgmt, so that the test checks the server against the
// design and not against itself.
var designMatrix = map[backupmgmt.Permission][]store.Role{
	backupmgmt.PermRead:               {store.RoleAdmin, store.RoleOperator, store.RoleViewer, store.RoleAuditor},
	backupmgmt.PermJobsWrite:          {store.RoleAdmin, store.RoleOperator},
	backupmgmt.PermDelete:             {store.RoleAdmin},
	backupmgmt.PermIngest:             {store.RoleAdmin, store.RoleOperator},
	backupmgmt.PermAlertsManage:       {store.RoleAdmin, store.RoleOperator},
	backupmgmt.PermMediaManage:        {store.RoleAdmin, store.RoleOperator},
	backupmgmt.PermVerificationManage: {store.RoleAdmin, store.RoleOperator},
	backupmgmt.PermReportsGenerate:    {store.RoleAdmin, store.RoleOperator, store.RoleAuditor},
	backupmgmt.PermAuditRead:          {store.RoleAdmin, store.RoleAuditor},
	backupmgmt.PermSettingsRead:       {store.RoleAdmin, store.RoleAuditor},
	backupmgmt.PermAdmin:              {store.RoleAdmin},
	backupmgmt.PermSelf:               {store.RoleAdmin, store.RoleOperator, store.RoleViewer, store.RoleAuditor},
}

// Key scopes as the API promises them: an ingest key records runs and
// nothing else; a read key reads, including the audit log and settings when
// its user may.
var scopeMatrix = map[store.Scope][]backupmgmt.Permission{
	store.ScopeIngest: {backupmgmt.PermIngest},
	store.ScopeRead:   {backupmgmt.PermRead, backupmgmt.PermAuditRead, backupmgmt.PermSettingsRead},
}

// principalCase is one column of the matrix.
type principalCase struct {
	name string
	cred cred
	// allowed says whether the principal may use a permission; nil means
	// it is never authenticated (401 everywhere but public routes).
	allowed func(backupmgmt.Permission) bool
	// fresh makes a new credential, for routes that end it (logout).
	fresh func() cred
}

func roleCan(role store.Role) func(backupmgmt.Permission) bool {
	return func(p backupmgmt.Permission) bool { return slices.Contains(designMatrix[p], role) }
}

func keyCan(role store.Role, scope store.Scope) func(backupmgmt.Permission) bool {
	return func(p backupmgmt.Permission) bool {
		return roleCan(role)(p) && slices.Contains(scopeMatrix[scope], p)
	}
}

// matrixPath fills a route's path parameters with values that name nothing.
func matrixPath(path string) string {
	r := strings.NewReplacer(
		"{exit_code}", "0",
		"{token}", "nosuchtoken0000000000000000000000",
		"{key}", "no.such.setting",
	)
	out := r.Replace(path)
	return pathParam.ReplaceAllString(out, "01900000-0000-7000-8000-000000000000")
}

// TestAuthorizationMatrix sends every route once as each kind of caller and
// checks the outcome against DESIGN §7: 401 for callers who are not
// authenticated, 403 for those without the permission, and for those with
// it anything but 401 and 403 (with placeholder IDs and an empty body most
// such requests end in 400 or 404: they passed authorization).
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	ctx := context.Background()

	operator := b.user(t, "operator", store.RoleOperator)
	viewer := b.user(t, "viewer", store.RoleViewer)
	auditor := b.user(t, "auditor", store.RoleAuditor)

	expiresAt := b.clock.Now().Add(time.Hour)
	_, expired, err := b.svc.APIKeys().Create(ctx, backupmgmt.APIKeyParams{
		UserID: b.admin.ID, Name: "soon expired", Scopes: []store.Scope{store.ScopeAdmin}, ExpiresAt: &expiresAt,
	})
	require.NoError(t, err)
	b.clock.Advance(2 * time.Hour)
	revokedRec, revoked, err := b.svc.APIKeys().Create(ctx, backupmgmt.APIKeyParams{
		UserID: b.admin.ID, Name: "revoked", Scopes: []store.Scope{store.ScopeAdmin},
	})
	require.NoError(t, err)
	_, err = b.svc.APIKeys().Revoke(ctx, revokedRec.ID)
	require.NoError(t, err)

	cases := []principalCase{
		{name: "anonymous", cred: anonymous},
		{name: "admin", cred: asSession(b.session(t, b.admin)), allowed: roleCan(store.RoleAdmin),
			fresh: func() cred { return asSession(b.session(t, b.admin)) }},
		{name: "operator", cred: asSession(b.session(t, operator)), allowed: roleCan(store.RoleOperator),
			fresh: func() cred { return asSession(b.session(t, operator)) }},
		{name: "viewer", cred: asSession(b.session(t, viewer)), allowed: roleCan(store.RoleViewer),
			fresh: func() cred { return asSession(b.session(t, viewer)) }},
		{name: "auditor", cred: asSession(b.session(t, auditor)), allowed: roleCan(store.RoleAuditor),
			fresh: func() cred { return asSession(b.session(t, auditor)) }},
		{name: "ingest key", cred: asKey(b.key(t, operator, "", store.ScopeIngest)), allowed: keyCan(store.RoleOperator, store.ScopeIngest)},
		{name: "read key", cred: asKey(b.key(t, b.admin, "", store.ScopeRead)), allowed: keyCan(store.RoleAdmin, store.ScopeRead)},
		{name: "expired key", cred: asKey(expired.Reveal())},
		{name: "revoked key", cred: asKey(revoked.Reveal())},
	}

	var mismatches []string
	for _, rt := range b.api.routes {
		want, ok := wantPermission[rt.method+" "+rt.path]
		if !ok {
			mismatches = append(mismatches, fmt.Sprintf("%s %s: not in the test's wantPermission table; add it with the permission DESIGN §7 gives it", rt.method, rt.path))
			continue
		}
		if want == "authenticated" {
			if !rt.anyCaller {
				mismatches = append(mismatches, fmt.Sprintf("%s %s: should be open to every authenticated caller", rt.method, rt.path))
				continue
			}
		} else if rt.anyCaller || want != string(rt.perm) || (want == "" && !rt.public) {
			mismatches = append(mismatches, fmt.Sprintf("%s %s: route requires %q, DESIGN §7 wants %q", rt.method, rt.path, rt.perm, want))
			continue
		}
		for _, pc := range cases {
			c := pc.cred
			if pc.fresh != nil && strings.HasSuffix(rt.path, "/auth/logout") {
				c = pc.fresh()
			}
			var body any
			if rt.body != nil {
				body = "{}"
			}
			res := b.do(t, c, rt.method, matrixPath(rt.path), body)
			var expect string
			switch {
			case rt.public:
				expect = "neither 401 nor 403"
				if res.Code == http.StatusUnauthorized || res.Code == http.StatusForbidden {
					break
				}
				continue
			case pc.allowed == nil:
				expect = "401"
				if res.Code == http.StatusUnauthorized {
					continue
				}
			case rt.anyCaller || pc.allowed(rt.perm):
				expect = "neither 401 nor 403"
				if res.Code != http.StatusUnauthorized && res.Code != http.StatusForbidden {
					continue
				}
			default:
				expect = "403"
				if res.Code == http.StatusForbidden {
					continue
				}
			}
			mismatches = append(mismatches, fmt.Sprintf("%s %s as %s: got %d, want %s (%.200s)", rt.method, rt.path, pc.name, res.Code, expect, res.Body))
		}
	}
	require.Empty(t, mismatches, "authorization mismatches:\n%s", strings.Join(mismatches, "\n"))
}

// TestRouteTableRefusesUndecidedRoutes: a route that names no permission
// and is not marked public cannot be registered.
func TestRouteTableRefusesUndecidedRoutes(t *testing.T) {
	t.Parallel()
	ok := func(w http.ResponseWriter, r *http.Request) error { return nil }
	for _, tc := range []struct {
		name string
		rt   route
	}{
		{"NoPermission", route{method: "GET", path: "/api/v1/x", summary: "x", status: 200, h: ok}},
		{"UnknownPermission", route{method: "GET", path: "/api/v1/x", perm: "root", summary: "x", status: 200, h: ok}},
		{"PublicWithPermission", route{method: "GET", path: "/api/v1/x", public: true, perm: backupmgmt.PermRead, summary: "x", status: 200, h: ok}},
		{"NoStatus", route{method: "GET", path: "/api/v1/x", perm: backupmgmt.PermRead, summary: "x", h: ok}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := &API{routes: []*route{&tc.rt}}
			require.Error(t, a.checkRoutes())
		})
	}
}

// wantPermission is the permission DESIGN §7 gives each route; "" marks
// the routes that are public by design, "authenticated" those open to every
// signed-in user and every key. A route missing here fails
// TestAuthorizationMatrix.
var wantPermission = map[string]string{
	"GET /healthz":             "",
	"GET /readyz":              "",
	"GET /api/v1/openapi.json": "",
	// Alerts: everyone reads; admins and operators acknowledge and resolve.
	"GET /api/v1/alerts":                     "read",
	"GET /api/v1/alerts/summary":             "read",
	"GET /api/v1/alerts/{id}":                "read",
	"POST /api/v1/alerts/bulk-acknowledge":   "alerts.manage",
	"POST /api/v1/alerts/{id}/acknowledge":   "alerts.manage",
	"POST /api/v1/alerts/{id}/unacknowledge": "alerts.manage",
	"POST /api/v1/alerts/{id}/resolve":       "alerts.manage",
	// Notification channels hold secrets and the outbox shows who is told
	// what: admins only.
	"GET /api/v1/channels":            "admin",
	"POST /api/v1/channels":           "admin",
	"GET /api/v1/channels/{id}":       "admin",
	"PATCH /api/v1/channels/{id}":     "admin",
	"DELETE /api/v1/channels/{id}":    "admin",
	"POST /api/v1/channels/{id}/test": "admin",
	"GET /api/v1/notifications":       "admin",
	// Reports: everyone reads them; admins, operators and auditors generate
	// them; deleting one is a delete (admins).
	"GET /api/v1/reports/types":         "read",
	"GET /api/v1/reports":               "read",
	"POST /api/v1/reports":              "reports.generate",
	"GET /api/v1/reports/{id}":          "read",
	"GET /api/v1/reports/{id}/download": "read",
	"DELETE /api/v1/reports/{id}":       "delete",
	// Media, lending and rotation: managed by admins and operators; deleting
	// a plan is a delete of a schedule (admins only).
	"GET /api/v1/media":                       "read",
	"POST /api/v1/media":                      "media.manage",
	"GET /api/v1/media/{id}":                  "read",
	"PATCH /api/v1/media/{id}":                "media.manage",
	"POST /api/v1/media/{id}/lend":            "media.manage",
	"POST /api/v1/media/{id}/return":          "media.manage",
	"POST /api/v1/media/{id}/move":            "media.manage",
	"POST /api/v1/media/{id}/retire":          "media.manage",
	"GET /api/v1/media/{id}/events":           "read",
	"GET /api/v1/lendings":                    "read",
	"GET /api/v1/rotation-plans":              "read",
	"POST /api/v1/rotation-plans":             "media.manage",
	"GET /api/v1/rotation-plans/{id}":         "read",
	"PATCH /api/v1/rotation-plans/{id}":       "media.manage",
	"DELETE /api/v1/rotation-plans/{id}":      "delete",
	"POST /api/v1/rotation-plans/{id}/rotate": "media.manage",
	"GET /api/v1/rotation-plans/{id}/due":     "read",
	// Verification: tests and schedules recorded by admins and operators;
	// deletes are admins'.
	"GET /api/v1/verification/tests":             "read",
	"POST /api/v1/verification/tests":            "verification.manage",
	"GET /api/v1/verification/tests/{id}":        "read",
	"DELETE /api/v1/verification/tests/{id}":     "delete",
	"GET /api/v1/verification/schedules":         "read",
	"POST /api/v1/verification/schedules":        "verification.manage",
	"GET /api/v1/verification/schedules/{id}":    "read",
	"PATCH /api/v1/verification/schedules/{id}":  "verification.manage",
	"DELETE /api/v1/verification/schedules/{id}": "delete",
	"GET /api/v1/verification/due":               "read",
	"GET /api/v1/dashboard/summary":              "read",
	// The audit log: admins and auditors read, export and verify it.
	"GET /api/v1/audit":         "audit.read",
	"GET /api/v1/audit/export":  "audit.read",
	"POST /api/v1/audit/verify": "audit.read",
	// Identity: signing in is public; who-am-I and signing out are for every
	// caller; one's own password and keys need "self"; users and settings
	// changes are admins'; auditors read settings.
	"POST /api/v1/auth/login":           "",
	"POST /api/v1/auth/logout":          "authenticated",
	"GET /api/v1/auth/me":               "authenticated",
	"POST /api/v1/auth/password":        "self",
	"GET /api/v1/users":                 "admin",
	"POST /api/v1/users":                "admin",
	"GET /api/v1/users/{id}":            "admin",
	"PATCH /api/v1/users/{id}":          "admin",
	"DELETE /api/v1/users/{id}":         "admin",
	"POST /api/v1/users/{id}/password":  "admin",
	"GET /api/v1/api-keys":              "self",
	"POST /api/v1/api-keys":             "self",
	"GET /api/v1/api-keys/{id}":         "self",
	"DELETE /api/v1/api-keys/{id}":      "self",
	"POST /api/v1/api-keys/{id}/revoke": "self",
	"GET /api/v1/settings":              "settings.read",
	"GET /api/v1/settings/{key}":        "settings.read",
	"PUT /api/v1/settings/{key}":        "admin",
	"DELETE /api/v1/settings/{key}":     "admin",
	// Assets, jobs and copies: everyone reads; admins and operators create
	// and edit (a copy is part of its job's configuration, so removing one
	// is an edit); deleting an asset or a job is admins'.
	"GET /api/v1/assets":                        "read",
	"POST /api/v1/assets":                       "jobs.write",
	"GET /api/v1/assets/{id}":                   "read",
	"PATCH /api/v1/assets/{id}":                 "jobs.write",
	"DELETE /api/v1/assets/{id}":                "delete",
	"GET /api/v1/jobs":                          "read",
	"POST /api/v1/jobs":                         "jobs.write",
	"GET /api/v1/jobs/{id}":                     "read",
	"PATCH /api/v1/jobs/{id}":                   "jobs.write",
	"DELETE /api/v1/jobs/{id}":                  "delete",
	"POST /api/v1/jobs/{id}/pause":              "jobs.write",
	"POST /api/v1/jobs/{id}/resume":             "jobs.write",
	"POST /api/v1/jobs/{id}/ping-token":         "jobs.write",
	"GET /api/v1/jobs/{id}/executions":          "read",
	"GET /api/v1/jobs/{id}/sla":                 "read",
	"GET /api/v1/jobs/{id}/copies":              "read",
	"POST /api/v1/jobs/{id}/copies":             "jobs.write",
	"PATCH /api/v1/jobs/{id}/copies/{copy_id}":  "jobs.write",
	"DELETE /api/v1/jobs/{id}/copies/{copy_id}": "jobs.write",
	// Runs: recorded by admins, operators and ingest keys.
	"POST /api/v1/executions":      "ingest",
	"POST /api/v1/ingest/{format}": "ingest",
	"GET /api/v1/executions":       "read",
	"GET /api/v1/executions/{id}":  "read",
	// Compliance: everyone reads; a full sweep on demand is an admin's.
	"GET /api/v1/compliance/summary":     "read",
	"GET /api/v1/compliance/trend":       "read",
	"GET /api/v1/compliance/states":      "read",
	"GET /api/v1/compliance/history":     "read",
	"POST /api/v1/compliance/sweep":      "admin",
	"GET /api/v1/jobs/{id}/compliance":   "read",
	"GET /api/v1/assets/{id}/compliance": "read",
	// Ping URLs: the token in the path is the credential.
	"GET /ping/{token}":              "",
	"POST /ping/{token}":             "",
	"HEAD /ping/{token}":             "",
	"GET /ping/{token}/start":        "",
	"POST /ping/{token}/start":       "",
	"HEAD /ping/{token}/start":       "",
	"GET /ping/{token}/fail":         "",
	"POST /ping/{token}/fail":        "",
	"HEAD /ping/{token}/fail":        "",
	"GET /ping/{token}/log":          "",
	"POST /ping/{token}/log":         "",
	"HEAD /ping/{token}/log":         "",
	"GET /ping/{token}/{exit_code}":  "",
	"POST /ping/{token}/{exit_code}": "",
}
