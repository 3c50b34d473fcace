package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// result is what one refserver invocation printed and returned.
type result struct {
	code   int
	stdout string
	stderr string
}

// runCmd runs refserver in-process with env as its whole environment and
// an empty stdin.
func runCmd(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return runCmdIn(t, env, "", args...)
}

// runCmdIn runs refserver in-process with stdin as its standard input.
func runCmdIn(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, envFunc(env))
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newJSONLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func envFunc(env map[string]string) getenvFunc {
	return func(k string) string { return env[k] }
}

func TestUsageErrorsExitTwoWithUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"NoArguments", nil, "Usage: refserver <command>"},
		{"UnknownCommand", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"HelpForUnknownCommand", []string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{"ServeUnknownFlag", []string{"serve", "--port", "80"}, "flag provided but not defined: -port"},
		{"ServeExtraArgument", []string{"serve", "now"}, `unexpected argument "now"`},
		{"ServeBadLogLevel", []string{"serve", "--log-level", "loud"}, `--log-level (CUSTOS_LOG_LEVEL): log level "loud"`},
		{"ServeBadAddr", []string{"serve", "--addr", "localhost"}, `--addr (CUSTOS_ADDR) "localhost": want host:port`},
		{"ServeBadBehindTLS", []string{"serve", "--behind-tls=maybe"}, `invalid boolean value "maybe" for -behind-tls`},
		{"MigrateWithoutAction", []string{"migrate"}, "missing action"},
		{"MigrateUnknownAction", []string{"migrate", "sideways"}, `unknown action "sideways"`},
		{"MigrateUnknownFlagAfterAction", []string{"migrate", "up", "--force"}, "flag provided but not defined: -force"},
		{"MigrateTwoActions", []string{"migrate", "up", "down"}, `unexpected argument "down"`},
		{"UserWithoutAction", []string{"user"}, "missing action: add"},
		{"UserUnknownAction", []string{"user", "remove"}, `unknown action "remove": want add`},
		{"UserAddWithoutUsername", []string{"user", "add", "--role", "admin"}, "--username is required"},
		{"UserAddWithoutRole", []string{"user", "add", "--username", "alice"}, "--role is required"},
		{"UserAddUnknownRole", []string{"user", "add", "--username", "alice", "--role", "root"}, `--role "root": want admin, operator, viewer, auditor`},
		{"UserAddPasswordFlag", []string{"user", "add", "--username", "alice", "--role", "admin", "--password", "x"}, "flag provided but not defined: -password"},
		{"APIKeyWithoutAction", []string{"apikey"}, "missing action: create"},
		{"APIKeyUnknownAction", []string{"apikey", "revoke"}, `unknown action "revoke"`},
		{"APIKeyWithoutUser", []string{"apikey", "create", "--name", "n", "--scopes", "ingest"}, "--user is required"},
		{"APIKeyWithoutName", []string{"apikey", "create", "--user", "u", "--scopes", "ingest"}, "--name is required"},
		{"APIKeyWithoutScopes", []string{"apikey", "create", "--user", "u", "--name", "n"}, "--scopes is required"},
		{"APIKeyUnknownScope", []string{"apikey", "create", "--user", "u", "--name", "n", "--scopes", "ingest,everything"}, `--scopes: unknown scope "everything"`},
		{"APIKeyEmptyScope", []string{"apikey", "create", "--user", "u", "--name", "n", "--scopes", "ingest,"}, `--scopes: unknown scope ""`},
		{"APIKeyBadExpiry", []string{"apikey", "create", "--user", "u", "--name", "n", "--scopes", "ingest", "--expires-in", "30d"}, `invalid value "30d" for flag -expires-in`},
		{"APIKeyNegativeExpiry", []string{"apikey", "create", "--user", "u", "--name", "n", "--scopes", "ingest", "--expires-in", "-1h"}, "--expires-in -1h0m0s: must be positive"},
		{"AuditWithoutAction", []string{"audit"}, "missing action: verify"},
		{"AuditExtraArgument", []string{"audit", "verify", "now"}, `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, nil, tt.args...)
			require.Equal(t, exitUsage, r.code)
			require.Contains(t, r.stderr, tt.want)
			require.Contains(t, r.stderr, "Usage: refserver")
			require.Empty(t, r.stdout)
		})
	}
}

func TestHelpPrintsUsageToStdout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"Help", []string{"help"}, []string{"serve", "migrate up|down|status|unlock", "user add", "apikey create", "audit verify",
			envAddr, envDB, envLogLevel, envBaseURL, envTrustedProxies, envTrustedOrigins, envTLSCert, envTLSKey, envBehindTLS,
			envAdminPassword, envUserPassword, dbopen.DSNDefault, addrDefault}},
		{"HelpServe", []string{"help", "serve"}, []string{"--addr", "-addr", "-db", "-log-level", "-base-url", "-trusted-proxies",
			"-trusted-origins", "-tls-cert", "-tls-key", "-behind-tls", envAdminPassword}},
		{"HelpMigrate", []string{"help", "migrate"}, []string{"up|down|status|unlock", "-db"}},
		{"HelpUser", []string{"help", "user"}, []string{"user add", "-username", "-role", "-email", "-full-name", "-db", envUserPassword}},
		{"HelpAPIKey", []string{"help", "apikey"}, []string{"apikey create", "-user", "-name", "-scopes", "-job", "-expires-in", "-db"}},
		{"HelpAudit", []string{"help", "audit"}, []string{"audit verify", "-db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, nil, tt.args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			for _, w := range tt.want {
				require.Contains(t, r.stdout, w)
			}
		})
	}
}

func TestHelpFlagExitsZero(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"serve", "-h"}, {"migrate", "--help"}, {"migrate", "status", "-h"},
		{"user", "add", "-h"}, {"apikey", "--help"}, {"audit", "verify", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, nil, args...)
			require.Equal(t, exitOK, r.code)
			require.Contains(t, r.stderr, "Usage: refserver "+args[0])
		})
	}
}

func TestUsageNeverShowsTheDSNFromTheEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{envDB: "postgres://custos:hunter2@db:5432/custos"}
	r := runCmd(t, env, "serve", "--bogus")
	require.Equal(t, exitUsage, r.code)
	require.NotContains(t, r.stderr, "hunter2")
}

func TestSecretScrubberRemovesThePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		dsn  string
		msg  string
		want string
	}{
		{"PostgresURL", "postgres://u:s3cret@h/db", "bad postgres://u:s3cret@h/db", "bad postgres://u:xxxxx@h/db"},
		{"MySQLURLThatDoesNotParse", "mysql://u:s3cret@h:bad/db", `parse "mysql://u:s3cret@h:bad/db": invalid port`, `parse "mysql://u:xxxxx@h:bad/db": invalid port`},
		{"MySQLDriverForm", "u:s3cret@tcp(h:3306)/db", "u:s3cret@tcp(h:3306)/db refused", "u:xxxxx@tcp(h:3306)/db refused"},
		{"EscapedPassword", "postgres://u:p%40ss@h/db", "postgres://u:p%40ss@h/db and p@ss", "postgres://u:xxxxx@h/db and xxxxx"},
		{"NoPassword", "postgres://u@h/db", "postgres://u@h/db", "postgres://u@h/db"},
		{"SQLite", "sqlite:custos.db", "sqlite:custos.db", "sqlite:custos.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, secretScrubber(tt.dsn)(tt.msg))
		})
	}
}

func TestDatabaseErrorsNeverPrintThePassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
	}{
		{"MigrateMalformedMySQLURL", []string{"migrate", "up", "--db", "mysql://custos:s3cret@localhost:bad/custos"}},
		{"MigrateRefusedMySQL", []string{"migrate", "status", "--db", "custos:s3cret@tcp(127.0.0.1:1)/custos"}},
		{"ServeRefusedPostgres", []string{"serve", "--addr", "127.0.0.1:0", "--db", "postgres://custos:s3cret@127.0.0.1:1/custos?sslmode=disable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCmd(t, nil, tt.args...)
			require.Equal(t, exitFail, r.code, r.stderr)
			require.NotEmpty(t, r.stderr)
			require.NotContains(t, r.stderr, "s3cret")
			require.NotContains(t, r.stdout, "s3cret")
		})
	}
}
