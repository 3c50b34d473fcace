package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func getComplianceHTTP(t *testing.T, b *testBundle, c cred, path string) ComplianceState {
	t.Helper()
	res := b.do(t, c, "GET", path, nil)
	require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
	var s ComplianceState
	res.decode(t, &s)
	return s
}

func TestCompliance(t *testing.T) {
	t.Parallel()

	t.Run("OfAJobWithoutCopies", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := adminCred(t, b)
			id := b.createJob(t, "nightly")
			s := getComplianceHTTP(t, b, admin, "/api/v1/jobs/"+id+"/compliance")
			require.Equal(t, store.SubjectJob, s.SubjectType)
			require.Equal(t, id, s.SubjectID)
			require.Equal(t, store.ComplianceNonCompliant, s.Status)
			require.Zero(t, s.Copies)
			require.False(t, s.Rules.Copies)
			require.False(t, s.Rules.Offsite)
			require.Less(t, s.Score, 100)
			require.NotEmpty(t, s.Reasons)
			require.NotNil(t, s.EvaluatedAt)
			require.Equal(t, testStart, *s.EvaluatedAt)
		})
	})

	t.Run("PerRuleResultsFollowTheCopies", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "nightly")
		before := getComplianceHTTP(t, b, admin, "/api/v1/jobs/"+id+"/compliance")
		off := createCopyHTTP(t, b, admin, id, map[string]any{"name": "cloud", "role": "offsite", "media_type": "cloud_object", "offsite": true})
		run := finishedRun(id, "r", "success")
		run["copy_id"] = off.ID
		recordHTTP(t, b, admin, run, http.StatusCreated)
		after := getComplianceHTTP(t, b, admin, "/api/v1/jobs/"+id+"/compliance")
		require.False(t, before.Offsite)
		require.True(t, after.Offsite)
		require.True(t, after.Rules.Offsite)
		require.Equal(t, 1, after.Copies)
		require.Greater(t, after.Score, before.Score)
		for _, r := range after.Reasons {
			require.NotEqual(t, backupmgmt.ComplianceRuleOffsite, r.Rule)
		}
	})

	t.Run("OfAMissingJobOrAssetIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		res := b.do(t, admin, "GET", "/api/v1/jobs/01900000-0000-7000-8000-000000000000/compliance", nil)
		require.Equal(t, http.StatusNotFound, res.Code)
		require.Equal(t, "job_not_found", res.errBody(t).Code)
		res = b.do(t, admin, "GET", "/api/v1/assets/01900000-0000-7000-8000-000000000000/compliance", nil)
		require.Equal(t, http.StatusNotFound, res.Code)
		require.Equal(t, "asset_not_found", res.errBody(t).Code)
	})

	t.Run("OfAnInactiveJobIsUnknown", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "nightly")
		res := b.do(t, admin, "PATCH", "/api/v1/jobs/"+id, map[string]any{"active": false})
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		s := getComplianceHTTP(t, b, admin, "/api/v1/jobs/"+id+"/compliance")
		require.Equal(t, store.ComplianceUnknown, s.Status)
		require.Nil(t, s.EvaluatedAt)
		require.Len(t, s.Reasons, 1)
	})

	t.Run("OfAnAsset", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		a := createAssetHTTP(t, b, admin, map[string]any{"name": "Website", "classification": "public"})
		s := getComplianceHTTP(t, b, admin, "/api/v1/assets/"+a.ID+"/compliance")
		require.Equal(t, store.SubjectAsset, s.SubjectType)
		require.Equal(t, a.ID, s.SubjectID)
		require.Equal(t, store.ComplianceCompliant, s.Status, "a public asset needs no copies")
	})

	t.Run("SummaryStatesAndHistory", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		a := b.createJob(t, "a")
		b.createJob(t, "c")
		createAssetHTTP(t, b, admin, map[string]any{"name": "Website", "classification": "public"})

		res := b.do(t, admin, "GET", "/api/v1/compliance/summary", nil)
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		var sum ComplianceSummary
		res.decode(t, &sum)
		require.Equal(t, 2, sum.Jobs.NonCompliant)
		require.Equal(t, 1, sum.Assets.Compliant)
		require.Zero(t, sum.Rate)

		var states List[ComplianceState]
		res = b.do(t, admin, "GET", "/api/v1/compliance/states?subject_type=job", nil)
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		res.decode(t, &states)
		require.Len(t, states.Items, 2)
		res = b.do(t, admin, "GET", "/api/v1/compliance/states?status=compliant", nil)
		res.decode(t, &states)
		require.Len(t, states.Items, 1)
		require.Equal(t, store.SubjectAsset, states.Items[0].SubjectType)
		res = b.do(t, admin, "GET", "/api/v1/compliance/states?limit=1", nil)
		res.decode(t, &states)
		require.Len(t, states.Items, 1)
		require.NotEmpty(t, states.NextCursor)

		var hist List[ComplianceChange]
		res = b.do(t, admin, "GET", "/api/v1/compliance/history?subject_type=job&subject_id="+a, nil)
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		res.decode(t, &hist)
		for _, h := range hist.Items {
			require.Equal(t, a, h.SubjectID)
			require.NotNil(t, h.Reasons)
		}
		res = b.do(t, admin, "GET", "/api/v1/compliance/history?from_at="+testStart.Add(time.Hour).Format(time.RFC3339), nil)
		res.decode(t, &hist)
		require.Empty(t, hist.Items, "nothing changed after the creations")
	})

	t.Run("SweepIsForAdmins", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		b.createJob(t, "a")
		op := asSession(b.session(t, b.user(t, "operator", store.RoleOperator)))
		require.Equal(t, http.StatusForbidden, b.do(t, op, "POST", "/api/v1/compliance/sweep", nil).Code)
		res := b.do(t, adminCred(t, b), "POST", "/api/v1/compliance/sweep", nil)
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		var out ComplianceSweep
		res.decode(t, &out)
		require.Equal(t, 1, out.Jobs)
	})

	t.Run("Trend", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "a")
		recordHTTP(t, b, admin, finishedRun(id, "r", "success"), http.StatusCreated)
		require.NoError(t, b.svc.Rollups().Tick(context.Background()))

		var l List[ComplianceDay]
		res := b.do(t, admin, "GET", "/api/v1/compliance/trend", nil)
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		res.decode(t, &l)
		require.Len(t, l.Items, 30, "the last 30 days by default")
		today := l.Items[29]
		require.Equal(t, "2026-11-30", today.Day.String())
		require.EqualValues(t, 1, today.ExecutionsSuccess)
		require.EqualValues(t, 1<<30, today.BytesWritten)
		require.Equal(t, 1, today.JobsNonCompliant)

		res = b.do(t, admin, "GET", "/api/v1/compliance/trend?from_on=2026-11-28&to_on=2026-11-30", nil)
		res.decode(t, &l)
		require.Len(t, l.Items, 3)
		require.Equal(t, "2026-11-28", l.Items[0].Day.String())

		runBadCases(t, b, admin, "GET", "", []badCase{
			{name: "BadDate", path: "/api/v1/compliance/trend?from_on=yesterday", field: "from_on"},
			{name: "ToBeforeFrom", path: "/api/v1/compliance/trend?from_on=2026-11-30&to_on=2026-11-01", field: "to_on"},
			{name: "TooLong", path: "/api/v1/compliance/trend?from_on=2000-01-01&to_on=2026-11-01", field: "to_on"},
			{name: "UnknownParameter", path: "/api/v1/compliance/trend?days=7", field: "days"},
		}, func(*testing.T) {})
	})

	t.Run("ListsRefuseBadQueries", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		runBadCases(t, b, admin, "GET", "", []badCase{
			{name: "StatesInvalidSubjectType", path: "/api/v1/compliance/states?subject_type=media", field: "subject_type"},
			{name: "StatesInvalidStatus", path: "/api/v1/compliance/states?status=fine", field: "status"},
			{name: "StatesBadCursor", path: "/api/v1/compliance/states?cursor=nope", field: "cursor"},
			{name: "HistoryBadTime", path: "/api/v1/compliance/history?from_at=today", field: "from_at"},
			{name: "HistoryEmptyRange", path: "/api/v1/compliance/history?from_at=" + testStart.Format(time.RFC3339) + "&to_at=" + testStart.Format(time.RFC3339), field: "to_at"},
			{name: "HistoryUnknownParameter", path: "/api/v1/compliance/history?job_id=x", field: "job_id"},
		}, func(*testing.T) {})
	})
}
