package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// opsAlertOf returns the open compliance alert that creating a job without
// copies raises.
func opsAlertOf(t testing.TB, b *testBundle, c cred, job *store.Job) Alert {
	t.Helper()
	var page List[Alert]
	opsOK(t, b.do(t, c, "GET", "/api/v1/alerts?job_id="+job.ID, nil), http.StatusOK, &page)
	require.Len(t, page.Items, 1)
	return page.Items[0]
}

func TestAlerts(t *testing.T) {
	t.Parallel()

	t.Run("ListFiltersAndGet", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		j1, j2 := opsJob(t, b, "erp"), opsJob(t, b, "crm")
		var all List[Alert]
		opsOK(t, b.do(t, c, "GET", "/api/v1/alerts?type=compliance_violation&state=open", nil), http.StatusOK, &all)
		require.Len(t, all.Items, 2)
		var none List[Alert]
		opsOK(t, b.do(t, c, "GET", "/api/v1/alerts?state=resolved", nil), http.StatusOK, &none)
		require.Empty(t, none.Items)
		require.NotNil(t, none.Items)

		var paged List[Alert]
		opsOK(t, b.do(t, c, "GET", "/api/v1/alerts?limit=1", nil), http.StatusOK, &paged)
		require.Len(t, paged.Items, 1)
		require.NotEmpty(t, paged.NextCursor)
		var next List[Alert]
		opsOK(t, b.do(t, c, "GET", "/api/v1/alerts?limit=1&cursor="+paged.NextCursor, nil), http.StatusOK, &next)
		require.Len(t, next.Items, 1)
		require.NotEqual(t, paged.Items[0].ID, next.Items[0].ID)

		al := opsAlertOf(t, b, c, j1)
		require.Equal(t, j1.ID, *al.JobID)
		require.NotEqual(t, j2.ID, *al.JobID)
		var got Alert
		opsOK(t, b.do(t, c, "GET", "/api/v1/alerts/"+al.ID, nil), http.StatusOK, &got)
		require.Equal(t, al.ID, got.ID)
		require.Equal(t, store.AlertOpen, got.State)
		require.Equal(t, 1, got.Occurrences)
		require.Nil(t, got.ResolvedAt)
	})

	t.Run("AcknowledgeUnacknowledgeResolve", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			op := b.user(t, "oper", store.RoleOperator)
			c := asSession(b.session(t, op))
			al := opsAlertOf(t, b, c, opsJob(t, b, "erp"))

			var acked Alert
			opsOK(t, b.do(t, c, "POST", "/api/v1/alerts/"+al.ID+"/acknowledge", map[string]any{"note": "looking"}), http.StatusOK, &acked)
			require.Equal(t, store.AlertAcknowledged, acked.State)
			require.Equal(t, "looking", acked.AckNote)
			require.Equal(t, op.ID, *acked.AcknowledgedBy)
			require.NotNil(t, acked.AcknowledgedAt)

			var open Alert
			opsOK(t, b.do(t, c, "POST", "/api/v1/alerts/"+al.ID+"/unacknowledge", nil), http.StatusOK, &open)
			require.Equal(t, store.AlertOpen, open.State)

			var resolved Alert
			opsOK(t, b.do(t, c, "POST", "/api/v1/alerts/"+al.ID+"/resolve", map[string]any{"note": "fixed"}), http.StatusOK, &resolved)
			require.Equal(t, store.AlertResolved, resolved.State)
			require.Equal(t, op.ID, *resolved.ResolvedBy)
			require.NotNil(t, resolved.ResolvedAt)

			res := b.do(t, c, "POST", "/api/v1/alerts/"+al.ID+"/acknowledge", nil)
			require.Equal(t, http.StatusConflict, res.Code, "body: %s", res.Body)
			require.Equal(t, "alert_state", res.errBody(t).Code)
		})
	})

	t.Run("AcknowledgeTakesAnEmptyBody", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		al := opsAlertOf(t, b, c, opsJob(t, b, "erp"))
		var acked Alert
		opsOK(t, b.do(t, c, "POST", "/api/v1/alerts/"+al.ID+"/acknowledge", nil), http.StatusOK, &acked)
		require.Equal(t, store.AlertAcknowledged, acked.State)
		require.Empty(t, acked.AckNote)
	})

	t.Run("BulkAcknowledgeReportsEachAlert", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		a1 := opsAlertOf(t, b, c, opsJob(t, b, "erp"))
		a2 := opsAlertOf(t, b, c, opsJob(t, b, "crm"))
		var out AlertBulkResults
		opsOK(t, b.do(t, c, "POST", "/api/v1/alerts/bulk-acknowledge",
			map[string]any{"ids": []string{a1.ID, "0190aaaa-0000-7000-8000-000000000000", a2.ID}, "note": "batch"}), http.StatusOK, &out)
		require.Len(t, out.Items, 3)
		require.Equal(t, http.StatusOK, out.Items[0].Status)
		require.Equal(t, store.AlertAcknowledged, out.Items[0].Alert.State)
		require.Equal(t, "batch", out.Items[0].Alert.AckNote)
		require.Equal(t, http.StatusNotFound, out.Items[1].Status)
		require.Equal(t, "alert_not_found", out.Items[1].Error.Code)
		require.Nil(t, out.Items[1].Alert)
		require.Equal(t, http.StatusOK, out.Items[2].Status)

		var sum AlertSummary
		opsOK(t, b.do(t, c, "GET", "/api/v1/alerts/summary", nil), http.StatusOK, &sum)
		require.Equal(t, 2, sum.Total)
		require.Equal(t, 2, sum.Acknowledged[store.SeverityError]+sum.Acknowledged[store.SeverityCritical])
		require.Len(t, sum.Open, len(store.SeverityValues()))
	})

	t.Run("ViewerReadsButCannotAcknowledge", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAs(t, b, "watcher", store.RoleViewer)
		al := opsAlertOf(t, b, c, opsJob(t, b, "erp"))
		for _, path := range []string{"/acknowledge", "/resolve", "/unacknowledge"} {
			res := b.do(t, c, "POST", "/api/v1/alerts/"+al.ID+path, nil)
			require.Equal(t, http.StatusForbidden, res.Code, "%s: %s", path, res.Body)
		}
		res := b.do(t, c, "POST", "/api/v1/alerts/bulk-acknowledge", map[string]any{"ids": []string{al.ID}})
		require.Equal(t, http.StatusForbidden, res.Code)
		got, err := b.svc.Alerts().Get(context.Background(), al.ID)
		require.NoError(t, err)
		require.Equal(t, store.AlertOpen, got.State)
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		al := opsAlertOf(t, b, c, opsJob(t, b, "erp"))
		ack := "/api/v1/alerts/" + al.ID + "/acknowledge"
		bulk := "/api/v1/alerts/bulk-acknowledge"
		cases := []opsBadInput{
			{"UnknownState", "GET", "/api/v1/alerts?state=closed", nil, 400, "invalid_input", "state"},
			{"UnknownSeverity", "GET", "/api/v1/alerts?severity=huge", nil, 400, "invalid_input", "severity"},
			{"UnknownType", "GET", "/api/v1/alerts?type=nope", nil, 400, "invalid_input", "type"},
			{"StateWithUnresolved", "GET", "/api/v1/alerts?state=open&unresolved=true", nil, 400, "invalid_input", "state"},
			{"BadBoolean", "GET", "/api/v1/alerts?unresolved=maybe", nil, 400, "invalid_input", "unresolved"},
			{"BadLimit", "GET", "/api/v1/alerts?limit=0", nil, 400, "invalid_input", "limit"},
			{"BadCursor", "GET", "/api/v1/alerts?cursor=%21%21", nil, 400, "invalid_input", "cursor"},
			{"UnknownParameter", "GET", "/api/v1/alerts?status=open", nil, 400, "invalid_input", "status"},
			{"UnknownAlert", "GET", "/api/v1/alerts/0190aaaa-0000-7000-8000-000000000000", nil, 404, "alert_not_found", ""},
			{"AckUnknownAlert", "POST", "/api/v1/alerts/0190aaaa-0000-7000-8000-000000000000/acknowledge", nil, 404, "alert_not_found", ""},
			{"AckMalformed", "POST", ack, `{"note":`, 400, "invalid_json", ""},
			{"AckWrongType", "POST", ack, `{"note":1}`, 400, "invalid_input", "note"},
			{"AckUnknownField", "POST", ack, `{"note":"x","by":"me"}`, 400, "invalid_input", "by"},
			{"AckTrailingData", "POST", ack, `{"note":"x"} {}`, 400, "invalid_body", ""},
			{"AckArray", "POST", ack, `[]`, 400, "invalid_json", ""},
			{"AckNoteTooLong", "POST", ack, map[string]any{"note": strings.Repeat("x", store.MaxTextLen+1)}, 400, "invalid_input", "note"},
			{"ResolveWrongType", "POST", "/api/v1/alerts/" + al.ID + "/resolve", `{"note":false}`, 400, "invalid_input", "note"},
			{"UnackWithFields", "POST", "/api/v1/alerts/" + al.ID + "/unacknowledge", `{"note":"x"}`, 400, "invalid_input", "note"},
			{"BulkMissingIDs", "POST", bulk, `{"note":"x"}`, 400, "invalid_input", "ids"},
			{"BulkEmptyIDs", "POST", bulk, `{"ids":[]}`, 400, "invalid_input", "ids"},
			{"BulkIDsNotArray", "POST", bulk, `{"ids":"a"}`, 400, "invalid_input", "ids"},
			{"BulkTooMany", "POST", bulk, map[string]any{"ids": make([]string, store.LimitMax+1)}, 400, "invalid_input", "ids"},
			{"BulkEmptyBody", "POST", bulk, "", 400, "invalid_body", ""},
		}
		opsCheckBad(t, b, c, cases, func(t *testing.T) {
			got, err := b.svc.Alerts().Get(context.Background(), al.ID)
			require.NoError(t, err)
			require.Equal(t, store.AlertOpen, got.State)
			require.Empty(t, got.AckNote)
			require.Nil(t, got.AcknowledgedBy)
		})
	})
}
