package store

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// Bounds on text fields, counted in characters (runes) so that Japanese and
// ASCII text get the same room on every database. Identifiers and text people
// type are rejected when too long; text that machines send (run messages,
// logs, error strings) is cut to fit, because losing the run is worse than
// losing the end of its message.
const (
	// MaxNameLen bounds names, labels and other identifiers; longer is rejected.
	MaxNameLen = 200
	// MaxShortTextLen bounds short free text (locations, paths, purposes);
	// longer is rejected.
	MaxShortTextLen = 500
	// MaxTextLen bounds descriptions and notes; longer is rejected.
	MaxTextLen = 4000
	// MaxMessageLen bounds execution, alert and delivery messages; longer is
	// truncated to the first MaxMessageLen characters.
	MaxMessageLen = 4000
	// MaxLogExcerptLen bounds an execution's log excerpt; longer keeps the
	// last MaxLogExcerptLen characters, where tools print their errors.
	MaxLogExcerptLen = 16000
)

// CleanText makes machine text storable everywhere: invalid UTF-8 becomes
// U+FFFD and NUL characters are dropped (PostgreSQL refuses both).
func CleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// TruncateText returns s cleaned (CleanText) and cut to at most n
// characters, keeping the start.
func TruncateText(s string, n int) string {
	s = CleanText(s)
	if len(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// TruncateTextTail returns s cleaned (CleanText) and cut to at most n
// characters, keeping the end.
func TruncateTextTail(s string, n int) string {
	s = CleanText(s)
	if len(s) <= n {
		return s
	}
	count := utf8.RuneCountInString(s)
	if count <= n {
		return s
	}
	skip := count - n
	for pos := range s {
		if skip == 0 {
			return s[pos:]
		}
		skip--
	}
	return ""
}

// NameKey is the form under which unique names are compared: trimmed and
// lower-cased, so "ERP-Nightly" and "erp-nightly " are the same name on every
// database whatever its collation.
func NameKey(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// name validates a required name: bounded, no surrounding spaces.
func (v *validator) name(field, s string) { v.key(field, s, MaxNameLen) }

// key validates a required identifier or key. Surrounding spaces are
// refused because MySQL compares 'a' and 'a ' as equal and the other
// databases do not; NUL because no database stores it as text.
func (v *validator) key(field, s string, n int) {
	switch {
	case strings.TrimSpace(s) == "":
		v.add(field, "required")
	case s != strings.TrimSpace(s):
		v.add(field, "must not start or end with spaces")
	case runeLen(s) > n:
		v.add(field, "at most %d characters", n)
	case !utf8.ValidString(s):
		v.add(field, "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		v.add(field, "must not contain NUL characters")
	}
}

// maxInt32 bounds counters stored in 32-bit integer columns.
const maxInt32 = 1<<31 - 1

// count validates a non-negative counter stored in a 32-bit column.
func (v *validator) count(field string, n int) {
	switch {
	case n < 0:
		v.add(field, "must not be negative")
	case n > maxInt32:
		v.add(field, "at most %d", maxInt32)
	}
}

// text validates optional text bounded to n characters.
func (v *validator) text(field, s string, n int) {
	switch {
	case runeLen(s) > n:
		v.add(field, "at most %d characters", n)
	case !utf8.ValidString(s):
		v.add(field, "must be valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		v.add(field, "must not contain NUL characters")
	}
}

// required validates that an ID-like field is set.
func (v *validator) required(field, s string) {
	if s == "" {
		v.add(field, "required")
	}
}

// enum validates a required enum value against its allowed values.
func enum[E ~string](v *validator, field string, e E, all []E) {
	switch {
	case e == "":
		v.add(field, "required")
	case !slices.Contains(all, e):
		names := make([]string, len(all))
		for i, a := range all {
			names[i] = string(a)
		}
		v.add(field, "must be one of: %s", strings.Join(names, ", "))
	}
}
