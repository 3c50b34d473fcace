package bunstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// An embedder's own MySQL connection may lack clientFoundRows, so an update
// that changes nothing reports zero rows: that must not read as "not found".
func TestMySQLWithoutClientFoundRowsStillTellsUnchangedFromMissing(t *testing.T) {
	t.Parallel()
	dsn := bunstoretest.DSN(t, dbopen.MySQL)
	cfg, err := mysql.ParseDSN(dsn)
	require.NoError(t, err)
	cfg.ParseTime, cfg.Loc, cfg.ClientFoundRows = true, time.UTC, false
	connector, err := mysql.NewConnector(cfg)
	require.NoError(t, err)
	db := bun.NewDB(sql.OpenDB(connector), mysqldialect.New())
	s, err := bunstore.New(db, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	_, err = bunstore.Migrate(ctx, s.DB())
	require.NoError(t, err)

	u := &store.User{Username: "touchy", Role: store.RoleViewer, PasswordHash: "x", Active: true}
	require.NoError(t, s.Users().Create(ctx, u))
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	sess := &store.Session{TokenHash: "h1", UserID: u.ID, ExpiresAt: at.Add(time.Hour), LastSeenAt: at}
	require.NoError(t, s.Sessions().Create(ctx, sess))
	require.NoError(t, s.Sessions().Touch(ctx, sess.ID, at), "same value: zero rows changed, one matched")
	require.ErrorIs(t, s.Sessions().Touch(ctx, store.NewID(), at), store.ErrNotFound)
}
