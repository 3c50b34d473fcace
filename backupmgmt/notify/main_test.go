package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// TestMain drops the pooled test databases and fails if a dispatcher left
// a goroutine running.
func TestMain(m *testing.M) {
	code := bunstoretest.Main(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testStart is when the fake clock starts.
var testStart = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// testClock is a fake clock, safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer collects log output from concurrent senders.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testBundle is a service and a dispatcher on a fresh store, sharing a
// fake clock, with the dispatcher's logs captured at debug level.
type testBundle struct {
	svc   *backupmgmt.Service
	store *bunstore.Store
	clock *testClock
	logs  *syncBuffer
	d     *Dispatcher
}

func setup(t *testing.T, kind dbopen.Kind, cfg *Config) *testBundle {
	t.Helper()
	clock := &testClock{t: testStart}
	s := bunstoretest.New(t, kind, &bunstoretest.Options{Config: &bunstore.Config{Now: clock.Now}})
	svc, err := backupmgmt.New(s, &backupmgmt.Config{Now: clock.Now})
	require.NoError(t, err)
	b := &testBundle{svc: svc, store: s, clock: clock, logs: &syncBuffer{}}
	b.d = b.dispatcher(cfg)
	return b
}

// dispatcher returns another dispatcher over the bundle's service, clock
// and log buffer.
func (b *testBundle) dispatcher(cfg *Config) *Dispatcher {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	c.Hostname = "custos.test"
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return New(b.svc, &c)
}

func (b *testBundle) channel(t *testing.T, kind store.ChannelKind, name string, settings any) *store.Channel {
	t.Helper()
	raw, err := json.Marshal(settings)
	require.NoError(t, err)
	ch, err := b.svc.Channels().Create(t.Context(), backupmgmt.ChannelParams{Kind: kind, Name: name, Settings: raw, MinSeverity: store.SeverityInfo})
	require.NoError(t, err)
	return ch
}

func (b *testBundle) user(t *testing.T, username, email string, role store.Role, active bool) *store.User {
	t.Helper()
	u := &store.User{Username: username, Email: email, Role: role, Active: active, PasswordHash: "$argon2id$placeholder", CreatedAt: b.svc.Now()}
	require.NoError(t, b.store.Users().Create(t.Context(), u))
	return u
}

// job creates a job through the service. Creating it raises its
// compliance alert, so tests create jobs before channels that should see
// only later alerts.
func (b *testBundle) job(t *testing.T, name string, owner *store.User) *store.Job {
	t.Helper()
	p := backupmgmt.JobParams{
		Name: name, JobType: store.JobTypeFile, Tool: store.ToolRestic,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"}, Grace: time.Hour,
	}
	if owner != nil {
		p.OwnerID = &owner.ID
	}
	j, err := b.svc.Jobs().Create(t.Context(), p)
	require.NoError(t, err)
	return j
}

// fail records a failed run of j, which opens (or repeats) its
// backup_failed alert and queues its notices.
func (b *testBundle) fail(t *testing.T, j *store.Job, msg string) {
	t.Helper()
	now := b.svc.Now()
	_, err := b.svc.Executions().Record(t.Context(), backupmgmt.RecordParams{
		JobID: j.ID, Status: store.ExecutionFailed, StartedAt: now.Add(-time.Minute), FinishedAt: &now, Message: msg,
	})
	require.NoError(t, err)
}

// rows returns the channel's outbox rows, oldest first.
func (b *testBundle) rows(t *testing.T, channelID string) []store.Notification {
	t.Helper()
	page, err := b.store.Notifications().List(t.Context(), store.ListNotificationsParams{ChannelID: channelID, PageParams: store.PageParams{Limit: store.LimitMax}})
	require.NoError(t, err)
	return page.Items
}

func (b *testBundle) row(t *testing.T, id string) *store.Notification {
	t.Helper()
	n, err := b.store.Notifications().Get(t.Context(), id)
	require.NoError(t, err)
	return n
}

// runOnce runs the bundle's dispatcher once and returns its result.
func (b *testBundle) runOnce(t *testing.T) Result {
	t.Helper()
	res, err := b.d.RunOnce(t.Context())
	require.NoError(t, err)
	return res
}

// hookRequest is one request a test receiver got.
type hookRequest struct {
	Header http.Header
	Body   []byte
}

// receiver is an HTTP endpoint that records requests and answers with
// status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []hookRequest
	status int
	// onRequest, when set, runs before the answer (to advance a clock,
	// or to block until the sender gives up).
	onRequest func(req *http.Request)
}

func newReceiver(t *testing.T, status int) *receiver {
	t.Helper()
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, hookRequest{Header: req.Header.Clone(), Body: body})
		status, hook := r.status, r.onRequest
		r.mu.Unlock()
		if hook != nil {
			hook(req)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setOnRequest(fn func(req *http.Request)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onRequest = fn
}

func (r *receiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.reqs...)
}

// closedURL is an http URL on which nothing listens.
func closedURL(t *testing.T, path string) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u + path
}
