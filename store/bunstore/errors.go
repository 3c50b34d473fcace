package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/custos-dev/custos/store"
)

// The drivers' error types are found through the methods they export, so
// that this package links no driver:
//   - pgx: *pgconn.PgError has SQLState();
//   - modernc.org/sqlite: *sqlite.Error has Code() (extended result codes);
//   - go-sql-driver/mysql: *MySQLError prints "Error <number> (<state>): …".
type sqlStater interface{ SQLState() string }
type sqliteCoder interface{ Code() int }

var (
	mysqlErrRE = regexp.MustCompile(`^Error (\d+)(?: \([0-9A-Z]{5}\))?: `)
	// Unique indexes are named ux_<table>__<field> on every dialect, so the
	// field can be read from the name where the database reports it.
	uxNameRE = regexp.MustCompile(`^ux_([a-z_]+?)__([a-z_]+)$`)
	// SQLite reports the columns instead: "UNIQUE constraint failed:
	// jobs.name_key" or "…: executions.job_id, executions.run_id".
	sqliteUniqueRE = regexp.MustCompile(`constraint failed: ([a-z_]+)\.([a-z_]+)(?:, [a-z_]+\.([a-z_]+))*`)
)

// SQLite extended result codes and MySQL error numbers used below.
const (
	sqliteConstraint = 19

	mysqlDupEntry          = 1062
	mysqlRowIsReferenced   = 1451
	mysqlNoReferencedRow   = 1452
	mysqlRowIsReferenced2  = 1217
	mysqlNoReferencedRow2  = 1216
	mysqlCheckViolated     = 4025 // MariaDB
	mysqlCheckViolatedOra  = 3819 // MySQL
	mysqlBadNull           = 1048
	mysqlDataTooLong       = 1406
	mysqlTruncatedWrongVal = 1292
	mysqlOutOfRange        = 1264
	mysqlIncorrectValue    = 1366
	mysqlDeadlock          = 1213
	mysqlLockWaitTimeout   = 1205
)

// mapErr is the one place where driver errors become store errors. Errors
// that mean nothing to a caller pass through wrapped, so that their text is
// logged but never mistaken for a client error.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()

	var ps sqlStater
	if errors.As(err, &ps) {
		switch ps.SQLState() {
		case "23505":
			return uniqueErr(msg)
		case "23503":
			return fkErr(msg)
		case "23514", "23502", "22001", "22P02", "22007", "22008", "22021", "22003":
			return invalidErr()
		case "40001", "40P01":
			return fmt.Errorf("%w: %s", store.ErrRetry, ps.SQLState())
		}
		return err
	}

	var sc sqliteCoder
	if errors.As(err, &sc) {
		// Extended codes vary (a RESTRICT action reports a trigger code), so
		// the primary code and the message decide.
		if sc.Code()&0xff == sqliteConstraint {
			switch {
			case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "PRIMARY KEY"):
				return uniqueErr(msg)
			case strings.Contains(msg, "FOREIGN KEY constraint failed"):
				return &store.ConstraintError{Err: store.ErrForeignKey}
			case strings.Contains(msg, "CHECK constraint failed"), strings.Contains(msg, "NOT NULL constraint failed"):
				return invalidErr()
			}
		}
		return err
	}

	if m := mysqlErrNumber(err); m != 0 {
		n := m
		switch n {
		case mysqlDupEntry:
			return uniqueErr(msg)
		case mysqlRowIsReferenced, mysqlNoReferencedRow, mysqlRowIsReferenced2, mysqlNoReferencedRow2:
			return fkErr(msg)
		case mysqlCheckViolated, mysqlCheckViolatedOra, mysqlBadNull, mysqlDataTooLong, mysqlTruncatedWrongVal,
			mysqlOutOfRange, mysqlIncorrectValue:
			return invalidErr()
		case mysqlDeadlock, mysqlLockWaitTimeout:
			return fmt.Errorf("%w: mysql error %d", store.ErrRetry, n)
		}
	}
	return err
}

// mysqlErrNumber finds a MySQL error number anywhere in err's chain.
func mysqlErrNumber(err error) int {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if m := mysqlErrRE.FindStringSubmatch(e.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
	}
	return 0
}

func uniqueErr(msg string) error {
	ce := &store.ConstraintError{Err: store.ErrConflict}
	// The key's name is read only where the database puts it: MySQL's
	// message starts with the duplicate value, which may look like a name.
	name := ""
	if m := pgConstraintRE.FindStringSubmatch(msg); m != nil {
		name = m[1]
	} else if m := mysqlKeyRE.FindStringSubmatch(msg); m != nil {
		name = m[1]
	}
	switch {
	case name != "":
		if m := uxNameRE.FindStringSubmatch(name); m != nil {
			ce.Table, ce.Field = m[1], m[2]
		} else if m := pkNameRE.FindStringSubmatch(name); m != nil {
			ce.Table, ce.Field = m[1], "id"
		} else if name == "PRIMARY" {
			ce.Field = "id"
		}
	default:
		if m := sqliteUniqueRE.FindStringSubmatch(msg); m != nil {
			ce.Table = m[1]
			col := m[2]
			if m[3] != "" {
				col = m[3] // the last column of a composite key names it
			}
			ce.Field = fieldOfColumn(col)
		}
	}
	return ce
}

var (
	pgConstraintRE = regexp.MustCompile(`constraint "([^"]+)"`)
	mysqlKeyRE     = regexp.MustCompile(`for key '(?:[^']*\.)?([^'.]+)'\s*$`)
	pkNameRE       = regexp.MustCompile(`^pk_([a-z_]+)$`)
)

// keyColumnFields names the field behind each key column whose name is not
// the field's own (case-folded names, partial-uniqueness shadows).
var keyColumnFields = map[string]string{
	"name_key":        "name",
	"label_key":       "label",
	"username_key":    "username",
	"email_key":       "email",
	"open_media_id":   "media_id",
	"open_dedupe_key": "dedupe_key",
	"active_job_id":   "job_id",
}

func fieldOfColumn(col string) string {
	if f, ok := keyColumnFields[col]; ok {
		return f
	}
	return col
}

func fkErr(msg string) error {
	ce := &store.ConstraintError{Err: store.ErrForeignKey}
	// Foreign keys are named fk_<table>__<column> on every dialect.
	if m := fkNameRE.FindStringSubmatch(msg); m != nil {
		ce.Table, ce.Field = m[1], m[2]
	}
	return ce
}

// The name is quoted by both PostgreSQL ("fk_…") and MySQL (`fk_…`).
var fkNameRE = regexp.MustCompile("[\"`]fk_([a-z_]+?)__([a-z_]+)[\"`]")

// invalidErr reports a value the database refused that validation should
// have caught. Its text is not the driver's.
func invalidErr() error {
	return &store.ValidationError{Fields: map[string]string{"input": "rejected by the database"}}
}
