package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

const ipaexGothic = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"

// missing skips a test that needs something this machine lacks; under CI,
// which provides everything, it fails instead.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but " + why)
	}
	t.Skip(why)
}

func TestReportGenerate(t *testing.T) {
	t.Parallel()

	t.Run("WritesTheFileAndStoresIt", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		addAlice(t, dsn)
		out := filepath.Join(t.TempDir(), "audit.json")
		r := runCmd(t, map[string]string{envDB: dsn, envTimezone: "Asia/Tokyo"},
			"report", "generate", "--type", "audit", "--format", "json", "--from", "2026-01-01", "--to", "2027-01-01", "--out", out)
		require.Equal(t, exitOK, r.code, r.stderr)
		content, err := os.ReadFile(out)
		require.NoError(t, err)
		sum := sha256.Sum256(content)
		require.Contains(t, r.stdout, "sha256 "+hex.EncodeToString(sum[:]))
		require.Contains(t, r.stdout, "2026-01-01T00:00:00+09:00", "the period is read in --timezone")
		var doc map[string]any
		require.NoError(t, json.Unmarshal(content, &doc))
		require.Contains(t, string(content), "user.create", "the audit report lists alice's creation")

		// Stored: the audit log records the generation.
		r = runCmd(t, map[string]string{envDB: dsn}, "audit", "verify")
		require.Equal(t, exitOK, r.code, r.stderr)
		require.Equal(t, "audit chain intact: 2 events\n", r.stdout, "user.create and report.generate")
	})

	t.Run("ToStdout", func(t *testing.T) {
		t.Parallel()
		r := runCmd(t, map[string]string{envDB: migratedDB(t)}, "report", "generate", "--type", "daily", "--out", "-")
		require.Equal(t, exitOK, r.code, r.stderr)
		require.True(t, strings.HasPrefix(r.stdout, "<!DOCTYPE html>"), r.stdout[:min(80, len(r.stdout))])
	})

	t.Run("PDFWithAJapaneseFont", func(t *testing.T) {
		t.Parallel()
		if _, err := os.Stat(ipaexGothic); err != nil {
			missing(t, "fonts-ipaexfont is not installed (.ci/run installs it)")
		}
		if _, err := exec.LookPath("pdftotext"); err != nil {
			missing(t, "pdftotext (poppler-utils) is not installed (.ci/run installs it)")
		}
		dsn := migratedDB(t)
		require.NoError(t, withService(t.Context(), dsn, func(ctx context.Context, svc *backupmgmt.Service) error {
			_, err := svc.Jobs().Create(ctx, backupmgmt.JobParams{Name: "経理データベース", JobType: store.JobTypeDatabase,
				Tool: store.ToolPgDump, Schedule: store.Schedule{Kind: store.ScheduleManual}})
			return err
		}))
		out := filepath.Join(t.TempDir(), "compliance.pdf")
		r := runCmd(t, map[string]string{envDB: dsn, envReportFont: ipaexGothic},
			"report", "generate", "--type", "compliance", "--format", "pdf", "--out", out)
		require.Equal(t, exitOK, r.code, r.stderr)
		text, err := exec.Command("pdftotext", out, "-").Output()
		require.NoError(t, err)
		require.Contains(t, string(text), "経理データベース")
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		dsn := migratedDB(t)
		for _, tc := range []struct {
			args []string
			env  map[string]string
			want string
		}{
			{[]string{"--format", "html"}, nil, "--type is required"},
			{[]string{"--type", "yearly"}, nil, `--type "yearly"`},
			{[]string{"--type", "daily", "--format", "docx"}, nil, `--format "docx"`},
			{[]string{"--type", "daily", "--from", "2026-01-01"}, nil, "--from and --to go together"},
			{[]string{"--type", "daily", "--from", "yesterday", "--to", "2026-01-02"}, nil, `--from "yesterday"`},
			{[]string{"--type", "daily"}, map[string]string{envTimezone: "Mars/Olympus"}, `--timezone (CUSTOS_TIMEZONE) "Mars/Olympus"`},
			{[]string{"--type", "daily", "--report-font", "/nonexistent.ttf"}, nil, "--report-font"},
		} {
			env := map[string]string{envDB: dsn}
			for k, v := range tc.env {
				env[k] = v
			}
			r := runCmd(t, env, append([]string{"report", "generate"}, tc.args...)...)
			require.Equal(t, exitUsage, r.code, "%v: %s", tc.args, r.stderr)
			require.Contains(t, r.stderr, tc.want, tc.args)
		}
		// A period the generator refuses is a failure naming the field,
		// and nothing is written.
		out := filepath.Join(t.TempDir(), "r.html")
		r := runCmd(t, map[string]string{envDB: dsn}, "report", "generate", "--type", "daily", "--from", "2026-02-01", "--to", "2026-01-01", "--out", out)
		require.Equal(t, exitFail, r.code, r.stderr)
		require.Contains(t, r.stderr, "period_to")
		require.NoFileExists(t, out)
	})
}
