package bunstore

import (
	"encoding/json"
	"time"

	"github.com/custos-dev/custos/store"
)

// Conversions between row fields and store fields. Rows hold what the
// database holds; store types hold what callers use.

// utc returns t in UTC; PostgreSQL hands back times in the session zone.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// normPtr returns a stored-form copy of an optional time.
func normPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	n := store.NormalizeTime(*t)
	return &n
}

func dateOf(t time.Time) store.Date { return store.DateOf(t, time.UTC) }

func datePtrOf(t *time.Time) *store.Date {
	if t == nil || t.IsZero() {
		return nil
	}
	d := store.DateOf(*t, time.UTC)
	return &d
}

func dateTimePtr(d *store.Date) *time.Time {
	if d == nil || d.IsZero() {
		return nil
	}
	t := d.Time()
	return &t
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func strVal(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func duration(s int64) time.Duration { return time.Duration(s) * time.Second }

// jsonText encodes v for a JSON text column; nil slices become "[]".
func jsonText[T any](v []T) string {
	if v == nil {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("bunstore: encode JSON column: " + err.Error())
	}
	return string(b)
}

// fromJSONText decodes a JSON text column; bad stored JSON yields nil
// rather than failing a read.
func fromJSONText[T any](s string) []T {
	var out []T
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil
	}
	return out
}

// rawText stores optional raw JSON; empty stays empty.
func rawText(m json.RawMessage) string { return string(m) }

func rawOf(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}
