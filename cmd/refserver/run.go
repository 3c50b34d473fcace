package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// Environment variables read by refserver; a flag wins over its variable.
const (
	envAddr           = "CUSTOS_ADDR"
	envDB             = "CUSTOS_DB"
	envLogLevel       = "CUSTOS_LOG_LEVEL"
	envTrustedProxies = "CUSTOS_TRUSTED_PROXIES"
	envTrustedOrigins = "CUSTOS_TRUSTED_ORIGINS"
	envBaseURL        = "CUSTOS_BASE_URL"
	envTLSCert        = "CUSTOS_TLS_CERT"
	envTLSKey         = "CUSTOS_TLS_KEY"
	envBehindTLS      = "CUSTOS_BEHIND_TLS"
	envRateLimits     = "CUSTOS_RATE_LIMITS"
	envCache          = "CUSTOS_CACHE"
	envCacheJobTTL    = "CUSTOS_CACHE_JOB_TTL"
	envCacheCompTTL   = "CUSTOS_CACHE_COMPLIANCE_TTL"
	envCacheRepTTL    = "CUSTOS_CACHE_REPORT_TTL"
	envCacheDashTTL   = "CUSTOS_CACHE_DASHBOARD_TTL"
	envMetrics        = "CUSTOS_METRICS"
	envMetricsAddr    = "CUSTOS_METRICS_ADDR"
	envMetricsJobHist = "CUSTOS_METRICS_JOB_HISTOGRAMS"
	envTimezone       = "CUSTOS_TIMEZONE"
	envReportFont     = "CUSTOS_REPORT_FONT"
	envNotifyInterval = "CUSTOS_NOTIFY_INTERVAL"
	// envMetricsToken, when set, is the bearer token /metrics asks for.
	// Never a flag, for the reason given at envUserPassword.
	envMetricsToken = "CUSTOS_METRICS_TOKEN"
	// envAdminPassword is the password of the admin user serve creates on
	// first start; without it serve generates one and prints it once.
	envAdminPassword = "CUSTOS_ADMIN_PASSWORD"
	// envUserPassword is the password of 'user add'; without it the
	// password is read from stdin. Never a flag: flags land in shell
	// history and in ps output.
	envUserPassword = "CUSTOS_USER_PASSWORD"
)

// Defaults used when neither a flag nor an environment variable is set.
const (
	addrDefault     = "127.0.0.1:8080"
	logLevelDefault = "info"
)

const usageText = `Usage: refserver <command> [flags]

Commands:
  serve                          run the HTTP server (migrates the database first and,
                                 when it has no user, creates the admin user)
  migrate up|down|status|unlock  manage the database schema
  user add                       add a user; prints its ID
  apikey create                  create an API key; prints the key once
  audit verify                   check the hash chain of the audit log
  report generate                generate and store a report; writes it to a file or stdout
  help [command]                 show this help, or a command's flags

Environment (a flag wins over its variable):
  CUSTOS_ADDR             listen address (default 127.0.0.1:8080)
  CUSTOS_DB               database: sqlite:PATH, postgres://user:pass@host:5432/db?sslmode=disable
                          or mysql://user:pass@host:3306/db (default sqlite:custos.db)
  CUSTOS_LOG_LEVEL        debug, info, warn or error (default info)
  CUSTOS_BASE_URL         public URL of the server, for ping URLs (default: from each request)
  CUSTOS_TRUSTED_PROXIES  comma-separated CIDRs or IPs whose X-Forwarded-For is believed
  CUSTOS_TRUSTED_ORIGINS  comma-separated extra origins allowed to post with a session cookie
  CUSTOS_TLS_CERT         TLS certificate file (PEM); serve HTTPS with CUSTOS_TLS_KEY
  CUSTOS_TLS_KEY          TLS private key file (PEM)
  CUSTOS_BEHIND_TLS       true when a TLS proxy sits in front: Secure cookies and HSTS
  CUSTOS_TIMEZONE         the organisation's IANA time zone: calendar days, reports, the
                          08:00 digest (default UTC)
  CUSTOS_REPORT_FONT      TrueType font embedded in PDF reports, for Japanese and other
                          text beyond Latin-1 (e.g. /usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf)
  CUSTOS_ADMIN_PASSWORD   password of the admin user serve creates on first start
                          (default: a generated one, printed once on stdout)
  CUSTOS_USER_PASSWORD    password of 'user add' (default: one line read from stdin)

Exit codes: 0 success, 1 failure, 2 usage error.
`

// getenvFunc looks up an environment variable; os.Getenv in main, a map in
// tests, so that tests never touch the process environment.
type getenvFunc func(string) string

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv getenvFunc) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr, getenv)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr, getenv)
	case "user":
		return cmdUser(ctx, rest, stdin, stdout, stderr, getenv)
	case "apikey":
		return cmdAPIKey(ctx, rest, stdout, stderr, getenv)
	case "audit":
		return cmdAudit(ctx, rest, stdout, stderr, getenv)
	case "report":
		return cmdReport(ctx, rest, stdout, stderr, getenv)
	case "help", "-h", "-help", "--help":
		return cmdHelp(rest, stdout, stderr, getenv)
	default:
		fmt.Fprintf(stderr, "refserver: unknown command %q\n\n%s", cmd, usageText)
		return exitUsage
	}
}

