package httpapi

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// opsAdmin returns a session of the bundle's admin.
func opsAdmin(t testing.TB, b *testBundle) cred {
	t.Helper()
	return asSession(b.session(t, b.admin))
}

// opsAs returns a session of a new user with role.
func opsAs(t testing.TB, b *testBundle, username string, role store.Role) cred {
	t.Helper()
	return asSession(b.session(t, b.user(t, username, role)))
}

// opsJob creates a manual job; a job without copies is non-compliant, which
// raises a compliance_violation alert.
func opsJob(t testing.TB, b *testBundle, name string) *store.Job {
	t.Helper()
	j, err := b.svc.Jobs().Create(context.Background(), backupmgmt.JobParams{
		Name: name, JobType: store.JobTypeFile, Tool: store.ToolRestic,
		Schedule: store.Schedule{Kind: store.ScheduleManual},
	})
	require.NoError(t, err)
	return j
}

// opsMedium registers an available medium.
func opsMedium(t testing.TB, b *testBundle, label string) *store.Media {
	t.Helper()
	m, err := b.svc.Media().Register(context.Background(), backupmgmt.MediaParams{
		Label: label, MediaType: store.OfflineTape, Location: "vault A",
	})
	require.NoError(t, err)
	return m
}

// opsBadInput is one refused request of a table test: the status, the
// error code and, when set, the field the envelope must name.
type opsBadInput struct {
	name, method, path string
	body               any
	status             int
	code, field        string
}

// opsCheckBad sends each request and checks the refusal, then runs
// unchanged to check that nothing was written.
func opsCheckBad(t *testing.T, b *testBundle, c cred, cases []opsBadInput, unchanged func(t *testing.T)) {
	t.Helper()
	for _, tc := range cases {
		res := b.do(t, c, tc.method, tc.path, tc.body)
		require.Equal(t, tc.status, res.Code, "%s: %s", tc.name, res.Body)
		e := res.errBody(t)
		if tc.code != "" {
			require.Equal(t, tc.code, e.Code, "%s: %s", tc.name, res.Body)
		}
		if tc.field != "" {
			require.Contains(t, e.Fields, tc.field, "%s: %s", tc.name, res.Body)
		}
	}
	unchanged(t)
}

// opsOK requires status want and decodes the body into v (when not nil).
func opsOK(t testing.TB, res *resp, want int, v any) {
	t.Helper()
	require.Equal(t, want, res.Code, "body: %s", res.Body)
	if v != nil {
		res.decode(t, v)
	}
}

// planParams is a weekly round-robin plan over media.
func planParams(name string, mediaIDs ...string) backupmgmt.PlanParams {
	return backupmgmt.PlanParams{Name: name, Scheme: store.SchemeRoundRobin, Cycle: store.CycleWeekly, MediaIDs: mediaIDs}
}
