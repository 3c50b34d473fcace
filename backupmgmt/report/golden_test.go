package report

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// goldenPeriods are the periods of the golden reports: the fixture's day,
// week and month in Tokyo, and 30 days ending at the fixture's end.
func goldenPeriod(t store.ReportType) (time.Time, time.Time) {
	day := time.Date(2026, 11, 2, 0, 0, 0, 0, tokyo)
	switch t {
	case store.ReportDaily:
		return day, day.AddDate(0, 0, 1)
	case store.ReportWeekly:
		return day, day.AddDate(0, 0, 7)
	case store.ReportMonthly:
		return day.AddDate(0, 0, -1), day.AddDate(0, 1, -1)
	}
	end := time.Date(2026, 11, 3, 1, 0, 0, 0, time.UTC)
	return end.Add(-30 * 24 * time.Hour), end
}

func pdfText(t *testing.T, pdf []byte) []byte {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "r.pdf")
	require.NoError(t, os.WriteFile(in, pdf, 0o600))
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", in, "-").Output()
	require.NoError(t, err)
	return out
}

func hasPDFTools() (bool, string) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		return false, "pdftotext (Debian's poppler-utils) is not installed"
	}
	if _, err := os.Stat(ipaexFont); err != nil {
		return false, "the IPAex font (Debian's fonts-ipaexfont) is not installed"
	}
	return true, ""
}

// requirePDFTools skips t when pdftotext or the IPAex font is missing,
// and fails it instead under CI, whose script installs both: there a
// missing tool must not pass for a checked PDF.
func requirePDFTools(t *testing.T) {
	t.Helper()
	if ok, why := hasPDFTools(); !ok {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but " + why)
		}
		t.Skip(why)
	}
}

// checkGolden compares got with a golden file; -update rewrites the file
// from SQLite's output, which the other databases must then match.
func checkGolden(t *testing.T, kind dbopen.Kind, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if kind != dbopen.SQLite {
			return
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), string(got), "%s differs from the golden file", name)
}

// TestGolden renders every report type in every format from the same
// seeded estate on every database and compares it with testdata/golden.
func TestGolden(t *testing.T) {
	t.Parallel()
	pdfOK, _ := hasPDFTools()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		opts := &Options{Organisation: "株式会社サンプル"}
		if pdfOK {
			opts.FontPath = ipaexFont
		}
		f, g := seeded(t, kind, opts)
		pdfs := map[store.ReportType][]byte{}
		for _, typ := range store.ReportTypeValues() {
			from, to := goldenPeriod(typ)
			doc, err := g.Build(f.ctx, typ, from, to)
			require.NoError(t, err)
			for _, format := range store.ReportFormatValues() {
				out, err := Render(doc, format, g.renderOptions()...)
				require.NoError(t, err)
				again, err := Render(doc, format, g.renderOptions()...)
				require.NoError(t, err)
				require.True(t, bytes.Equal(out, again), "%s %s renders differently twice", typ, format)
				if format == store.FormatPDF {
					pdfs[typ] = out
					continue
				}
				checkGolden(t, kind, string(typ)+"."+string(format), out)
			}
		}
		t.Run("PDFText", func(t *testing.T) {
			requirePDFTools(t)
			for _, typ := range store.ReportTypeValues() {
				checkGolden(t, kind, string(typ)+".txt", pdfText(t, pdfs[typ]))
			}
		})
	})
}