func cmdHelp(args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	var fs *flag.FlagSet
	if len(args) == 1 {
		switch args[0] {
		case "serve":
			fs, _ = serveFlags(getenv)
		case "migrate":
			fs, _ = migrateFlags(getenv)
		case "user":
			fs, _ = userAddFlags(getenv)
		case "apikey":
			fs, _ = apiKeyCreateFlags(getenv)
		case "audit":
			fs, _ = auditFlags(getenv)
		case "report":
			fs, _ = reportFlags(getenv)
		}
	}
	if fs == nil {
		fmt.Fprintf(stderr, "refserver: help: unknown command %q\n\n%s", strings.Join(args, " "), usageText)
		return exitUsage
	}
	fs.SetOutput(stdout)
	fs.Usage()
	return exitOK
}

// parseFlags parses args into fs, which reports errors and usage on its
// output. It returns the exit code to stop with, or -1 to go on.
func parseFlags(fs *flag.FlagSet, args []string) int {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return -1
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	default:
		return exitUsage
	}
}

// parseAction parses args into fs, takes the first argument as the action,
// which must be one of actions, and parses the flags after it: flags may
// come before or after the action. It returns the action, or "" and the
// exit code to stop with.
func parseAction(fs *flag.FlagSet, args []string, actions ...string) (string, int) {
	if code := parseFlags(fs, args); code >= 0 {
		return "", code
	}
	want := strings.Join(actions, ", ")
	if fs.NArg() == 0 {
		return "", usageErr(fs, "missing action: %s", want)
	}
	action := fs.Arg(0)
	if !slices.Contains(actions, action) {
		return "", usageErr(fs, "unknown action %q: want %s", action, want)
	}
	if code := parseFlags(fs, fs.Args()[1:]); code >= 0 {
		return "", code
	}
	if fs.NArg() > 0 {
		return "", usageErr(fs, "unexpected argument %q", fs.Arg(0))
	}
	return action, -1
}

// usageErr prints msg and fs's usage to fs's output and returns exitUsage.
func usageErr(fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(fs.Output(), "refserver %s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return exitUsage
}

// dbFlag registers --db on fs and returns a function that resolves the DSN
// after parsing: the flag, else CUSTOS_DB, else dbopen.DSNDefault. The
// default is resolved late so that usage text never prints a DSN from the
// environment, which may hold a password.
func dbFlag(fs *flag.FlagSet, getenv getenvFunc) func() string {
	db := fs.String("db", "", "database `DSN`: sqlite:PATH, postgres://… or mysql://… (env "+envDB+", default "+dbopen.DSNDefault+")")
	return func() string { return cmp.Or(*db, getenv(envDB), dbopen.DSNDefault) }
}

// zoneFlag adds --timezone to fs and returns its resolver.
func zoneFlag(fs *flag.FlagSet, getenv getenvFunc) func() (*time.Location, error) {
	tz := fs.String("timezone", "", "the organisation's IANA time `zone`, e.g. Asia/Tokyo (env "+envTimezone+", default UTC)")
	return func() (*time.Location, error) {
		name := cmp.Or(*tz, getenv(envTimezone), "UTC")
		loc, err := time.LoadLocation(name)
		if err != nil || name == "Local" {
			return nil, fmt.Errorf("--timezone (%s) %q: want an IANA zone such as Europe/Berlin or UTC", envTimezone, name)
		}
		return loc, nil
	}
}

// fontFlag adds --report-font to fs and returns its resolver, which checks
// that the file can be read.
func fontFlag(fs *flag.FlagSet, getenv getenvFunc) func() (string, error) {
	font := fs.String("report-font", "", "TrueType font `file` embedded in PDF reports, for text beyond Latin-1 (env "+envReportFont+")")
	return func() (string, error) {
		path := cmp.Or(*font, getenv(envReportFont))
		if path == "" {
			return "", nil
		}
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("--report-font (%s): %w", envReportFont, err)
		}
		_ = f.Close()
		return path, nil
	}
}

// secretScrubber returns a function that removes dsn's password from text.
// dbopen.Redact covers DSNs that parse; errors about DSNs that do not parse
// may quote them whole, so refserver scrubs every message it prints.
func secretScrubber(dsn string) func(string) string {
	pw := dsnPassword(dsn)
	if pw == "" {
		return func(s string) string { return s }
	}
	olds := []string{pw, url.QueryEscape(pw), url.PathEscape(pw)}
	return func(s string) string {
		for _, old := range olds {
			s = strings.ReplaceAll(s, old, "xxxxx")
		}
		return s
	}
}

func dsnPassword(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && (u.User != nil || u.Query().Has("password")) {
		if pw := u.Query().Get("password"); pw != "" {
			return pw
		}
		pw, _ := u.User.Password()
		return pw
	}
	if cfg, err := mysql.ParseDSN(dsn); err == nil {
		return cfg.Passwd
	}
	// Not parseable: take what lies between the user name and the last '@'.
	_, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		rest = dsn
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}
