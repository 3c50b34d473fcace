package observe

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
)

// MaxOperations bounds the operation label of
// custos_db_query_duration_seconds: statements of a new kind beyond it are
// counted as "other".
const MaxOperations = 200

// maxScan bounds how much SQL text is read to find a statement's table; the
// tables of bun's and bunstore's statements come well before it.
const maxScan = 8 << 10

// QueryHook returns a bun query hook that observes every statement's
// duration in custos_db_query_duration_seconds{operation}. The operation
// is the statement kind and its first table ("select jobs", "insert
// executions", "begin", "commit"), taken from the query template, never
// from values. Attach it with bunstore.Store.WithQueryHook; bunstore's
// prepared statements run through it too.
func (m *Metrics) QueryHook() bun.QueryHook {
	if m == nil {
		return noopHook{}
	}
	return queryHook{m: m}
}

type noopHook struct{}

func (noopHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (noopHook) AfterQuery(context.Context, *bun.QueryEvent)                        {}

type queryHook struct{ m *Metrics }

func (queryHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (h queryHook) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if e == nil || e.StartTime.IsZero() {
		return
	}
	op, table := queryOperation(e)
	h.m.ops.observer(op, table).Observe(time.Since(e.StartTime).Seconds())
}

// queryOperation returns the lowercase statement kind of e and its first
// table, or "" when it has none or none is found.
func queryOperation(e *bun.QueryEvent) (op, table string) {
	q := e.QueryTemplate
	if q == "" {
		q = e.Query
	}
	if e.IQuery != nil {
		op = e.IQuery.Operation()
	} else {
		op, _ = firstWord(q)
	}
	op = canonicalOp(op)
	if op == "" {
		return otherLabel, ""
	}
	switch op {
	case "begin", "commit", "rollback", "savepoint", "release", "start", "end", "pragma", "set":
		return op, ""
	}
	if e.IQuery != nil {
		table, _ = identifier(e.IQuery.GetTableName())
	}
	if table == "" {
		table = sqlTable(q)
	}
	return op, lowerWord(table)
}

// sqlTable returns the first table after FROM, INTO or UPDATE in q, skipping
// quoted strings and parenthesised subqueries' openings; "" when none is
// found within maxScan bytes.
func sqlTable(q string) string {
	if len(q) > maxScan {
		q = q[:maxScan]
	}
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(q[i+1:], '\'')
			if j < 0 {
				return ""
			}
			i += j + 2
		case isWordByte(c):
			j := i
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			w := q[i:j]
			i = j
			if strings.EqualFold(w, "from") || strings.EqualFold(w, "into") || strings.EqualFold(w, "update") {
				if t, _ := identifier(q[i:]); t != "" && !isKeyword(t) {
					return t
				}
			}
		default:
			i++
		}
	}
	return ""
}

// identifier returns the first identifier of s after spaces, unquoted
// ("jobs", `jobs`, [jobs]), the table of a qualified name (public.jobs →
// jobs), and the rest of s; "" when s does not start with one.
func identifier(s string) (string, string) {
	s = strings.TrimLeft(s, " \t\r\n")
	var id string
	for {
		if s == "" {
			return "", ""
		}
		var part string
		switch s[0] {
		case '"', '`', '[':
			end := byte('"')
			if s[0] == '`' {
				end = '`'
			} else if s[0] == '[' {
				end = ']'
			}
			j := strings.IndexByte(s[1:], end)
			if j < 0 {
				return "", ""
			}
			part, s = s[1:j+1], s[j+2:]
		default:
			j := 0
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			part, s = s[:j], s[j:]
		}
		if part == "" || len(part) > 64 || !allWordBytes(part) {
			return "", ""
		}
		id = part
		if s == "" || s[0] != '.' {
			return id, s
		}
		s = s[1:]
	}
}

// firstWord returns the first word of s after leading spaces and
// parentheses. Comments are not skipped: bun and bunstore write none before
// a statement.
func firstWord(s string) (string, string) {
	s = strings.TrimLeft(s, " \t\r\n(")
	j := 0
	for j < len(s) && isWordByte(s[j]) {
		j++
	}
	return s[:j], s[j:]
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func allWordBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

// isKeyword reports words that may follow FROM, INTO or UPDATE without being
// a table (SELECT … FROM (SELECT …), INSERT … ON CONFLICT DO UPDATE SET).
func isKeyword(w string) bool {
	for _, k := range []string{"select", "set", "lateral", "only", "unnest", "values"} {
		if strings.EqualFold(w, k) {
			return true
		}
	}
	return false
}

// statementKinds are the statement kinds bun and bunstore run, lowercase.
var statementKinds = []string{
	"select", "insert", "update", "delete", "with", "begin", "commit", "rollback", "savepoint",
	"release", "start", "end", "pragma", "set", "create", "drop", "alter", "truncate", "replace", "merge",
}

// canonicalOp lowercases a statement kind without allocating for the
// common ones, which the SQL text and bun spell in capitals.
func canonicalOp(op string) string {
	for _, k := range statementKinds {
		if strings.EqualFold(op, k) {
			return k
		}
	}
	return lowerWord(op)
}

// lowerWord lowercases an ASCII word, allocating only when it has capitals;
// words longer than 64 bytes are cut.
func lowerWord(w string) string {
	if len(w) > 64 {
		w = w[:64]
	}
	for i := 0; i < len(w); i++ {
		if 'A' <= w[i] && w[i] <= 'Z' {
			return strings.ToLower(w)
		}
	}
	return w
}

// operations caches the observer of each operation label, bounded by
// MaxOperations, so that a statement costs a map lookup and no label
// formatting once its kind has been seen.
type operations struct {
	vec   *prometheus.HistogramVec
	mu    sync.RWMutex
	byKey map[opKey]prometheus.Observer
	other prometheus.Observer
}

type opKey struct{ op, table string }

func (o *operations) init(vec *prometheus.HistogramVec) {
	o.vec = vec
	o.byKey = make(map[opKey]prometheus.Observer)
}

func (o *operations) observer(op, table string) prometheus.Observer {
	k := opKey{op, table}
	o.mu.RLock()
	obs, ok := o.byKey[k]
	o.mu.RUnlock()
	if ok {
		return obs
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if obs, ok := o.byKey[k]; ok {
		return obs
	}
	if len(o.byKey) >= MaxOperations {
		if o.other == nil {
			o.other = o.vec.WithLabelValues(otherLabel)
		}
		return o.other
	}
	// Clone: op and table may be substrings of a long statement.
	k = opKey{strings.Clone(op), strings.Clone(table)}
	label := k.op
	if k.table != "" {
		label += " " + k.table
	}
	obs = o.vec.WithLabelValues(label)
	o.byKey[k] = obs
	return obs
}
