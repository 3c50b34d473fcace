package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

// encodingJSON is what writeJSON wrote before fastJSON: json.Encoder with
// HTML escaping off.
func encodingJSON(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return buf.Bytes()
}

// awkward strings: every escape encoding/json makes, invalid UTF-8,
// U+2028/2029, HTML characters it leaves alone, multibyte text.
var awkward = []string{
	"", "plain", `quote " and \ backslash`, "ctl \x00\x01\x1f\x7f", "\b\f\n\r\t", "<html> & 'x'",
	"\xff\xfe bad \xc3", "line\u2028sep\u2029", "Grüße 日本 🚀", "\u00e9\u0301", strings.Repeat("é", 100),
}

func randomJob(r *rand.Rand) Job {
	str := func() string {
		if r.IntN(3) == 0 {
			return awkward[r.IntN(len(awkward))]
		}
		var b []byte
		for range r.IntN(20) {
			b = append(b, byte(r.IntN(256)))
		}
		return string(b)
	}
	opt := func() *string {
		if r.IntN(2) == 0 {
			return nil
		}
		s := str()
		return &s
	}
	tm := func() time.Time {
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)*int64(r.IntN(2))).UTC().Truncate(time.Duration(1 + r.IntN(1000)))
	}
	optTime := func() *time.Time {
		if r.IntN(2) == 0 {
			return nil
		}
		t := tm()
		return &t
	}
	j := Job{
		ID: str(), Name: str(), Description: str(), AssetID: opt(),
		JobType: store.JobType(str()), Tool: store.Tool(str()), TargetServer: str(), TargetPath: str(),
		Schedule:     JobSchedule{Kind: store.ScheduleKind(str()), Cron: opt(), Timezone: opt()},
		GraceSeconds: r.Int64() - r.Int64(), MaxRuntimeSeconds: r.Int64N(1e9), RetentionDays: r.IntN(4000) - 10,
		RPOTargetSeconds: r.Int64N(1e6), RTOTargetSeconds: -r.Int64N(1e6), OwnerID: opt(),
		Active: r.IntN(2) == 0, Paused: r.IntN(2) == 0, State: store.JobState(str()),
		NextDueAt: optTime(), LastRunAt: optTime(), LastSuccessAt: optTime(),
		ConsecutiveFailures: r.IntN(100), PingURL: opt(), CreatedAt: tm(), UpdatedAt: tm(),
	}
	if r.IntN(2) == 0 {
		n := r.Int64N(1e6)
		j.Schedule.IntervalSeconds = &n
	}
	if r.IntN(2) == 0 {
		st := store.ExecutionStatus(str())
		j.LastResult = &st
	}
	switch r.IntN(3) {
	case 0: // nil: encoding/json writes null
	case 1:
		j.Tags = []string{}
	default:
		for range 1 + r.IntN(4) {
			j.Tags = append(j.Tags, str())
		}
	}
	return j
}

func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		l := List[Job]{}
		for range r.IntN(4) {
			l.Items = append(l.Items, randomJob(r))
		}
		if l.Items == nil {
			l.Items = []Job{}
		}
		if r.IntN(2) == 0 {
			l.NextCursor = awkward[r.IntN(len(awkward))]
		}
		got, ok := l.appendJSON(nil)
		require.True(t, ok)
		got = append(got, '\n')
		require.Equal(t, string(encodingJSON(t, l)), string(got), "case %d", i)
	}
	_, ok := List[Execution]{}.appendJSON(nil)
	require.False(t, ok, "a list of a type without its own encoding falls back to encoding/json")
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := bytes.TrimSuffix(encodingJSON(t, struct{ S string }{s}), []byte("\n"))
		got := append(appendJSONString([]byte(`{"S":`), s), '}')
		require.Equal(t, string(want), string(got))
	})
}

func BenchmarkListJSON(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	l := List[Job]{NextCursor: "c"}
	for range 50 {
		j := randomJob(r)
		l.Items = append(l.Items, j)
	}
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encodingJSON(b, l)
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64<<10)
		for b.Loop() {
			buf, _ = l.appendJSON(buf[:0])
		}
	})
}
