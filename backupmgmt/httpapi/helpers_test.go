package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/security"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestMain(m *testing.M) {
	// Every response any test produces is checked against the OpenAPI
	// document.
	observeResponse = validateResponse
	os.Exit(bunstoretest.Main(m))
}

// testStart is the fixed start of every test clock: a Monday, 09:00 UTC.
var testStart = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// testClock is a settable clock shared by the store, the service and the
// rate limiters.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testBundle is an API over a fresh store, with a clock and helpers to call
// it as different principals.
type testBundle struct {
	api    *API
	svc    *backupmgmt.Service
	store  *bunstore.Store
	clock  *testClock
	kind   dbopen.Kind
	admin  *store.User
	logBuf *syncBuffer
}

// testPassword passes the password policy for every test username.
const testPassword = "correct horse battery staple"

// testLimitsOff turns every rate limit off, so that tests of other things
// are not throttled; rate-limit tests set their own.
var testLimitsOff = Limits{
	Login: []security.Limit{}, PasswordChange: []security.Limit{}, API: []security.Limit{},
	APIAdmin: []security.Limit{}, Reports: []security.Limit{}, Import: []security.Limit{},
	Ingest: []security.Limit{}, Anonymous: []security.Limit{},
}

// setup returns an API on a fresh store of kind with an admin user. cfg may
// be nil; rate limits are off unless cfg sets Limits.
func setup(t testing.TB, kind dbopen.Kind, cfg *Config) *testBundle {
	t.Helper()
	clock := &testClock{now: testStart}
	s := bunstoretest.New(t, kind, &bunstoretest.Options{Config: &bunstore.Config{Now: clock.Now}})
	return setupOn(t, kind, s, clock, cfg)
}

// keepLimits reports whether cfg sets any rate limit; otherwise tests run
// with every limit off.
func keepLimits(cfg *Config) bool {
	if cfg == nil {
		return false
	}
	l := cfg.Limits
	for _, v := range [][]security.Limit{l.Login, l.PasswordChange, l.API, l.APIAdmin, l.Reports, l.Import, l.Ingest, l.Anonymous} {
		if v != nil {
			return true
		}
	}
	return false
}

// setupOn builds the bundle over an existing store (one with a query hook,
// say).
func setupOn(t testing.TB, kind dbopen.Kind, s *bunstore.Store, clock *testClock, cfg *Config) *testBundle {
	t.Helper()
	logBuf := &syncBuffer{}
	svc, err := backupmgmt.New(s, &backupmgmt.Config{Now: clock.Now})
	require.NoError(t, err)
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if !keepLimits(cfg) {
		c.Limits = testLimitsOff
	}
	if c.Logger == nil {
		c.Logger = newTestLogger(logBuf)
	}
	api, err := New(svc, &c)
	require.NoError(t, err)
	b := &testBundle{api: api, svc: svc, store: s, clock: clock, kind: kind, logBuf: logBuf}
	b.admin = b.user(t, "root", store.RoleAdmin)
	return b
}

// user creates a user with testPassword.
func (b *testBundle) user(t testing.TB, username string, role store.Role) *store.User {
	t.Helper()
	u, err := b.svc.Users().Create(context.Background(), backupmgmt.UserParams{
		Username: username, FullName: username, Role: role, Password: testPassword,
	})
	require.NoError(t, err)
	return u
}

// session signs u in and returns its session token.
func (b *testBundle) session(t testing.TB, u *store.User) string {
	t.Helper()
	res, err := b.svc.Auth().Login(context.Background(), backupmgmt.LoginParams{Username: u.Username, Password: testPassword})
	require.NoError(t, err)
	return res.Token.Reveal()
}

// key creates an API key of u and returns its text.
func (b *testBundle) key(t testing.TB, u *store.User, jobID string, scopes ...store.Scope) string {
	t.Helper()
	_, secret, err := b.svc.APIKeys().Create(context.Background(), backupmgmt.APIKeyParams{
		UserID: u.ID, Name: "key " + string(scopes[0]) + " " + time.Now().Format(time.RFC3339Nano), Scopes: scopes, JobID: jobID,
	})
	require.NoError(t, err)
	return secret.Reveal()
}

// cred is how a test request authenticates.
type cred struct {
	session string // a session cookie's token
	key     string // an API key for Authorization: Bearer
}

func asSession(token string) cred { return cred{session: token} }
func asKey(key string) cred       { return cred{key: key} }

var anonymous = cred{}

// resp is a recorded response.
type resp struct {
	Code   int
	Header http.Header
	Body   []byte
}

// decode unmarshals the body into v, failing the test on error.
func (r *resp) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// errBody returns the error envelope of the response.
func (r *resp) errBody(t testing.TB) ErrorBody {
	t.Helper()
	var e Error
	r.decode(t, &e)
	require.NotEmpty(t, e.Error.Code, "body: %s", r.Body)
	return e.Error
}

// do sends a request to the API. body may be nil, a string or []byte (sent
// as is), or a value marshalled as JSON.
func (b *testBundle) do(t testing.TB, c cred, method, path string, body any) *resp {
	t.Helper()
	return b.doReq(t, c, b.newRequest(t, method, path, body))
}

func (b *testBundle) newRequest(t testing.TB, method, path string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// doReq sends req with the credentials c.
func (b *testBundle) doReq(t testing.TB, c cred, req *http.Request) *resp {
	t.Helper()
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: security.SessionCookieName, Value: c.session})
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	rec := httptest.NewRecorder()
	b.api.ServeHTTP(rec, req)
	res := &resp{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	observeResponse(t, req, res)
	return res
}

// observeResponse is where every test response passes; the OpenAPI test
// validates them all against the document.
var observeResponse = func(testing.TB, *http.Request, *resp) {}

// syncBuffer is a goroutine-safe log sink for tests that read the logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// eachDialect runs fn as a parallel subtest per database.
func eachDialect(t *testing.T, fn func(t *testing.T, kind dbopen.Kind)) {
	t.Helper()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}

// createJob creates a daily interval job through the domain and returns its
// ID.
func (b *testBundle) createJob(t testing.TB, name string) string {
	t.Helper()
	j, err := b.svc.Jobs().Create(context.Background(), backupmgmt.JobParams{
		Name: name, JobType: store.JobTypeFile, Tool: store.ToolRestic,
		Schedule: store.Schedule{Kind: store.ScheduleInterval, Interval: 24 * time.Hour},
		Grace:    time.Hour,
	})
	require.NoError(t, err)
	return j.ID
}

// pingToken returns a job's ping token.
func (b *testBundle) pingToken(t testing.TB, jobID string) string {
	t.Helper()
	j, err := b.svc.Jobs().Get(context.Background(), jobID)
	require.NoError(t, err)
	return j.PingToken
}
