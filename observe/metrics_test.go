package observe_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	_ "modernc.org/sqlite"

	"github.com/custos-dev/custos/observe"
)

type testBundle struct {
	reg *prometheus.Registry
	m   *observe.Metrics
}

func setup(t *testing.T, opts *observe.Options) *testBundle {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := observe.NewMetrics(reg, opts)
	require.NoError(t, err)
	require.NotNil(t, m)
	return &testBundle{reg: reg, m: m}
}

// gather returns the text exposition of the named metrics.
func (b *testBundle) gather(t *testing.T, names ...string) string {
	t.Helper()
	mfs, err := b.reg.Gather()
	require.NoError(t, err)
	var sb strings.Builder
	for _, mf := range mfs {
		for _, n := range names {
			if mf.GetName() == n {
				for _, m := range mf.GetMetric() {
					sb.WriteString(n)
					for _, lp := range m.GetLabel() {
						sb.WriteString(" " + lp.GetName() + "=" + lp.GetValue())
					}
					sb.WriteString("\n")
				}
			}
		}
	}
	return sb.String()
}

func TestNewMetrics(t *testing.T) {
	t.Parallel()

	t.Run("NilRegistererTurnsMetricsOff", func(t *testing.T) {
		t.Parallel()
		m, err := observe.NewMetrics(nil, nil)
		require.NoError(t, err)
		require.Nil(t, m)
	})

	t.Run("NilMetricsDoNothing", func(t *testing.T) {
		t.Parallel()
		var m *observe.Metrics
		m.ExecutionRecorded("nightly", "success", time.Minute, 1e9)
		m.AlertRaised("critical", "backup_failed")
		m.VerificationRecorded("success", time.Minute)
		require.NoError(t, m.ObserveStore(nil, nil))
		require.NoError(t, m.ObserveCaches(nil))
		require.NoError(t, m.ObserveDB(nil))
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
		h := m.Middleware(next)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		require.Equal(t, http.StatusTeapot, rec.Code)
		hook := m.QueryHook()
		require.NotNil(t, hook)
		ctx := hook.BeforeQuery(context.Background(), &bun.QueryEvent{Query: "SELECT 1"})
		hook.AfterQuery(ctx, &bun.QueryEvent{Query: "SELECT 1"})
		// No middleware: SetRoute and SetUser have nowhere to write.
		observe.SetRoute(context.Background(), "/x")
		observe.SetUser(context.Background(), "u1")
	})

	t.Run("RegistersBuildInfo", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		got := b.gather(t, "custos_build_info")
		require.Contains(t, got, "goversion="+runtime.Version())
		require.Contains(t, got, "version=")
		require.Equal(t, 1.0, gaugeValue(t, b.reg, "custos_build_info"))
	})

	t.Run("NamespaceIsConfigurable", func(t *testing.T) {
		t.Parallel()
		b := setup(t, &observe.Options{Namespace: "acme"})
		b.m.ExecutionRecorded("nightly", "success", time.Minute, 1e9)
		require.Contains(t, b.gather(t, "acme_backup_executions_total"), "result=success")
		require.Empty(t, b.gather(t, "custos_backup_executions_total"))
	})

	t.Run("RejectsASecondRegistration", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		_, err := observe.NewMetrics(b.reg, nil)
		require.Error(t, err)
	})
}

