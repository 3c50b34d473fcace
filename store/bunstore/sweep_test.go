package bunstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestInputTime(t *testing.T) {
	t.Parallel()
	jst := time.FixedZone("JST", 9*60*60)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2026-11-02 07:00:00+00:00", time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)},
		{"2026-11-02 07:00:00.123456+00:00", time.Date(2026, 11, 2, 7, 0, 0, 123456000, time.UTC)},
		{"2026-11-02T07:00:00.5-05:30", time.Date(2026, 11, 2, 12, 30, 0, 500000000, time.UTC)},
		{"2026-11-02 16:00:00+09:00", time.Date(2026, 11, 2, 16, 0, 0, 0, jst)},
		{"2024-02-29 23:59:59.999999999Z", time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)},
		// Not bun's form: the driver's layouts.
		{"2026-11-02", time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)},
		{"2026-11-02 07:00", time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)},
		{"2026-11-02 07:00:00", time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC)},
		{"2026-11-02 07:00:00.25 +0000 UTC", time.Date(2026, 11, 2, 7, 0, 0, 250000000, time.UTC)},
	} {
		var it inputTime
		require.NoError(t, it.Scan(tc.in), tc.in)
		require.True(t, it.valid)
		require.True(t, tc.want.Equal(it.t), "%s: got %v", tc.in, it.t)
		require.Equal(t, time.UTC, it.t.Location())
	}
	for _, bad := range []string{
		"2026-13-02 07:00:00+00:00", "2026-02-29 07:00:00+00:00", "2026-11-02 24:00:00+00:00",
		"2026-11-02 07:00:00.+00:00", "2026-11-02 07:00:00+0000x", "yesterday",
	} {
		var it inputTime
		require.Error(t, it.Scan(bad), bad)
	}
	var it inputTime
	require.NoError(t, it.Scan(nil))
	require.False(t, it.valid)
	require.Nil(t, it.ptr())
}
