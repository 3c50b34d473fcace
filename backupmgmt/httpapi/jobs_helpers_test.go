package httpapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// badCase is one refused request of a strict-input table: the status, and
// the field the error must name (or the code when no field can be named).
type badCase struct {
	name   string
	method string // defaults to the table's
	path   string // defaults to the table's
	body   any
	status int
	field  string
	code   string
}

// runBadCases sends each case as c and checks the refusal, then calls
// unchanged to check that nothing was written.
func runBadCases(t *testing.T, b *testBundle, c cred, method, path string, cases []badCase, unchanged func(t *testing.T)) {
	t.Helper()
	for _, tc := range cases {
		m, p := method, path
		if tc.method != "" {
			m = tc.method
		}
		if tc.path != "" {
			p = tc.path
		}
		res := b.do(t, c, m, p, tc.body)
		want := tc.status
		if want == 0 {
			want = http.StatusBadRequest
		}
		require.Equal(t, want, res.Code, "%s: body %s", tc.name, res.Body)
		e := res.errBody(t)
		if tc.field != "" {
			require.Contains(t, e.Fields, tc.field, "%s: %s", tc.name, res.Body)
		}
		if tc.code != "" {
			require.Equal(t, tc.code, e.Code, "%s: %s", tc.name, res.Body)
		}
	}
	unchanged(t)
}

// commonBodyCases are the refusals every JSON-taking route owes.
func commonBodyCases() []badCase {
	return []badCase{
		{name: "MalformedJSON", body: `{"name":`, code: "invalid_json"},
		{name: "NotAnObject", body: `[1]`, code: "invalid_json"},
		{name: "TrailingData", body: `{} {}`, code: "invalid_body"},
		{name: "EmptyBody", body: ``, code: "invalid_body"},
		{name: "UnknownField", body: `{"nope": 1}`, field: "nope"},
	}
}

// adminCred signs the bundle's admin in.
func adminCred(t testing.TB, b *testBundle) cred { return asSession(b.session(t, b.admin)) }
