package bunstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/custos-dev/custos/store"
)

var _ store.AdvisoryLocker = (*Store)(nil)

// lockReleaseTimeout bounds the unlock statement of a release: a release
// that cannot reach the database drops the connection instead, which frees
// the lock as well.
const lockReleaseTimeout = 5 * time.Second

// TryAdvisoryLock takes a lock shared by every process on the database: on
// PostgreSQL pg_try_advisory_lock and on MySQL/MariaDB GET_LOCK, each on a
// connection of the write pool set aside until release, so the lock ends
// with the connection if the process dies; on SQLite, where one process
// owns the file, a lock in this process per file and name. Locks are
// scoped to the schema (PostgreSQL) or database (MySQL) the store uses, so
// that deployments sharing a server do not block one another.
func (s *Store) TryAdvisoryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if name == "" {
		return nil, false, &store.ValidationError{Fields: map[string]string{"name": "required"}}
	}
	switch s.conn.dialect {
	case dialect.SQLite:
		return s.trySQLiteLock(ctx, name)
	case dialect.PG, dialect.MySQL:
		return s.tryServerLock(ctx, name)
	}
	return nil, false, fmt.Errorf("bunstore: advisory locks: unsupported dialect %s", s.conn.dialect)
}

func (s *Store) tryServerLock(ctx context.Context, name string) (func(), bool, error) {
	c, err := s.wdb.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("bunstore: advisory lock %q: connect: %w", name, mapErr(err))
	}
	pg := s.conn.dialect == dialect.PG
	var scope string
	if pg {
		err = c.QueryRowContext(ctx, "SELECT current_schema()").Scan(&scope)
	} else {
		err = c.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&scope)
	}
	var got sql.NullBool
	var key any
	if err == nil {
		if pg {
			key = pgLockKey(scope, name)
			err = c.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", key).Scan(&got)
		} else {
			// GET_LOCK returns NULL on an error (such as being killed).
			key = mysqlLockKey(scope, name)
			err = c.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", key).Scan(&got)
		}
	}
	if err != nil {
		_ = c.Close()
		return nil, false, fmt.Errorf("bunstore: advisory lock %q: %w", name, mapErr(err))
	}
	if !got.Valid || !got.Bool {
		_ = c.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() { releaseServerLock(c, pg, key) })
	}, true, nil
}

// releaseServerLock unlocks and returns the connection to the pool; a
// connection on which the unlock fails is dropped, which ends its locks.
func releaseServerLock(c bun.Conn, pg bool, key any) {
	ctx, cancel := context.WithTimeout(context.Background(), lockReleaseTimeout)
	defer cancel()
	q := "SELECT RELEASE_LOCK(?)"
	if pg {
		q = "SELECT pg_advisory_unlock(?)"
	}
	var released sql.NullBool
	if err := c.QueryRowContext(ctx, q, key).Scan(&released); err != nil || !released.Valid || !released.Bool {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = c.Close()
}

// pgLockKey is the bigint of a PostgreSQL advisory lock: FNV-64a of the
// schema and the name.
func pgLockKey(schema, name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("custos\x00" + schema + "\x00" + name))
	return int64(h.Sum64())
}

// mysqlMaxLockName is the longest name GET_LOCK takes.
const mysqlMaxLockName = 64

// mysqlLockKey is the name of a MySQL lock: GET_LOCK names are server-wide,
// so the database is part of it. A name too long is cut and made unique
// again with its FNV-64a.
func mysqlLockKey(database, name string) string {
	key := "custos/" + database + "/" + name
	if len(key) <= mysqlMaxLockName {
		return key
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	sum := strconv.FormatUint(h.Sum64(), 16)
	return key[:mysqlMaxLockName-len(sum)-1] + "#" + sum
}

// sqliteLocks are the locks taken in this process, by database file and
// name.
var sqliteLocks = struct {
	sync.Mutex
	held map[string]bool
}{held: map[string]bool{}}

func (s *Store) trySQLiteLock(ctx context.Context, name string) (func(), bool, error) {
	file, err := s.sqliteFile(ctx)
	if err != nil {
		return nil, false, err
	}
	key := file + "\x00" + name
	sqliteLocks.Lock()
	defer sqliteLocks.Unlock()
	if sqliteLocks.held[key] {
		return nil, false, nil
	}
	sqliteLocks.held[key] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			sqliteLocks.Lock()
			delete(sqliteLocks.held, key)
			sqliteLocks.Unlock()
		})
	}, true, nil
}

// sqliteFile names the database file; an in-memory database, which no
// other Store can open, is named by its handle.
func (s *Store) sqliteFile(ctx context.Context) (string, error) {
	var seq int
	var schema, file string
	rows, err := s.rdb.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return "", fmt.Errorf("bunstore: advisory lock: database file: %w", mapErr(err))
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&seq, &schema, &file); err != nil {
			return "", fmt.Errorf("bunstore: advisory lock: database file: %w", err)
		}
		if schema == "main" {
			break
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return "", fmt.Errorf("bunstore: advisory lock: database file: %w", err)
	}
	if file == "" {
		return fmt.Sprintf("memory:%p", s.wdb.DB), nil
	}
	return file, nil
}
