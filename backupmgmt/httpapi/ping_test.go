package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// pingRaw sends a ping without the OpenAPI check of b.do: the plain-text
// refusals of the ping URLs (404 "not found", 400) are not in the document
// until openapi.go documents text/plain for the error statuses of
// text/plain routes. Successes go through b.do and are checked.
func pingRaw(t *testing.T, b *testBundle, method, path, body string) *resp {
	t.Helper()
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
	}
	rec := httptest.NewRecorder()
	b.api.ServeHTTP(rec, req)
	return &resp{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func requireOK(t *testing.T, res *resp) {
	t.Helper()
	require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
	require.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, "OK", string(res.Body))
}

func jobExecutions(t *testing.T, b *testBundle, jobID string) []store.Execution {
	t.Helper()
	p := store.ListExecutionsParams{JobID: jobID}
	page, err := b.svc.Executions().List(context.Background(), p)
	require.NoError(t, err)
	return page.Items
}

func TestPing(t *testing.T) {
	t.Parallel()

	t.Run("StartThenSuccessWithRIDAndABodyAsLog", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			id := b.createJob(t, "nightly")
			token := b.pingToken(t, id)
			requireOK(t, b.do(t, anonymous, "GET", "/ping/"+token+"/start?rid=run-7", nil))
			runs := jobExecutions(t, b, id)
			require.Len(t, runs, 1)
			require.Equal(t, store.ExecutionRunning, runs[0].Status)

			b.clock.Advance(10 * time.Minute)
			requireOK(t, b.do(t, anonymous, "POST", "/ping/"+token+"?rid=run-7", "snapshot 1234 saved\nadded 3 GiB"))
			runs = jobExecutions(t, b, id)
			require.Len(t, runs, 1, "the finish completes the start")
			require.Equal(t, store.ExecutionSuccess, runs[0].Status)
			require.Equal(t, store.SourcePing, runs[0].Source)
			require.Equal(t, "run-7", runs[0].RunID)
			require.Contains(t, runs[0].LogExcerpt, "added 3 GiB")
			require.Equal(t, "snapshot 1234 saved", runs[0].Message)
		})
	})

	t.Run("FailAndExitCodes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "nightly")
		token := b.pingToken(t, id)
		requireOK(t, b.do(t, anonymous, "POST", "/ping/"+token+"/fail?rid=a", nil))
		requireOK(t, b.do(t, anonymous, "GET", "/ping/"+token+"/0?rid=b", nil))
		requireOK(t, b.do(t, anonymous, "POST", "/ping/"+token+"/255?rid=c", nil))
		byRun := map[string]store.ExecutionStatus{}
		for _, e := range jobExecutions(t, b, id) {
			byRun[e.RunID] = e.Status
		}
		require.Equal(t, map[string]store.ExecutionStatus{
			"a": store.ExecutionFailed, "b": store.ExecutionSuccess, "c": store.ExecutionFailed,
		}, byRun)
	})

	t.Run("HeadPingsRecordToo", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "nightly")
		token := b.pingToken(t, id)
		res := b.do(t, anonymous, "HEAD", "/ping/"+token, nil)
		require.Equal(t, http.StatusOK, res.Code)
		require.Len(t, jobExecutions(t, b, id), 1)
		// HEAD on an exit code is served by the GET route.
		require.Equal(t, http.StatusOK, pingRaw(t, b, "HEAD", "/ping/"+token+"/1?rid=x", "").Code)
		require.Len(t, jobExecutions(t, b, id), 2)
	})

	t.Run("LogIsAcceptedAndStoresNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "nightly")
		token := b.pingToken(t, id)
		before, err := b.svc.Jobs().Get(context.Background(), id)
		require.NoError(t, err)
		requireOK(t, b.do(t, anonymous, "POST", "/ping/"+token+"/log", "still copying"))
		require.Empty(t, jobExecutions(t, b, id))
		after, err := b.svc.Jobs().Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, before.State, after.State)
	})

	t.Run("APausedJobRecordsButStaysPaused", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "nightly")
		_, err := b.svc.Jobs().Pause(context.Background(), id)
		require.NoError(t, err)
		requireOK(t, b.do(t, anonymous, "GET", "/ping/"+b.pingToken(t, id)+"/fail", nil))
		require.Len(t, jobExecutions(t, b, id), 1)
		j, err := b.svc.Jobs().Get(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, store.JobStatePaused, j.State)
	})

	t.Run("ALongBodyIsCutNotRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "nightly")
		body := "first line\n" + strings.Repeat("x", MaxPingBodyBytesDefault+1000)
		requireOK(t, b.do(t, anonymous, "POST", "/ping/"+b.pingToken(t, id)+"/fail", body))
		runs := jobExecutions(t, b, id)
		require.Len(t, runs, 1)
		require.Equal(t, "first line", runs[0].Message)
		require.LessOrEqual(t, len(runs[0].LogExcerpt), store.MaxLogExcerptLen)
	})

	t.Run("RefusalsArePlainText", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		id := b.createJob(t, "nightly")
		token := b.pingToken(t, id)
		for _, tc := range []struct {
			name, method, path string
			status             int
			body               string
		}{
			{"UnknownToken", "GET", "/ping/nosuchtoken", http.StatusNotFound, "not found"},
			{"UnknownTokenStart", "POST", "/ping/nosuchtoken/start", http.StatusNotFound, "not found"},
			{"UnknownTokenLog", "POST", "/ping/nosuchtoken/log", http.StatusNotFound, "not found"},
			{"ExitCodeTooLarge", "GET", "/ping/" + token + "/256", http.StatusBadRequest, "invalid exit code: want 0 to 255"},
			{"ExitCodeNegative", "GET", "/ping/" + token + "/-1", http.StatusBadRequest, "invalid exit code: want 0 to 255"},
			{"ExitCodeNotANumber", "POST", "/ping/" + token + "/done", http.StatusBadRequest, "invalid exit code: want 0 to 255"},
			{"ExitCodeWithPlus", "POST", "/ping/" + token + "/+1", http.StatusBadRequest, "invalid exit code: want 0 to 255"},
		} {
			res := pingRaw(t, b, tc.method, tc.path, "")
			require.Equal(t, tc.status, res.Code, tc.name)
			require.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"), tc.name)
			require.Equal(t, tc.body, string(res.Body), tc.name)
		}
		res := pingRaw(t, b, "GET", "/ping/"+token+"/start?rid="+strings.Repeat("r", 500), "")
		require.Equal(t, http.StatusBadRequest, res.Code)
		require.Contains(t, string(res.Body), "rid")
		res = b.do(t, anonymous, "GET", "/ping/"+token+"?create=1", nil)
		require.Equal(t, http.StatusBadRequest, res.Code, "an unknown parameter is the middleware's envelope")
		require.Contains(t, res.errBody(t).Fields, "create")
		require.Empty(t, jobExecutions(t, b, id), "no refused ping recorded anything")
	})

	t.Run("IsRateLimitedPerToken", func(t *testing.T) {
		t.Parallel()
		limits := testLimitsOff
		limits.Ingest = []security.Limit{{Events: 2, Period: time.Minute}}
		b := setup(t, dbopen.SQLite, &Config{Limits: limits})
		a, c := b.pingToken(t, b.createJob(t, "a")), b.pingToken(t, b.createJob(t, "c"))
		requireOK(t, b.do(t, anonymous, "GET", "/ping/"+a, nil))
		requireOK(t, b.do(t, anonymous, "GET", "/ping/"+a, nil))
		require.Equal(t, http.StatusTooManyRequests, b.do(t, anonymous, "GET", "/ping/"+a, nil).Code)
		requireOK(t, b.do(t, anonymous, "GET", "/ping/"+c, nil))
	})

	t.Run("ParseExitCode", func(t *testing.T) {
		t.Parallel()
		for in, want := range map[string]int{"0": 0, "1": 1, "255": 255, "007": 7} {
			got, ok := parseExitCode(in)
			require.True(t, ok, in)
			require.Equal(t, want, got, in)
		}
		for _, in := range []string{"", "256", "-1", "+1", "1e2", "0x1", "1000", " 1"} {
			_, ok := parseExitCode(in)
			require.False(t, ok, in)
		}
	})
}
