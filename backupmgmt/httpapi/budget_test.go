package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// budgetFixture holds more than a page of every resource, and the ID of
// one of each, so that every GET route can be called on real data.
type budgetFixture struct {
	ids map[string]string // collection path segment → an ID in it
}

const budgetRows = 55 // more than the page of 50

func buildBudgetFixture(t *testing.T, b *testBundle) *budgetFixture {
	t.Helper()
	ctx := context.Background()
	f := &budgetFixture{ids: map[string]string{}}
	now := b.clock.Now()

	var jobIDs []string
	for i := range budgetRows {
		a, err := b.svc.Assets().Create(ctx, backupmgmt.AssetParams{Name: fmt.Sprintf("asset-%02d", i), Classification: store.ClassificationInternal})
		require.NoError(t, err)
		f.ids["assets"] = a.ID
		j, err := b.svc.Jobs().Create(ctx, backupmgmt.JobParams{
			Name: fmt.Sprintf("job-%02d", i), AssetID: &a.ID, JobType: store.JobTypeFile, Tool: store.ToolRestic,
			Schedule: store.Schedule{Kind: store.ScheduleInterval, Interval: 24 * time.Hour}, Grace: time.Hour,
			Tags: []string{"prod"},
		})
		require.NoError(t, err)
		jobIDs = append(jobIDs, j.ID)
		c, err := b.svc.Jobs().AddCopy(ctx, j.ID, backupmgmt.CopyParams{Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaDisk})
		require.NoError(t, err)
		f.ids["copies"] = c.ID
		fin := now.Add(-time.Minute)
		_, err = b.svc.Executions().Record(ctx, backupmgmt.RecordParams{
			JobID: j.ID, RunID: "fail-1", Status: store.ExecutionFailed, StartedAt: now.Add(-time.Hour), FinishedAt: &fin,
		})
		require.NoError(t, err)
		vs, err := b.svc.Verification().CreateSchedule(ctx, backupmgmt.ScheduleParams{JobID: j.ID, Frequency: store.FrequencyMonthly, TestType: store.TestFullRestore})
		require.NoError(t, err)
		f.ids["schedules"] = vs.ID
	}
	f.ids["jobs"] = jobIDs[0]
	for i := range budgetRows {
		start := now.Add(-time.Duration(i+2) * time.Hour)
		fin := start.Add(10 * time.Minute)
		x, err := b.svc.Executions().Record(ctx, backupmgmt.RecordParams{
			JobID: jobIDs[0], RunID: fmt.Sprintf("run-%02d", i), Status: store.ExecutionSuccess, StartedAt: start, FinishedAt: &fin,
		})
		require.NoError(t, err)
		f.ids["executions"] = x.Execution.ID
		vt, err := b.svc.Verification().RecordTest(ctx, backupmgmt.TestParams{
			JobID: jobIDs[0], TestType: store.TestFullRestore, Result: store.TestSuccess, TestedAt: fin, Duration: time.Minute,
		})
		require.NoError(t, err)
		f.ids["tests"] = vt.ID
	}
	var mediaIDs []string
	for i := range budgetRows {
		m, err := b.svc.Media().Register(ctx, backupmgmt.MediaParams{Label: fmt.Sprintf("TAPE%03d", i), MediaType: store.OfflineTape, Location: "vault"})
		require.NoError(t, err)
		mediaIDs = append(mediaIDs, m.ID)
	}
	f.ids["media"] = mediaIDs[0]
	for i := range 3 {
		_, err := b.svc.Media().Move(ctx, mediaIDs[0], backupmgmt.MoveParams{ToLocation: fmt.Sprintf("shelf %d", i)})
		require.NoError(t, err)
	}
	_, err := b.svc.Media().Lend(ctx, mediaIDs[1], backupmgmt.LendParams{BorrowerID: b.admin.ID, Purpose: "restore test", DueOn: b.svc.Today().AddDays(7)})
	require.NoError(t, err)
	plan, err := b.svc.Rotation().CreatePlan(ctx, backupmgmt.PlanParams{Name: "weekly", Scheme: store.SchemeRoundRobin, Cycle: store.CycleWeekly, MediaIDs: mediaIDs[2:5]})
	require.NoError(t, err)
	f.ids["rotation-plans"] = plan.ID
	for i := range budgetRows {
		u := b.user(t, fmt.Sprintf("user%02d", i), store.RoleViewer)
		f.ids["users"] = u.ID
		k, _, err := b.svc.APIKeys().Create(ctx, backupmgmt.APIKeyParams{UserID: b.admin.ID, Name: fmt.Sprintf("key %02d", i), Scopes: []store.Scope{store.ScopeRead}})
		require.NoError(t, err)
		f.ids["api-keys"] = k.ID
	}
	_, err = b.svc.Settings().Put(ctx, "policy.default", json.RawMessage(`{"min_copies":3}`))
	require.NoError(t, err)
	f.ids["settings"] = "policy.default"
	for i := range budgetRows {
		ch, err := b.svc.Channels().Create(ctx, backupmgmt.ChannelParams{
			Kind: store.ChannelWebhook, Name: fmt.Sprintf("hook-%02d", i),
			Settings: json.RawMessage(`{"url":"https://hooks.example.com/in","secret":"0123456789abcdef"}`),
		})
		require.NoError(t, err)
		f.ids["channels"] = ch.ID
		rep := &store.Report{Type: store.ReportDaily, Format: store.FormatCSV, PeriodFrom: now.Add(-24 * time.Hour), PeriodTo: now, Content: []byte("a,b\n")}
		require.NoError(t, b.svc.Reports().Save(ctx, rep))
		f.ids["reports"] = rep.ID
	}
	n, err := b.svc.Channels().QueueReport(ctx, &store.Report{ID: f.ids["reports"], Type: store.ReportDaily, Format: store.FormatCSV}, "Daily", "")
	require.NoError(t, err)
	require.Equal(t, budgetRows, n)
	// Failed rows make the list read the channels to redact their errors.
	outbox, err := b.store.Notifications().List(ctx, store.ListNotificationsParams{PageParams: store.PageParams{Limit: 5}})
	require.NoError(t, err)
	for _, row := range outbox.Items {
		row.State, row.LastError = store.NotificationFailed, "Post https://hooks.example.com/in: refused"
		require.NoError(t, b.store.Notifications().Update(ctx, &row))
	}
	alerts, err := b.svc.Alerts().List(ctx, store.ListAlertsParams{PageParams: store.PageParams{Limit: 1}})
	require.NoError(t, err)
	require.NotEmpty(t, alerts.Items)
	f.ids["alerts"] = alerts.Items[0].ID
	return f
}

