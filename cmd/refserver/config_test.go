package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key to
// dir and returns the two paths.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "refserver test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

// resolveServe parses args for serve with env and resolves the config.
func resolveServe(t *testing.T, env map[string]string, args ...string) (serveConfig, error) {
	t.Helper()
	fs, resolve := serveFlags(envFunc(env))
	require.NoError(t, fs.Parse(args))
	return resolve()
}

func TestServeConfigFlagsWinOverEnvironment(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		envAddr: "0.0.0.0:9000", envDB: "sqlite:env.db", envLogLevel: "warn",
		envBaseURL: "https://env.example.com/", envTrustedOrigins: "https://a.example.com, https://b.example.com",
		envBehindTLS: "true",
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want serveConfig
		// off: the caches and metrics are not on in want by default.
		off bool
		// noLimits: the rate limits are off in want.
		noLimits bool
	}{
		{"DefaultsWithNothingSet", nil, nil,
			serveConfig{Addr: addrDefault, DSN: dbopen.DSNDefault, LogLevel: slog.LevelInfo}, false, false},
		{"EnvironmentOverDefaults", env, nil,
			serveConfig{Addr: "0.0.0.0:9000", DSN: "sqlite:env.db", LogLevel: slog.LevelWarn,
				BaseURL: "https://env.example.com", TrustedOrigins: []string{"https://a.example.com", "https://b.example.com"},
				BehindTLS: true}, false, false},
		{"FlagsOverEnvironment", env, []string{"--addr", "127.0.0.1:9001", "--db", "sqlite:flag.db", "--log-level", "debug",
			"--base-url", "http://flag.example.com:8080/custos", "--trusted-origins", "https://c.example.com", "--behind-tls=false"},
			serveConfig{Addr: "127.0.0.1:9001", DSN: "sqlite:flag.db", LogLevel: slog.LevelDebug,
				BaseURL: "http://flag.example.com:8080/custos", TrustedOrigins: []string{"https://c.example.com"}}, false, false},
		{"OneFlagOthersFromEnvironment", env, []string{"-log-level=error"},
			serveConfig{Addr: "0.0.0.0:9000", DSN: "sqlite:env.db", LogLevel: slog.LevelError,
				BaseURL: "https://env.example.com", TrustedOrigins: []string{"https://a.example.com", "https://b.example.com"},
				BehindTLS: true}, false, false},
		{"BehindTLSFlagWithoutValue", nil, []string{"--behind-tls"},
			serveConfig{Addr: addrDefault, DSN: dbopen.DSNDefault, LogLevel: slog.LevelInfo, BehindTLS: true}, false, false},
		{"EmptyHostListensEverywhere", map[string]string{envAddr: ":8080", envBehindTLS: "0"}, nil,
			serveConfig{Addr: ":8080", DSN: dbopen.DSNDefault, LogLevel: slog.LevelInfo}, false, false},
		{"CacheAndMetricsOff", map[string]string{envCache: "false"}, []string{"--metrics=false"},
			serveConfig{Addr: addrDefault, DSN: dbopen.DSNDefault, LogLevel: slog.LevelInfo}, true, false},
		{"PerJobHistogramsOff", nil, []string{"--metrics-job-histograms=false"},
			serveConfig{Addr: addrDefault, DSN: dbopen.DSNDefault, LogLevel: slog.LevelInfo}, false, false},
		{"RateLimitsOff", map[string]string{envRateLimits: "false"}, nil,
			serveConfig{Addr: addrDefault, DSN: dbopen.DSNDefault, LogLevel: slog.LevelInfo}, false, true},
		{"CacheFlagOverEnvironment", map[string]string{envCache: "false", envMetrics: "0"}, []string{"--cache"},
			serveConfig{Addr: addrDefault, DSN: dbopen.DSNDefault, LogLevel: slog.LevelInfo, Cache: true}, true, false},
		{"CacheTTLsAndMetricsAddress", map[string]string{envCacheJobTTL: "30s", envCacheCompTTL: "2m", envMetricsAddr: "127.0.0.1:9100", envMetricsToken: "t0ken"},
			[]string{"--cache-dashboard-ttl", "5s", "--cache-report-ttl=1h"},
			serveConfig{Addr: addrDefault, DSN: dbopen.DSNDefault, LogLevel: slog.LevelInfo,
				CacheTTL:    cacheTTLs{Job: 30 * time.Second, Compliance: 2 * time.Minute, Report: time.Hour, Dashboard: 5 * time.Second},
				MetricsAddr: "127.0.0.1:9100", MetricsToken: "t0ken"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !tt.off {
				tt.want.Cache, tt.want.Metrics = true, true
			}
			tt.want.MetricsJobHistograms = tt.want.MetricsJobHistograms || tt.name != "PerJobHistogramsOff"
			tt.want.RateLimits = !tt.noLimits
			tt.want.Location, tt.want.NotifyInterval = time.UTC, notifyIntervalDefault
			got, err := resolveServe(t, tt.env, tt.args...)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.want.BehindTLS, got.secure())
		})
	}
}

