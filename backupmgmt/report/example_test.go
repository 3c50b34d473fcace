package report_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt/report"
	"github.com/custos-dev/custos/store"
)

// A Document renders the same in every format; CSV quotes any cell a
// spreadsheet would take for a formula.
func ExampleRender() {
	at := time.Date(2026, 11, 3, 1, 0, 0, 0, time.UTC)
	doc := &report.Document{
		Header: report.Header{
			Type: store.ReportVerification, Title: "Custos: restore tests",
			Period: report.Period{From: at.Add(-24 * time.Hour), To: at, Timezone: "UTC"}, GeneratedAt: at,
		},
		Verification: &report.VerificationSection{
			ByResult: []report.Count{{Key: "success", Count: 1}},
			WithRTO:  1, WithinRTO: 1,
			Tests: report.List[report.TestRow]{Total: 1, TotalExact: true, Items: []report.TestRow{{
				JobName: "=HYPERLINK(1)", TestType: store.TestFullRestore, Result: store.TestSuccess,
				TestedAt: at.Add(-time.Hour), DurationSec: 5400, RTOTargetSec: 7200, WithinRTO: new(true),
			}}},
			Overdue: report.List[report.ScheduleRow]{Items: []report.ScheduleRow{}, TotalExact: true},
		},
	}
	out, err := report.Render(doc, store.FormatCSV)
	if err != nil {
		panic(err)
	}
	// Lines end in CRLF (RFC 4180); shown here with LF.
	fmt.Print(strings.ReplaceAll(string(out), "\r\n", "\n"))
	// Output:
	// Custos: restore tests
	// Report,verification
	// Period,2026-11-02 01:00:00 to 2026-11-03 01:00:00 (UTC)
	// Generated,2026-11-03 01:00:00
	//
	// Verification summary
	// Figure,Value
	// Restore tests in the period,1
	// Result success,1
	// Tests of jobs with an RTO target,1
	// Within the RTO target,1
	// Overdue schedules,0
	// Schedules due soon,0
	//
	// Restore tests
	// Tested,Job,Type,Result,Measured RTO,RTO target,Within RTO,Files checked,Files failed,Issues
	// 2026-11-03 00:00:00,'=HYPERLINK(1),full_restore,success,1h30m0s,2h0m0s,yes,0,0,
	//
	// Overdue verification schedules
	// Job,Frequency,Test type,Due on
	// None.
}
