package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// seeded returns a seeded fixture on kind and a generator in Tokyo.
func seeded(t *testing.T, kind dbopen.Kind, opts *Options) (*fixture, *Generator) {
	t.Helper()
	f := newFixture(t, kind)
	f.seed(t)
	o := Options{Location: tokyo}
	if opts != nil {
		o = *opts
		o.Location = tokyo
	}
	g, err := New(f.svc, &o)
	require.NoError(t, err)
	return f, g
}

func render(t *testing.T, f *fixture, g *Generator, typ store.ReportType, format store.ReportFormat) []byte {
	t.Helper()
	from, to := goldenPeriod(typ)
	doc, err := g.Build(f.ctx, typ, from, to)
	require.NoError(t, err)
	out, err := Render(doc, format, g.renderOptions()...)
	require.NoError(t, err)
	return out
}

func requireFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	var ve *store.ValidationError
	require.True(t, errors.As(err, &ve), "want a *store.ValidationError, got %v", err)
	for _, f := range fields {
		require.Contains(t, ve.Fields, f)
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	f, g := seeded(t, dbopen.SQLite, nil)

	t.Run("HTMLEscapesNamesAndLoadsNothing", func(t *testing.T) {
		t.Parallel()
		allowed := map[string]bool{}
		for _, tag := range strings.Fields("html head meta title style body h1 h2 dl dt dd section table thead tbody tr th td p") {
			allowed[tag] = true
		}
		tagRE := regexp.MustCompile(`<([a-zA-Z0-9]+)([^>]*)>`)
		for _, typ := range store.ReportTypeValues() {
			html := string(render(t, f, g, typ, store.FormatHTML))
			require.NotContains(t, strings.ToLower(html), "<script", typ)
			for _, m := range tagRE.FindAllStringSubmatch(html, -1) {
				require.True(t, allowed[strings.ToLower(m[1])], "%s: unexpected tag %s", typ, m[0])
				require.NotRegexp(t, `(?i)\b(src|href|on[a-z]+)\s*=`, m[2], "%s: tag %s", typ, m[0])
			}
			style := html[strings.Index(html, "<style>"):strings.Index(html, "</style>")]
			require.NotRegexp(t, `(?i)@import|url\(`, style)
		}
		html := string(render(t, f, g, store.ReportDaily, store.FormatHTML))
		require.Contains(t, html, "&lt;script&gt;alert(1)&lt;/script&gt;")
		require.Contains(t, html, jobJP)
	})

	t.Run("CSVEscapesFormulaCells", func(t *testing.T) {
		t.Parallel()
		for _, typ := range store.ReportTypeValues() {
			r := csv.NewReader(bytes.NewReader(render(t, f, g, typ, store.FormatCSV)))
			r.FieldsPerRecord = -1
			recs, err := r.ReadAll()
			require.NoError(t, err)
			for _, rec := range recs {
				for _, cell := range rec {
					if lead := strings.TrimLeft(cell, " \t\r\n"); lead != "" && !csvNumber(cell) {
						require.NotContains(t, "=+-@\t\r", cell[:1], "%s: cell %q would be a formula", typ, cell)
						require.NotContains(t, "=+-@", lead[:1], "%s: cell %q would be a formula", typ, cell)
					}
				}
			}
		}
		out := string(render(t, f, g, store.ReportDaily, store.FormatCSV))
		require.Contains(t, out, `'=cmd|' /C calc'!A0,`)
		require.Contains(t, out, `"'=HYPERLINK(""http://evil.example"")"`)
	})

	t.Run("PDFShowsJapaneseWithTheFont", func(t *testing.T) {
		t.Parallel()
		requirePDFTools(t)
		fg, err := New(f.svc, &Options{Location: tokyo, FontPath: ipaexFont})
		require.NoError(t, err)
		pdf := render(t, f, fg, store.ReportCompliance, store.FormatPDF)
		require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")))
		text := string(pdfText(t, pdf))
		require.Contains(t, text, jobJP)
		require.Contains(t, text, "経理システム")
		require.Contains(t, text, jobScript)
	})

	t.Run("PDFWithoutFontShowsQuestionMarks", func(t *testing.T) {
		t.Parallel()
		requirePDFTools(t)
		text := string(pdfText(t, render(t, f, g, store.ReportCompliance, store.FormatPDF)))
		require.NotContains(t, text, jobJP)
		require.Contains(t, text, strings.Repeat("?", len([]rune(jobJP))))
		require.Contains(t, text, jobScript)
	})

	t.Run("JSONIsTheDocument", func(t *testing.T) {
		t.Parallel()
		var doc Document
		require.NoError(t, json.Unmarshal(render(t, f, g, store.ReportVerification, store.FormatJSON), &doc))
		require.Equal(t, store.ReportVerification, doc.Header.Type)
		require.Equal(t, time.UTC, doc.Header.GeneratedAt.Location())
		require.Equal(t, 3, doc.Verification.Tests.Total)
		var jp TestRow
		for _, r := range doc.Verification.Tests.Items {
			if r.JobName == jobJP {
				jp = r
			}
		}
		require.Equal(t, int64(3*3600), jp.DurationSec)
		require.Equal(t, int64(4*3600), jp.RTOTargetSec)
		require.Equal(t, ptr(true), jp.WithinRTO)
	})

	t.Run("RejectsUnknownFormat", func(t *testing.T) {
		t.Parallel()
		_, err := Render(&Document{}, "docx")
		requireFields(t, err, "format")
	})
}