func TestServeConfigTrustedProxies(t *testing.T) {
	t.Parallel()
	got, err := resolveServe(t, map[string]string{envTrustedProxies: "192.0.2.0/24"}, "--trusted-proxies", "10.0.0.0/8, 2001:db8::/32")
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}, got.TrustedProxies)

	got, err = resolveServe(t, map[string]string{envTrustedProxies: "192.0.2.0/24"})
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, got.TrustedProxies)

	for _, env := range []map[string]string{{envTrustedProxies: "10.0.0.0/33"}, {envTrustedProxies: "proxy.internal"}} {
		_, err = resolveServe(t, env)
		require.ErrorContains(t, err, "--trusted-proxies (CUSTOS_TRUSTED_PROXIES)")
	}
	r := runCmd(t, nil, "serve", "--trusted-proxies", "10.0.0.0/8,nope")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--trusted-proxies")
}

func TestServeConfigRejectsEveryBadValueNamingTheFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a certificate"), 0o600))
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"AddrWithoutPort", nil, []string{"--addr", "127.0.0.1"}, `--addr (CUSTOS_ADDR) "127.0.0.1": want host:port`},
		{"AddrNamedPort", nil, []string{"--addr", "127.0.0.1:http"}, "the port must be a number"},
		{"AddrPortTooBig", map[string]string{envAddr: "127.0.0.1:65536"}, nil, "--addr (CUSTOS_ADDR)"},
		{"LogLevelFromEnvironment", map[string]string{envLogLevel: "trace"}, nil, `--log-level (CUSTOS_LOG_LEVEL): log level "trace"`},
		{"LogLevelUppercase", nil, []string{"--log-level", "INFO"}, "--log-level"},
		{"BaseURLRelative", nil, []string{"--base-url", "custos.example.com"}, `--base-url (CUSTOS_BASE_URL) "custos.example.com": want an http:// or https:// URL`},
		{"BaseURLWithoutHost", nil, []string{"--base-url", "https://"}, "the URL has no host"},
		{"BaseURLWithQuery", map[string]string{envBaseURL: "https://custos.example.com/?x=1"}, nil, "--base-url (CUSTOS_BASE_URL)"},
		{"BaseURLWithUser", nil, []string{"--base-url", "https://u:p@custos.example.com"}, "user information"},
		{"BaseURLUnparseable", nil, []string{"--base-url", "https://[::1"}, "not a URL"},
		{"TrustedOriginWithPath", nil, []string{"--trusted-origins", "https://a.example.com/app"}, `--trusted-origins (CUSTOS_TRUSTED_ORIGINS): origin "https://a.example.com/app"`},
		{"TrustedOriginFromEnvironment", map[string]string{envTrustedOrigins: "a.example.com"}, nil, "--trusted-origins (CUSTOS_TRUSTED_ORIGINS)"},
		{"BehindTLSFromEnvironment", map[string]string{envBehindTLS: "yes"}, nil, `--behind-tls (CUSTOS_BEHIND_TLS) "yes": want true or false`},
		{"CertWithoutKey", nil, []string{"--tls-cert", certFile}, "--tls-cert (CUSTOS_TLS_CERT) needs --tls-key"},
		{"KeyWithoutCert", map[string]string{envTLSKey: keyFile}, nil, "--tls-key (CUSTOS_TLS_KEY) needs --tls-cert"},
		{"CertMissing", nil, []string{"--tls-cert", filepath.Join(dir, "missing.pem"), "--tls-key", keyFile}, "--tls-cert and --tls-key"},
		{"CertNotPEM", nil, []string{"--tls-cert", garbage, "--tls-key", keyFile}, "--tls-cert and --tls-key"},
		{"KeyOfAnotherCert", nil, []string{"--tls-cert", certFile, "--tls-key", certFile}, "--tls-cert and --tls-key"},
		{"RateLimitsFromEnvironment", map[string]string{envRateLimits: "none"}, nil, `--rate-limits (CUSTOS_RATE_LIMITS) "none": want true or false`},
		{"CacheFromEnvironment", map[string]string{envCache: "maybe"}, nil, `--cache (CUSTOS_CACHE) "maybe": want true or false`},
		{"MetricsFromEnvironment", map[string]string{envMetrics: "on"}, nil, `--metrics (CUSTOS_METRICS) "on": want true or false`},
		{"CacheTTLWithoutUnit", nil, []string{"--cache-job-ttl", "300"}, `--cache-job-ttl (CUSTOS_CACHE_JOB_TTL) "300": want a positive duration`},
		{"CacheTTLNegative", map[string]string{envCacheDashTTL: "-1s"}, nil, `--cache-dashboard-ttl (CUSTOS_CACHE_DASHBOARD_TTL) "-1s"`},
		{"CacheTTLZero", nil, []string{"--cache-compliance-ttl", "0s"}, "--cache-compliance-ttl (CUSTOS_CACHE_COMPLIANCE_TTL)"},
		{"MetricsAddrWithoutPort", nil, []string{"--metrics-addr", "localhost"}, `--metrics-addr (CUSTOS_METRICS_ADDR) "localhost": want host:port`},
		{"MetricsAddrWithMetricsOff", nil, []string{"--metrics=false", "--metrics-addr", "127.0.0.1:9100"}, "--metrics-addr (CUSTOS_METRICS_ADDR) needs --metrics"},
		{"TimezoneUnknown", map[string]string{envTimezone: "Europe/Atlantis"}, nil, `--timezone (CUSTOS_TIMEZONE) "Europe/Atlantis": want an IANA zone`},
		{"TimezoneLocal", nil, []string{"--timezone", "Local"}, `--timezone (CUSTOS_TIMEZONE) "Local"`},
		{"ReportFontMissing", nil, []string{"--report-font", filepath.Join(dir, "missing.ttf")}, "--report-font (CUSTOS_REPORT_FONT)"},
		{"NotifyIntervalWithoutUnit", nil, []string{"--notify-interval", "10"}, `--notify-interval (CUSTOS_NOTIFY_INTERVAL) "10"`},
		{"NotifyIntervalTooShort", map[string]string{envNotifyInterval: "1ms"}, nil, "--notify-interval (CUSTOS_NOTIFY_INTERVAL)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := resolveServe(t, tt.env, tt.args...)
			require.ErrorContains(t, err, tt.want)

			// Through the command line it is a usage error, before any
			// database is opened.
			r := runCmd(t, tt.env, append([]string{"serve", "--db", "sqlite:" + filepath.Join(t.TempDir(), "never.db")}, tt.args...)...)
			require.Equal(t, exitUsage, r.code, r.stderr)
			require.Contains(t, r.stderr, tt.want)
			require.Contains(t, r.stderr, "Usage: refserver serve")
			require.Empty(t, r.stdout)
		})
	}
}

