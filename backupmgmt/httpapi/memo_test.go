package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/cache"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// cachedBundle is an API whose service reads through cache.New, as
// refserver runs by default.
func cachedBundle(t *testing.T, kind dbopen.Kind, ttl time.Duration) (*testBundle, cache.Store) {
	t.Helper()
	clock := &testClock{now: testStart}
	bs := bunstoretest.New(t, kind, &bunstoretest.Options{Config: &bunstore.Config{Now: clock.Now}})
	c := cache.New(bs)
	t.Cleanup(func() { _ = c.Close() })
	svc, err := backupmgmt.New(c, &backupmgmt.Config{Now: clock.Now})
	require.NoError(t, err)
	api, err := New(svc, &Config{Limits: testLimitsOff, ResponseCacheTTL: ttl, Logger: newTestLogger(&syncBuffer{})})
	require.NoError(t, err)
	b := &testBundle{api: api, svc: svc, store: bs, clock: clock, kind: kind}
	b.admin = b.user(t, "root", store.RoleAdmin)
	return b, c
}

func jobsCacheHits(c cache.Store) uint64 {
	for _, s := range c.Stats() {
		if s.Name == "jobs" {
			return s.Hits
		}
	}
	panic("no jobs cache")
}

func TestEncodedResponsesFollowWrites(t *testing.T) {
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b, c := cachedBundle(t, kind, time.Hour)
		admin := asSession(b.session(t, b.admin))
		viewer := asSession(b.session(t, b.user(t, "vera", store.RoleViewer)))
		id := b.createJob(t, "erp-db")

		list := func(who cred, query string) List[Job] {
			t.Helper()
			r := b.do(t, who, http.MethodGet, "/api/v1/jobs"+query, nil)
			require.Equal(t, http.StatusOK, r.Code, string(r.Body))
			var l List[Job]
			r.decode(t, &l)
			return l
		}
		first := list(admin, "?limit=50")
		require.Len(t, first.Items, 1)
		hits := jobsCacheHits(c)
		// The same query in another order is the same response, served
		// from its bytes: the job cache is not even asked.
		again := list(admin, "?limit=50&")
		require.Equal(t, first, again)
		require.Equal(t, hits, jobsCacheHits(c), "kept response served")

		// Ping URLs are a credential: a viewer never gets the admin's
		// kept response.
		require.NotNil(t, first.Items[0].PingURL)
		require.Nil(t, list(viewer, "?limit=50").Items[0].PingURL)
		require.NotNil(t, list(admin, "?limit=50").Items[0].PingURL)

		// A write through the API is seen by the next read, whatever the
		// TTL.
		r := b.do(t, admin, http.MethodPatch, "/api/v1/jobs/"+id, map[string]any{"description": "nightly"})
		require.Equal(t, http.StatusOK, r.Code, string(r.Body))
		require.Equal(t, "nightly", list(admin, "?limit=50").Items[0].Description)
		b.createJob(t, "mail")
		require.Len(t, list(admin, "?limit=50").Items, 2)

		// So is one made by the background work, which writes in
		// transactions of the service.
		dash := func() DashboardSummary {
			t.Helper()
			r := b.do(t, admin, http.MethodGet, "/api/v1/dashboard/summary", nil)
			require.Equal(t, http.StatusOK, r.Code, string(r.Body))
			var d DashboardSummary
			r.decode(t, &d)
			return d
		}
		before := dash()
		_, err := b.svc.Executions().Record(context.Background(), backupmgmt.RecordParams{
			JobID: id, RunID: "r1", Status: store.ExecutionFailed, StartedAt: b.clock.Now().Add(-time.Minute),
			FinishedAt: new(b.clock.Now()), Source: store.SourceAPI,
		})
		require.NoError(t, err)
		after := dash()
		require.NotEqual(t, before, after)
	})
}

func TestEncodedResponsesExpire(t *testing.T) {
	b, c := cachedBundle(t, dbopen.SQLite, 50*time.Millisecond)
	admin := asSession(b.session(t, b.admin))
	b.createJob(t, "erp-db")
	get := func() { require.Equal(t, http.StatusOK, b.do(t, admin, http.MethodGet, "/api/v1/jobs", nil).Code) }
	// That the response is kept within its TTL is TestEncodedResponsesFollowWrites's
	// (an hour there); here only that it is not kept past it, which a slow
	// machine cannot make flaky.
	get()
	hits := jobsCacheHits(c)
	time.Sleep(80 * time.Millisecond)
	get()
	require.Equal(t, hits+1, jobsCacheHits(c), "after its TTL the response is encoded again from the store's cache")
}

func TestEncodedResponsesNeedACachedStore(t *testing.T) {
	b := setup(t, dbopen.SQLite, nil)
	require.Nil(t, b.api.memo, "a store without caches is read every time")
	b2, _ := cachedBundle(t, dbopen.SQLite, -1)
	require.Nil(t, b2.api.memo, "a negative TTL turns it off")
}