// gaugeValue returns the value of the one gauge named name in reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			require.Len(t, mf.GetMetric(), 1)
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// histogramCount returns the sample count of the histograms named name in
// reg, over all their series.
func histogramCount(t *testing.T, reg *prometheus.Registry, name string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

func TestDomainEvents(t *testing.T) {
	t.Parallel()

	t.Run("ExecutionRecordedCountsAndObserves", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		b.m.ExecutionRecorded("nightly", "success", 90*time.Second, 5e9)
		b.m.ExecutionRecorded("nightly", "failed", 30*time.Second, 0)
		b.m.ExecutionRecorded("weekly", "running", 0, 0)
		b.m.ExecutionRecorded("weekly", "exploded", 0, 0)
		require.NoError(t, testutil.GatherAndCompare(b.reg, strings.NewReader(`
# HELP custos_backup_executions_total Backup executions recorded, by result.
# TYPE custos_backup_executions_total counter
custos_backup_executions_total{result="failed"} 1
custos_backup_executions_total{result="other"} 1
custos_backup_executions_total{result="running"} 1
custos_backup_executions_total{result="success"} 1
`), "custos_backup_executions_total"))
		require.Equal(t, uint64(2), histogramCount(t, b.reg, "custos_backup_execution_duration_seconds"))
		// Only the success reported a size.
		require.Equal(t, uint64(1), histogramCount(t, b.reg, "custos_backup_size_bytes"))
		require.Contains(t, b.gather(t, "custos_backup_size_bytes"), "job=nightly")
		require.Equal(t, "custos_backup_execution_duration_seconds job=nightly\n", b.gather(t, "custos_backup_execution_duration_seconds"))
	})

	t.Run("PerJobHistogramsCanBeSwitchedOff", func(t *testing.T) {
		t.Parallel()
		b := setup(t, &observe.Options{DisablePerJob: true})
		b.m.ExecutionRecorded("nightly", "success", 90*time.Second, 5e9)
		b.m.ExecutionRecorded("weekly", "success", 90*time.Second, 5e9)
		require.Equal(t, "custos_backup_execution_duration_seconds\n", b.gather(t, "custos_backup_execution_duration_seconds"))
		require.Equal(t, "custos_backup_size_bytes\n", b.gather(t, "custos_backup_size_bytes"))
	})

	t.Run("PerJobHistogramsAreBounded", func(t *testing.T) {
		t.Parallel()
		b := setup(t, &observe.Options{MaxJobHistograms: 2})
		for _, job := range []string{"a", "b", "c", "a", "d"} {
			b.m.ExecutionRecorded(job, "success", 90*time.Second, 5e9)
		}
		// a and b have their own; c and d, past the bound, share job="".
		require.Equal(t, "custos_backup_execution_duration_seconds job=\ncustos_backup_execution_duration_seconds job=a\ncustos_backup_execution_duration_seconds job=b\n",
			b.gather(t, "custos_backup_execution_duration_seconds"))
		require.Equal(t, uint64(5), histogramCount(t, b.reg, "custos_backup_size_bytes"), "every run is observed")

		unbounded := setup(t, &observe.Options{MaxJobHistograms: -1})
		for i := range 1500 {
			unbounded.m.ExecutionRecorded(fmt.Sprint("job-", i), "success", time.Minute, 0)
		}
		require.Equal(t, 1500, strings.Count(unbounded.gather(t, "custos_backup_execution_duration_seconds"), "\n"))

		def := setup(t, nil)
		for i := range 1500 {
			def.m.ExecutionRecorded(fmt.Sprint("job-", i), "success", time.Minute, 0)
		}
		require.Equal(t, observe.MaxJobHistogramsDefault+1, strings.Count(def.gather(t, "custos_backup_execution_duration_seconds"), "\n"))
	})

	t.Run("AlertRaisedBoundsItsLabels", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		b.m.AlertRaised("critical", "backup_failed")
		b.m.AlertRaised("critical", "backup_failed")
		b.m.AlertRaised("urgent!", "something new")
		require.NoError(t, testutil.GatherAndCompare(b.reg, strings.NewReader(`
# HELP custos_alerts_total Alerts raised, by severity and type.
# TYPE custos_alerts_total counter
custos_alerts_total{alert_type="backup_failed",severity="critical"} 2
custos_alerts_total{alert_type="other",severity="other"} 1
`), "custos_alerts_total"))
	})

	t.Run("VerificationRecordedCountsAndObserves", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		b.m.VerificationRecorded("failed", 20*time.Minute)
		b.m.VerificationRecorded("success", 0)
		require.NoError(t, testutil.GatherAndCompare(b.reg, strings.NewReader(`
# HELP custos_verification_tests_total Restore verification tests recorded, by result.
# TYPE custos_verification_tests_total counter
custos_verification_tests_total{result="failed"} 1
custos_verification_tests_total{result="success"} 1
`), "custos_verification_tests_total"))
		mfs, err := b.reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "custos_verification_duration_seconds" {
				h := mf.GetMetric()[0].GetHistogram()
				require.Equal(t, uint64(1), h.GetSampleCount())
				require.InDelta(t, 1200, h.GetSampleSum(), 1e-9)
			}
		}
	})
}

func TestObserveCaches(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	hits := uint64(7)
	require.NoError(t, b.m.ObserveCaches(func() []observe.CacheStat {
		return []observe.CacheStat{{Cache: "jobs", Hits: hits, Misses: 3}, {Cache: "dashboard", Hits: 1, Misses: 0}}
	}))
	hits = 9
	require.NoError(t, testutil.GatherAndCompare(b.reg, strings.NewReader(`
# HELP custos_cache_hits_total Cache lookups answered from the cache.
# TYPE custos_cache_hits_total counter
custos_cache_hits_total{cache="dashboard"} 1
custos_cache_hits_total{cache="jobs"} 9
# HELP custos_cache_misses_total Cache lookups that went to the store.
# TYPE custos_cache_misses_total counter
custos_cache_misses_total{cache="dashboard"} 0
custos_cache_misses_total{cache="jobs"} 3
`), "custos_cache_hits_total", "custos_cache_misses_total"))
}

func TestObserveDB(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	db := openSQLite(t)
	db.SetMaxOpenConns(4)
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, b.m.ObserveDB(db))
	require.NoError(t, b.m.ObserveDB(db), "the same pool twice is counted once")
	require.NoError(t, testutil.GatherAndCompare(b.reg, strings.NewReader(`
# HELP custos_db_connections_in_use Database connections in use.
# TYPE custos_db_connections_in_use gauge
custos_db_connections_in_use 1
# HELP custos_db_connections_max_open Most database connections the pools open; 0 means unlimited.
# TYPE custos_db_connections_max_open gauge
custos_db_connections_max_open 4
# HELP custos_db_connections_open Open database connections, in use or idle.
# TYPE custos_db_connections_open gauge
custos_db_connections_open 1
`), "custos_db_connections_open", "custos_db_connections_in_use", "custos_db_connections_max_open"))

	other := openSQLite(t)
	require.NoError(t, b.m.ObserveDB(other))
	require.Contains(t, b.gather(t, "custos_db_connections_max_open"), "custos_db_connections_max_open")
	require.Equal(t, 0.0, gaugeValue(t, b.reg, "custos_db_connections_max_open"), "an unlimited pool makes the sum unlimited")
}

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+t.TempDir()+"/x.db")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}
