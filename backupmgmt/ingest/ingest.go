package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Format names a tool's report format, as in POST /api/v1/ingest/{format}.
type Format string

// Format values.
const (
	Restic Format = "restic"
	Borg   Format = "borg"
	Kopia  Format = "kopia"
	Velero Format = "velero"
	Bareos Format = "bareos"
	Veeam  Format = "veeam"
	// WSB is Windows Server Backup.
	WSB Format = "wsb"
)

const (
	// MaxReportBytes is the largest report Parse reads; a longer one is a
	// *ParseError.
	MaxReportBytes = 10 << 20
	// MaxLineBytes is the longest line of a JSON-lines report (restic).
	MaxLineBytes = 1 << 20
	// MaxRuns is the most runs one report may describe: what one
	// backupmgmt.Executions.RecordBatch takes.
	MaxRuns = backupmgmt.RecordBatchMax
)

// ErrUnknownFormat is returned by Parse for a format it does not know.
var ErrUnknownFormat = errors.New("ingest: unknown report format")

// ParseError names what is wrong with a report. Field is a JSON path into
// the report ("summary.total_duration", "[3].jobstatus"); for JSON-lines
// reports (restic) it starts with the 1-based line number ("[12].backup_end").
// An empty Field means the report as a whole.
type ParseError struct {
	Field   string
	Message string
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return "ingest: " + e.Message
	}
	return "ingest: " + e.Field + ": " + e.Message
}

// Options are the optional inputs of ParseWith. The zero value means
// defaults.
type Options struct {
	// Location is the time zone of report times that carry none (borg's
	// local ISO times, Bareos catalog times). Defaults to UTC: run the tool
	// with TZ=UTC, or set this to the zone of the machine that wrote the
	// report. Times with an offset keep their offset.
	Location *time.Location
}

type parser func(data []byte, o Options) ([]backupmgmt.RecordParams, error)

// formats maps each format to its parser and its execution source.
var formats = map[Format]struct {
	parse  parser
	source store.ExecutionSource
}{
	Restic: {parseRestic, store.SourceRestic},
	Borg:   {parseBorg, store.SourceBorg},
	Kopia:  {parseKopia, store.SourceKopia},
	Velero: {parseVelero, store.SourceVelero},
	Bareos: {parseBareos, store.SourceBareos},
	Veeam:  {parseVeeam, store.SourceVeeam},
	WSB:    {parseWSB, store.SourceWSB},
}

// Formats returns every supported format, sorted.
func Formats() []Format {
	out := make([]Format, 0, len(formats))
	for f := range formats {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Valid reports whether f is a supported format.
func (f Format) Valid() bool {
	_, ok := formats[f]
	return ok
}

// Parse reads one tool report (at most MaxReportBytes) and returns the runs
// it describes, ready for backupmgmt.Executions.Record or RecordBatch
// except JobID and JobName, which the caller sets. Source is the format's
// store.ExecutionSource; RunID comes from the report (snapshot, archive or
// backup ID, or a hash of the part of the report that describes the run),
// so a report sent twice records its runs once. Times are UTC, truncated to
// microseconds. Bad input is a *ParseError; an unknown format is
// ErrUnknownFormat. Parse is ParseWith with zero Options.
func Parse(f Format, r io.Reader) ([]backupmgmt.RecordParams, error) {
	return ParseWith(f, r, Options{})
}

// ParseWith is Parse with options.
func ParseWith(f Format, r io.Reader, o Options) ([]backupmgmt.RecordParams, error) {
	def, ok := formats[f]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownFormat, string(f))
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ingest: read report: %w", err)
	}
	if len(data) > MaxReportBytes {
		return nil, &ParseError{Message: fmt.Sprintf("report larger than %d bytes", MaxReportBytes)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ParseError{Message: "empty report"}
	}
	runs, err := def.parse(data, o)
	if err != nil {
		return nil, err
	}
	switch {
	case len(runs) == 0:
		return nil, &ParseError{Message: "the report describes no backup run"}
	case len(runs) > MaxRuns:
		return nil, &ParseError{Message: fmt.Sprintf("at most %d runs per report", MaxRuns)}
	}
	for i := range runs {
		runs[i].Source = def.source
		runs[i].Message = oneLine(runs[i].Message)
		runs[i].LogExcerpt = store.CleanText(runs[i].LogExcerpt)
	}
	return runs, nil
}

// decodeJSON decodes one JSON value (and nothing after it) into v, turning
// decoder errors into a *ParseError under prefix.
func decodeJSON(data []byte, prefix string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(prefix, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &ParseError{Field: prefix, Message: "unexpected data after the JSON value"}
	}
	return nil
}

// jsonError names the field a decoding error is about.
func jsonError(prefix string, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var pe *ParseError
	switch {
	case errors.As(err, &pe):
		if prefix != "" {
			pe = &ParseError{Field: join(prefix, pe.Field), Message: pe.Message}
		}
		return pe
	case errors.As(err, &te):
		return &ParseError{Field: join(prefix, te.Field), Message: "must be " + jsonKind(te.Type.Kind().String()) + ", not " + te.Value}
	case errors.As(err, &se):
		return &ParseError{Field: prefix, Message: fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &ParseError{Field: prefix, Message: "truncated JSON"}
	}
	return &ParseError{Field: prefix, Message: "invalid JSON: " + err.Error()}
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"):
		return "an integer in range"
	case strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "a boolean"
	case k == "slice":
		return "an array"
	case k == "struct", k == "map":
		return "an object"
	}
	return "of another type"
}

// join makes a JSON path: join("archive", "stats.nfiles"), join("", "id"),
// join("items", "[2].name").
func join(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	}
	return prefix + "." + field
}