// path fills a route's path parameters from the fixture: each {param} takes
// the ID of the collection named just before it.
func (f *budgetFixture) path(t *testing.T, pattern string) string {
	t.Helper()
	parts := strings.Split(pattern, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") {
			continue
		}
		coll := parts[i-1]
		if p == "{copy_id}" {
			coll = "copies"
		}
		id, ok := f.ids[coll]
		require.True(t, ok, "the budget fixture has no %s for %s", coll, pattern)
		parts[i] = id
	}
	return strings.Join(parts, "/")
}

// smallLists are the lists whose fixture is smaller than a page, by nature
// of the data (one lending, one plan, a medium's few events, one setting).
var smallLists = []string{
	"/api/v1/lendings", "/api/v1/rotation-plans", "/api/v1/media/{id}/events", "/api/v1/settings",
	"/api/v1/jobs/{id}/copies", "/api/v1/compliance/trend", // a day range, 30 days by default
	"/api/v1/reports/types", // a static catalogue
}

// budgetExempt are GET routes that are not a page or a detail: the audit
// export streams the whole log a page at a time.
var budgetExempt = []string{"/api/v1/audit/export"}

// TestQueryBudget holds every GET to at most two SQL statements plus one
// for authentication (DESIGN §13, issue 4), with lists at a page of 50 over
// more than 50 rows, so that a query per row (N+1) cannot hide.
func TestQueryBudget(t *testing.T) {
	t.Parallel()
	for _, kind := range []dbopen.Kind{dbopen.SQLite, dbopen.Postgres} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			clock := &testClock{now: testStart}
			qc := &bunstore.QueryCounter{}
			s := bunstoretest.New(t, kind, &bunstoretest.Options{Config: &bunstore.Config{Now: clock.Now}})
			b := setupOn(t, kind, s.WithQueryHook(qc), clock, nil)
			f := buildBudgetFixture(t, b)
			cred := asSession(b.session(t, b.admin))
			b.do(t, cred, "GET", "/api/v1/auth/me", nil) // any session touch happens here

			var over, short []string
			for _, rt := range b.api.routes {
				// Pings are writes (a run recorded) that healthchecks clients send
				// as GET; their cost is ingest's, measured by its benchmark.
				if rt.method != http.MethodGet || slices.Contains(budgetExempt, rt.path) || strings.HasPrefix(rt.path, "/ping/") {
					continue
				}
				path := f.path(t, rt.path)
				if slices.ContainsFunc(rt.query, func(q queryParam) bool { return q.name == "limit" }) {
					path += "?limit=50"
				}
				qc.Reset()
				res := b.do(t, cred, "GET", path, nil)
				n := qc.Count()
				require.Equal(t, http.StatusOK, res.Code, "GET %s: %s", path, res.Body)
				if !rt.public {
					require.Positive(t, n, "GET %s: no statement counted; the hook is not on the API's store", path)
				}
				if n > 3 {
					over = append(over, fmt.Sprintf("GET %s: %d statements", rt.path, n))
				}
				var list struct {
					Items *[]json.RawMessage `json:"items"`
				}
				if json.Unmarshal(res.Body, &list) == nil && list.Items != nil && len(*list.Items) < 50 && !slices.Contains(smallLists, rt.path) {
					short = append(short, fmt.Sprintf("GET %s: %d items", rt.path, len(*list.Items)))
				}
			}
			require.Empty(t, over, "over the budget of 2 + 1 for authentication:\n%s", strings.Join(over, "\n"))
			require.Empty(t, short, "lists the fixture should fill to a page of 50:\n%s", strings.Join(short, "\n"))
		})
	}
}
