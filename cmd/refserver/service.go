package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// withService opens dsn and runs do with a service over it. The schema must
// be current: the commands other than migrate and serve never migrate.
func withService(ctx context.Context, dsn string, do func(context.Context, *backupmgmt.Service) error) (err error) {
	return withServiceConfig(ctx, dsn, nil, do)
}

// withServiceConfig is withService with the service configured by cfg.
func withServiceConfig(ctx context.Context, dsn string, cfg *backupmgmt.Config, do func(context.Context, *backupmgmt.Service) error) (err error) {
	s, err := dbopen.OpenStore(ctx, dsn, nil)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	pending, err := s.Pending(ctx)
	if err != nil {
		return fmt.Errorf("reading the migration state: %w", err)
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database schema is not current (%d migrations pending): run 'refserver migrate up' or start 'refserver serve' first", len(pending))
	}
	svc, err := backupmgmt.New(s, cfg)
	if err != nil {
		return err
	}
	return do(ctx, svc)
}