func index(prefix string, i int) string { return prefix + "[" + strconv.Itoa(i) + "]" }

// parseTime reads a report time: RFC 3339 (with any fraction), ISO 8601
// without a zone ("2017-08-07T12:27:20", borg) or with a space ("2015-06-25
// 16:51:38", Bareos), both in loc, or PowerShell 5.1's "/Date(ms)/". The
// result is in stored form. An empty, zero or pre-1970 time is "required".
func parseTime(field, s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") || strings.HasPrefix(s, "0001-01-01") {
		return time.Time{}, &ParseError{Field: field, Message: "required"}
	}
	var t time.Time
	var err error
	switch {
	case strings.HasPrefix(s, "/Date(") && strings.HasSuffix(s, ")/"):
		t, err = parseMSDate(s[len("/Date(") : len(s)-len(")/")])
	default:
		t, err = time.Parse(time.RFC3339Nano, s)
		if err != nil {
			for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05Z07:00"} {
				if t, err = time.ParseInLocation(layout, s, loc); err == nil {
					break
				}
			}
		}
	}
	if err != nil {
		return time.Time{}, &ParseError{Field: field, Message: fmt.Sprintf("not a time: %q", clip(s, 40))}
	}
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, &ParseError{Field: field, Message: "out of range"}
	}
	return store.NormalizeTime(t), nil
}