func TestListsAreCapped(t *testing.T) {
	t.Parallel()
	f, g := seeded(t, dbopen.SQLite, &Options{MaxRows: 1})
	from, to := goldenPeriod(store.ReportDaily)
	doc, err := g.Build(f.ctx, store.ReportDaily, from, to)
	require.NoError(t, err)
	require.Len(t, doc.Summary.FailedRuns.Items, 1)
	require.Equal(t, 3, doc.Summary.FailedRuns.Total)
	require.Equal(t, 2, doc.Summary.FailedRuns.NotShown)
	out, err := Render(doc, store.FormatHTML)
	require.NoError(t, err)
	require.Contains(t, string(out), "2 more not shown (3 in all).")
}

// TestISOFiguresEqualTheService checks the evidence pack against what the
// service reports for the same period through its own read APIs.
func TestISOFiguresEqualTheService(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		f, g := seeded(t, kind, nil)
		ctx := f.ctx
		from, to := goldenPeriod(store.ReportISO27001)
		doc, err := g.Build(ctx, store.ReportISO27001, from, to)
		require.NoError(t, err)
		span := store.TimeRange{From: from, To: to}

		byStatus := map[store.ExecutionStatus]int64{}
		for p := (store.ListExecutionsParams{Started: span}); ; {
			page, err := f.svc.Executions().List(ctx, p)
			require.NoError(t, err)
			for _, e := range page.Items {
				byStatus[e.Status]++
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		ok := byStatus[store.ExecutionSuccess] + byStatus[store.ExecutionWarning]
		rate := float64(ok) / float64(ok+byStatus[store.ExecutionFailed]+byStatus[store.ExecutionMissed])
		require.NotNil(t, doc.Summary.SuccessRate)
		require.InDelta(t, rate, *doc.Summary.SuccessRate, 1e-9)
		require.Equal(t, byStatus[store.ExecutionFailed], int64(doc.Summary.FailedRuns.Total))
		// Every run of the fixture is in the period and on a folded day, so
		// the rollups agree too.
		var rolled store.DailyRollup
		trend, err := f.svc.Rollups().Trend(ctx, store.DateOf(from, time.UTC), store.DateOf(to.Add(-time.Second), time.UTC))
		require.NoError(t, err)
		for _, r := range trend {
			rolled.ExecutionsSuccess += r.ExecutionsSuccess
			rolled.ExecutionsWarning += r.ExecutionsWarning
			rolled.ExecutionsFailed += r.ExecutionsFailed
			rolled.ExecutionsMissed += r.ExecutionsMissed
		}
		rolledRate, _ := backupmgmt.RollupSuccessRate(rolled)
		require.InDelta(t, rolledRate, *doc.Summary.SuccessRate, 1e-9)

		sum, err := f.svc.Compliance().Summary(ctx)
		require.NoError(t, err)
		require.InDelta(t, sum.Rate, doc.Compliance.Counts.Rate, 1e-9)
		for _, c := range doc.Compliance.Counts.Jobs {
			require.Equal(t, int64(sum.Jobs[store.ComplianceStatus(c.Key)]), c.Count, c.Key)
		}

		tests, err := f.svc.Verification().ListTests(ctx, store.ListVerificationTestsParams{Tested: span})
		require.NoError(t, err)
		require.Len(t, tests.Items, doc.Verification.Tests.Total)
		failed := 0
		for _, tt := range tests.Items {
			if tt.Result == store.TestFailed {
				failed++
			}
		}
		require.Equal(t, int64(failed), countOf(doc.Verification.ByResult, string(store.TestFailed)))

		chain, err := f.svc.Audit().Verify(ctx)
		require.NoError(t, err)
		require.Equal(t, chain.OK, doc.Audit.Chain.OK)
		require.Equal(t, chain.Checked, doc.Audit.Chain.Checked)
		require.Equal(t, chain.LastSeq, doc.Audit.Chain.LastSeq)

		byID := map[string]Control{}
		for _, c := range doc.Controls {
			byID[c.ID] = c
		}
		require.Equal(t, ControlPartial, byID["A.8.13"].Status)
		require.Contains(t, byID["A.8.13"].Figures, Figure{"Success rate", pct(&rate)})
		require.Contains(t, byID["A.8.13"].Reasons, "2 jobs break the 3-2-1-1-0 policy")
		require.Equal(t, ControlMet, byID["A.8.15"].Status)
		require.Equal(t, ControlPartial, byID["A.5.30"].Status)
		require.Contains(t, byID["A.5.30"].Reasons, "1 verification schedule is overdue")
	})
}

