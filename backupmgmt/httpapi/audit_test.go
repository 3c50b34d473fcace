package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestAudit(t *testing.T) {
	t.Parallel()

	t.Run("ListsTheCallersActions", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		var m Media
		opsOK(t, b.do(t, c, "POST", "/api/v1/media", map[string]any{"label": "TAPE-1", "media_type": "tape", "location": "vault"}), http.StatusCreated, &m)
		var page List[AuditEvent]
		opsOK(t, b.do(t, c, "GET", "/api/v1/audit?action=media.register&resource_type=media", nil), http.StatusOK, &page)
		require.Len(t, page.Items, 1)
		e := page.Items[0]
		require.Equal(t, "user:"+b.admin.ID, e.Actor)
		require.Equal(t, m.ID, e.ResourceID)
		require.Equal(t, store.AuditSuccess, e.Result)
		require.Contains(t, string(e.Details), `"TAPE-1"`)
		require.Len(t, e.Hash, 64)

		opsOK(t, b.do(t, c, "GET", "/api/v1/audit?actor=user:nobody", nil), http.StatusOK, &page)
		require.Empty(t, page.Items)
	})

	t.Run("OnlyAdminsAndAuditorsRead", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		auditor := opsAs(t, b, "auditor", store.RoleAuditor)
		for _, role := range []store.Role{store.RoleOperator, store.RoleViewer} {
			c := opsAs(t, b, "u-"+string(role), role)
			for _, rq := range []struct{ method, path string }{
				{"GET", "/api/v1/audit"}, {"GET", "/api/v1/audit/export"}, {"POST", "/api/v1/audit/verify"},
			} {
				res := b.do(t, c, rq.method, rq.path, nil)
				require.Equal(t, http.StatusForbidden, res.Code, "%s %s %s", role, rq.method, rq.path)
			}
		}
		opsOK(t, b.do(t, auditor, "GET", "/api/v1/audit", nil), http.StatusOK, nil)
		opsOK(t, b.do(t, auditor, "GET", "/api/v1/audit/export", nil), http.StatusOK, nil)
		opsOK(t, b.do(t, auditor, "POST", "/api/v1/audit/verify", nil), http.StatusOK, nil)
	})

	t.Run("ExportsCSVWithoutFormulas", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		_, err := b.svc.Audit().Record(context.Background(), backupmgmt.AuditEntry{
			Actor: "system", Action: "=HYPERLINK(\"http://evil\")", ResourceType: "+x", ResourceID: "@id",
		})
		require.NoError(t, err)
		for i := range 3 {
			opsMedium(t, b, "TAPE-"+string(rune('A'+i)))
		}
		res := b.do(t, c, "GET", "/api/v1/audit/export?format=csv", nil)
		opsOK(t, res, http.StatusOK, nil)
		require.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
		require.Contains(t, res.Header.Get("Content-Disposition"), "audit.csv")
		rows, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
		require.NoError(t, err)
		require.Equal(t, auditCSVHeader, rows[0])
		var all List[AuditEvent]
		opsOK(t, b.do(t, c, "GET", "/api/v1/audit", nil), http.StatusOK, &all)
		require.Len(t, rows, len(all.Items)+1)
		var last []string
		for _, row := range rows[1:] {
			if row[4] == "'+x" {
				last = row
			}
		}
		require.NotNil(t, last, "the recorded event is exported")
		require.Equal(t, `'=HYPERLINK("http://evil")`, last[3])
		require.Equal(t, "'+x", last[4])
		require.Equal(t, "'@id", last[5])
		require.Equal(t, all.Items[0].Hash, rows[1][11])
	})

	t.Run("ExportsJSONAcrossPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		ctx := context.Background()
		for range store.LimitMax + 5 {
			_, err := b.svc.Audit().Record(ctx, backupmgmt.AuditEntry{Actor: "system", Action: "test.event"})
			require.NoError(t, err)
		}
		res := b.do(t, opsAdmin(t, b), "GET", "/api/v1/audit/export?format=json&action=test.event", nil)
		var events []AuditEvent
		opsOK(t, res, http.StatusOK, &events)
		require.Equal(t, "application/json", res.Header.Get("Content-Type"))
		require.Len(t, events, store.LimitMax+5)
		require.Greater(t, events[0].Seq, events[len(events)-1].Seq)
	})

	t.Run("VerifyReportsAnIntactChain", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		opsMedium(t, b, "TAPE-1")
		var v AuditVerification
		opsOK(t, b.do(t, c, "POST", "/api/v1/audit/verify", nil), http.StatusOK, &v)
		require.True(t, v.OK)
		require.Positive(t, v.Checked)
		require.Equal(t, int64(1), v.FirstSeq)
		require.Equal(t, v.Checked, v.LastSeq)
		require.Zero(t, v.BrokenAt)
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		c := opsAdmin(t, b)
		opsMedium(t, b, "TAPE-1")
		before, err := b.svc.Audit().List(context.Background(), store.ListAuditParams{})
		require.NoError(t, err)
		cases := []opsBadInput{
			{"ListUnknownResult", "GET", "/api/v1/audit?result=maybe", nil, 400, "invalid_input", "result"},
			{"ListBadTime", "GET", "/api/v1/audit?from=2026-11-30", nil, 400, "invalid_input", "from"},
			{"ListBadLimit", "GET", "/api/v1/audit?limit=-1", nil, 400, "invalid_input", "limit"},
			{"ListBadCursor", "GET", "/api/v1/audit?cursor=AAAA", nil, 400, "invalid_input", "cursor"},
			{"ListUnknownParameter", "GET", "/api/v1/audit?user=x", nil, 400, "invalid_input", "user"},
			{"ExportUnknownFormat", "GET", "/api/v1/audit/export?format=xml", nil, 400, "invalid_input", "format"},
			{"ExportTakesNoCursor", "GET", "/api/v1/audit/export?cursor=x", nil, 400, "invalid_input", "cursor"},
			{"ExportBadTime", "GET", "/api/v1/audit/export?to=never", nil, 400, "invalid_input", "to"},
			{"VerifyUnknownField", "POST", "/api/v1/audit/verify", `{"from":1}`, 400, "invalid_input", "from"},
			{"VerifyMalformed", "POST", "/api/v1/audit/verify", `{`, 400, "invalid_json", ""},
			{"VerifyIsNotAGet", "GET", "/api/v1/audit/verify", nil, 405, "method_not_allowed", ""},
		}
		opsCheckBad(t, b, c, cases, func(t *testing.T) {
			after, err := b.svc.Audit().List(context.Background(), store.ListAuditParams{})
			require.NoError(t, err)
			require.Equal(t, before.Items, after.Items)
		})
	})
}

func TestAuditCSVSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":             "",
		"job.create":   "job.create",
		"=1+1":         "'=1+1",
		"+1":           "'+1",
		"-1":           "'-1",
		"@SUM(A1)":     "'@SUM(A1)",
		"\tx":          "'\tx",
		"\rx":          "'\rx",
		"a=b":          "a=b",
		"'already":     "'already",
		" =leading sp": " =leading sp",
	} {
		require.Equal(t, want, csvSafe(in), "%q", in)
	}
}
