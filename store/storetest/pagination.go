package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

// paginate walks a list page by page with the given limit, calling insert
// between pages, and checks the keyset guarantees: no row twice, every row
// that existed before the walk seen, pages never larger than the limit, and
// a bad cursor refused. It returns the IDs seen in order.
func paginate[T any](t *testing.T, limit int, list func(store.PageParams) (*store.Page[T], error), insert func(), id func(T) string) []string {
	t.Helper()
	before, err := list(store.PageParams{Limit: store.LimitMax})
	require.NoError(t, err)
	require.Empty(t, before.NextCursor, "paginate needs fewer than LimitMax rows")
	existing := ids(before.Items, id)

	var seen []string
	seenSet := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "pagination does not end")
		page, err := list(store.PageParams{Limit: limit, Cursor: cursor})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Items), limit)
		for _, it := range page.Items {
			k := id(it)
			require.False(t, seenSet[k], "row %s returned twice", k)
			seenSet[k] = true
			seen = append(seen, k)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if insert != nil && pages < 3 {
			insert()
		}
	}
	for _, k := range existing {
		require.True(t, seenSet[k], "row %s that existed before paging was skipped", k)
	}
	// Rows already present keep their relative order.
	var order []string
	for _, k := range seen {
		for _, e := range existing {
			if e == k {
				order = append(order, k)
			}
		}
	}
	require.Equal(t, existing, order, "pages disagree with a single listing on order")

	_, err = list(store.PageParams{Limit: limit, Cursor: "not-a-cursor"})
	var ve *store.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Contains(t, ve.Fields, "cursor")
	_, err = list(store.PageParams{Limit: store.LimitMax + 1})
	require.ErrorAs(t, err, &ve)
	require.Contains(t, ve.Fields, "limit")
	return seen
}
