package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

var errNUL = errors.New("NUL in cursor")

// Pagination bounds shared by every list.
const (
	// LimitDefault is the page size when a list asks for none.
	LimitDefault = 50
	// LimitMax is the largest page a list returns.
	LimitMax = 200
)

// Page is one page of a keyset-paginated list. NextCursor is empty on the
// last page; otherwise passing it back as Cursor returns the rows after the
// last one here, with no duplicates or gaps even if rows were inserted or
// deleted in between. A row whose sort key itself changes between pages (an
// alert seen again moves to the front of the alert list) moves in the
// order, as it would on a fresh listing.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// PageParams are the pagination inputs every list takes.
type PageParams struct {
	// Limit is the page size, 1 to LimitMax. Defaults to LimitDefault.
	Limit int
	// Cursor is a NextCursor from an earlier page of the same list, or empty
	// for the first page.
	Cursor string
}

// PageLimit returns the effective limit of p: LimitDefault when unset, and
// LimitMax at most.
func (p PageParams) PageLimit() int {
	switch {
	case p.Limit <= 0:
		return LimitDefault
	case p.Limit > LimitMax:
		return LimitMax
	}
	return p.Limit
}

// Validate rejects a negative or too large limit; a bad cursor is reported by
// DecodeCursor.
func (p PageParams) Validate() error {
	var v validator
	if p.Limit < 0 || p.Limit > LimitMax {
		v.add("limit", "must be between 1 and %d", LimitMax)
	}
	return v.err()
}

// EncodeCursor makes an opaque cursor from the sort-key values of the last
// row of a page. Adapters decide what the values are; callers never look
// inside.
func EncodeCursor(values ...string) string {
	b, _ := json.Marshal(values)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reverses EncodeCursor, checking that it holds n values. A
// malformed cursor gives a *ValidationError for the "cursor" field.
func DecodeCursor(cursor string, n int) ([]string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	var values []string
	if err == nil {
		err = json.Unmarshal(raw, &values)
	}
	if err == nil && slices.ContainsFunc(values, func(s string) bool { return strings.IndexByte(s, 0) >= 0 }) {
		err = errNUL
	}
	if err != nil || len(values) != n {
		return nil, &ValidationError{Fields: map[string]string{"cursor": "invalid cursor"}}
	}
	return values, nil
}
