package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/backupmgmt/report"
	"github.com/custos-dev/custos/store"
)

// reportParams are the resolved flags of 'report generate'.
type reportParams struct {
	DSN      string
	Type     store.ReportType
	Format   store.ReportFormat
	From, To time.Time // zero: the type's default period
	Out      string    // "-" for stdout, "" for custos-<type>-<from>.<ext>
	Location *time.Location
	Font     string
}

func reportFlags(getenv getenvFunc) (*flag.FlagSet, func() (reportParams, error)) {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	dsn := dbFlag(fs, getenv)
	typ := fs.String("type", "", "report `type`: daily, weekly, monthly, compliance, verification, media, audit, iso27001 (required)")
	format := fs.String("format", "html", "`format`: html, csv, json or pdf")
	from := fs.String("from", "", "start of the period, a `date` (YYYY-MM-DD, in --timezone) or an RFC 3339 time; with --to")
	to := fs.String("to", "", "end of the period (exclusive), a `date` or an RFC 3339 time; with --from")
	out := fs.String("out", "", "write the report to this `file`; - for stdout (default custos-TYPE-FROM.EXT in the current directory)")
	zone := zoneFlag(fs, getenv)
	font := fontFlag(fs, getenv)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: refserver report generate --type TYPE [--format FORMAT] [--from DATE --to DATE]
                                [--out FILE] [--timezone ZONE] [--report-font FILE] [--db DSN]

Generates a report, stores it in the database with its SHA-256 (the API
lists and serves it like any other) and writes the file. Without --from
and --to the period is the type's default: daily yesterday, weekly the last
full week, monthly the last full month, the others the last 30 days.

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, func() (reportParams, error) {
		p := reportParams{DSN: dsn(), Type: store.ReportType(*typ), Format: store.ReportFormat(strings.ToLower(*format)), Out: *out}
		var err error
		if p.Location, err = zone(); err != nil {
			return p, err
		}
		if p.Font, err = font(); err != nil {
			return p, err
		}
		switch {
		case p.Type == "":
			return p, fmt.Errorf("--type is required")
		case !p.Type.Valid():
			return p, fmt.Errorf("--type %q: want daily, weekly, monthly, compliance, verification, media, audit or iso27001", p.Type)
		case !p.Format.Valid():
			return p, fmt.Errorf("--format %q: want html, csv, json or pdf", *format)
		case (*from == "") != (*to == ""):
			return p, fmt.Errorf("--from and --to go together")
		}
		if *from != "" {
			if p.From, err = parseWhen(*from, p.Location); err != nil {
				return p, fmt.Errorf("--from %q: %w", *from, err)
			}
			if p.To, err = parseWhen(*to, p.Location); err != nil {
				return p, fmt.Errorf("--to %q: %w", *to, err)
			}
		}
		return p, nil
	}
}

// parseWhen reads a date (midnight in loc) or an RFC 3339 time.
func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want YYYY-MM-DD or an RFC 3339 time")
	}
	return t, nil
}

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, resolve := reportFlags(getenv)
	fs.SetOutput(stderr)
	if _, code := parseAction(fs, args, "generate"); code >= 0 {
		return code
	}
	p, err := resolve()
	if err != nil {
		return usageErr(fs, "%s", err)
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "refserver report generate: %s\n", secretScrubber(p.DSN)(err.Error()))
		return exitFail
	}
	var r *store.Report
	err = withServiceConfig(ctx, p.DSN, &backupmgmt.Config{Location: p.Location}, func(ctx context.Context, svc *backupmgmt.Service) error {
		g, err := report.New(svc, &report.Options{FontPath: p.Font})
		if err != nil {
			return err
		}
		r, err = g.Generate(ctx, report.Request{Type: p.Type, Format: p.Format, From: p.From, To: p.To})
		if err != nil {
			return err
		}
		r, err = svc.Reports().Content(ctx, r.ID)
		return err
	})
	if err != nil {
		return fail(err)
	}
	out := p.Out
	if out == "" {
		out = fmt.Sprintf("custos-%s-%s.%s", r.Type, r.PeriodFrom.In(p.Location).Format(time.DateOnly), r.Format)
	}
	if out == "-" {
		if _, err := stdout.Write(r.Content); err != nil {
			return fail(err)
		}
		return exitOK
	}
	if err := writeFileAtomic(out, r.Content); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "report %s (%s, %s to %s): %s, %d bytes, sha256 %s\n", r.ID, r.Type,
		r.PeriodFrom.In(p.Location).Format(time.RFC3339), r.PeriodTo.In(p.Location).Format(time.RFC3339), out, r.SizeBytes, r.SHA256)
	return exitOK
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that a failure never leaves half a report.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".custos-report-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	err = errors.Join(werr, f.Sync(), f.Close())
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}
