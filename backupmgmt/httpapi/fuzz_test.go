package httpapi

import (
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// bodyTypes are the request body types of every route.
func bodyTypes() []reflect.Type {
	var out []reflect.Type
	seen := map[reflect.Type]bool{}
	for _, rt := range docRoutes() {
		for _, b := range []any{rt.body, rt.bodyAlt} {
			if b == nil {
				continue
			}
			t := reflect.TypeOf(b)
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

var fuzzSeeds = []string{
	`{}`, `[]`, `null`, `"x"`, `{"name":"a"}`, `{"name":1}`, `{"unknown":true}`, `{"a":1}{"b":2}`,
	`{"schedule":{"kind":"cron","cron":"61 * * * *","timezone":"Mars/Olympus"}}`,
	`{"started_at":"yesterday","finished_at":"2026-13-01T00:00:00Z"}`,
	`[{"job_id":"x","run_id":"1","status":"success"},{"run_id":2}]`,
	`{"scopes":["root"],"expires_at":"2020-01-01T00:00:00Z"}`, `{"ids":[1,2,3]}`,
	`{"username":"` + "\u0000" + `","password":""}`, `{"value":{"nested":[1,2,{"deep":null}]}}`,
	"\xff\xfe", `{"size_bytes":-1,"files":1e309}`, `{"due_on":"2026-02-30"}`,
}

// FuzzDecodeBodies feeds arbitrary bytes to the strict decoder for every
// request type: it must never panic, and every refusal must be a 4xx.
func FuzzDecodeBodies(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	types := bodyTypes()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range types {
			v := reflect.New(typ).Interface()
			err := unmarshalStrict(data, v)
			if err == nil {
				continue
			}
			var ae *apiError
			if !errors.As(err, &ae) || ae.status < 400 || ae.status >= 500 {
				t.Fatalf("decoding %q into %s: %v is not a 4xx", data, typ, err)
			}
			if ae.code == "invalid_input" && len(ae.fields) == 0 {
				t.Fatalf("decoding %q into %s: invalid_input without a field", data, typ)
			}
		}
	})
}

// FuzzHandlers sends arbitrary bodies to every route that takes one, as an
// admin, through the whole stack: the answer is never a 5xx.
func FuzzHandlers(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(uint8(i), []byte(s))
	}
	b := setup(f, dbopen.SQLite, nil)
	session := asSession(b.session(f, b.admin))
	var withBody []*route
	for _, rt := range b.api.routes {
		if rt.body != nil {
			withBody = append(withBody, rt)
		}
	}
	if len(withBody) == 0 {
		f.Fatal("no route takes a body")
	}
	f.Fuzz(func(t *testing.T, pick uint8, data []byte) {
		rt := withBody[int(pick)%len(withBody)]
		if rt.path == "/api/v1/auth/logout" || rt.path == "/api/v1/auth/password" {
			return // would end or change the fuzzing session
		}
		res := b.do(t, session, rt.method, matrixPath(rt.path), data)
		if res.Code >= 500 && res.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s with %q: %d %s", rt.method, rt.path, data, res.Code, res.Body)
		}
	})
}
