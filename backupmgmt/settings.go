package backupmgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/custos-dev/custos/store"
)

// Settings are the runtime settings stored in the database (DESIGN §3), so
// that every replica reads the same: thresholds and defaults an admin
// changes without a restart. Changes are audited; values are not copied
// into audit details, since a setting is free JSON.
type Settings Service

// Settings gives the settings operations.
func (s *Service) Settings() *Settings { return (*Settings)(s) }

// Get returns one setting, or store.ErrNotFound.
func (st *Settings) Get(ctx context.Context, key string) (*store.Setting, error) {
	return st.store.Settings().Get(ctx, key)
}

// List returns every setting, ordered by key.
func (st *Settings) List(ctx context.Context) ([]store.Setting, error) {
	return st.store.Settings().List(ctx)
}

// Put stores value under key, as the actor of ctx. The value must be JSON
// (at most 1 MiB); bad input is a *store.ValidationError naming "key" or
// "value".
func (st *Settings) Put(ctx context.Context, key string, value json.RawMessage) (*store.Setting, error) {
	s := (*Service)(st)
	set := &store.Setting{Key: key, Value: value, UpdatedBy: ActorFrom(ctx).userIDPtr(), UpdatedAt: s.Now()}
	if err := set.Validate(); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		_, err := tx.Settings().Get(ctx, key)
		created := errors.Is(err, store.ErrNotFound)
		if err != nil && !created {
			return err
		}
		if err := tx.Settings().Put(ctx, set); err != nil {
			return fmt.Errorf("backupmgmt: put setting %q: %w", key, err)
		}
		return s.audit(ctx, tx, "setting.update", "setting", key, map[string]any{"created": created})
	})
	if err != nil {
		return nil, err
	}
	return set, nil
}

// Delete removes a setting, as the actor of ctx; store.ErrNotFound when
// there is none.
func (st *Settings) Delete(ctx context.Context, key string) error {
	s := (*Service)(st)
	return s.inTx(ctx, func(ctx context.Context, tx store.Repos) error {
		if err := tx.Settings().Delete(ctx, key); err != nil {
			return err
		}
		return s.audit(ctx, tx, "setting.delete", "setting", key, nil)
	})
}
