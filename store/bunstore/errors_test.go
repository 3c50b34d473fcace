package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

type pgErr struct{ state, msg string }

func (e pgErr) Error() string    { return e.msg }
func (e pgErr) SQLState() string { return e.state }

type sqliteErr struct {
	code int
	msg  string
}

func (e sqliteErr) Error() string { return e.msg }
func (e sqliteErr) Code() int     { return e.code }

func TestMapErrMapsEveryDriver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           error
		want         error
		table, field string
	}{
		{"NoRows", sql.ErrNoRows, store.ErrNotFound, "", ""},
		{"WrappedNoRows", fmt.Errorf("scan: %w", sql.ErrNoRows), store.ErrNotFound, "", ""},
		{"PGUnique", pgErr{"23505", `ERROR: duplicate key value violates unique constraint "ux_jobs__name" (SQLSTATE 23505)`}, store.ErrConflict, "jobs", "name"},
		{"PGPrimaryKey", pgErr{"23505", `duplicate key value violates unique constraint "pk_audit_events"`}, store.ErrConflict, "audit_events", "id"},
		{"PGForeignKey", pgErr{"23503", `insert or update on table "jobs" violates foreign key constraint "fk_jobs__owner_id"`}, store.ErrForeignKey, "jobs", "owner_id"},
		{"PGDeadlock", pgErr{"40P01", "deadlock detected"}, store.ErrRetry, "", ""},
		{"PGSerialization", pgErr{"40001", "could not serialize access"}, store.ErrRetry, "", ""},
		{"SQLiteUnique", sqliteErr{2067, "constraint failed: UNIQUE constraint failed: jobs.name_key (2067)"}, store.ErrConflict, "jobs", "name"},
		{"SQLiteCompositeUnique", sqliteErr{2067, "UNIQUE constraint failed: executions.job_id, executions.run_id"}, store.ErrConflict, "executions", "run_id"},
		{"SQLiteShadowUnique", sqliteErr{2067, "UNIQUE constraint failed: lendings.open_media_id"}, store.ErrConflict, "lendings", "media_id"},
		{"SQLiteForeignKey", sqliteErr{787, "FOREIGN KEY constraint failed"}, store.ErrForeignKey, "", ""},
		{"SQLiteRestrict", sqliteErr{1811, "constraint failed: FOREIGN KEY constraint failed (1811)"}, store.ErrForeignKey, "", ""},
		{"MySQLDuplicate", errors.New("Error 1062 (23000): Duplicate entry 'x-r1' for key 'ux_executions__run_id'"), store.ErrConflict, "executions", "run_id"},
		{"MySQL8Duplicate", errors.New("Error 1062 (23000): Duplicate entry 'a' for key 'jobs.ux_jobs__name'"), store.ErrConflict, "jobs", "name"},
		{"MySQLDuplicateValueLooksLikeAKey", errors.New("Error 1062 (23000): Duplicate entry 'ux_nightly__full' for key 'ux_executions__run_id'"), store.ErrConflict, "executions", "run_id"},
		{"MySQLPrimary", errors.New("Error 1062 (23000): Duplicate entry 'abc' for key 'PRIMARY'"), store.ErrConflict, "", "id"},
		{"MySQLForeignKey", errors.New("Error 1452 (23000): Cannot add or update a child row: a foreign key constraint fails (`db`.`jobs`, CONSTRAINT `fk_jobs__asset_id` FOREIGN KEY (`asset_id`) REFERENCES `assets` (`id`))"), store.ErrForeignKey, "jobs", "asset_id"},
		{"MySQLParent", errors.New("Error 1451 (23000): Cannot delete or update a parent row: a foreign key constraint fails (`db`.`jobs`, CONSTRAINT `fk_jobs__owner_id` FOREIGN KEY (`owner_id`) REFERENCES `users` (`id`))"), store.ErrForeignKey, "jobs", "owner_id"},
		{"MySQLDeadlock", fmt.Errorf("exec: %w", errors.New("Error 1213 (40001): Deadlock found when trying to get lock")), store.ErrRetry, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mapErr(tt.in)
			require.ErrorIs(t, got, tt.want)
			var ce *store.ConstraintError
			if errors.As(got, &ce) {
				require.Equal(t, tt.table, ce.Table)
				require.Equal(t, tt.field, ce.Field)
			}
		})
	}
}

func TestMapErrKeepsDriverTextOutOfValidationErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []error{
		pgErr{"23514", `new row for relation "jobs" violates check constraint "jobs_state_check" secret-value`},
		pgErr{"22003", "value out of range secret-value"},
		sqliteErr{275, "CHECK constraint failed: secret-value"},
		errors.New("Error 1264 (22003): Out of range value for column 'retention_days' secret-value"),
	} {
		got := mapErr(in)
		var ve *store.ValidationError
		require.ErrorAs(t, got, &ve, in.Error())
		require.NotContains(t, got.Error(), "secret-value")
	}
	require.Nil(t, mapErr(nil))
	require.ErrorIs(t, mapErr(fmt.Errorf("q: %w", context.Canceled)), context.Canceled)
}