func TestISOLoggingNotMetWhenTheChainIsBroken(t *testing.T) {
	t.Parallel()
	ctl := loggingControl(&AuditSection{Events: 5, EventsExact: true, Chain: ChainResult{OK: false, BrokenAt: 3, Reason: "hash mismatch"}})
	require.Equal(t, ControlNotMet, ctl.Status)
	require.Contains(t, ctl.Reasons[0], "broken at event 3: hash mismatch")
	ctl = loggingControl(&AuditSection{Events: 0, EventsExact: true, Chain: ChainResult{OK: true}})
	require.Equal(t, ControlPartial, ctl.Status)
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		f, g := seeded(t, kind, nil)
		from, to := goldenPeriod(store.ReportWeekly)

		t.Run("StoresContentWithItsHash", func(t *testing.T) {
			r, err := g.GenerateReport(f.ctx, store.ReportWeekly, store.FormatCSV, from, to)
			require.NoError(t, err)
			got, err := f.svc.Reports().Content(f.ctx, r.ID)
			require.NoError(t, err)
			sum := sha256.Sum256(got.Content)
			require.Equal(t, hex.EncodeToString(sum[:]), got.SHA256)
			require.Equal(t, int64(len(got.Content)), got.SizeBytes)
			require.Equal(t, r.SHA256, got.SHA256)
			require.Contains(t, string(got.Content), "Weekly report")
			require.Equal(t, &f.admin.ID, got.GeneratedBy)
			require.True(t, got.PeriodFrom.Equal(from))
			require.True(t, got.PeriodTo.Equal(to))
		})

		t.Run("NoPeriodMeansTheDefault", func(t *testing.T) {
			got, err := g.GenerateReport(f.ctx, store.ReportWeekly, store.FormatJSON, time.Time{}, time.Time{})
			require.NoError(t, err)
			wantFrom, wantTo := DefaultPeriod(store.ReportWeekly, f.svc.Now(), g.opts.Location)
			require.True(t, got.PeriodFrom.Equal(wantFrom), "from %s, want %s", got.PeriodFrom, wantFrom)
			require.True(t, got.PeriodTo.Equal(wantTo), "to %s, want %s", got.PeriodTo, wantTo)
		})

		t.Run("RejectsBadRequestsAndStoresNothing", func(t *testing.T) {
			before, err := f.svc.Reports().List(f.ctx, store.ListReportsParams{})
			require.NoError(t, err)
			for _, tc := range []struct {
				name  string
				req   Request
				field string
			}{
				{"UnknownType", Request{Type: "yearly", Format: store.FormatHTML, From: from, To: to}, "type"},
				{"UnknownFormat", Request{Type: store.ReportDaily, Format: "docx", From: from, To: to}, "format"},
				{"NoFrom", Request{Type: store.ReportDaily, Format: store.FormatHTML, To: to}, "period_from"},
				{"ToBeforeFrom", Request{Type: store.ReportDaily, Format: store.FormatHTML, From: to, To: from}, "period_to"},
				{"LongerThan366Days", Request{Type: store.ReportDaily, Format: store.FormatHTML, From: from.AddDate(-1, 0, -2), To: from}, "period_to"},
			} {
				_, err := g.Generate(f.ctx, tc.req)
				requireFields(t, err, tc.field)
			}
			small := *g
			small.maxBytes = 1000
			_, err = small.Generate(f.ctx, Request{Type: store.ReportDaily, Format: store.FormatHTML, From: from, To: to})
			requireFields(t, err, "content")
			after, err := f.svc.Reports().List(f.ctx, store.ListReportsParams{})
			require.NoError(t, err)
			require.Len(t, after.Items, len(before.Items))
		})
	})
}

