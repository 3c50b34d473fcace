package store

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEvent is one entry of the hash-chained audit log. Seq is unique and
// gapless as written, so two writers can never fork the chain: the second
// gets ErrConflict and must re-read the head.
type AuditEvent struct {
	Seq          int64
	At           time.Time
	Actor        string // "user:<id>", "apikey:<id>" or "system"
	Action       string // "job.create", "auth.login", …
	ResourceType string
	ResourceID   string
	Result       AuditResult
	IP           string
	RequestID    string
	Details      json.RawMessage // optional JSON object
	PrevHash     string          // hex SHA-256; empty for the first event
	Hash         string          // hex SHA-256
}

// Validate reports the fields of e that no store accepts.
func (e *AuditEvent) Validate() error {
	var v validator
	if e.Seq < 1 {
		v.add("seq", "must be at least 1")
	}
	if e.At.IsZero() {
		v.add("at", "required")
	}
	v.required("actor", e.Actor)
	v.text("actor", e.Actor, 100)
	v.required("action", e.Action)
	v.text("action", e.Action, 100)
	v.text("resource_type", e.ResourceType, 64)
	v.text("resource_id", e.ResourceID, MaxNameLen)
	enum(&v, "result", e.Result, auditResultValues)
	v.text("ip", e.IP, 64)
	v.text("request_id", e.RequestID, 100)
	if len(e.Details) > 0 && !json.Valid(e.Details) {
		v.add("details", "must be JSON")
	}
	if len(e.Hash) != 64 {
		v.add("hash", "must be 64 hex characters")
	}
	if e.PrevHash != "" && len(e.PrevHash) != 64 {
		v.add("prev_hash", "must be 64 hex characters")
	}
	return v.err()
}

// ListAuditParams filters the audit log, newest first.
type ListAuditParams struct {
	PageParams
	Actor        string      // optional
	Action       string      // optional
	ResourceType string      // optional
	ResourceID   string      // optional
	Result       AuditResult // optional
	At           TimeRange   // optional
}

// AuditStore stores the audit log. It never updates an event.
type AuditStore interface {
	// Append inserts e; ErrConflict if e.Seq is taken.
	Append(ctx context.Context, e *AuditEvent) error
	// Head returns the event with the highest Seq, or ErrNotFound when the
	// log is empty.
	Head(ctx context.Context) (*AuditEvent, error)
	Get(ctx context.Context, seq int64) (*AuditEvent, error)
	List(ctx context.Context, p ListAuditParams) (*Page[AuditEvent], error)
	// Range returns up to limit events with Seq > afterSeq in Seq order, for
	// walking the chain.
	Range(ctx context.Context, afterSeq int64, limit int) ([]AuditEvent, error)
	// DeleteBefore removes events older than t (retention), oldest first.
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)
}

// Setting is a runtime policy value, stored as JSON.
type Setting struct {
	Key       string // unique, case-sensitive, e.g. "compliance.policy"
	Value     json.RawMessage
	UpdatedBy *string
	UpdatedAt time.Time
}

// Validate reports the fields of s that no store accepts.
func (s *Setting) Validate() error {
	var v validator
	v.name("key", s.Key)
	if len(s.Value) == 0 || !json.Valid(s.Value) {
		v.add("value", "must be JSON")
	}
	if len(s.Value) > 1<<20 {
		v.add("value", "at most 1 MiB")
	}
	return v.err()
}

// SettingStore stores settings.
type SettingStore interface {
	Get(ctx context.Context, key string) (*Setting, error)
	// Put inserts or replaces a setting.
	Put(ctx context.Context, s *Setting) error
	Delete(ctx context.Context, key string) error
	// List returns every setting, ordered by key.
	List(ctx context.Context) ([]Setting, error)
}