func TestServeConfigLoadsTheTLSCertificate(t *testing.T) {
	t.Parallel()
	certFile, keyFile := writeCert(t, t.TempDir())
	for name, tt := range map[string]struct {
		env  map[string]string
		args []string
	}{
		"Flags":       {nil, []string{"--tls-cert", certFile, "--tls-key", keyFile}},
		"Environment": {map[string]string{envTLSCert: certFile, envTLSKey: keyFile}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := resolveServe(t, tt.env, tt.args...)
			require.NoError(t, err)
			require.NotNil(t, got.cert)
			require.Equal(t, certFile, got.TLSCert)
			require.Equal(t, keyFile, got.TLSKey)
			require.False(t, got.BehindTLS)
			require.True(t, got.secure(), "serving TLS means Secure cookies and HSTS")
		})
	}
}

func TestServeConfigZoneFontAndNotifyInterval(t *testing.T) {
	t.Parallel()
	font := filepath.Join(t.TempDir(), "font.ttf")
	require.NoError(t, os.WriteFile(font, []byte("ttf"), 0o600))
	got, err := resolveServe(t, map[string]string{envTimezone: "Asia/Tokyo", envNotifyInterval: "3s", envReportFont: font}, "--notify-interval", "250ms")
	require.NoError(t, err)
	require.Equal(t, "Asia/Tokyo", got.Location.String())
	require.Equal(t, 250*time.Millisecond, got.NotifyInterval, "the flag wins")
	require.Equal(t, font, got.ReportFont)
}
