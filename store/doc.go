// Package store holds the entity types of Custos, the storage interfaces per
// aggregate, and the errors every storage adapter returns.
//
// It is a leaf: it imports no ORM and no database driver, so an embedder can
// implement Store over anything. The bun adapter for SQLite, PostgreSQL and
// MySQL/MariaDB lives in store/bunstore; store/storetest is the conformance
// suite that every adapter and decorator must pass.
//
// Conventions shared by every implementation:
//   - IDs are UUIDv7 strings made in Go (NewID); times are UTC truncated to
//     microseconds (NormalizeTime), set in Go, never by database defaults.
//   - Unique names compare trimmed and case-insensitively (NameKey), the
//     same on every database.
//   - Identifiers and text people type are rejected when longer than their
//     bound (MaxNameLen, MaxShortTextLen, MaxTextLen) with a
//     *ValidationError naming the field; machine text (run messages, logs,
//     delivery errors) is truncated (MaxMessageLen, MaxLogExcerptLen).
//   - Lists use keyset pagination: PageParams in, Page out, with an opaque
//     cursor that never skips or repeats a row when rows are added between
//     pages.
//   - Errors: ErrNotFound, ErrConflict (a unique key), ErrForeignKey (a
//     missing or still referenced row), ErrRetry (the database aborted the
//     transaction for a concurrent one; nothing was written),
//     *ValidationError (bad input).
package store
