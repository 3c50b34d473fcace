package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Sentinel errors every adapter maps its driver errors to. Callers branch on
// them with errors.Is.
var (
	// ErrNotFound means the requested row does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a unique key (a name, a run_id, one open lending per
	// medium, …) is already taken, or a state transition lost a race.
	ErrConflict = errors.New("store: conflict")
	// ErrForeignKey means a row references a row that does not exist, or a
	// delete would leave rows referencing nothing.
	ErrForeignKey = errors.New("store: foreign key violation")
	// ErrRetry means the database aborted the transaction to resolve a
	// conflict with another one (a deadlock or a serialization failure).
	// Nothing of it was written; running it again may succeed.
	ErrRetry = errors.New("store: transaction aborted by a concurrent one; retry")
)

// ConstraintError carries which constraint a write broke. It unwraps to
// ErrConflict or ErrForeignKey.
type ConstraintError struct {
	// Err is ErrConflict or ErrForeignKey.
	Err error
	// Table is the table the constraint belongs to, when the database says.
	Table string
	// Field is the API field the constraint is about ("name", "run_id"),
	// when it can be told; empty otherwise.
	Field string
}

// Error describes the broken constraint without any driver text.
func (e *ConstraintError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Table != "" {
		b.WriteString(" on ")
		b.WriteString(e.Table)
	}
	if e.Field != "" {
		b.WriteString(" (")
		b.WriteString(e.Field)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns ErrConflict or ErrForeignKey.
func (e *ConstraintError) Unwrap() error { return e.Err }

// ValidationError reports input that a store refuses before touching the
// database. Fields maps a snake_case field name to what is wrong with it.
type ValidationError struct {
	Fields map[string]string
}

// Error lists the refused fields in name order.
func (e *ValidationError) Error() string {
	keys := slices.Sorted(maps.Keys(e.Fields))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "store: invalid input: " + strings.Join(parts, "; ")
}

// validator collects field errors; a nil *ValidationError from err() means
// the input is fine.
type validator struct {
	fields map[string]string
}

func (v *validator) add(field, format string, args ...any) {
	if v.fields == nil {
		v.fields = make(map[string]string)
	}
	if _, ok := v.fields[field]; !ok {
		v.fields[field] = fmt.Sprintf(format, args...)
	}
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}
