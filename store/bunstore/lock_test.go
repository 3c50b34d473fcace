package bunstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// openTwice opens two Stores on one fresh database, as two replicas would.
func openTwice(t *testing.T, kind dbopen.Kind) (dsn string, a, b *bunstore.Store) {
	t.Helper()
	dsn = bunstoretest.DSN(t, kind)
	return dsn, openLockStore(t, dsn), openLockStore(t, dsn)
}

func openLockStore(t *testing.T, dsn string) *bunstore.Store {
	t.Helper()
	s, err := dbopen.OpenStore(context.Background(), dsn, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// eachLockKind runs fn as a parallel subtest per database of kinds.
func eachLockKind(t *testing.T, kinds []dbopen.Kind, fn func(t *testing.T, kind dbopen.Kind)) {
	t.Helper()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}

func TestAdvisoryLock(t *testing.T) {
	t.Parallel()
	eachLockKind(t, bunstoretest.Dialects, func(t *testing.T, kind dbopen.Kind) {
		ctx := context.Background()
		_, a, b := openTwice(t, kind)
		var _ store.AdvisoryLocker = a

		release, ok, err := a.TryAdvisoryLock(ctx, "tick")
		require.NoError(t, err)
		require.True(t, ok, "a free lock is taken")
		_, ok, err = b.TryAdvisoryLock(ctx, "tick")
		require.NoError(t, err)
		require.False(t, ok, "another replica does not get a held lock")
		_, ok, err = a.TryAdvisoryLock(ctx, "tick")
		require.NoError(t, err)
		require.False(t, ok, "not reentrant, even for the holder")

		releaseOther, ok, err := b.TryAdvisoryLock(ctx, "dispatch")
		require.NoError(t, err)
		require.True(t, ok, "names are independent")

		release()
		release() // a second call does nothing
		releaseB, ok, err := b.TryAdvisoryLock(ctx, "tick")
		require.NoError(t, err)
		require.True(t, ok, "released, the lock is free")
		releaseB()
		releaseOther()

		long := strings.Repeat("x", 100)
		releaseLong, ok, err := a.TryAdvisoryLock(ctx, long+"1")
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = b.TryAdvisoryLock(ctx, long+"1")
		require.NoError(t, err)
		require.False(t, ok)
		releaseLong2, ok, err := b.TryAdvisoryLock(ctx, long+"2")
		require.NoError(t, err)
		require.True(t, ok, "long names that share a prefix stay distinct")
		releaseLong()
		releaseLong2()

		_, _, err = a.TryAdvisoryLock(ctx, "")
		var ve *store.ValidationError
		require.ErrorAs(t, err, &ve)
	})
}

// TestAdvisoryLockIsScopedToTheDatabase: deployments sharing a server (a
// schema or database each) do not block one another.
func TestAdvisoryLockIsScopedToTheDatabase(t *testing.T) {
	t.Parallel()
	eachLockKind(t, bunstoretest.Dialects, func(t *testing.T, kind dbopen.Kind) {
		ctx := context.Background()
		_, a, _ := openTwice(t, kind)
		_, other, _ := openTwice(t, kind)
		release, ok, err := a.TryAdvisoryLock(ctx, "tick")
		require.NoError(t, err)
		require.True(t, ok)
		defer release()
		releaseOther, ok, err := other.TryAdvisoryLock(ctx, "tick")
		require.NoError(t, err)
		require.True(t, ok, "another database has its own lock")
		releaseOther()
	})
}

// The server frees a killed connection's locks on its own time: the test
// polls for it.
const (
	waitFor   = 10 * time.Second
	pollEvery = 20 * time.Millisecond
)

// TestAdvisoryLockEndsWithItsConnection ends the holder's connection on
// the server, as a crash of its process would: the lock is free for the
// others, and the holder's release afterwards does no harm.
func TestAdvisoryLockEndsWithItsConnection(t *testing.T) {
	t.Parallel()
	eachLockKind(t, []dbopen.Kind{dbopen.Postgres, dbopen.MySQL}, func(t *testing.T, kind dbopen.Kind) {
		ctx := context.Background()
		dsn, a, b := openTwice(t, kind)
		release, ok, err := a.TryAdvisoryLock(ctx, "tick")
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = b.TryAdvisoryLock(ctx, "tick")
		require.NoError(t, err)
		require.False(t, ok)

		db := b.DB()
		var killed int
		switch kind {
		case dbopen.Postgres:
			var schema string
			require.NoError(t, db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema))
			key := bunstore.PGLockKey(schema, "tick")
			require.NoError(t, db.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
					WHERE locktype = 'advisory' AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = ?
					AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, key).Scan(&killed))
		case dbopen.MySQL:
			var database string
			require.NoError(t, db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&database))
			var id int64
			require.NoError(t, db.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", bunstore.MySQLLockKey(database, "tick")).Scan(&id))
			_, err := db.ExecContext(ctx, "KILL ?", id)
			require.NoError(t, err)
			killed = 1
		}
		require.Equal(t, 1, killed, "one connection held the lock")

		// A fresh replica, whose pool the kill did not touch.
		c := openLockStore(t, dsn)
		var releaseC func()
		require.Eventually(t, func() bool {
			var err error
			releaseC, ok, err = c.TryAdvisoryLock(ctx, "tick")
			return err == nil && ok
		}, waitFor, pollEvery, "the lock ends with its connection")
		release()
		_, ok, err = b.TryAdvisoryLock(ctx, "tick")
		require.NoError(t, err)
		require.False(t, ok, "the crashed holder's release does not free the new holder's lock")
		releaseC()
	})
}