// parseMSDate reads the inside of "/Date(1700000000000)/" or
// "/Date(1700000000000+0100)/": milliseconds since the epoch; the offset
// only says where the writer was, so it does not move the instant.
func parseMSDate(s string) (time.Time, error) {
	if i := strings.LastIndexAny(s, "+-"); i > 0 {
		if len(s)-i != 5 {
			return time.Time{}, errors.New("bad offset")
		}
		if _, err := strconv.Atoi(s[i+1:]); err != nil {
			return time.Time{}, err
		}
		s = s[:i]
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	if ms < 0 || ms > 253402300799999 {
		return time.Time{}, errors.New("out of range")
	}
	return time.UnixMilli(ms), nil
}

// optTime is parseTime for a time that may be absent (nil pointer or
// empty): the zero time then, with no error.
func optTime(field string, s *string, loc *time.Location) (time.Time, error) {
	if s == nil || strings.TrimSpace(*s) == "" || strings.HasPrefix(*s, "0000-00-00") || strings.HasPrefix(*s, "0001-01-01") {
		return time.Time{}, nil
	}
	return parseTime(field, *s, loc)
}

// finish checks the times of a run and sets FinishedAt (nil while running);
// endField names the field end came from.
func finish(p *backupmgmt.RecordParams, end time.Time, endField string) error {
	if p.StartedAt.IsZero() {
		return &ParseError{Field: endField, Message: "the run has no start time"}
	}
	if p.Status == store.ExecutionRunning {
		p.FinishedAt = nil
		return nil
	}
	if end.IsZero() {
		return &ParseError{Field: endField, Message: "required for a finished run"}
	}
	if end.Before(p.StartedAt) {
		return &ParseError{Field: endField, Message: "must not be before the start"}
	}
	p.FinishedAt = &end
	return nil
}

// count checks a size or count from a report: present counts must not be
// negative.
func count(field string, n int64) error {
	if n < 0 {
		return &ParseError{Field: field, Message: "must not be negative"}
	}
	return nil
}

// sum adds counts, refusing overflow.
func sum(field string, ns ...int64) (int64, error) {
	var t int64
	for _, n := range ns {
		if err := count(field, n); err != nil {
			return 0, err
		}
		if t > math.MaxInt64-n {
			return 0, &ParseError{Field: field, Message: "too large"}
		}
		t += n
	}
	return t, nil
}

// key checks an identifier from the report that becomes a run ID or
// snapshot ID, the way backupmgmt checks run IDs.
func key(field, s string) (string, error) {
	switch {
	case strings.TrimSpace(s) == "":
		return "", &ParseError{Field: field, Message: "required"}
	case s != strings.TrimSpace(s):
		return "", &ParseError{Field: field, Message: "must not start or end with spaces"}
	case utf8.RuneCountInString(s) > store.MaxNameLen:
		return "", &ParseError{Field: field, Message: fmt.Sprintf("at most %d characters", store.MaxNameLen)}
	case s != store.CleanText(s):
		return "", &ParseError{Field: field, Message: "must be valid UTF-8 without NUL characters"}
	}
	return s, nil
}

// hashID is a run ID for a run whose report names none: the same bytes give
// the same ID.
func hashID(tool string, b []byte) string {
	h := sha256.Sum256(b)
	return tool + "-" + hex.EncodeToString(h[:16])
}

// shortID is the first 8 characters of an ID, as the tools print them.
func shortID(s string) string {
	if len(s) > 8 && utf8.ValidString(s[:8]) {
		return s[:8]
	}
	return s
}

// oneLine makes text one bounded line for a run's message.
func oneLine(s string) string {
	s = store.CleanText(s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > store.MaxMessageLen {
		r := []rune(s)
		s = string(r[:store.MaxMessageLen-1]) + "…"
	}
	return s
}

// clip shortens s to n runes for an error message.
func clip(s string, n int) string {
	s = store.CleanText(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// humanCount prints n with thousands separators: 1,234,567.
func humanCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// humanBytes prints a size in IEC units with one decimal: 5.2 GiB.
func humanBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	u := -1
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[u]
}

// plural is "1 file", "2 files".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return humanCount(n) + " " + many
}

// flexInt is a count that tools send as a JSON number or as a decimal
// string (Bareos sends every catalog value as a string). null and "" are 0.
type flexInt struct {
	N   int64
	Set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s := string(b)
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return typeError("string", reflect.TypeFor[int64]())
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return typeError(strconv.Quote(clip(s, 40)), reflect.TypeFor[int64]())
	}
	f.N, f.Set = n, true
	return nil
}

// flexString is a text value that PowerShell and Bareos may send as a
// string or as a number (enum values, IDs).
type flexString struct {
	S   string
	Set bool
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		if err := json.Unmarshal(b, &f.S); err != nil {
			return typeError("string", reflect.TypeFor[string]())
		}
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return typeError("number", reflect.TypeFor[string]())
		}
		f.S = n.String()
	default:
		return typeError(jsonValueKind(b), reflect.TypeFor[string]())
	}
	f.Set = true
	return nil
}

// typeError is the error a custom decoder returns so that encoding/json
// adds the field path to it.
func typeError(value string, t reflect.Type) error {
	return &json.UnmarshalTypeError{Value: value, Type: t}
}

func jsonValueKind(b []byte) string {
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	}
	return "value"
}

// oneOrMany decodes a JSON object or an array of objects (PowerShell's
// ConvertTo-Json writes one object for one result and an array for more).
func oneOrMany[T any](data []byte) ([]T, bool, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	trimmed = bytes.TrimPrefix(trimmed, []byte("\xef\xbb\xbf"))
	if len(trimmed) > 0 && trimmed[0] == '[' {
		items, err := decodeArray[T](trimmed, "")
		return items, true, err
	}
	var item T
	if err := decodeJSON(trimmed, "", &item); err != nil {
		return nil, false, err
	}
	return []T{item}, false, nil
}

// decodeArray decodes a JSON array item by item, so that an error names the
// index ("items[3].name"; encoding/json's own paths leave it out). More
// than MaxRuns items are refused before any is decoded.
func decodeArray[T any](data []byte, prefix string) ([]T, error) {
	var raws []json.RawMessage
	if err := decodeJSON(data, prefix, &raws); err != nil {
		return nil, err
	}
	if len(raws) > MaxRuns {
		return nil, &ParseError{Field: prefix, Message: fmt.Sprintf("at most %d runs per report", MaxRuns)}
	}
	items := make([]T, len(raws))
	for i, raw := range raws {
		if err := decodeJSON(raw, index(prefix, i), &items[i]); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// itemField is the path of field in item i: "[i].field" for an array
// report, "field" for a single object.
func itemField(array bool, i int, field string) string {
	if !array {
		return field
	}
	return join(index("", i), field)
}
