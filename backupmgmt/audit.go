package backupmgmt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/custos-dev/custos/store"
)

// AuditEntry is what a caller records: AppendAudit adds the sequence
// number, the time and the hashes.
type AuditEntry struct {
	Actor        string // "user:<id>", "apikey:<id>" or "system"
	Action       string // "job.create", "auth.login", …
	ResourceType string
	ResourceID   string
	Result       store.AuditResult
	IP           string
	RequestID    string
	// Details is marshalled to JSON and must give an object (or null, for
	// none). It is stored in canonical form, see AppendAudit.
	Details any
}

// auditMaxAttempts bounds how often AppendAudit re-reads the head after
// another writer took the sequence number it tried. Every lost attempt means
// another event was written, so the log as a whole always advances; the
// bound only stops one writer from starving forever.
const auditMaxAttempts = 100

// auditTimeLayout is the fixed-width form of "at" in the canonical JSON.
// time.RFC3339Nano drops trailing zeros, so the same instant could print in
// several widths; stored times have microsecond precision, so six digits
// always say everything.
const auditTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// AppendAudit writes e as the next event of the hash-chained audit log
// (DESIGN §4.8) and returns it.
//
// The event gets Seq = head.Seq+1 (1 for an empty log), At = now in stored
// form (store.NormalizeTime), PrevHash = head.Hash ("" for the first event)
// and
//
//	Hash = hex(SHA-256(PrevHash ‖ canonical JSON))
//
// where PrevHash enters as its 64 lowercase hex characters (ASCII) and the
// canonical JSON is described at auditCanonical. Details are stored in
// their canonical form.
//
// Seq is the audit table's primary key, so two writers (goroutines or
// processes) can never fork the chain: the loser gets store.ErrConflict,
// and AppendAudit re-reads the head and tries again, up to a bound, with a
// short random back-off.
//
// repos may be a store.Store or the Repos of a transaction. Each attempt runs
// in repos.InTx: on a Store that is a short transaction of its own, in a
// transaction a savepoint, so a conflict (which on PostgreSQL aborts the
// statement's transaction) leaves the caller's transaction usable and the
// event commits or rolls back with it. Inside a transaction the retry
// re-reads the head in that same transaction; where its snapshot cannot see
// the winner's row (MySQL's REPEATABLE READ), AppendAudit reads the row it
// conflicted with by key, which locks it and so sees the latest committed
// version. Holding the next sequence number until commit serializes the
// audited transactions that write events; MySQL may resolve two of them
// colliding as a deadlock, which surfaces as store.ErrRetry: run the whole
// transaction again.
func AppendAudit(ctx context.Context, repos store.Repos, now time.Time, e AuditEntry) (*store.AuditEvent, error) {
	details, err := auditDetails(e.Details)
	if err != nil {
		return nil, err
	}
	var conflictedSeq int64 // the seq the previous attempt lost, or 0
	for attempt := 1; ; attempt++ {
		var ev *store.AuditEvent
		err := repos.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
			prev, err := auditHead(ctx, tx.Audit(), conflictedSeq)
			if err != nil {
				return err
			}
			ev = &store.AuditEvent{
				Seq:          1,
				At:           store.NormalizeTime(now),
				Actor:        e.Actor,
				Action:       e.Action,
				ResourceType: e.ResourceType,
				ResourceID:   e.ResourceID,
				Result:       e.Result,
				IP:           e.IP,
				RequestID:    e.RequestID,
				Details:      details,
			}
			if prev != nil {
				ev.Seq = prev.Seq + 1
				ev.PrevHash = prev.Hash
			}
			ev.Hash = auditHash(ev)
			return tx.Audit().Append(ctx, ev)
		})
		switch {
		case err == nil:
			return ev, nil
		case !errors.Is(err, store.ErrConflict):
			return nil, fmt.Errorf("backupmgmt: append audit event: %w", err)
		case attempt >= auditMaxAttempts:
			return nil, fmt.Errorf("backupmgmt: append audit event: seq taken by other writers %d times in a row: %w", attempt, err)
		}
		conflictedSeq = ev.Seq
		if err := auditBackoff(ctx, attempt); err != nil {
			return nil, fmt.Errorf("backupmgmt: append audit event: %w", err)
		}
	}
}

