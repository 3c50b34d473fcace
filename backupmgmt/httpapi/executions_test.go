package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

const rfc3339 = time.RFC3339

// recordHTTP records one run and checks the status.
func recordHTTP(t *testing.T, b *testBundle, c cred, body map[string]any, status int) Execution {
	t.Helper()
	res := b.do(t, c, "POST", "/api/v1/executions", body)
	require.Equal(t, status, res.Code, "%s", res.Body)
	var e Execution
	res.decode(t, &e)
	return e
}

// finishedRun is a valid body of a finished run of job id.
func finishedRun(id, runID, status string) map[string]any {
	return map[string]any{
		"job_id": id, "run_id": runID, "status": status,
		"started_at": testStart.Add(-time.Hour).Format(rfc3339), "finished_at": testStart.Add(-30 * time.Minute).Format(rfc3339),
		"size_bytes": 1 << 30, "files": 1200, "message": "done",
	}
}

func listExecutionsHTTP(t *testing.T, b *testBundle, c cred, query string) List[Execution] {
	t.Helper()
	res := b.do(t, c, "GET", "/api/v1/executions"+query, nil)
	require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
	var l List[Execution]
	res.decode(t, &l)
	return l
}

func TestExecutions(t *testing.T) {
	t.Parallel()

	t.Run("RecordIsIdempotentOnRunID", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := adminCred(t, b)
			id := b.createJob(t, "nightly")
			e := recordHTTP(t, b, admin, finishedRun(id, "run-1", "success"), http.StatusCreated)
			require.Equal(t, id, e.JobID)
			require.Equal(t, "run-1", e.RunID)
			require.Equal(t, store.ExecutionSuccess, e.Status)
			require.Equal(t, store.SourceAPI, e.Source)
			require.EqualValues(t, 1<<30, e.SizeBytes)
			require.EqualValues(t, 1800, deref(e.DurationSeconds))
			require.Nil(t, e.LogExcerpt, "lists and records leave the log out")

			again := recordHTTP(t, b, admin, finishedRun(id, "run-1", "success"), http.StatusOK)
			require.Equal(t, e.ID, again.ID)
			require.Len(t, listExecutionsHTTP(t, b, admin, "").Items, 1)
			require.Equal(t, store.JobStateUp, getJobHTTP(t, b, admin, id).State)
		})
	})

	t.Run("StartThenFinishByJobName", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "Nightly")
		start := recordHTTP(t, b, admin, map[string]any{
			"job_name": "nightly", "run_id": "r", "status": "running", "started_at": testStart.Add(-time.Hour).Format(rfc3339),
		}, http.StatusCreated)
		require.Equal(t, store.ExecutionRunning, start.Status)
		require.Nil(t, start.FinishedAt)
		require.Nil(t, start.DurationSeconds)
		body := finishedRun(id, "r", "failed")
		body["log_excerpt"] = "disk full"
		done := recordHTTP(t, b, admin, body, http.StatusOK)
		require.Equal(t, start.ID, done.ID)
		require.Equal(t, store.ExecutionFailed, done.Status)

		res := b.do(t, admin, "GET", "/api/v1/executions/"+done.ID, nil)
		require.Equal(t, http.StatusOK, res.Code)
		var got Execution
		res.decode(t, &got)
		require.Equal(t, "disk full", deref(got.LogExcerpt))
		require.Equal(t, store.JobStateFailed, getJobHTTP(t, b, admin, id).State)
		res = b.do(t, admin, "GET", "/api/v1/executions/01900000-0000-7000-8000-000000000000", nil)
		require.Equal(t, http.StatusNotFound, res.Code)
		require.Equal(t, "execution_not_found", res.errBody(t).Code)
	})

	t.Run("IngestKeysRecordOnlyTheirJob", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		op := b.user(t, "operator", store.RoleOperator)
		mine, other := b.createJob(t, "mine"), b.createJob(t, "other")
		bound := asKey(b.key(t, op, mine, store.ScopeIngest))
		recordHTTP(t, b, bound, finishedRun(mine, "1", "success"), http.StatusCreated)
		res := b.do(t, bound, "POST", "/api/v1/executions", finishedRun(other, "1", "success"))
		require.Equal(t, http.StatusForbidden, res.Code)
		require.Equal(t, "forbidden", res.errBody(t).Code)
		require.Equal(t, http.StatusForbidden, b.do(t, bound, "GET", "/api/v1/executions", nil).Code, "an ingest key reads nothing")

		viewer := asSession(b.session(t, b.user(t, "viewer", store.RoleViewer)))
		require.Equal(t, http.StatusForbidden, b.do(t, viewer, "POST", "/api/v1/executions", finishedRun(mine, "2", "success")).Code)
		l := listExecutionsHTTP(t, b, adminCred(t, b), "")
		require.Len(t, l.Items, 1)
		require.NotNil(t, l.Items[0].APIKeyID, "the row names the key that sent it")
	})

	t.Run("BatchRecordsEachItemOnItsOwn", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := adminCred(t, b)
			id := b.createJob(t, "nightly")
			recordHTTP(t, b, admin, finishedRun(id, "old", "success"), http.StatusCreated)
			badStatus := finishedRun(id, "b", "fine")
			body := fmt.Sprintf(`[%s, %s, {"job_id": %q, "status": "success", "bogus": 1}, %s, 7]`,
				mustJSON(t, finishedRun(id, "a", "success")), mustJSON(t, badStatus), id, mustJSON(t, finishedRun(id, "old", "success")))
			res := b.do(t, admin, "POST", "/api/v1/executions", body)
			require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
			var out ExecutionBatch
			res.decode(t, &out)
			require.Len(t, out.Items, 5)
			require.Equal(t, 2, out.Recorded)
			require.Equal(t, 3, out.Failed)
			want := []struct {
				status int
				field  string
			}{{201, ""}, {400, "status"}, {400, "bogus"}, {200, ""}, {400, ""}}
			for i, w := range want {
				it := out.Items[i]
				require.Equal(t, i, it.Index)
				require.Equal(t, w.status, it.Status, "item %d: %+v", i, it.Error)
				if w.status < 300 {
					require.NotNil(t, it.Execution)
					require.Nil(t, it.Error)
				} else {
					require.Nil(t, it.Execution)
					require.NotNil(t, it.Error)
					if w.field != "" {
						require.Contains(t, it.Error.Fields, w.field)
					}
				}
			}
			require.True(t, out.Items[0].Created)
			require.False(t, out.Items[3].Created)
			require.Len(t, listExecutionsHTTP(t, b, admin, "").Items, 2)
		})
	})

	t.Run("BatchRefusesWhatIsNotABatch", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "nightly")
		many := make([]map[string]any, 1001)
		for i := range many {
			many[i] = finishedRun(id, fmt.Sprint(i), "success")
		}
		runBadCases(t, b, admin, "POST", "/api/v1/executions", []badCase{
			{name: "Empty", body: `[]`, field: "items"},
			{name: "TooMany", body: many, field: "items"},
			{name: "Malformed", body: `[{"job_id": 1`, code: "invalid_json"},
			{name: "TrailingData", body: `[] []`, code: "invalid_body"},
		}, func(t *testing.T) {
			require.Empty(t, listExecutionsHTTP(t, b, admin, "").Items)
		})
	})

	t.Run("RecordRefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		id := b.createJob(t, "nightly")
		with := func(k string, v any) map[string]any {
			body := finishedRun(id, "x", "success")
			if v == nil {
				delete(body, k)
			} else {
				body[k] = v
			}
			return body
		}
		cases := []badCase{
			{name: "MalformedJSON", body: `{"job_id":`, code: "invalid_json"},
			{name: "TrailingData", body: `{} {}`, code: "invalid_body"},
			{name: "EmptyBody", body: ``, code: "invalid_body"},
			{name: "NotAnObject", body: `"run"`, code: "invalid_json"},
			{name: "UnknownField", body: with("bogus", 1), field: "bogus"},
			{name: "MissingStatus", body: with("status", nil), field: "status"},
			{name: "MissingStartedAt", body: with("started_at", nil), field: "started_at"},
			{name: "MissingJob", body: with("job_id", nil), field: "job_id"},
			{name: "BothJobIDAndName", body: with("job_name", "nightly"), field: "job_name"},
			{name: "UnknownJobID", body: with("job_id", "01900000-0000-7000-8000-000000000000"), field: "job_id"},
			{name: "UnknownJobName", body: map[string]any{"job_name": "nope", "status": "running", "started_at": testStart.Format(rfc3339)}, field: "job_name"},
			{name: "InvalidStatus", body: with("status", "fine"), field: "status"},
			{name: "MissedIsTheSchedulers", body: with("status", "missed"), field: "status"},
			{name: "InvalidSource", body: with("source", "tape"), field: "source"},
			{name: "SchedulerSourceIsReserved", body: with("source", "scheduler"), field: "source"},
			{name: "BadStartedAt", body: with("started_at", "yesterday"), field: "started_at"},
			{name: "StartedAtNotAString", body: with("started_at", 12), field: "started_at"},
			{name: "FinishedBeforeStarted", body: with("finished_at", testStart.Add(-2*time.Hour).Format(rfc3339)), field: "finished_at"},
			{name: "FinishedMissing", body: with("finished_at", nil), field: "finished_at"},
			{name: "FarFuture", body: with("started_at", testStart.Add(time.Hour).Format(rfc3339)), field: "started_at"},
			{name: "NegativeSize", body: with("size_bytes", -1), field: "size_bytes"},
			{name: "SizeNotAnInteger", body: with("size_bytes", 1.5), field: "size_bytes"},
			{name: "UnknownCopy", body: with("copy_id", "01900000-0000-7000-8000-000000000000"), field: "copy_id"},
		}
		runBadCases(t, b, admin, "POST", "/api/v1/executions", cases, func(t *testing.T) {
			require.Empty(t, listExecutionsHTTP(t, b, admin, "").Items)
			require.Equal(t, store.JobStateNew, getJobHTTP(t, b, admin, id).State)
		})
		req := b.newRequest(t, "POST", "/api/v1/executions", mustJSON(t, finishedRun(id, "x", "success")))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		require.Equal(t, http.StatusUnsupportedMediaType, b.doReq(t, admin, req).Code)
		big := finishedRun(id, "x", "success")
		big["log_excerpt"] = strings.Repeat("x", MaxBodyBytesDefault)
		res := b.do(t, admin, "POST", "/api/v1/executions", big)
		require.Equal(t, http.StatusRequestEntityTooLarge, res.Code, "a single run keeps the general limit")
		require.Empty(t, listExecutionsHTTP(t, b, admin, "").Items)
	})

	t.Run("ListFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		a, other := b.createJob(t, "a"), b.createJob(t, "b")
		early := finishedRun(a, "early", "failed")
		early["started_at"] = testStart.Add(-48 * time.Hour).Format(rfc3339)
		early["finished_at"] = testStart.Add(-47 * time.Hour).Format(rfc3339)
		recordHTTP(t, b, admin, early, http.StatusCreated)
		late := recordHTTP(t, b, admin, finishedRun(a, "late", "success"), http.StatusCreated)
		recordHTTP(t, b, admin, finishedRun(other, "o", "success"), http.StatusCreated)

		require.Len(t, listExecutionsHTTP(t, b, admin, "").Items, 3)
		require.Len(t, listExecutionsHTTP(t, b, admin, "?job_id="+a).Items, 2)
		require.Len(t, listExecutionsHTTP(t, b, admin, "?status=failed").Items, 1)
		require.Len(t, listExecutionsHTTP(t, b, admin, "?source=api").Items, 3)
		require.Empty(t, listExecutionsHTTP(t, b, admin, "?source=ping").Items)
		after := listExecutionsHTTP(t, b, admin, "?job_id="+a+"&started_after="+testStart.Add(-24*time.Hour).Format(rfc3339))
		require.Len(t, after.Items, 1)
		require.Equal(t, late.ID, after.Items[0].ID)
		before := listExecutionsHTTP(t, b, admin, "?started_before="+testStart.Add(-24*time.Hour).Format(rfc3339))
		require.Len(t, before.Items, 1)
		require.Equal(t, "early", before.Items[0].RunID)
		page := listExecutionsHTTP(t, b, admin, "?limit=2")
		require.Len(t, page.Items, 2)
		require.NotEmpty(t, page.NextCursor)
		require.Len(t, listExecutionsHTTP(t, b, admin, "?limit=2&cursor="+page.NextCursor).Items, 1)

		runBadCases(t, b, admin, "GET", "", []badCase{
			{name: "InvalidStatus", path: "/api/v1/executions?status=fine", field: "status"},
			{name: "InvalidSource", path: "/api/v1/executions?source=tape", field: "source"},
			{name: "BadTime", path: "/api/v1/executions?started_after=monday", field: "started_after"},
			{name: "EmptyRange", path: "/api/v1/executions?started_after=" + testStart.Format(rfc3339) + "&started_before=" + testStart.Format(rfc3339), field: "started_before"},
			{name: "UnknownParameter", path: "/api/v1/executions?job=x", field: "job"},
			{name: "BadCursor", path: "/api/v1/executions?cursor=zzz", field: "cursor"},
		}, func(*testing.T) {})
	})
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return string(raw)
}
