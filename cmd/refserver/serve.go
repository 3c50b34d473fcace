package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// http.Server limits. Requests to refserver are small; the write timeout
// leaves room for slow report downloads later.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 1 << 20
	// shutdownTimeout bounds how long in-flight requests may drain after
	// SIGINT or SIGTERM.
	shutdownTimeout = 15 * time.Second
)

// serveConfig is what serve needs, resolved from flags and environment.
type serveConfig struct {
	Addr     string
	DSN      string
	LogLevel slog.Level
}

// serveFlags returns the serve flag set and a function that resolves the
// configuration after parsing.
func serveFlags(getenv getenvFunc) (*flag.FlagSet, func() (serveConfig, error)) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "listen `address` (env "+envAddr+", default "+addrDefault+")")
	dsn := dbFlag(fs, getenv)
	level := fs.String("log-level", "", "log `level`: debug, info, warn or error (env "+envLogLevel+", default "+logLevelDefault+")")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: refserver serve [--addr ADDR] [--db DSN] [--log-level LEVEL]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, func() (serveConfig, error) {
		cfg := serveConfig{
			Addr: cmp.Or(*addr, getenv(envAddr), addrDefault),
			DSN:  dsn(),
		}
		lv := cmp.Or(*level, getenv(envLogLevel), logLevelDefault)
		switch lv {
		case "debug", "info", "warn", "error":
		default:
			return cfg, fmt.Errorf("log level %q: want debug, info, warn or error", lv)
		}
		if err := cfg.LogLevel.UnmarshalText([]byte(lv)); err != nil {
			return cfg, err
		}
		return cfg, nil
	}
}

func cmdServe(ctx context.Context, args []string, _, stderr io.Writer, getenv getenvFunc) int {
	fs, resolve := serveFlags(getenv)
	fs.SetOutput(stderr)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return usageErr(fs, "unexpected argument %q", fs.Arg(0))
	}
	cfg, err := resolve()
	if err != nil {
		return usageErr(fs, "%v", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("refserver stopped", "error", secretScrubber(cfg.DSN)(err.Error()))
		return exitFail
	}
	return exitOK
}

// serve opens and migrates the store, then serves HTTP until ctx is done and
// in-flight requests have drained.
func serve(ctx context.Context, cfg serveConfig, log *slog.Logger) (err error) {
	log.Info("opening database", "db", dbopen.Redact(cfg.DSN))
	s, err := dbopen.OpenStore(ctx, cfg.DSN, nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()

	applied, err := migrateWaiting(ctx, s.DB(), log)
	if err != nil {
		return migrateErr(err)
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "versions", applied)
	} else {
		log.Info("database schema is up to date")
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	// Through the read pool: on SQLite a probe must not wait for a write.
	pending := s.Pending
	srv := &http.Server{
		Handler:           newHandler(s, pending, log),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("stopped")
	return nil
}

// migrateLockWait is how long serve waits for another process to finish
// migrating: replicas that start together take turns instead of failing.
const migrateLockWait = 2 * time.Minute

// migrateWaiting migrates, waiting while another process holds the lock.
func migrateWaiting(ctx context.Context, db *bun.DB, log *slog.Logger) ([]string, error) {
	deadline := time.Now().Add(migrateLockWait)
	for {
		applied, err := bunstore.Migrate(ctx, db)
		if !errors.Is(err, bunstore.ErrLocked) || time.Now().After(deadline) {
			return applied, err
		}
		log.Info("another process is migrating the database; waiting")
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// migrateErr adds the way out to bunstore.ErrLocked.
func migrateErr(err error) error {
	if errors.Is(err, bunstore.ErrLocked) {
		return fmt.Errorf("%w; if no other process is migrating, a crashed one left the lock behind: run 'refserver migrate unlock' with the same database", err)
	}
	return err
}
