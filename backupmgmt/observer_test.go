package backupmgmt

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// recordingObserver keeps every event, as text.
type recordingObserver struct {
	mu     sync.Mutex
	events []string
}

func (o *recordingObserver) add(format string, args ...any) {
	o.mu.Lock()
	o.events = append(o.events, fmt.Sprintf(format, args...))
	o.mu.Unlock()
}

func (o *recordingObserver) ExecutionRecorded(job, status string, d time.Duration, size int64) {
	o.add("run %s %s %s %d", job, status, d, size)
}
func (o *recordingObserver) AlertRaised(sev, typ string) { o.add("alert %s %s", sev, typ) }
func (o *recordingObserver) VerificationRecorded(result string, d time.Duration) {
	o.add("test %s %s", result, d)
}

func (o *recordingObserver) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.events
	o.events = nil
	return out
}

// TestObserver: the observer hears of outcomes, opened alerts and restore
// tests once they committed, and of nothing that did not happen.
func TestObserver(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	b := setup(t, dbopen.SQLite, &Config{Observer: obs})
	ctx := t.Context()
	job := b.jobFixture(t, "erp", nil)

	p := b.ingestRun(job, "r1", store.ExecutionSuccess, time.Hour, 10*time.Minute)
	b.ingestRecordOK(t, ctx, p)
	b.ingestRecordOK(t, ctx, p) // a repeat is no new outcome
	require.Equal(t, []string{"run erp success 10m0s 1048576"}, obs.take())

	start := b.ingestRun(job, "r2", store.ExecutionRunning, 30*time.Minute, 0)
	start.FinishedAt = nil
	b.ingestRecordOK(t, ctx, start)
	require.Empty(t, obs.take(), "a start is not an outcome")
	fin := b.ingestRun(job, "r2", store.ExecutionFailed, 30*time.Minute, 5*time.Minute)
	b.ingestRecordOK(t, ctx, fin)
	require.Equal(t, []string{"run erp failed 5m0s 1048576", "alert error backup_failed"}, obs.take())

	bad := b.ingestRun(job, "r3", store.ExecutionFailed, 20*time.Minute, time.Minute)
	bad.CopyID = new(string)
	*bad.CopyID = "no-such-copy"
	_, err := b.svc.Executions().Record(ctx, bad)
	require.Error(t, err)
	require.Empty(t, obs.take(), "a refused run reports nothing")

	_, err = b.svc.Verification().RecordTest(actorCtx(ctx, b.userFixture(t, "tester", store.RoleOperator)), TestParams{
		JobID: job.ID, TestType: store.TestBoot, Result: store.TestFailed, Duration: 90 * time.Second,
	})
	require.NoError(t, err)
	require.Contains(t, obs.take(), "test failed 1m30s")

	// The scheduler's missed run.
	late := b.jobFixture(t, "late", nil)
	b.clock.Set(late.NextDueAt.Add(time.Minute))
	_, err = b.svc.Tick(ctx)
	require.NoError(t, err)
	events := obs.take()
	require.Contains(t, events, "run late missed 0s 0")
	require.Contains(t, events, "alert error backup_missed")
}
