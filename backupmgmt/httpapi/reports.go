package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// ReportGenerator renders and stores a report (backupmgmt/report's
// Generator has this method). Zero from and to ask for the type's default
// period; a *store.ValidationError names the field it refuses.
type ReportGenerator interface {
	GenerateReport(ctx context.Context, t store.ReportType, f store.ReportFormat, from, to time.Time) (*store.Report, error)
}

// Report is a stored report's metadata on the wire; its content is at
// download_url.
type Report struct {
	ID          string             `json:"id"`
	Type        store.ReportType   `json:"type"`
	Format      store.ReportFormat `json:"format"`
	PeriodFrom  time.Time          `json:"period_from"`
	PeriodTo    time.Time          `json:"period_to"`
	GeneratedBy *string            `json:"generated_by,omitempty"`
	GeneratedAt time.Time          `json:"generated_at"`
	SizeBytes   int64              `json:"size_bytes"`
	SHA256      string             `json:"sha256"`
	DownloadURL string             `json:"download_url"`
}

func (a *API) reportView(r *http.Request) func(*store.Report) Report {
	base := a.pingBase(r) + "/api/v1/reports/"
	return func(rep *store.Report) Report {
		return Report{
			ID: rep.ID, Type: rep.Type, Format: rep.Format, PeriodFrom: utc(rep.PeriodFrom), PeriodTo: utc(rep.PeriodTo),
			GeneratedBy: rep.GeneratedBy, GeneratedAt: utc(rep.GeneratedAt), SizeBytes: rep.SizeBytes, SHA256: rep.SHA256,
			DownloadURL: base + url.PathEscape(rep.ID) + "/download",
		}
	}
}

// ReportGenerate asks for a report; an absent period is the type's
// default (the day, week or month before, say).
type ReportGenerate struct {
	Type       store.ReportType   `json:"type" required:"true"`
	Format     store.ReportFormat `json:"format" required:"true"`
	PeriodFrom *string            `json:"period_from" format:"date-time"`
	PeriodTo   *string            `json:"period_to" format:"date-time"`
}

// ReportTypeInfo describes a report type and the formats it comes in.
type ReportTypeInfo struct {
	Type        store.ReportType     `json:"type"`
	Title       string               `json:"title"`
	Description string               `json:"description"`
	Formats     []store.ReportFormat `json:"formats"`
}

// reportTypes is the catalogue GET /api/v1/reports/types serves (DESIGN
// §11); every type comes in every format.
var reportTypes = func() []ReportTypeInfo {
	all := []ReportTypeInfo{
		{Type: store.ReportDaily, Title: "Daily report", Description: "The last day's runs: counts, success rate, failed runs with their errors, open alerts."},
		{Type: store.ReportWeekly, Title: "Weekly report", Description: "The last week's runs per job, success rate and trend, failed runs, compliance changes."},
		{Type: store.ReportMonthly, Title: "Monthly report", Description: "The last month's runs, success rate and trend per job, compliance and verification summary."},
		{Type: store.ReportCompliance, Title: "Compliance report", Description: "The 3-2-1-1-0 rule by job and asset, with the reason of every violation."},
		{Type: store.ReportVerification, Title: "Verification report", Description: "Restore tests and their results with measured RTO, and the tests that are due."},
		{Type: store.ReportMedia, Title: "Offline media report", Description: "The media inventory, lendings and returns, and rotation."},
		{Type: store.ReportAudit, Title: "Audit report", Description: "Audit activity by user and action, with the result of the hash-chain verification."},
		{Type: store.ReportISO27001, Title: "ISO/IEC 27001:2022 evidence pack", Description: "A.8.13 information backup, A.8.15 logging and A.5.30 ICT readiness: each control with the figures and records that evidence it, and its status."},
	}
	for i := range all {
		all[i].Formats = store.ReportFormatValues()
	}
	return all
}()

// reportMedia are the Content-Type and file extension of each format.
var reportMedia = map[store.ReportFormat]struct{ contentType, ext string }{
	store.FormatHTML: {"text/html; charset=utf-8", "html"},
	store.FormatCSV:  {"text/csv; charset=utf-8", "csv"},
	store.FormatJSON: {"application/json", "json"},
	store.FormatPDF:  {"application/pdf", "pdf"},
}

// reportCSP lets a downloaded HTML report style itself and do nothing else:
// it is self-contained, and a report quotes job names and error text.
const reportCSP = "default-src 'none'; style-src 'unsafe-inline'"

