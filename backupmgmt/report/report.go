package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Defaults of Options.
const (
	// TitleDefault starts every report title.
	TitleDefault = "Custos"
	// MaxRowsDefault is how many rows a section lists before it says how
	// many more it leaves out.
	MaxRowsDefault = 200
	// MaxScanDefault bounds the rows read to count one section (the audit
	// events of a period, say): past it the counts say they are partial.
	MaxScanDefault = 50_000
	// MaxPeriod is the longest period a report covers.
	MaxPeriod = 366 * 24 * time.Hour
)

// Options are the optional settings of a Generator. The zero value, and a
// nil *Options, mean defaults.
type Options struct {
	// FontPath is a TrueType font embedded (subset) in PDFs, for text
	// beyond Latin-1 such as Japanese. Defaults to none: PDFs then use a
	// core font and show '?' for what it cannot.
	FontPath string
	// Location is the zone report periods and dates are shown in, and the
	// digest's 08:00. Defaults to the service's (backupmgmt.Config.Location).
	Location *time.Location
	// Title starts every report title. Defaults to TitleDefault.
	Title string
	// Organisation is printed in every report's header. Defaults to none.
	Organisation string
	// MaxRows defaults to MaxRowsDefault.
	MaxRows int
	// MaxScan defaults to MaxScanDefault.
	MaxScan int
}

// Generator builds, renders and stores reports over a service.
type Generator struct {
	svc  *backupmgmt.Service
	opts Options
	font []byte
	// maxBytes is store.MaxReportBytes; tests lower it.
	maxBytes int
}

// New returns a Generator over svc. A FontPath that cannot be read is an
// error here rather than at the first PDF.
func New(svc *backupmgmt.Service, opts *Options) (*Generator, error) {
	if svc == nil {
		return nil, errors.New("report: nil Service")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Location == nil {
		o.Location = svc.Location()
	}
	o.Title = cmp.Or(o.Title, TitleDefault)
	o.MaxRows = cmp.Or(o.MaxRows, MaxRowsDefault)
	o.MaxScan = cmp.Or(o.MaxScan, MaxScanDefault)
	fields := map[string]string{}
	if o.MaxRows < 0 {
		fields["max_rows"] = "must not be negative"
	}
	if o.MaxScan < 0 {
		fields["max_scan"] = "must not be negative"
	}
	if err := fieldsErr(fields); err != nil {
		return nil, err
	}
	g := &Generator{svc: svc, opts: o, maxBytes: store.MaxReportBytes}
	if o.FontPath != "" {
		b, err := os.ReadFile(o.FontPath)
		if err != nil {
			return nil, fmt.Errorf("report: font: %w", err)
		}
		g.font = b
	}
	return g, nil
}

// Request asks for one stored report.
type Request struct {
	Type   store.ReportType
	Format store.ReportFormat
	From   time.Time
	To     time.Time
	// GeneratedBy is the user recorded; nil means the actor of ctx.
	GeneratedBy *string
}

func checkPeriod(fields map[string]string, from, to time.Time) {
	switch {
	case from.IsZero():
		fields["period_from"] = "required"
	case to.IsZero():
		fields["period_to"] = "required"
	case to.Before(from):
		fields["period_to"] = "must not be before period_from"
	case to.Sub(from) > MaxPeriod:
		fields["period_to"] = "the period is at most 366 days"
	}
}

func checkType(fields map[string]string, t store.ReportType) {
	if !t.Valid() {
		fields["type"] = "must be one of daily, weekly, monthly, compliance, verification, media, audit, iso27001"
	}
}

func fieldsErr(fields map[string]string) error {
	if len(fields) > 0 {
		return &store.ValidationError{Fields: fields}
	}
	return nil
}

// Generate builds, renders and stores a report; with neither end of the
// period given it covers DefaultPeriod. Bad requests, and content
// over store.MaxReportBytes, are *store.ValidationError and store nothing.
func (g *Generator) Generate(ctx context.Context, req Request) (*store.Report, error) {
	fields := map[string]string{}
	checkType(fields, req.Type)
	if !req.Format.Valid() {
		fields["format"] = "must be one of html, csv, json, pdf"
	}
	if req.From.IsZero() && req.To.IsZero() && req.Type.Valid() {
		req.From, req.To = DefaultPeriod(req.Type, g.svc.Now(), g.opts.Location)
	}
	checkPeriod(fields, req.From, req.To)
	if err := fieldsErr(fields); err != nil {
		return nil, err
	}
	doc, err := g.Build(ctx, req.Type, req.From, req.To)
	if err != nil {
		return nil, err
	}
	content, err := Render(doc, req.Format, g.renderOptions()...)
	if err != nil {
		return nil, err
	}
	if len(content) > g.maxBytes {
		return nil, &store.ValidationError{Fields: map[string]string{
			"content": fmt.Sprintf("the report is %d bytes, over the %d allowed: ask for a shorter period", len(content), g.maxBytes),
		}}
	}
	r := &store.Report{
		Type:        req.Type,
		Format:      req.Format,
		PeriodFrom:  doc.Header.Period.From,
		PeriodTo:    doc.Header.Period.To,
		GeneratedBy: req.GeneratedBy,
		GeneratedAt: doc.Header.GeneratedAt,
		Content:     content,
	}
	if err := g.svc.Reports().Save(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// GenerateReport is Generate for the HTTP API: the report is recorded as
// generated by the actor of ctx.
func (g *Generator) GenerateReport(ctx context.Context, t store.ReportType, f store.ReportFormat, from, to time.Time) (*store.Report, error) {
	return g.Generate(ctx, Request{Type: t, Format: f, From: from, To: to})
}

func (g *Generator) renderOptions() []RenderOption {
	opts := []RenderOption{WithLocation(g.opts.Location)}
	if g.font != nil {
		opts = append(opts, WithFont(g.font))
	}
	return opts
}

// DefaultPeriod is the period a report of type t covers when none is
// asked for, in loc (nil means UTC): daily is yesterday, weekly the last
// full Monday–Sunday week, monthly the last full calendar month, and the
// others the 30 days ending now.
func DefaultPeriod(t store.ReportType, now time.Time, loc *time.Location) (from, to time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	switch t {
	case store.ReportDaily:
		return midnight.AddDate(0, 0, -1), midnight
	case store.ReportWeekly:
		monday := midnight.AddDate(0, 0, -((int(local.Weekday()) + 6) % 7))
		return monday.AddDate(0, 0, -7), monday
	case store.ReportMonthly:
		first := time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, loc)
		return first.AddDate(0, -1, 0), first
	}
	return now.Add(-30 * 24 * time.Hour), now
}
