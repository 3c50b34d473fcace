package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

// openAPIDocument is the OpenAPI 3.1 document served at
// /api/v1/openapi.json. It is generated from the route table by
// `go test -run TestOpenAPIDocumentIsCurrent -update` and a test fails when
// the committed file and the table disagree, so the two cannot drift.
//
//go:embed openapi.json
var openAPIDocument []byte

// APIVersion is the version the OpenAPI document gives.
const APIVersion = "1.0.0"

// openAPI builds the document from the route table.
func openAPI(routes []*route) ([]byte, error) {
	g := &schemaGen{schemas: map[string]any{}, names: map[schemaKey]string{}}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		ops := paths[openAPIPath(rt.path)]
		if ops == nil {
			ops = map[string]any{}
			paths[openAPIPath(rt.path)] = ops
		}
		ops[strings.ToLower(rt.method)] = g.operation(rt)
	}
	g.schema(reflect.TypeFor[Error](), false) // the envelope every error response refers to
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Custos API",
			"version":     APIVersion,
			"description": "Backup governance: jobs, runs, the 3-2-1-1-0 rule, offline media, verification, alerts and the audit log. Errors are always the Error envelope.",
			"license":     map[string]any{"name": "see LICENSE"},
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.schemas,
			"securitySchemes": map[string]any{
				"apiKey": map[string]any{
					"type": "http", "scheme": "bearer", "bearerFormat": "cst_<prefix>_<secret>",
					"description": "An API key in Authorization: Bearer.",
				},
				"session": map[string]any{
					"type": "apiKey", "in": "cookie", "name": "custos_session",
					"description": "The browser session cookie set by POST /api/v1/auth/login.",
				},
			},
		},
		"security": []any{map[string]any{"apiKey": []any{}}, map[string]any{"session": []any{}}},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)(\.\.\.)?\}`)

// openAPIPath turns a mux pattern path into an OpenAPI path template.
func openAPIPath(p string) string { return pathParam.ReplaceAllString(p, "{$1}") }

// errorStatuses are the failures a route can answer with, by what it takes.
func errorStatuses(rt *route) []int {
	// 400 for everyone: unknown query parameters are refused on every route.
	out := []int{http.StatusBadRequest, http.StatusInternalServerError, http.StatusServiceUnavailable}
	if !rt.public {
		out = append(out, http.StatusUnauthorized, http.StatusForbidden)
	}
	if strings.Contains(rt.path, "{") || rt.resource != "" {
		out = append(out, http.StatusNotFound)
	}
	if rt.method != http.MethodGet || strings.Contains(rt.path, "{") {
		// A state that does not allow the operation (a plan not due, say).
		out = append(out, http.StatusConflict)
	}
	if rt.method != http.MethodGet {
		out = append(out, http.StatusRequestEntityTooLarge)
	}
	if rt.body != nil {
		out = append(out, http.StatusUnsupportedMediaType)
	}
	if rt.limit != limitNone {
		out = append(out, http.StatusTooManyRequests)
	}
	for _, st := range rt.errors {
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	slices.Sort(out)
	return out
}

func (g *schemaGen) operation(rt *route) map[string]any {
	op := map[string]any{
		"operationId": operationID(rt),
		"summary":     rt.summary,
		"tags":        []any{cmpTag(rt.tag)},
	}
	if rt.public {
		op["security"] = []any{}
	} else if rt.anyCaller {
		op["x-permission"] = "authenticated"
	} else {
		op["x-permission"] = string(rt.perm)
	}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
		params = append(params, map[string]any{
			"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"},
		})
	}
	for _, q := range rt.query {
		s := map[string]any{"type": cmpType(q.typ)}
		switch q.typ {
		case "date-time", "date":
			s = map[string]any{"type": "string", "format": q.typ}
		}
		if len(q.enum) > 0 {
			s["enum"] = anySlice(q.enum)
		}
		p := map[string]any{"name": q.name, "in": "query", "schema": s}
		if q.desc != "" {
			p["description"] = q.desc
		}
		if q.required {
			p["required"] = true
		}
		params = append(params, p)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.body != nil {
		s := g.schema(reflect.TypeOf(rt.body), true)
		if rt.bodyAlt != nil {
			s = map[string]any{"oneOf": []any{s, g.schema(reflect.TypeOf(rt.bodyAlt), true)}}
		}
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": s}},
		}
	}
	if rt.rawBody != "" {
		op["requestBody"] = map[string]any{
			"required":    true,
			"description": rt.rawBody,
			"content":     map[string]any{"*/*": map[string]any{"schema": map[string]any{"type": "string"}}},
		}
	}
	responses := map[string]any{}
	responses[fmt.Sprint(rt.status)] = g.response(rt, rt.resp, rt.status)
	if rt.statusAlt != 0 {
		responses[fmt.Sprint(rt.statusAlt)] = g.response(rt, rt.respAlt, rt.statusAlt)
	}
	errRef := map[string]any{
		"description": "the error envelope",
		"content":     map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}},
	}
	if rt.public && rt.rawResp == "text/plain" {
		// Ping URLs answer their own refusals in plain text, as
		// healthchecks-compatible clients expect; the middleware's are JSON.
		errRef = map[string]any{
			"description": "the error envelope, or a line of plain text from the handler",
			"content": map[string]any{
				"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}},
				"text/plain":       map[string]any{"schema": map[string]any{"type": "string"}},
			},
		}
	}
	for _, st := range errorStatuses(rt) {
		if _, ok := responses[fmt.Sprint(st)]; !ok {
			responses[fmt.Sprint(st)] = errRef
		}
	}
	op["responses"] = responses
	return op
}

// oneOf is a response body that is one of several types.
type oneOf []any

func (g *schemaGen) response(rt *route, body any, status int) map[string]any {
	desc := http.StatusText(status)
	if body == nil && rt.rawResp == "" {
		return map[string]any{"description": desc}
	}
	if rt.rawResp != "" && status < 300 {
		content := map[string]any{}
		for _, mt := range strings.Split(rt.rawResp, ", ") {
			s := map[string]any{"type": "string"}
			if mt == "application/json" {
				s = map[string]any{} // a JSON file the route serves as is
			}
			content[mt] = map[string]any{"schema": s}
		}
		if body != nil {
			// The route also answers in JSON (a format parameter chooses).
			content["application/json"] = map[string]any{"schema": g.schema(reflect.TypeOf(body), false)}
		}
		return map[string]any{"description": desc, "content": content}
	}
	var schema map[string]any
	if alts, ok := body.(oneOf); ok {
		var list []any
		for _, alt := range alts {
			list = append(list, g.schema(reflect.TypeOf(alt), false))
		}
		schema = map[string]any{"oneOf": list}
	} else {
		schema = g.schema(reflect.TypeOf(body), false)
	}
	return map[string]any{
		"description": desc,
		"content":     map[string]any{"application/json": map[string]any{"schema": schema}},
	}
}

func operationID(rt *route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.method))
	for _, part := range strings.Split(strings.TrimPrefix(rt.path, "/api/v1"), "/") {
		if part == "" {
			continue
		}
		if m := pathParam.FindStringSubmatch(part); m != nil {
			part = "by_" + m[1]
		}
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

func cmpTag(t string) string {
	if t == "" {
		return "other"
	}
	return t
}

func cmpType(t string) string {
	if t == "" {
		return "string"
	}
	return t
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// schemaGen turns Go wire types into JSON Schema (2020-12, as OpenAPI 3.1
// uses), collecting named struct types as components.
type schemaGen struct {
	schemas map[string]any
	names   map[schemaKey]string
}

// schemaKey separates a type's request form (required from tags) from its
// response form (required unless omitempty).
type schemaKey struct {
	t       reflect.Type
	request bool
}

var (
	typeTime    = reflect.TypeFor[time.Time]()
	typeDate    = reflect.TypeFor[store.Date]()
	typeRaw     = reflect.TypeFor[json.RawMessage]()
	typeAny     = reflect.TypeFor[any]()
	genericName = regexp.MustCompile(`^([A-Za-z]+)\[(?:.*\.)?([A-Za-z0-9]+)\]$`)
)

// schema returns the schema of t: a $ref for named structs.
func (g *schemaGen) schema(t reflect.Type, request bool) map[string]any {
	switch t {
	case typeTime:
		return map[string]any{"type": "string", "format": "date-time"}
	case typeDate:
		return map[string]any{"type": "string", "format": "date"}
	case typeRaw, typeAny:
		return map[string]any{}
	}
	if vals, ok := enumValues[t]; ok {
		return map[string]any{"type": "string", "enum": anySlice(vals)}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schema(t.Elem(), request))
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem(), request)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem(), request)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t, request)
		}
		key := schemaKey{t, request}
		name, ok := g.names[key]
		if !ok {
			name = g.nameFor(t, request)
			g.names[key] = name
			g.schemas[name] = map[string]any{} // placeholder against recursion
			g.schemas[name] = g.object(t, request)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	panic(fmt.Sprintf("httpapi: no schema for %s", t))
}

// nameFor names a component: the Go name, List[Job] as JobList, and a
// type used in both directions gets a Request suffix on its request form.
func (g *schemaGen) nameFor(t reflect.Type, request bool) string {
	name := t.Name()
	if m := genericName.FindStringSubmatch(name); m != nil {
		name = m[2] + m[1]
	}
	if _, taken := g.schemas[name]; taken {
		if request {
			return name + "Request"
		}
		return name + "Response"
	}
	return name
}

func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok {
		out := make(map[string]any, len(s))
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []any{typ, "null"}
		if enum, ok := out["enum"].([]any); ok {
			out["enum"] = append(slices.Clone(enum), nil)
		}
		return out
	}
	return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
}

// object is the schema of a struct's fields. Unknown properties are not
// allowed: the decoder refuses them, and views have exactly these.
func (g *schemaGen) object(t reflect.Type, request bool) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, request, props, &required)
	sort.Strings(required)
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = anySlice(required)
	}
	return s
}

func (g *schemaGen) fields(t reflect.Type, request bool, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name := jsonName(sf)
		if name == "-" {
			continue
		}
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			g.fields(ft, request, props, required)
			continue
		}
		s := g.schema(sf.Type, request)
		if f := sf.Tag.Get("format"); f != "" {
			s = withKeyword(s, "format", f)
		}
		if e := sf.Tag.Get("enum"); e != "" {
			vals := anySlice(strings.Split(e, ","))
			if sf.Type.Kind() == reflect.Pointer {
				vals = append(vals, nil)
			}
			s = withKeyword(s, "enum", vals)
		}
		if d := sf.Tag.Get("doc"); d != "" {
			s = withKeyword(s, "description", d)
		}
		props[name] = s
		_, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		omitempty := slices.Contains(strings.Split(opts, ","), "omitempty") || slices.Contains(strings.Split(opts, ","), "omitzero")
		if (request && sf.Tag.Get("required") == "true") || (!request && !omitempty) {
			*required = append(*required, name)
		}
	}
}

// withKeyword adds a keyword to s; on a $ref it wraps, since siblings of
// $ref are allowed in 3.1 but tools read them unevenly.
func withKeyword(s map[string]any, k string, v any) map[string]any {
	if _, ok := s["$ref"]; ok {
		return map[string]any{"allOf": []any{s}, k: v}
	}
	out := make(map[string]any, len(s)+1)
	for key, val := range s {
		out[key] = val
	}
	out[k] = v
	return out
}
