package httpapi

import (
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func cronJobBody(name string) map[string]any {
	return map[string]any{
		"name": name, "job_type": "database", "tool": "pg_dump",
		"schedule":      map[string]any{"kind": "cron", "cron": "0 2 * * *", "timezone": "Asia/Tokyo"},
		"grace_seconds": 1800, "max_runtime_seconds": 7200, "rpo_target_seconds": 86400,
		"tags": []string{"prod", "erp"},
	}
}

func createJobHTTP(t *testing.T, b *testBundle, c cred, body map[string]any) Job {
	t.Helper()
	res := b.do(t, c, "POST", "/api/v1/jobs", body)
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	var j Job
	res.decode(t, &j)
	return j
}

func getJobHTTP(t *testing.T, b *testBundle, c cred, id string) Job {
	t.Helper()
	res := b.do(t, c, "GET", "/api/v1/jobs/"+id, nil)
	require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
	var j Job
	res.decode(t, &j)
	return j
}

func listJobsHTTP(t *testing.T, b *testBundle, c cred, query string) List[Job] {
	t.Helper()
	res := b.do(t, c, "GET", "/api/v1/jobs"+query, nil)
	require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
	var l List[Job]
	res.decode(t, &l)
	return l
}

func TestJobs(t *testing.T) {
	t.Parallel()

	t.Run("CreateAnswersTheJobWithItsPingURL", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := adminCred(t, b)
			j := createJobHTTP(t, b, admin, cronJobBody("erp nightly"))
			require.NotEmpty(t, j.ID)
			require.Equal(t, "erp nightly", j.Name)
			require.Equal(t, store.JobTypeDatabase, j.JobType)
			require.Equal(t, store.ToolPgDump, j.Tool)
			require.Equal(t, JobSchedule{Kind: store.ScheduleCron, Cron: strPtr("0 2 * * *"), Timezone: strPtr("Asia/Tokyo")}, j.Schedule)
			require.EqualValues(t, 1800, j.GraceSeconds)
			require.EqualValues(t, 7200, j.MaxRuntimeSeconds)
			require.Equal(t, []string{"erp", "prod"}, slices.Sorted(slices.Values(j.Tags)))
			require.True(t, j.Active)
			require.False(t, j.Paused)
			require.Equal(t, store.JobStateNew, j.State)
			require.NotNil(t, j.NextDueAt)
			require.Nil(t, j.LastResult)
			token := b.pingToken(t, j.ID)
			require.Equal(t, "http://example.com/ping/"+token, deref(j.PingURL), "built from the request's host")

			got := getJobHTTP(t, b, admin, j.ID)
			require.Equal(t, j, got)
		})
	})

	t.Run("IntervalAndManualSchedules", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		j := createJobHTTP(t, b, admin, map[string]any{
			"name": "hourly", "job_type": "file", "tool": "restic",
			"schedule": map[string]any{"kind": "interval", "interval_seconds": 3600},
		})
		require.Equal(t, store.ScheduleInterval, j.Schedule.Kind)
		require.EqualValues(t, 3600, deref(j.Schedule.IntervalSeconds))
		require.Nil(t, j.Schedule.Cron)
		m := createJobHTTP(t, b, admin, map[string]any{
			"name": "by hand", "job_type": "other", "tool": "custom", "schedule": map[string]any{"kind": "manual"}, "paused": true,
		})
		require.Equal(t, store.ScheduleManual, m.Schedule.Kind)
		require.True(t, m.Paused)
		require.Equal(t, store.JobStatePaused, m.State)
	})

	t.Run("PingURLComesFromBaseURLOrATrustedProxy", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{BaseURL: "https://custos.example.org/"})
		j := createJobHTTP(t, b, adminCred(t, b), cronJobBody("a"))
		require.Equal(t, "https://custos.example.org/ping/"+b.pingToken(t, j.ID), deref(j.PingURL))

		p := setup(t, dbopen.SQLite, &Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		admin := adminCred(t, p)
		id := p.createJob(t, "b")
		get := func(remote string) string {
			req := p.newRequest(t, "GET", "/api/v1/jobs/"+id, nil)
			req.RemoteAddr = remote
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "backup.example.net")
			res := p.doReq(t, admin, req)
			require.Equal(t, http.StatusOK, res.Code)
			var j Job
			res.decode(t, &j)
			return deref(j.PingURL)
		}
		token := p.pingToken(t, id)
		require.Equal(t, "https://backup.example.net/ping/"+token, get("10.1.2.3:5000"))
		require.Equal(t, "http://example.com/ping/"+token, get("192.0.2.1:5000"), "an untrusted client's forwarded headers are ignored")
	})

	t.Run("PingURLIsHiddenFromCallersWhoCannotRecordRuns", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "nightly")
		viewer := asSession(b.session(t, b.user(t, "viewer", store.RoleViewer)))
		auditor := asSession(b.session(t, b.user(t, "auditor", store.RoleAuditor)))
		readKey := asKey(b.key(t, b.admin, "", store.ScopeRead))
		operator := asSession(b.session(t, b.user(t, "operator", store.RoleOperator)))
		for _, c := range []cred{viewer, auditor, readKey} {
			require.Nil(t, getJobHTTP(t, b, c, id).PingURL)
			l := listJobsHTTP(t, b, c, "")
			require.Len(t, l.Items, 1)
			require.Nil(t, l.Items[0].PingURL)
		}
		require.NotNil(t, getJobHTTP(t, b, operator, id).PingURL)
	})

	t.Run("ListFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		erp := createJobHTTP(t, b, admin, cronJobBody("ERP nightly"))
		web := createJobHTTP(t, b, admin, map[string]any{
			"name": "web files", "job_type": "file", "tool": "restic", "tags": []string{"web"},
			"schedule": map[string]any{"kind": "interval", "interval_seconds": 3600},
		})
		require.Equal(t, http.StatusOK, b.do(t, admin, "POST", "/api/v1/jobs/"+web.ID+"/pause", nil).Code)
		ids := func(q string) []string {
			var out []string
			for _, j := range listJobsHTTP(t, b, admin, q).Items {
				out = append(out, j.ID)
			}
			return out
		}
		require.Equal(t, []string{erp.ID, web.ID}, ids(""), "ordered by name")
		require.Equal(t, []string{web.ID}, ids("?paused=true"))
		require.Equal(t, []string{erp.ID}, ids("?paused=false"))
		require.Equal(t, []string{web.ID}, ids("?state=paused"))
		require.Equal(t, []string{erp.ID}, ids("?job_type=database"))
		require.Equal(t, []string{web.ID}, ids("?tool=restic"))
		require.Equal(t, []string{web.ID}, ids("?tag=web"))
		require.Equal(t, []string{erp.ID}, ids("?q=erp"))
		require.Equal(t, []string{erp.ID, web.ID}, ids("?active=true"))
		require.Empty(t, ids("?owner_id="+b.admin.ID))
		page := listJobsHTTP(t, b, admin, "?limit=1")
		require.Len(t, page.Items, 1)
		require.NotEmpty(t, page.NextCursor)
		require.Equal(t, []string{web.ID}, ids("?limit=1&cursor="+page.NextCursor))
	})

	t.Run("PatchChangesOnlyWhatIsSent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		j := createJobHTTP(t, b, admin, cronJobBody("erp"))
		res := b.do(t, admin, "PATCH", "/api/v1/jobs/"+j.ID, map[string]any{
			"description": "the ERP's database", "schedule": map[string]any{"kind": "interval", "interval_seconds": 7200},
			"tags": []string{},
		})
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		var got Job
		res.decode(t, &got)
		require.Equal(t, "the ERP's database", got.Description)
		require.Equal(t, store.ScheduleInterval, got.Schedule.Kind)
		require.EqualValues(t, 7200, deref(got.Schedule.IntervalSeconds))
		require.Empty(t, got.Tags)
		require.NotNil(t, got.Tags, "tags is [] rather than null")
		require.Equal(t, j.Name, got.Name)
		require.Equal(t, j.GraceSeconds, got.GraceSeconds)
	})

	t.Run("PauseResumeRotateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		j := createJobHTTP(t, b, admin, cronJobBody("erp"))
		var got Job
		res := b.do(t, admin, "POST", "/api/v1/jobs/"+j.ID+"/pause", nil)
		require.Equal(t, http.StatusOK, res.Code)
		res.decode(t, &got)
		require.True(t, got.Paused)
		require.Equal(t, store.JobStatePaused, got.State)
		res = b.do(t, admin, "POST", "/api/v1/jobs/"+j.ID+"/resume", nil)
		require.Equal(t, http.StatusOK, res.Code)
		res.decode(t, &got)
		require.False(t, got.Paused)
		require.Equal(t, store.JobStateNew, got.State)

		oldToken := b.pingToken(t, j.ID)
		res = b.do(t, admin, "POST", "/api/v1/jobs/"+j.ID+"/ping-token", nil)
		require.Equal(t, http.StatusOK, res.Code)
		res.decode(t, &got)
		newToken := b.pingToken(t, j.ID)
		require.NotEqual(t, oldToken, newToken)
		require.Equal(t, "http://example.com/ping/"+newToken, deref(got.PingURL))
		require.Equal(t, http.StatusNotFound, pingRaw(t, b, "GET", "/ping/"+oldToken, "").Code, "the old URL stops working")

		require.Equal(t, http.StatusNoContent, b.do(t, admin, "DELETE", "/api/v1/jobs/"+j.ID, nil).Code)
		res = b.do(t, admin, "GET", "/api/v1/jobs/"+j.ID, nil)
		require.Equal(t, http.StatusNotFound, res.Code)
		require.Equal(t, "job_not_found", res.errBody(t).Code)
		for _, p := range []string{"/pause", "/resume", "/ping-token"} {
			res = b.do(t, admin, "POST", "/api/v1/jobs/"+j.ID+p, nil)
			require.Equal(t, http.StatusNotFound, res.Code, p)
			require.Equal(t, "job_not_found", res.errBody(t).Code, p)
		}
	})

	t.Run("OperatorWritesButOnlyAdminDeletes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		op := asSession(b.session(t, b.user(t, "operator", store.RoleOperator)))
		viewer := asSession(b.session(t, b.user(t, "viewer", store.RoleViewer)))
		j := createJobHTTP(t, b, op, cronJobBody("erp"))
		require.Equal(t, http.StatusForbidden, b.do(t, viewer, "POST", "/api/v1/jobs/"+j.ID+"/pause", nil).Code)
		require.Equal(t, http.StatusForbidden, b.do(t, viewer, "PATCH", "/api/v1/jobs/"+j.ID, map[string]any{"name": "x"}).Code)
		require.Equal(t, http.StatusForbidden, b.do(t, op, "DELETE", "/api/v1/jobs/"+j.ID, nil).Code)
		require.Equal(t, "erp", getJobHTTP(t, b, viewer, j.ID).Name)
	})

	t.Run("CreateRefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		with := func(k string, v any) map[string]any {
			body := cronJobBody("x")
			if v == nil {
				delete(body, k)
			} else {
				body[k] = v
			}
			return body
		}
		sched := func(s map[string]any) map[string]any { return with("schedule", s) }
		createJobHTTP(t, b, admin, cronJobBody("taken"))
		cases := append(commonBodyCases(),
			badCase{name: "MissingName", body: with("name", nil), field: "name"},
			badCase{name: "MissingJobType", body: with("job_type", nil), field: "job_type"},
			badCase{name: "MissingTool", body: with("tool", nil), field: "tool"},
			badCase{name: "MissingSchedule", body: with("schedule", nil), field: "schedule"},
			badCase{name: "MissingScheduleKind", body: sched(map[string]any{"cron": "0 2 * * *"}), field: "schedule.kind"},
			badCase{name: "InvalidJobType", body: with("job_type", "mainframe"), field: "job_type"},
			badCase{name: "InvalidTool", body: with("tool", "tar"), field: "tool"},
			badCase{name: "InvalidScheduleKind", body: sched(map[string]any{"kind": "sometimes"}), field: "schedule.kind"},
			badCase{name: "InvalidCron", body: sched(map[string]any{"kind": "cron", "cron": "61 * * * *"}), field: "schedule.cron"},
			badCase{name: "InvalidTimezone", body: sched(map[string]any{"kind": "cron", "cron": "0 2 * * *", "timezone": "Mars/Olympus"}), field: "schedule.timezone"},
			badCase{name: "IntervalWithoutSeconds", body: sched(map[string]any{"kind": "interval"}), field: "schedule.interval_seconds"},
			badCase{name: "UnknownScheduleField", body: sched(map[string]any{"kind": "manual", "every": 3}), field: "every"},
			badCase{name: "NegativeGrace", body: with("grace_seconds", -1), field: "grace_seconds"},
			badCase{name: "GraceNotAnInteger", body: with("grace_seconds", "1h"), field: "grace_seconds"},
			badCase{name: "TagsNotAnArray", body: with("tags", "prod"), field: "tags"},
			badCase{name: "UnknownAsset", body: with("asset_id", "01900000-0000-7000-8000-000000000000"), field: "asset_id"},
			badCase{name: "UnknownOwner", body: with("owner_id", "01900000-0000-7000-8000-000000000000"), field: "owner_id"},
			badCase{name: "TakenName", body: with("name", "TAKEN"), status: http.StatusConflict},
		)
		runBadCases(t, b, admin, "POST", "/api/v1/jobs", cases, func(t *testing.T) {
			l := listJobsHTTP(t, b, admin, "")
			require.Len(t, l.Items, 1)
			require.Equal(t, "taken", l.Items[0].Name)
		})
	})

	t.Run("PatchRefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		j := createJobHTTP(t, b, admin, cronJobBody("erp"))
		cases := append(commonBodyCases(),
			badCase{name: "InvalidTool", body: map[string]any{"tool": "tar"}, field: "tool"},
			badCase{name: "InvalidCron", body: map[string]any{"schedule": map[string]any{"kind": "cron", "cron": "bad"}}, field: "schedule.cron"},
			badCase{name: "ScheduleWithoutKind", body: map[string]any{"schedule": map[string]any{}}, field: "schedule.kind"},
			badCase{name: "NegativeRetention", body: map[string]any{"retention_days": -3}, field: "retention_days"},
			badCase{name: "PausedIsNotPatched", body: map[string]any{"paused": true}, field: "paused"},
			badCase{name: "UnknownJob", path: "/api/v1/jobs/01900000-0000-7000-8000-000000000000", body: map[string]any{"name": "y"}, status: http.StatusNotFound, code: "job_not_found"},
		)
		runBadCases(t, b, admin, "PATCH", "/api/v1/jobs/"+j.ID, cases, func(t *testing.T) {
			got := getJobHTTP(t, b, admin, j.ID)
			require.Equal(t, j, got)
		})
	})

	t.Run("ListRefusesBadQuery", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		runBadCases(t, b, admin, "GET", "", []badCase{
			{name: "InvalidState", path: "/api/v1/jobs?state=sleepy", field: "state"},
			{name: "InvalidTool", path: "/api/v1/jobs?tool=tar", field: "tool"},
			{name: "InvalidJobType", path: "/api/v1/jobs?job_type=x", field: "job_type"},
			{name: "BadBoolean", path: "/api/v1/jobs?paused=maybe", field: "paused"},
			{name: "UnknownParameter", path: "/api/v1/jobs?name=x", field: "name"},
			{name: "LimitTooLarge", path: "/api/v1/jobs?limit=100000", field: "limit"},
			{name: "BadCursor", path: "/api/v1/jobs?cursor=%21%21", field: "cursor"},
		}, func(*testing.T) {})
	})

	t.Run("SLA", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "nightly")
		recordHTTP(t, b, admin, map[string]any{
			"job_id": id, "run_id": "r1", "status": "success",
			"started_at": testStart.Add(-2 * time.Hour).Format(rfc3339), "finished_at": testStart.Add(-time.Hour).Format(rfc3339),
		}, http.StatusCreated)
		res := b.do(t, admin, "GET", "/api/v1/jobs/"+id+"/sla?window_days=7", nil)
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		var s JobSLA
		res.decode(t, &s)
		require.Equal(t, id, s.JobID)
		require.EqualValues(t, 7*24*3600, s.WindowSeconds)
		require.Equal(t, 1, s.Runs)
		require.Equal(t, 1, s.Successes)
		require.InDelta(t, 1.0, deref(s.SuccessRate), 1e-9)
		require.EqualValues(t, 3600, s.MeanDurationSeconds)
		require.False(t, s.Breached)

		res = b.do(t, admin, "GET", "/api/v1/jobs/"+id+"/sla", nil)
		res.decode(t, &s)
		require.EqualValues(t, 30*24*3600, s.WindowSeconds, "the server's default window")

		runBadCases(t, b, admin, "GET", "", []badCase{
			{name: "ZeroDays", path: "/api/v1/jobs/" + id + "/sla?window_days=0", field: "window_days"},
			{name: "NotANumber", path: "/api/v1/jobs/" + id + "/sla?window_days=week", field: "window_days"},
			{name: "TooLong", path: "/api/v1/jobs/" + id + "/sla?window_days=99999", field: "window_days"},
			{name: "UnknownJob", path: "/api/v1/jobs/01900000-0000-7000-8000-000000000000/sla", status: http.StatusNotFound, code: "job_not_found"},
		}, func(*testing.T) {})
	})

	t.Run("ExecutionsOfAJob", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		a, other := b.createJob(t, "a"), b.createJob(t, "b")
		for i, id := range []string{a, a, other} {
			recordHTTP(t, b, admin, map[string]any{
				"job_id": id, "run_id": "r" + string(rune('0'+i)), "status": []string{"success", "failed", "success"}[i],
				"started_at": testStart.Add(-time.Hour).Format(rfc3339), "finished_at": testStart.Format(rfc3339),
			}, http.StatusCreated)
		}
		var l List[Execution]
		res := b.do(t, admin, "GET", "/api/v1/jobs/"+a+"/executions", nil)
		require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
		res.decode(t, &l)
		require.Len(t, l.Items, 2)
		for _, e := range l.Items {
			require.Equal(t, a, e.JobID)
		}
		res = b.do(t, admin, "GET", "/api/v1/jobs/"+a+"/executions?status=failed", nil)
		res.decode(t, &l)
		require.Len(t, l.Items, 1)
		require.Equal(t, store.ExecutionFailed, l.Items[0].Status)
		runBadCases(t, b, admin, "GET", "", []badCase{
			{name: "UnknownJob", path: "/api/v1/jobs/01900000-0000-7000-8000-000000000000/executions", status: http.StatusNotFound, code: "job_not_found"},
			{name: "JobIDIsInThePath", path: "/api/v1/jobs/" + a + "/executions?job_id=" + other, field: "job_id"},
			{name: "InvalidStatus", path: "/api/v1/jobs/" + a + "/executions?status=fine", field: "status"},
		}, func(*testing.T) {})
	})
}