// auditHead returns the event the next one links to, or nil for an empty
// log. After losing seq, the head must be at least seq; a transaction whose
// snapshot predates the winner reads that row by key instead, and Get locks
// it inside a transaction, which reads the latest committed version.
func auditHead(ctx context.Context, a store.AuditStore, conflictedSeq int64) (*store.AuditEvent, error) {
	head, err := a.Head(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
		head = nil
	case err != nil:
		return nil, err
	}
	if conflictedSeq == 0 || (head != nil && head.Seq >= conflictedSeq) {
		return head, nil
	}
	won, err := a.Get(ctx, conflictedSeq)
	if errors.Is(err, store.ErrNotFound) {
		return head, nil
	}
	return won, err
}

// auditBackoff waits a random time that grows with attempt, so writers that
// lost the same seq do not all try the next one at once.
func auditBackoff(ctx context.Context, attempt int) error {
	limit := time.Duration(min(attempt, 20)) * 250 * time.Microsecond
	t := time.NewTimer(rand.N(limit) + time.Microsecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// auditDetails marshals d and returns its canonical form, nil for none.
func auditDetails(d any) (json.RawMessage, error) {
	if d == nil {
		return nil, nil
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: audit details: %w", err)
	}
	v, err := auditDecode(raw)
	if err != nil {
		return nil, fmt.Errorf("backupmgmt: audit details: %w", err)
	}
	switch v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
	default:
		return nil, fmt.Errorf("backupmgmt: audit details: must be a JSON object, not %s", raw)
	}
	var b bytes.Buffer
	auditWriteValue(&b, v)
	return b.Bytes(), nil
}

func auditDecode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

// auditHash returns hex(SHA-256(PrevHash ‖ canonical JSON)) of e.
func auditHash(e *store.AuditEvent) string {
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(auditCanonical(e))
	return hex.EncodeToString(h.Sum(nil))
}

// auditCanonical returns the canonical JSON of e that its hash covers. It
// is deterministic: the same event always gives the same bytes, so an
// external auditor can recompute every hash from an export of the table.
// The form is one JSON object without any whitespace, with exactly these
// members in this order:
//
//	seq            integer, decimal
//	at             string "YYYY-MM-DDTHH:MM:SS.ffffffZ": UTC, always six
//	               fractional digits (the stored precision)
//	actor, action, resource_type, resource_id, result, ip, request_id
//	               strings
//	details        the stored details re-encoded canonically, or null when
//	               there are none
//	prev_hash      string, "" for the first event
//
// Strings are encoded as Go's encoding/json does with HTML escaping off:
// '"' and '\' backslash-escaped, \n \r \t, other control characters and
// U+2028/U+2029 as \u00XX/\u2028/\u2029 with lowercase hex, everything else
// as literal UTF-8. In details, object members are sorted by key (byte
// order of the UTF-8 key), recursively; arrays keep their order; numbers
// keep their exact text; true, false and null are literal.
//
// Example: {"seq":1,"at":"2026-11-30T12:00:00.000000Z","actor":"system",…,
// "details":{"a":1,"b":[true,null]},"prev_hash":""}
//
// Stored details that are not valid JSON cannot be re-encoded; they are
// hashed as a JSON string of their raw text, so the hash still covers them
// and verification reports a mismatch rather than failing.
func auditCanonical(e *store.AuditEvent) []byte {
	var b bytes.Buffer
	b.WriteString(`{"seq":`)
	b.WriteString(strconv.FormatInt(e.Seq, 10))
	for _, f := range []struct{ key, val string }{
		{"at", e.At.UTC().Format(auditTimeLayout)},
		{"actor", e.Actor},
		{"action", e.Action},
		{"resource_type", e.ResourceType},
		{"resource_id", e.ResourceID},
		{"result", string(e.Result)},
		{"ip", e.IP},
		{"request_id", e.RequestID},
	} {
		b.WriteString(`,"` + f.key + `":`)
		auditWriteString(&b, f.val)
	}
	b.WriteString(`,"details":`)
	switch v, err := auditDecode(e.Details); {
	case len(bytes.TrimSpace(e.Details)) == 0:
		b.WriteString("null")
	case err != nil:
		auditWriteString(&b, string(e.Details))
	default:
		auditWriteValue(&b, v)
	}
	b.WriteString(`,"prev_hash":`)
	auditWriteString(&b, e.PrevHash)
	b.WriteByte('}')
	return b.Bytes()
}

// auditWriteValue writes a value decoded with UseNumber canonically.
func auditWriteValue(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		b.WriteString(v.String())
	case string:
		auditWriteString(b, v)
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			auditWriteValue(b, x)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				b.WriteByte(',')
			}
			auditWriteString(b, k)
			b.WriteByte(':')
			auditWriteValue(b, v[k])
		}
		b.WriteByte('}')
	}
}

