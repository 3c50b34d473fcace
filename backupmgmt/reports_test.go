package backupmgmt

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestReports(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		auditor := b.userFixture(t, "auditor", store.RoleAuditor)
		ctx := actorCtx(t.Context(), auditor)
		rs := b.svc.Reports()
		from := testStart.Add(-7 * 24 * time.Hour)
		content := []byte("type,count\nsuccess,3\n")

		r := &store.Report{Type: store.ReportWeekly, Format: store.FormatCSV, PeriodFrom: from, PeriodTo: testStart, Content: content}
		require.NoError(t, rs.Save(ctx, r))
		sum := sha256.Sum256(content)
		require.NotEmpty(t, r.ID)
		require.Equal(t, hex.EncodeToString(sum[:]), r.SHA256)
		require.Equal(t, int64(len(content)), r.SizeBytes)
		require.Equal(t, testStart, r.GeneratedAt)
		require.Equal(t, auditor.ID, *r.GeneratedBy, "the generating user is the actor")

		got, err := rs.Get(t.Context(), r.ID)
		require.NoError(t, err)
		require.Nil(t, got.Content, "Get leaves the content out")
		require.Equal(t, r.SHA256, got.SHA256)
		full, err := rs.Content(t.Context(), r.ID)
		require.NoError(t, err)
		require.Equal(t, content, full.Content)

		b.clock.Advance(time.Hour)
		r2 := &store.Report{Type: store.ReportDaily, Format: store.FormatJSON, PeriodFrom: testStart.Add(-24 * time.Hour), PeriodTo: testStart, Content: []byte(`{}`)}
		require.NoError(t, b.svc.Reports().Save(t.Context(), r2))
		require.Nil(t, r2.GeneratedBy, "the system generates without a user")

		t.Run("ListNewestFirstAndByType", func(t *testing.T) {
			page, err := rs.List(t.Context(), store.ListReportsParams{})
			require.NoError(t, err)
			require.Len(t, page.Items, 2)
			require.Equal(t, []string{r2.ID, r.ID}, []string{page.Items[0].ID, page.Items[1].ID})
			page, err = rs.List(t.Context(), store.ListReportsParams{Type: store.ReportWeekly})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			require.Equal(t, r.ID, page.Items[0].ID)
			_, err = rs.List(t.Context(), store.ListReportsParams{Type: "yearly"})
			requireInvalid(t, err, "type")
		})

		t.Run("SaveRefusesBadReports", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				r     store.Report
				field string
			}{
				{"UnknownType", store.Report{Type: "yearly", Format: store.FormatCSV, PeriodFrom: from, PeriodTo: testStart}, "type"},
				{"UnknownFormat", store.Report{Type: store.ReportDaily, Format: "docx", PeriodFrom: from, PeriodTo: testStart}, "format"},
				{"NoPeriod", store.Report{Type: store.ReportDaily, Format: store.FormatCSV}, "period"},
				{"PeriodBackwards", store.Report{Type: store.ReportDaily, Format: store.FormatCSV, PeriodFrom: testStart, PeriodTo: from}, "period_to"},
				{"TooLarge", store.Report{Type: store.ReportDaily, Format: store.FormatCSV, PeriodFrom: from, PeriodTo: testStart, Content: make([]byte, store.MaxReportBytes+1)}, "content"},
			} {
				requireInvalid(t, rs.Save(ctx, &tc.r), tc.field)
			}
			page, err := rs.List(t.Context(), store.ListReportsParams{})
			require.NoError(t, err)
			require.Len(t, page.Items, 2, "refused reports are not stored")
		})

		t.Run("DeleteAudits", func(t *testing.T) {
			require.NoError(t, rs.Delete(ctx, r.ID))
			_, err := rs.Get(t.Context(), r.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
			require.ErrorIs(t, rs.Delete(ctx, r.ID), store.ErrNotFound)

			events, err := b.store.Audit().Range(t.Context(), 0, 100000)
			require.NoError(t, err)
			var seen []store.AuditEvent
			for _, e := range events {
				if e.ResourceType == "report" {
					seen = append(seen, e)
				}
			}
			require.Len(t, seen, 3)
			require.Equal(t, []string{"report.generate", "report.generate", "report.delete"}, []string{seen[0].Action, seen[1].Action, seen[2].Action})
			require.Equal(t, "user:"+auditor.ID, seen[0].Actor)
			require.Equal(t, "system", seen[1].Actor)
			var d map[string]any
			require.NoError(t, json.Unmarshal(seen[0].Details, &d))
			require.Equal(t, r.SHA256, d["sha256"])
			require.Equal(t, "weekly", d["type"])
			require.NotContains(t, string(seen[0].Details), "success,3", "the content is not audited")
			require.Equal(t, r.ID, seen[2].ResourceID)
		})
	})
}