func (a *API) reportRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/reports/types", perm: backupmgmt.PermRead, tag: "reports",
			summary: "The report types and their formats",
			resp:    List[ReportTypeInfo]{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, r *http.Request) error {
				writeJSON(w, http.StatusOK, List[ReportTypeInfo]{Items: reportTypes})
				return nil
			},
		},
		{
			method: "GET", path: "/api/v1/reports", perm: backupmgmt.PermRead, resource: "report", tag: "reports",
			summary: "List stored reports, newest first",
			resp:    List[Report]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "type", typ: "string", desc: "only reports of this type", enum: enumOf[store.ReportType]()},
				{name: "generated_from", typ: "date-time", desc: "only reports generated at or after this time"},
				{name: "generated_to", typ: "date-time", desc: "only reports generated before this time"},
			}, pageParams...),
			h: a.listReports,
		},
		{
			method: "POST", path: "/api/v1/reports", perm: backupmgmt.PermReportsGenerate, resource: "report", tag: "reports",
			limit:   limitReports,
			summary: "Generate and store a report",
			body:    ReportGenerate{}, resp: Report{}, status: http.StatusCreated,
			errors: []int{http.StatusNotImplemented},
			h:      a.generateReport,
		},
		{
			method: "GET", path: "/api/v1/reports/{id}", perm: backupmgmt.PermRead, resource: "report", tag: "reports",
			summary: "Get a report's metadata",
			resp:    Report{}, status: http.StatusOK,
			h: func(w http.ResponseWriter, r *http.Request) error {
				rep, err := a.svc.Reports().Get(r.Context(), pathID(r, "id"))
				if err != nil {
					return err
				}
				if !mayReadReport(r, rep.Type) {
					return errAuditReport
				}
				writeJSON(w, http.StatusOK, a.reportView(r)(rep))
				return nil
			},
		},
		{
			method: "GET", path: "/api/v1/reports/{id}/download", perm: backupmgmt.PermRead, resource: "report", tag: "reports",
			summary: "Download a report's file; ETag and X-Content-SHA256 carry its SHA-256",
			rawResp: "text/html, text/csv, application/json, application/pdf", status: http.StatusOK,
			h: a.downloadReport,
		},
		{
			method: "DELETE", path: "/api/v1/reports/{id}", perm: backupmgmt.PermDelete, resource: "report", tag: "reports",
			summary: "Delete a stored report",
			status:  http.StatusNoContent,
			h:       deleteByID(a.svc.Reports().Delete),
		},
	}
}

// The audit report and the ISO pack are made of the audit log (actors,
// actions, addresses, denied requests): generating or reading them needs
// the permission to read the audit log itself.
var errAuditReport = errorf(http.StatusForbidden, "forbidden", "audit and iso27001 reports are made of the audit log: they need the audit.read permission")

func mayReadReport(r *http.Request, t store.ReportType) bool {
	if t != store.ReportAudit && t != store.ReportISO27001 {
		return true
	}
	return caller(r).Can(backupmgmt.PermAuditRead)
}

func (a *API) listReports(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListReportsParams{
		PageParams: q.page(),
		Type:       store.ReportType(q.str("type")),
		Generated:  store.TimeRange{From: deref(q.time("generated_from")), To: deref(q.time("generated_to"))},
	}
	if !p.Generated.From.IsZero() && !p.Generated.To.IsZero() && p.Generated.To.Before(p.Generated.From) {
		q.fail("generated_to", "must not be before generated_from")
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Reports().List(r.Context(), p)
	if err != nil {
		return err
	}
	// Reports made of the audit log are left out for callers who may not
	// read it; a page may then be shorter than asked, its cursor unchanged.
	kept := page.Items[:0]
	for _, rep := range page.Items {
		if mayReadReport(r, rep.Type) {
			kept = append(kept, rep)
		}
	}
	page.Items = kept
	writeJSON(w, http.StatusOK, listOf(page, a.reportView(r)))
	return nil
}

func (a *API) generateReport(w http.ResponseWriter, r *http.Request) error {
	if a.cfg.Reports == nil {
		return notConfigured("report generation")
	}
	var in ReportGenerate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	if !in.Type.Valid() {
		p.fail("type", "must be one of "+strings.Join(enumOf[store.ReportType](), ", "))
	}
	if !in.Format.Valid() {
		p.fail("format", "must be one of "+strings.Join(enumOf[store.ReportFormat](), ", "))
	}
	from := deref(p.parseTime("period_from", in.PeriodFrom))
	to := deref(p.parseTime("period_to", in.PeriodTo))
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		p.fail("period_to", "must not be before period_from")
	}
	if err := p.err(); err != nil {
		return err
	}
	if !mayReadReport(r, in.Type) {
		return errAuditReport
	}
	rep, err := a.cfg.Reports.GenerateReport(r.Context(), in.Type, in.Format, from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a.reportView(r)(rep))
	return nil
}

func (a *API) downloadReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := a.svc.Reports().Content(r.Context(), pathID(r, "id"))
	if err != nil {
		return err
	}
	if !mayReadReport(r, rep.Type) {
		return errAuditReport
	}
	m, ok := reportMedia[rep.Format]
	if !ok {
		m.contentType, m.ext = "application/octet-stream", "bin"
	}
	h := w.Header()
	h.Set("Content-Type", m.contentType)
	h.Set("Content-Length", strconv.Itoa(len(rep.Content)))
	h.Set("Content-Disposition", `attachment; filename="custos-`+string(rep.Type)+"-"+rep.PeriodFrom.UTC().Format(time.DateOnly)+"."+m.ext+`"`)
	h.Set("ETag", `"`+rep.SHA256+`"`)
	h.Set("X-Content-SHA256", rep.SHA256)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if rep.Format == store.FormatHTML {
		h.Set("Content-Security-Policy", reportCSP)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(rep.Content)
	return nil
}
