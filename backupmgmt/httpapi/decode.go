package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// decodeJSON reads the request body strictly into v (DESIGN §6): the body
// must be one JSON value of the right shape, with no unknown fields and
// nothing after it; fields tagged required:"true" must be present. Every
// failure is an *apiError naming the field where one can be named.
func decodeJSON(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return unmarshalStrict(body, v)
}

// readBody checks the content type and reads the whole (capped) body.
func readBody(r *http.Request) ([]byte, error) {
	if err := checkContentType(r); err != nil {
		return nil, err
	}
	return readRawBody(r)
}

// readRawBody reads a body of any media type (a tool's report, say): an
// oversized one is the *http.MaxBytesError the error mapping makes a 413.
func readRawBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, errorf(http.StatusBadRequest, "invalid_body", "reading the request body failed")
	}
	return body, nil
}

// checkContentType accepts application/json (and +json types), and a body
// sent without a type by simple scripts.
func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "the request body must be application/json")
	}
	return nil
}

// unmarshalStrict decodes one JSON value from body into v.
func unmarshalStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errorf(http.StatusBadRequest, "invalid_body", "the request body is empty; a JSON value is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "invalid_body", "the request body holds data after the JSON value")
	}
	if missing := missingRequired(reflect.ValueOf(v), ""); len(missing) > 0 {
		fields := make(map[string]string, len(missing))
		for _, f := range missing {
			fields[f] = "required"
		}
		return invalid(fields)
	}
	return nil
}

// jsonError turns an encoding/json error into a message that names the
// field and the expected type, without echoing the input.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return errorf(http.StatusBadRequest, "invalid_json", "malformed JSON at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "invalid_json", "malformed JSON: unexpected end of the body")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return errorf(http.StatusBadRequest, "invalid_json", "the request body must be a JSON %s", jsonKind(te.Type))
		}
		return invalidField(field, "must be "+article(jsonKind(te.Type)))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return invalidField(name, "unknown field")
	}
	return errorf(http.StatusBadRequest, "invalid_json", "the request body is not valid for this endpoint")
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case reflect.TypeFor[time.Time]():
		return "RFC 3339 time string"
	case reflect.TypeFor[store.Date]():
		return "YYYY-MM-DD date string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

func article(kind string) string {
	switch kind[0] {
	case 'a', 'e', 'i', 'o', 'u', 'R':
		return "an " + kind
	}
	return "a " + kind
}

// missingRequired lists the fields tagged required:"true" that are nil
// pointers, nil slices or empty strings, as dotted JSON paths.
func missingRequired(v reflect.Value, prefix string) []string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name := jsonName(sf)
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if sf.Anonymous && name == "" {
			out = append(out, missingRequired(fv, prefix)...)
			continue
		}
		path := prefix + name
		if sf.Tag.Get("required") == "true" && isMissing(fv) {
			out = append(out, path)
			continue
		}
		if fv.Kind() == reflect.Struct || (fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.Struct) {
			out = append(out, missingRequired(fv, path+".")...)
		}
	}
	return out
}

func isMissing(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0
	}
	return false
}

// jsonName is a struct field's JSON name; "" for an embedded struct without
// a name, "-" for a skipped field.
func jsonName(sf reflect.StructField) string {
	tag := sf.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" && tag == "-" {
		return "-"
	}
	if name == "" {
		if sf.Anonymous {
			return ""
		}
		return sf.Name
	}
	return name
}

// query reads a request's query parameters. The route declares which exist
// (so that unknown ones are refused and the OpenAPI document lists them);
// problems are collected and reported together by err.
type query struct {
	problems
	r  *http.Request
	rt *route
}

func newQuery(r *http.Request) *query {
	return &query{r: r, rt: routeFrom(r.Context())}
}

// problems collects field errors so that a request hears of all of them at
// once. The zero value is ready.
type problems struct {
	fields map[string]string
}

func (p *problems) fail(name, problem string) {
	if p.fields == nil {
		p.fields = make(map[string]string)
	}
	if _, ok := p.fields[name]; !ok {
		p.fields[name] = problem
	}
}

// err returns the collected problems as one 400, nil when there are none.
func (p *problems) err() error {
	if len(p.fields) == 0 {
		return nil
	}
	return invalid(p.fields)
}

// parseTime parses an RFC 3339 body field; nil in, nil out. Body times are
// strings in the wire types so that a bad one is reported with its field
// name (encoding/json does not name the field of a failed UnmarshalJSON).
func (p *problems) parseTime(name string, s *string) *time.Time {
	if s == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		p.fail(name, "must be an RFC 3339 time")
		return nil
	}
	t = t.UTC()
	return &t
}

// parseDate parses a YYYY-MM-DD body field; nil in, nil out.
func (p *problems) parseDate(name string, s *string) *store.Date {
	if s == nil {
		return nil
	}
	d, err := store.ParseDate(*s)
	if err != nil {
		p.fail(name, "must be a YYYY-MM-DD date")
		return nil
	}
	return &d
}

// str returns a parameter, checked against its declared enum.
func (q *query) str(name string) string {
	s := q.r.URL.Query().Get(name)
	if s == "" || q.rt == nil {
		return s
	}
	for _, p := range q.rt.query {
		if p.name == name && len(p.enum) > 0 {
			for _, e := range p.enum {
				if s == e {
					return s
				}
			}
			q.fail(name, "must be one of "+strings.Join(p.enum, ", "))
			return ""
		}
	}
	if len(s) > store.MaxShortTextLen {
		q.fail(name, fmt.Sprintf("at most %d bytes", store.MaxShortTextLen))
		return ""
	}
	return s
}

// boolean returns nil when the parameter is absent.
func (q *query) boolean(name string) *bool {
	s := q.r.URL.Query().Get(name)
	if s == "" {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.fail(name, "must be true or false")
		return nil
	}
	return &b
}

// integer returns def when the parameter is absent.
func (q *query) integer(name string, def, lo, hi int) int {
	s := q.r.URL.Query().Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		q.fail(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return def
	}
	return n
}

// time returns nil when the parameter is absent.
func (q *query) time(name string) *time.Time {
	s := q.r.URL.Query().Get(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		q.fail(name, "must be an RFC 3339 time")
		return nil
	}
	t = t.UTC()
	return &t
}

// date returns the zero Date when the parameter is absent.
func (q *query) date(name string) store.Date {
	s := q.r.URL.Query().Get(name)
	if s == "" {
		return store.Date{}
	}
	d, err := store.ParseDate(s)
	if err != nil {
		q.fail(name, "must be a YYYY-MM-DD date")
	}
	return d
}

// page returns the limit and cursor parameters of a list.
func (q *query) page() store.PageParams {
	return store.PageParams{
		Limit:  q.integer("limit", store.LimitDefault, 1, store.LimitMax),
		Cursor: q.str("cursor"),
	}
}

// pageParams are the parameters every list takes.
var pageParams = []queryParam{
	{name: "limit", typ: "integer", desc: "page size, 1 to 200 (default 50)"},
	{name: "cursor", typ: "string", desc: "next_cursor of the previous page"},
}

// decodeOptionalJSON is decodeJSON for action routes whose body is optional
// (acknowledge, resolve, retire): an empty body means every field absent, so
// that `curl -X POST .../acknowledge` works; anything else is decoded
// strictly.
func decodeOptionalJSON(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	return unmarshalStrict(body, v)
}
