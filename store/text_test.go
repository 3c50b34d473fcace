package store_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

func TestTruncateTextCountsCharactersAndCleans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, head, tail string
		n                    int
	}{
		{"ShortStaysWhole", "abc", "abc", "abc", 5},
		{"ASCIICut", "abcdef", "abc", "def", 3},
		{"JapaneseCutOnCharacters", "日本語のログ", "日本語", "のログ", 3},
		{"MixedWidths", "aé日𝄞b", "aé日", "日𝄞b", 3},
		{"NULDropped", "a\x00b\x00c", "abc", "abc", 5},
		{"InvalidUTF8Replaced", "a\xffb", "a\uFFFDb", "a\uFFFDb", 5},
		{"ZeroLength", "abc", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.head, store.TruncateText(tt.in, tt.n))
			require.Equal(t, tt.tail, store.TruncateTextTail(tt.in, tt.n))
			require.True(t, utf8.ValidString(store.TruncateText(tt.in, tt.n)))
		})
	}
	long := strings.Repeat("ログ", 10000)
	require.Equal(t, store.MaxLogExcerptLen, utf8.RuneCountInString(store.TruncateTextTail(long, store.MaxLogExcerptLen)))
}

func TestNameKeyFoldsCaseAndSpaceOnly(t *testing.T) {
	t.Parallel()
	require.Equal(t, store.NameKey("ERP Nightly"), store.NameKey("  erp nightly "))
	require.NotEqual(t, store.NameKey("café"), store.NameKey("cafe"))
	require.NotEqual(t, store.NameKey("ＥＲＰ"), store.NameKey("ERP"), "full width is another name")
}

func TestDateAddMonthsClampsToMonthEnd(t *testing.T) {
	t.Parallel()
	d := store.Date{Year: 2026, Month: 1, Day: 31}
	require.Equal(t, store.Date{Year: 2026, Month: 2, Day: 28}, d.AddMonths(1))
	require.Equal(t, store.Date{Year: 2028, Month: 2, Day: 29}, store.Date{Year: 2028, Month: 1, Day: 31}.AddMonths(1))
	require.Equal(t, store.Date{Year: 2026, Month: 4, Day: 30}, d.AddMonths(3))
	require.Equal(t, store.Date{Year: 2027, Month: 1, Day: 31}, d.AddMonths(12))
	require.Equal(t, store.Date{Year: 2025, Month: 12, Day: 31}, d.AddMonths(-1))
	p, err := store.ParseDate("2026-11-30")
	require.NoError(t, err)
	require.Equal(t, "2026-11-30", p.String())
	_, err = store.ParseDate("2026-02-30")
	require.Error(t, err)
}

func TestNewIDIsOrderedUUIDv7(t *testing.T) {
	t.Parallel()
	prev := ""
	for range 10000 {
		id := store.NewID()
		require.Len(t, id, 36)
		require.Equal(t, byte('7'), id[14], "version 7")
		require.Contains(t, "89ab", string(id[19]), "RFC 9562 variant")
		require.Greater(t, id, prev, "IDs increase")
		prev = id
	}
}

func TestCursorRoundTripAndRejectsGarbage(t *testing.T) {
	t.Parallel()
	c := store.EncodeCursor("2026-11-30T00:00:00Z", "id-1")
	v, err := store.DecodeCursor(c, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"2026-11-30T00:00:00Z", "id-1"}, v)
	for _, bad := range []string{"%%%", "bm90IGpzb24", store.EncodeCursor("one")} {
		_, err := store.DecodeCursor(bad, 2)
		var ve *store.ValidationError
		require.ErrorAs(t, err, &ve, bad)
		require.Contains(t, ve.Fields, "cursor")
	}
}