func TestTickDigest(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		f := newFixture(t, kind)
		g, err := New(f.svc, &Options{Location: tokyo})
		require.NoError(t, err)
		email := func(name string, active bool) {
			_, err := f.svc.Channels().Create(f.ctx, backupmgmt.ChannelParams{Kind: store.ChannelEmail, Name: name, Active: &active,
				Settings: json.RawMessage(`{"host":"smtp.example.com","from":"custos@example.com"}`)})
			require.NoError(t, err)
		}
		email("ops", true)
		email("management", true)
		email("old", false)
		_, err = f.svc.Channels().Create(f.ctx, backupmgmt.ChannelParams{Kind: store.ChannelWebhook, Name: "hook",
			Settings: json.RawMessage(`{"url":"https://example.invalid/hook","secret":"0123456789abcdef"}`)})
		require.NoError(t, err)
		outbox := func() []store.Notification {
			page, err := f.store.Notifications().List(f.ctx, store.ListNotificationsParams{})
			require.NoError(t, err)
			return page.Items
		}

		f.clock.Set(time.Date(2026, 11, 3, 7, 59, 59, 0, tokyo))
		done, err := g.TickDigest(f.ctx)
		require.NoError(t, err)
		require.False(t, done, "before 08:00")
		require.Empty(t, outbox())

		// A daily report made from the command line before 08:00 is not
		// the digest: the digest is still mailed.
		_, err = g.Generate(f.ctx, Request{Type: store.ReportDaily, Format: store.FormatHTML,
			From: time.Date(2026, 11, 2, 0, 0, 0, 0, tokyo), To: time.Date(2026, 11, 3, 0, 0, 0, 0, tokyo)})
		require.NoError(t, err)

		// Nor is one the system made from the command line after 08:00,
		// just like the digest's but without its audit event.
		f.clock.Set(time.Date(2026, 11, 3, 8, 0, 0, 0, tokyo))
		_, err = g.Generate(backupmgmt.WithActor(f.ctx, backupmgmt.Actor{}), Request{Type: store.ReportDaily, Format: store.FormatHTML,
			From: time.Date(2026, 11, 2, 0, 0, 0, 0, tokyo), To: time.Date(2026, 11, 3, 0, 0, 0, 0, tokyo)})
		require.NoError(t, err)
		require.Empty(t, outbox())

		f.clock.Set(time.Date(2026, 11, 3, 8, 5, 0, 0, tokyo))
		done, err = g.TickDigest(f.ctx)
		require.NoError(t, err)
		require.True(t, done, "the reports made from the command line do not stand in for the digest")
		rows := outbox()
		require.Len(t, rows, 2, "one row per active email channel")
		var notice backupmgmt.ReportNotice
		require.NoError(t, json.Unmarshal(rows[0].Payload, &notice))
		require.Equal(t, store.ReportDaily, notice.Type)
		require.Contains(t, notice.Summary, "Runs: 0")
		r, err := f.svc.Reports().Get(f.ctx, notice.ReportID)
		require.NoError(t, err)
		require.Nil(t, r.GeneratedBy, "the digest is the system's")
		require.Equal(t, store.FormatHTML, r.Format)
		require.True(t, r.PeriodFrom.Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, tokyo)))

		f.clock.Set(time.Date(2026, 11, 3, 21, 0, 0, 0, tokyo))
		done, err = g.TickDigest(f.ctx)
		require.NoError(t, err)
		require.False(t, done, "once a day")
		require.Len(t, outbox(), 2)

		f.clock.Set(time.Date(2026, 11, 4, 8, 30, 0, 0, tokyo))
		done, err = g.TickDigest(f.ctx)
		require.NoError(t, err)
		require.True(t, done, "the next day")
		require.Len(t, outbox(), 4)
	})
}

func TestCSVCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                       "",
		"backup":                 "backup",
		"3":                      "3",
		"-3.2":                   "-3.2",
		"-5":                     "-5",
		"+1e3":                   "+1e3",
		"-3.2%":                  "-3.2%",
		"12.5%":                  "12.5%",
		"=1+2":                   "'=1+2",
		"+cmd":                   "'+cmd",
		"-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
		"@SUM(A1)":               "'@SUM(A1)",
		"  =1+2":                 "'  =1+2",
		"\t=1+2":                 "'\t=1+2",
		" \t @x":                 "' \t @x",
		"\tplain":                "'\tplain",
		"\rplain":                "'\rplain",
		"-Inf":                   "'-Inf",
		"+NaN":                   "'+NaN",
		"- 3":                    "'- 3",
		"a=b":                    "a=b",
		"   ":                    "   ",
	} {
		require.Equal(t, want, csvCell(in), "csvCell(%q)", in)
	}
}

func TestDefaultPeriod(t *testing.T) {
	t.Parallel()
	// Wednesday 4 November 2026, 01:30 in Tokyo (still the 3rd in UTC).
	now := time.Date(2026, 11, 3, 16, 30, 0, 0, time.UTC)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, tokyo) }
	for _, tc := range []struct {
		typ      store.ReportType
		from, to time.Time
	}{
		{store.ReportDaily, day(2026, 11, 3), day(2026, 11, 4)},
		{store.ReportWeekly, day(2026, 10, 26), day(2026, 11, 2)},
		{store.ReportMonthly, day(2026, 10, 1), day(2026, 11, 1)},
		{store.ReportAudit, now.Add(-30 * 24 * time.Hour), now},
		{store.ReportISO27001, now.Add(-30 * 24 * time.Hour), now},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			t.Parallel()
			from, to := DefaultPeriod(tc.typ, now, tokyo)
			require.True(t, from.Equal(tc.from), "from %s, want %s", from, tc.from)
			require.True(t, to.Equal(tc.to), "to %s, want %s", to, tc.to)
		})
	}
	t.Run("MondayGivesTheWeekBefore", func(t *testing.T) {
		t.Parallel()
		from, to := DefaultPeriod(store.ReportWeekly, time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo), tokyo)
		require.True(t, from.Equal(day(2026, 10, 26)))
		require.True(t, to.Equal(day(2026, 11, 2)))
	})
	t.Run("JanuaryGivesDecember", func(t *testing.T) {
		t.Parallel()
		from, to := DefaultPeriod(store.ReportMonthly, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC)
		require.True(t, from.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
		require.True(t, to.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)))
	})
}

func TestNewRejectsAMissingFont(t *testing.T) {
	t.Parallel()
	f := newFixture(t, dbopen.SQLite)
	_, err := New(f.svc, &Options{FontPath: "/nonexistent/font.ttf"})
	require.Error(t, err)
	_, err = New(f.svc, &Options{MaxRows: -1})
	requireFields(t, err, "max_rows")
}