func auditWriteString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode appends a newline
}

// AuditVerification is the outcome of VerifyAudit.
type AuditVerification struct {
	// Checked counts the events found intact, in order from FirstSeq.
	Checked int64
	// FirstSeq and LastSeq are the first event walked and the last one
	// found intact; both 0 for an empty log.
	FirstSeq, LastSeq int64
	// Anchor is the PrevHash of the first remaining event: "" when the log
	// still starts at event 1, otherwise the hash of the newest event that
	// retention removed, which the walk has to take on trust. Compare it
	// with a hash recorded elsewhere to extend the proof backwards.
	Anchor string
	// OK reports an unbroken chain.
	OK bool
	// BrokenAt is the Seq of the first event that is altered, mislinked or
	// missing; 0 when OK.
	BrokenAt int64
	// Reason says what is wrong with event BrokenAt.
	Reason string
}

// auditVerifyBatchDefault is VerifyAudit's batch size when given none.
const auditVerifyBatchDefault = 1000

// VerifyAudit walks the audit log in Seq order, batch events at a time
// (defaults to 1000 when batch < 1), and reports the first broken link:
// an event whose Seq does not follow the previous one by exactly 1 (one was
// deleted), whose PrevHash is not the previous event's Hash, or whose Hash
// does not match its recomputed contents (see AppendAudit). The first
// remaining event is the anchor: retention deletes the oldest events, so its
// PrevHash is accepted and reported, except that event 1 must have none and
// a later one must have one.
//
// A broken chain is a result, not an error; the error is for a store that
// could not be read.
func VerifyAudit(ctx context.Context, s store.AuditStore, batch int) (AuditVerification, error) {
	if batch < 1 {
		batch = auditVerifyBatchDefault
	}
	var (
		res  AuditVerification
		prev *store.AuditEvent
	)
	broken := func(seq int64, format string, args ...any) (AuditVerification, error) {
		res.BrokenAt = seq
		res.Reason = fmt.Sprintf(format, args...)
		return res, nil
	}
	for after := int64(0); ; {
		events, err := s.Range(ctx, after, batch)
		if err != nil {
			return res, fmt.Errorf("backupmgmt: verify audit log after event %d: %w", after, err)
		}
		for i := range events {
			e := &events[i]
			switch {
			case prev == nil:
				res.FirstSeq = e.Seq
				res.Anchor = e.PrevHash
				if e.Seq == 1 && e.PrevHash != "" {
					return broken(e.Seq, "event 1: prev_hash must be empty")
				}
				if e.Seq > 1 && e.PrevHash == "" {
					return broken(e.Seq, "event %d: prev_hash is empty, but events before it existed", e.Seq)
				}
			case e.Seq == prev.Seq+2:
				return broken(prev.Seq+1, "event %d follows %d: event %d is missing", e.Seq, prev.Seq, prev.Seq+1)
			case e.Seq != prev.Seq+1:
				return broken(prev.Seq+1, "event %d follows %d: events %d to %d are missing", e.Seq, prev.Seq, prev.Seq+1, e.Seq-1)
			case e.PrevHash != prev.Hash:
				return broken(e.Seq, "event %d: prev_hash does not match event %d", e.Seq, prev.Seq)
			}
			if auditHash(e) != e.Hash {
				return broken(e.Seq, "event %d: hash does not match its contents", e.Seq)
			}
			res.Checked++
			res.LastSeq = e.Seq
			prev = e
		}
		if len(events) < batch {
			res.OK = true
			return res, nil
		}
		after = events[len(events)-1].Seq
	}
}
