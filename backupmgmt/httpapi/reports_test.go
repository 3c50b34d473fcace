package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// fakeGenerator renders a small file per format and stores it through the
// service, as backupmgmt/report's Generator does; it records the periods
// it was asked for.
type fakeGenerator struct {
	svc *backupmgmt.Service
	mu  sync.Mutex
	// periods are the from and to of each call, as received.
	periods [][2]time.Time
	err     error
}

func (g *fakeGenerator) GenerateReport(ctx context.Context, t store.ReportType, f store.ReportFormat, from, to time.Time) (*store.Report, error) {
	g.mu.Lock()
	g.periods = append(g.periods, [2]time.Time{from, to})
	err := g.err
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if to.IsZero() {
		to = g.svc.Now()
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	content := map[store.ReportFormat]string{
		store.FormatHTML: "<!doctype html><title>" + string(t) + "</title>",
		store.FormatCSV:  "type,count\n" + string(t) + ",1\n",
		store.FormatJSON: `{"type":"` + string(t) + `"}`,
		store.FormatPDF:  "%PDF-1.7\n%fake\n",
	}[f]
	r := &store.Report{Type: t, Format: f, PeriodFrom: from, PeriodTo: to, Content: []byte(content)}
	if err := g.svc.Reports().Save(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

func setupReports(t *testing.T, kind dbopen.Kind, cfg *Config) (*testBundle, *fakeGenerator) {
	t.Helper()
	gen := &fakeGenerator{}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.Reports = gen
	b := setup(t, kind, &c)
	gen.svc = b.svc
	return b, gen
}

func TestReportsAPI(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b, gen := setupReports(t, kind, nil)
		auditor := b.user(t, "auditor", store.RoleAuditor)
		ac := asSession(b.session(t, auditor))
		admin := opsAdmin(t, b)

		t.Run("TypesListEveryTypeInEveryFormat", func(t *testing.T) {
			var l List[ReportTypeInfo]
			opsOK(t, b.do(t, ac, "GET", "/api/v1/reports/types", nil), http.StatusOK, &l)
			require.Len(t, l.Items, len(store.ReportTypeValues()))
			for i, rt := range l.Items {
				require.Equal(t, store.ReportTypeValues()[i], rt.Type)
				require.NotEmpty(t, rt.Title)
				require.NotEmpty(t, rt.Description)
				require.Equal(t, []store.ReportFormat{store.FormatHTML, store.FormatCSV, store.FormatJSON, store.FormatPDF}, rt.Formats)
			}
		})

		from := testStart.Add(-7 * 24 * time.Hour)
		var weekly Report
		opsOK(t, b.do(t, ac, "POST", "/api/v1/reports", map[string]any{
			"type": "weekly", "format": "html", "period_from": from.Format(time.RFC3339), "period_to": testStart.Format(time.RFC3339),
		}), http.StatusCreated, &weekly)
		require.Equal(t, store.ReportWeekly, weekly.Type)
		require.Equal(t, store.FormatHTML, weekly.Format)
		require.Equal(t, from, weekly.PeriodFrom)
		require.Equal(t, testStart, weekly.PeriodTo)
		require.Equal(t, auditor.ID, *weekly.GeneratedBy, "the auditor generated it")
		require.Equal(t, testStart, weekly.GeneratedAt)
		require.Equal(t, "http://example.com/api/v1/reports/"+weekly.ID+"/download", weekly.DownloadURL)
		require.Len(t, weekly.SHA256, 64)
		require.Positive(t, weekly.SizeBytes)

		t.Run("OmittedPeriodIsZeroForTheGenerator", func(t *testing.T) {
			var r Report
			opsOK(t, b.do(t, ac, "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "csv"}), http.StatusCreated, &r)
			gen.mu.Lock()
			defer gen.mu.Unlock()
			last := gen.periods[len(gen.periods)-1]
			require.True(t, last[0].IsZero() && last[1].IsZero(), "got %v", last)
			require.Equal(t, testStart.Add(-24*time.Hour), r.PeriodFrom, "the generator's default")
		})

		t.Run("DownloadServesTheFile", func(t *testing.T) {
			for _, tc := range []struct {
				format      store.ReportFormat
				contentType string
			}{
				{store.FormatHTML, "text/html; charset=utf-8"},
				{store.FormatCSV, "text/csv; charset=utf-8"},
				{store.FormatJSON, "application/json"},
				{store.FormatPDF, "application/pdf"},
			} {
				var r Report
				opsOK(t, b.do(t, ac, "POST", "/api/v1/reports", map[string]any{
					"type": "compliance", "format": tc.format, "period_from": from.Format(time.RFC3339),
				}), http.StatusCreated, &r)
				res := b.do(t, ac, "GET", "/api/v1/reports/"+r.ID+"/download", nil)
				require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
				sum := sha256.Sum256(res.Body)
				require.Equal(t, r.SHA256, hex.EncodeToString(sum[:]), tc.format)
				require.Equal(t, int64(len(res.Body)), r.SizeBytes)
				require.Equal(t, tc.contentType, res.Header.Get("Content-Type"))
				require.Equal(t, fmt.Sprintf(`attachment; filename="custos-compliance-%s.%s"`, from.Format(time.DateOnly), tc.format), res.Header.Get("Content-Disposition"))
				require.Equal(t, `"`+r.SHA256+`"`, res.Header.Get("ETag"))
				require.Equal(t, r.SHA256, res.Header.Get("X-Content-SHA256"))
				require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
				if tc.format == store.FormatHTML {
					require.Equal(t, "default-src 'none'; style-src 'unsafe-inline'", res.Header.Get("Content-Security-Policy"))
				} else {
					require.Equal(t, security.ContentSecurityPolicy, res.Header.Get("Content-Security-Policy"))
				}
			}
		})

		t.Run("GetAndList", func(t *testing.T) {
			var got Report
			opsOK(t, b.do(t, ac, "GET", "/api/v1/reports/"+weekly.ID, nil), http.StatusOK, &got)
			require.Equal(t, weekly, got)

			b.clock.Advance(time.Hour)
			ac, admin = asSession(b.session(t, auditor)), opsAdmin(t, b) // past the idle timeout
			var later Report
			opsOK(t, b.do(t, admin, "POST", "/api/v1/reports", map[string]any{"type": "audit", "format": "json"}), http.StatusCreated, &later)
			var l List[Report]
			opsOK(t, b.do(t, ac, "GET", "/api/v1/reports", nil), http.StatusOK, &l)
			require.Len(t, l.Items, 7)
			require.Equal(t, later.ID, l.Items[0].ID, "newest first")
			opsOK(t, b.do(t, ac, "GET", "/api/v1/reports?type=weekly", nil), http.StatusOK, &l)
			require.Len(t, l.Items, 1)
			require.Equal(t, weekly.ID, l.Items[0].ID)
			opsOK(t, b.do(t, ac, "GET", "/api/v1/reports?generated_from="+testStart.Add(30*time.Minute).Format(time.RFC3339), nil), http.StatusOK, &l)
			require.Len(t, l.Items, 1)
			require.Equal(t, later.ID, l.Items[0].ID)
			opsOK(t, b.do(t, ac, "GET", "/api/v1/reports?generated_to="+testStart.Add(30*time.Minute).Format(time.RFC3339)+"&limit=2", nil), http.StatusOK, &l)
			require.Len(t, l.Items, 2)
			require.NotEmpty(t, l.NextCursor)
			for _, r := range l.Items {
				require.NotEqual(t, later.ID, r.ID)
			}
		})

		t.Run("DeleteIsForAdmins", func(t *testing.T) {
			res := b.do(t, ac, "DELETE", "/api/v1/reports/"+weekly.ID, nil)
			require.Equal(t, http.StatusForbidden, res.Code)
			res = b.do(t, admin, "DELETE", "/api/v1/reports/"+weekly.ID, nil)
			require.Equal(t, http.StatusNoContent, res.Code, "%s", res.Body)
			for _, path := range []string{"/api/v1/reports/" + weekly.ID, "/api/v1/reports/" + weekly.ID + "/download"} {
				res = b.do(t, ac, "GET", path, nil)
				require.Equal(t, http.StatusNotFound, res.Code)
				require.Equal(t, "report_not_found", res.errBody(t).Code)
			}
		})

		t.Run("AuditReportsNeedAuditRead", func(t *testing.T) {
			var audit Report
			opsOK(t, b.do(t, ac, "POST", "/api/v1/reports", map[string]any{"type": "iso27001", "format": "json"}), http.StatusCreated, &audit)
			op := opsAs(t, b, "oscar", store.RoleOperator)
			for _, typ := range []string{"audit", "iso27001"} {
				res := b.do(t, op, "POST", "/api/v1/reports", map[string]any{"type": typ, "format": "json"})
				require.Equal(t, http.StatusForbidden, res.Code, "%s: %s", typ, res.Body)
				require.Contains(t, res.errBody(t).Message, "audit.read")
			}
			for _, path := range []string{"/api/v1/reports/" + audit.ID, "/api/v1/reports/" + audit.ID + "/download"} {
				require.Equal(t, http.StatusForbidden, b.do(t, op, "GET", path, nil).Code, path)
				require.Equal(t, http.StatusOK, b.do(t, ac, "GET", path, nil).Code, path)
			}
			var mine, theirs List[Report]
			opsOK(t, b.do(t, op, "GET", "/api/v1/reports?limit=200", nil), http.StatusOK, &mine)
			opsOK(t, b.do(t, ac, "GET", "/api/v1/reports?limit=200", nil), http.StatusOK, &theirs)
			require.Less(t, len(mine.Items), len(theirs.Items))
			for _, r := range mine.Items {
				require.NotContains(t, []store.ReportType{store.ReportAudit, store.ReportISO27001}, r.Type)
			}
			// An operator still makes the other reports.
			res := b.do(t, op, "POST", "/api/v1/reports", map[string]any{"type": "compliance", "format": "csv"})
			require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
		})

		t.Run("ViewerReadsButCannotGenerate", func(t *testing.T) {
			vc := opsAs(t, b, "viewer", store.RoleViewer)
			res := b.do(t, vc, "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "csv"})
			require.Equal(t, http.StatusForbidden, res.Code)
			res = b.do(t, vc, "GET", "/api/v1/reports", nil)
			require.Equal(t, http.StatusOK, res.Code)
		})
	})
}

func TestReportsAPIRefusesBadInput(t *testing.T) {
	t.Parallel()
	b, gen := setupReports(t, dbopen.SQLite, nil)
	c := opsAdmin(t, b)
	t0 := testStart.Format(time.RFC3339)
	t1 := testStart.Add(time.Hour).Format(time.RFC3339)
	cases := []opsBadInput{
		{"UnknownType", "POST", "/api/v1/reports", map[string]any{"type": "yearly", "format": "csv"}, 400, "invalid_input", "type"},
		{"UnknownFormat", "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "docx"}, 400, "invalid_input", "format"},
		{"MissingType", "POST", "/api/v1/reports", map[string]any{"format": "csv"}, 400, "invalid_input", "type"},
		{"PeriodBackwards", "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "csv", "period_from": t1, "period_to": t0}, 400, "invalid_input", "period_to"},
		{"PeriodNotATime", "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "csv", "period_from": "yesterday"}, 400, "invalid_input", "period_from"},
		{"UnknownField", "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "csv", "zone": "UTC"}, 400, "invalid_input", "zone"},
		{"ListUnknownType", "GET", "/api/v1/reports?type=yearly", nil, 400, "invalid_input", "type"},
		{"ListBadTime", "GET", "/api/v1/reports?generated_from=today", nil, 400, "invalid_input", "generated_from"},
		{"ListBackwards", "GET", "/api/v1/reports?generated_from=" + t1 + "&generated_to=" + t0, nil, 400, "invalid_input", "generated_to"},
		{"UnknownReport", "GET", "/api/v1/reports/01900000-0000-7000-8000-000000000000", nil, 404, "report_not_found", ""},
		{"BadID", "GET", "/api/v1/reports/not-an-id", nil, 404, "report_not_found", ""},
		{"DownloadBadID", "GET", "/api/v1/reports/not-an-id/download", nil, 404, "report_not_found", ""},
		{"DeleteUnknown", "DELETE", "/api/v1/reports/01900000-0000-7000-8000-000000000000", nil, 404, "report_not_found", ""},
	}
	opsCheckBad(t, b, c, cases, func(t *testing.T) {
		page, err := b.svc.Reports().List(context.Background(), store.ListReportsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
		gen.mu.Lock()
		defer gen.mu.Unlock()
		require.Empty(t, gen.periods, "refused requests never reach the generator")
	})

	t.Run("GeneratorValidationErrorNamesTheField", func(t *testing.T) {
		gen.mu.Lock()
		gen.err = &store.ValidationError{Fields: map[string]string{"period_from": "at most a year before period_to"}}
		gen.mu.Unlock()
		res := b.do(t, c, "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "csv"})
		require.Equal(t, http.StatusBadRequest, res.Code)
		e := res.errBody(t)
		require.Equal(t, "invalid_input", e.Code)
		require.Equal(t, "at most a year before period_to", e.Fields["period_from"])
	})
}

func TestReportsAPIWithoutGenerator(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	res := b.do(t, opsAdmin(t, b), "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "csv"})
	require.Equal(t, http.StatusNotImplemented, res.Code)
	require.Equal(t, "not_configured", res.errBody(t).Code)
}

func TestReportsAPIRateLimit(t *testing.T) {
	t.Parallel()
	b, _ := setupReports(t, dbopen.SQLite, &Config{Limits: Limits{Reports: []security.Limit{{Events: 2, Period: time.Hour}}}})
	c := opsAdmin(t, b)
	for range 2 {
		res := b.do(t, c, "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "csv"})
		require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	}
	res := b.do(t, c, "POST", "/api/v1/reports", map[string]any{"type": "daily", "format": "csv"})
	require.Equal(t, http.StatusTooManyRequests, res.Code)
	require.Equal(t, "rate_limited", res.errBody(t).Code)
	res = b.do(t, c, "GET", "/api/v1/reports", nil)
	require.Equal(t, http.StatusOK, res.Code, "reading is not generating")
}
