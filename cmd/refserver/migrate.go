package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func migrateFlags(getenv getenvFunc) (*flag.FlagSet, func() string) {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	dsn := dbFlag(fs, getenv)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: refserver migrate up|down|status|unlock [--db DSN]

  up      apply every pending migration
  down    roll back the last group of migrations (what one 'up' applied)
  status  list migrations and whether they are applied
  unlock  remove the migration lock a crashed process left behind

Flags:
`)
		fs.PrintDefaults()
	}
	return fs, dsn
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv getenvFunc) int {
	fs, resolve := migrateFlags(getenv)
	fs.SetOutput(stderr)
	action, code := parseAction(fs, args, "up", "down", "status", "unlock")
	if code >= 0 {
		return code
	}
	do := map[string]func(context.Context, *bun.DB, io.Writer) error{
		"up":     migrateUp,
		"down":   migrateDown,
		"status": migrateStatus,
		"unlock": migrateUnlock,
	}[action]

	dsn := resolve()
	if err := withDB(ctx, dsn, stdout, do); err != nil {
		fmt.Fprintf(stderr, "refserver migrate %s: %s\n", action, secretScrubber(dsn)(err.Error()))
		return exitFail
	}
	return exitOK
}

func withDB(ctx context.Context, dsn string, stdout io.Writer, do func(context.Context, *bun.DB, io.Writer) error) (err error) {
	s, err := dbopen.OpenStore(ctx, dsn, nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	return do(ctx, s.DB(), stdout)
}

func migrateUp(ctx context.Context, db *bun.DB, stdout io.Writer) error {
	applied, err := bunstore.Migrate(ctx, db)
	if err != nil {
		return migrateErr(err)
	}
	if len(applied) == 0 {
		_, err := fmt.Fprintln(stdout, "nothing to apply")
		return err
	}
	for _, v := range applied {
		if _, err := fmt.Fprintln(stdout, "applied", v); err != nil {
			return err
		}
	}
	return nil
}

func migrateDown(ctx context.Context, db *bun.DB, stdout io.Writer) error {
	undone, err := bunstore.Rollback(ctx, db)
	if err != nil {
		return migrateErr(err)
	}
	if len(undone) == 0 {
		_, err := fmt.Fprintln(stdout, "nothing to roll back")
		return err
	}
	for _, v := range undone {
		if _, err := fmt.Fprintln(stdout, "rolled back", v); err != nil {
			return err
		}
	}
	return nil
}

func migrateStatus(ctx context.Context, db *bun.DB, stdout io.Writer) error {
	st, err := bunstore.Status(ctx, db)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tAPPLIED\tAPPLIED_AT")
	for _, m := range st {
		applied, at := "no", "-"
		if m.Applied {
			applied, at = "yes", m.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Version, applied, at)
	}
	return tw.Flush()
}

func migrateUnlock(ctx context.Context, db *bun.DB, stdout io.Writer) error {
	if err := bunstore.Unlock(ctx, db); err != nil {
		return err
	}
	_, err := fmt.Fprintln(stdout, "migration lock removed")
	return err
}
