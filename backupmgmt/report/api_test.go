package report

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/backupmgmt/httpapi"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// TestISOFiguresEqualTheAPI asks the REST API what an auditor would ask it
// for the same period and compares with the ISO pack.
func TestISOFiguresEqualTheAPI(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		f, g := seeded(t, kind, nil)
		from, to := goldenPeriod(store.ReportISO27001)
		doc, err := g.Build(f.ctx, store.ReportISO27001, from, to)
		require.NoError(t, err)

		api, err := httpapi.New(f.svc, nil)
		require.NoError(t, err)
		_, key, err := f.svc.APIKeys().Create(f.ctx, backupmgmt.APIKeyParams{Name: "auditor", Scopes: []store.Scope{store.ScopeRead, store.ScopeAdmin}})
		require.NoError(t, err)
		call := func(method, path string, v any) {
			t.Helper()
			req := httptest.NewRequest(method, path, nil)
			req.Header.Set("Authorization", "Bearer "+key.Reveal())
			rec := httptest.NewRecorder()
			api.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), v))
		}

		// countBy walks every page of a list and counts its items by the
		// value of field.
		countBy := func(path string, q url.Values, field string) map[string]int64 {
			t.Helper()
			counts := map[string]int64{}
			q.Set("limit", "200")
			for {
				var page struct {
					Items      []map[string]any `json:"items"`
					NextCursor string           `json:"next_cursor"`
				}
				call("GET", path+"?"+q.Encode(), &page)
				for _, e := range page.Items {
					counts[e[field].(string)]++
				}
				if page.NextCursor == "" {
					return counts
				}
				q.Set("cursor", page.NextCursor)
			}
		}
		// figure is a figure of the pack as the document shows it.
		figure := func(control, name string) string {
			t.Helper()
			for _, c := range doc.Controls {
				if c.ID != control {
					continue
				}
				for _, fig := range c.Figures {
					if fig.Name == name {
						return fig.Value
					}
				}
			}
			t.Fatalf("the pack has no figure %q in control %s", name, control)
			return ""
		}

		byStatus := countBy("/api/v1/executions", url.Values{"started_after": {from.Format(time.RFC3339)}, "started_before": {to.Format(time.RFC3339)}}, "status")
		ok := byStatus["success"] + byStatus["warning"]
		require.NotZero(t, ok+byStatus["failed"], "the fixture has runs in the period")
		require.NotNil(t, doc.Summary.SuccessRate)
		require.InDelta(t, float64(ok)/float64(ok+byStatus["failed"]+byStatus["missed"]), *doc.Summary.SuccessRate, 1e-9)
		require.Equal(t, byStatus["failed"], int64(doc.Summary.FailedRuns.Total))
		require.NotZero(t, byStatus["missed"], "the fixture has a missed run in the period")
		require.Equal(t, fmt.Sprint(byStatus["missed"]), figure("A.8.13", "Missed runs"))
		require.Equal(t, fmt.Sprint(byStatus["failed"]), figure("A.8.13", "Failed runs"))

		byResult := countBy("/api/v1/verification/tests", url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}, "result")
		var tests int64
		for _, n := range byResult {
			tests += n
		}
		require.NotZero(t, byResult["failed"], "the fixture has a failed restore test in the period")
		require.Equal(t, fmt.Sprint(tests), figure("A.5.30", "Restore tests in the period"))
		require.Equal(t, fmt.Sprint(byResult["failed"]), figure("A.5.30", "Failed"))
		require.Equal(t, fmt.Sprint(byResult["success"]+byResult["warning"]), figure("A.5.30", "Passed"))

		var sum httpapi.ComplianceSummary
		call("GET", "/api/v1/compliance/summary", &sum)
		require.InDelta(t, sum.Rate, doc.Compliance.Counts.Rate, 1e-9)

		var chain httpapi.AuditVerification
		call("POST", "/api/v1/audit/verify", &chain)
		require.Equal(t, chain.OK, doc.Audit.Chain.OK)
		// The pack verified the chain before the key above was created
		// (an audited action), so the API saw one event more.
		require.Equal(t, chain.Checked-1, doc.Audit.Chain.Checked)
	})
}
