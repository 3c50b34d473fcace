package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"mime"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite openapi.json from the route table")

// docRoutes is the route table as documented; handlers are not called.
func docRoutes() []*route { return (&API{}).routeTable() }

func TestOpenAPIDocumentIsCurrent(t *testing.T) {
	t.Parallel()
	got, err := openAPI(docRoutes())
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile("openapi.json", got, 0o644))
		return
	}
	require.Equal(t, string(got), string(openAPIDocument),
		"openapi.json is stale: run go test ./backupmgmt/httpapi -run TestOpenAPIDocumentIsCurrent -update")
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)

	t.Run("IsAValidOpenAPI31Document", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "3.1.0", doc.OpenAPI)
		require.NoError(t, doc.Validate(context.Background()))
	})

	t.Run("ListsExactlyTheRegisteredRoutes", func(t *testing.T) {
		t.Parallel()
		var registered, documented []string
		for _, rt := range docRoutes() {
			registered = append(registered, rt.method+" "+openAPIPath(rt.path))
		}
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				documented = append(documented, method+" "+path)
			}
		}
		slices.Sort(registered)
		slices.Sort(documented)
		require.Equal(t, registered, documented)
	})

	t.Run("EveryProtectedOperationNamesItsPermission", func(t *testing.T) {
		t.Parallel()
		for _, rt := range docRoutes() {
			op := doc.Paths.Find(openAPIPath(rt.path)).GetOperation(rt.method)
			require.NotNil(t, op, rt.method+" "+rt.path)
			if rt.public {
				require.NotNil(t, op.Security, "%s %s is public: its security must be empty", rt.method, rt.path)
				require.Empty(t, *op.Security)
				continue
			}
			want := string(rt.perm)
			if rt.anyCaller {
				want = "authenticated"
			}
			require.Equal(t, want, op.Extensions["x-permission"], rt.method+" "+rt.path)
		}
	})

	t.Run("IsServed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, "sqlite", nil)
		res := b.do(t, anonymous, "GET", "/api/v1/openapi.json", nil)
		require.Equal(t, http.StatusOK, res.Code)
		require.Equal(t, openAPIDocument, res.Body)
	})
}

var (
	openAPIOnce sync.Once
	openAPIDoc  *openapi3.T
	openAPIErr  error
)

func loadOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	openAPIOnce.Do(func() {
		l := openapi3.NewLoader()
		openAPIDoc, openAPIErr = l.LoadFromData(openAPIDocument)
	})
	require.NoError(t, openAPIErr)
	return openAPIDoc
}

// patternMux finds the route pattern of a request the way the API's mux
// does.
var patternMux = sync.OnceValue(func() *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range docRoutes() {
		mux.Handle(rt.method+" "+rt.path, http.NotFoundHandler())
	}
	return mux
})

// validateResponse checks a response against the document: its status must
// be documented for the operation, and its body must match the schema of
// that status and content type. Responses to paths no route matches (404s
// and 405s of the fallback) must be the Error envelope.
func validateResponse(t testing.TB, req *http.Request, res *resp) {
	t.Helper()
	if err := checkResponse(loadOpenAPI(t), req, res); err != nil {
		t.Errorf("response to %s %s does not match the OpenAPI document: %v\nbody: %.500s", req.Method, req.URL.Path, err, res.Body)
	}
}

func checkResponse(doc *openapi3.T, req *http.Request, res *resp) error {
	_, pattern := patternMux().Handler(req)
	method, path, _ := strings.Cut(pattern, " ")
	errSchema := doc.Components.Schemas["Error"].Value
	if pattern == "" || path == "" || method != req.Method {
		return visit(errSchema, res)
	}
	op := doc.Paths.Find(openAPIPath(path)).GetOperation(method)
	if op == nil {
		return fmt.Errorf("operation %s %s is not documented", method, path)
	}
	r := op.Responses.Status(res.Code)
	if r == nil {
		return fmt.Errorf("status %d is not documented for %s %s", res.Code, method, path)
	}
	if len(r.Value.Content) == 0 {
		if len(res.Body) != 0 {
			return fmt.Errorf("status %d is documented without a body, got %d bytes", res.Code, len(res.Body))
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("content type %q: %v", res.Header.Get("Content-Type"), err)
	}
	c := r.Value.Content.Get(mt)
	if c == nil {
		return fmt.Errorf("content type %s is not documented for status %d", mt, res.Code)
	}
	if mt != "application/json" || req.Method == http.MethodHead {
		return nil
	}
	return visit(c.Schema.Value, res)
}

func visit(s *openapi3.Schema, res *resp) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(res.Body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("body is not JSON: %v", err)
	}
	v = numbersToFloat(v)
	return s.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// numbersToFloat makes json.Number values float64, as VisitJSON expects.
func numbersToFloat(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToFloat(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersToFloat(e)
		}
	}
	return v
}

func TestResponseValidator(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	jsonResp := func(code int, body string) *resp {
		return &resp{Code: code, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
	}
	get := func(path string) *http.Request {
		req, err := http.NewRequest("GET", path, nil)
		require.NoError(t, err)
		return req
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		res  *resp
		ok   bool
	}{
		{"MatchingBody", get("/healthz"), jsonResp(200, `{"status":"ok"}`), true},
		{"WrongType", get("/healthz"), jsonResp(200, `{"status":3}`), false},
		{"MissingRequiredField", get("/healthz"), jsonResp(200, `{}`), false},
		{"UndocumentedField", get("/healthz"), jsonResp(200, `{"status":"ok","extra":1}`), false},
		{"UndocumentedStatus", get("/healthz"), jsonResp(http.StatusTeapot, `{"status":"ok"}`), false},
		{"UndocumentedContentType", get("/healthz"), &resp{Code: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("<p>")}, false},
		{"ErrorEnvelope", get("/api/v1/openapi.json"), jsonResp(503, `{"error":{"code":"unavailable","message":"x"}}`), true},
		{"FallbackMustBeTheEnvelope", get("/nowhere"), jsonResp(404, `not found`), false},
		{"FallbackEnvelope", get("/nowhere"), jsonResp(404, `{"error":{"code":"not_found","message":"no such endpoint"}}`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkResponse(doc, tc.req, tc.res)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
