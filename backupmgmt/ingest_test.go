package backupmgmt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// ingestRun is a finished run of job that started ago before now and took
// dur.
func (b *testBundle) ingestRun(job *store.Job, runID string, status store.ExecutionStatus, ago, dur time.Duration) RecordParams {
	started := b.svc.Now().Add(-ago)
	finished := started.Add(dur)
	return RecordParams{JobID: job.ID, RunID: runID, Status: status, StartedAt: started, FinishedAt: &finished, SizeBytes: 1 << 20, Files: 10}
}

func (b *testBundle) ingestRecordOK(t *testing.T, ctx context.Context, p RecordParams) *RecordResult {
	t.Helper()
	res, err := b.svc.Executions().Record(ctx, p)
	require.NoError(t, err)
	return res
}

func (b *testBundle) ingestJobRow(t *testing.T, id string) *store.Job {
	t.Helper()
	j, err := b.store.Jobs().Get(t.Context(), id)
	require.NoError(t, err)
	return j
}

func (b *testBundle) ingestCopyRow(t *testing.T, id string) *store.Copy {
	t.Helper()
	c, err := b.store.Copies().Get(t.Context(), id)
	require.NoError(t, err)
	return c
}

// runs returns a job's executions, newest start first.
func (b *testBundle) ingestRuns(t *testing.T, jobID string) []store.Execution {
	t.Helper()
	p := store.ListExecutionsParams{JobID: jobID}
	p.Limit = store.LimitMax
	page, err := b.store.Executions().List(t.Context(), p)
	require.NoError(t, err)
	return page.Items
}

// jobAlert returns the unresolved alert of type typ about job, or nil.
func (b *testBundle) ingestAlert(t *testing.T, typ store.AlertType, jobID string) *store.Alert {
	t.Helper()
	a, err := b.store.Alerts().GetUnresolved(t.Context(), AlertKey(typ, jobSubject(jobID)))
	if err == store.ErrNotFound {
		return nil
	}
	require.NoError(t, err)
	return a
}

func (b *testBundle) ingestCopyFixture(t *testing.T, job *store.Job, name string, mod func(c *store.Copy)) *store.Copy {
	t.Helper()
	c := &store.Copy{JobID: job.ID, Name: name, Role: store.CopyRolePrimary, MediaType: store.MediaDisk, Status: store.CopyStatusUnknown}
	if mod != nil {
		mod(c)
	}
	require.NoError(t, b.store.Copies().Create(t.Context(), c))
	return c
}

func ingestNoticeEvents(ns []AlertNotice) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n.Type) + "/" + string(n.Event) + "/" + string(n.Severity)
	}
	return out
}

func TestRecordIsIdempotent(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		cp := b.ingestCopyFixture(t, job, "nas", nil)
		ch := b.channelFixture(t, "all", store.SeverityInfo)

		p := b.ingestRun(job, "r1", store.ExecutionFailed, time.Hour, 10*time.Minute)
		p.CopyID = &cp.ID
		p.Message = "disk full"
		first := b.ingestRecordOK(t, ctx, p)
		require.True(t, first.Created)
		require.False(t, first.Completed)

		jobBefore, copyBefore := b.ingestJobRow(t, job.ID), b.ingestCopyRow(t, cp.ID)
		alertBefore := b.ingestAlert(t, store.AlertBackupFailed, job.ID)
		require.NotNil(t, alertBefore)
		noticesBefore := b.notices(t, ch.ID)

		b.clock.Advance(time.Minute)
		again := b.ingestRecordOK(t, ctx, p)
		require.False(t, again.Created)
		require.False(t, again.Completed)
		require.Equal(t, first.Execution.ID, again.Execution.ID)

		// The same run ID with another outcome is still the stored run.
		p.Status, p.Message = store.ExecutionSuccess, "fine after all"
		other := b.ingestRecordOK(t, ctx, p)
		require.False(t, other.Created)
		require.Equal(t, store.ExecutionFailed, other.Execution.Status)
		require.Equal(t, "disk full", other.Execution.Message)

		require.Len(t, b.ingestRuns(t, job.ID), 1)
		require.Equal(t, jobBefore, b.ingestJobRow(t, job.ID))
		require.Equal(t, copyBefore, b.ingestCopyRow(t, cp.ID))
		require.Equal(t, alertBefore, b.ingestAlert(t, store.AlertBackupFailed, job.ID))
		require.Equal(t, noticesBefore, b.notices(t, ch.ID))
		require.Empty(t, b.auditActions(t))
	})
}

func TestRecordPairsStartAndFinish(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", func(j *store.Job) {
			j.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour}
			j.Grace = 10 * time.Minute
		})
		cp := b.ingestCopyFixture(t, job, "nas", nil)
		started := b.svc.Now()
		start := RecordParams{JobID: job.ID, RunID: "nightly-1", Status: store.ExecutionRunning, StartedAt: started, CopyID: &cp.ID, Message: "starting"}
		res := b.ingestRecordOK(t, ctx, start)
		require.True(t, res.Created)
		require.Equal(t, store.ExecutionRunning, res.Execution.Status)

		got := b.ingestJobRow(t, job.ID)
		require.Equal(t, store.JobStateRunning, got.State)
		require.Equal(t, started, *got.LastRunAt)
		require.Empty(t, got.LastResult)
		require.Equal(t, started.Add(70*time.Minute), *got.NextDueAt)

		// A repeated start is the same run.
		again := b.ingestRecordOK(t, ctx, start)
		require.False(t, again.Created)
		require.False(t, again.Completed)

		// The scheduler saw it running too long.
		b.raise(t, alertSpec{Type: store.AlertBackupStuck, Severity: store.SeverityWarning, Subject: jobSubject(job.ID), JobID: &job.ID, Title: "stuck"})

		// A finish before the stored start is refused and changes nothing.
		early := started.Add(-time.Minute)
		_, err := b.svc.Executions().Record(ctx, RecordParams{JobID: job.ID, RunID: "nightly-1", Status: store.ExecutionSuccess, StartedAt: early, FinishedAt: &early})
		var ve *store.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "finished_at")

		b.clock.Advance(20 * time.Minute)
		finished := b.svc.Now()
		fin := b.ingestRecordOK(t, ctx, RecordParams{JobID: job.ID, RunID: "nightly-1", Status: store.ExecutionSuccess, StartedAt: started, FinishedAt: &finished, SizeBytes: 4096, SnapshotID: "snap-1"})
		require.False(t, fin.Created)
		require.True(t, fin.Completed)
		require.Equal(t, res.Execution.ID, fin.Execution.ID)
		require.Equal(t, store.ExecutionSuccess, fin.Execution.Status)
		require.Equal(t, finished, *fin.Execution.FinishedAt)
		require.Equal(t, "starting", fin.Execution.Message, "a finish without a message keeps the start's")
		require.Equal(t, cp.ID, *fin.Execution.CopyID, "a finish without a copy keeps the start's")

		got = b.ingestJobRow(t, job.ID)
		require.Equal(t, store.JobStateUp, got.State)
		require.Equal(t, store.ExecutionSuccess, got.LastResult)
		require.Equal(t, finished, *got.LastSuccessAt)
		require.Equal(t, started.Add(70*time.Minute), *got.NextDueAt)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupStuck, job.ID), "the finished run resolves backup_stuck")
		c := b.ingestCopyRow(t, cp.ID)
		require.Equal(t, finished, *c.LastWrittenAt)
		require.Equal(t, int64(4096), c.LastSizeBytes)
		require.Equal(t, store.CopyStatusOK, c.Status)

		// The finish repeated is a no-op.
		rep := b.ingestRecordOK(t, ctx, RecordParams{JobID: job.ID, RunID: "nightly-1", Status: store.ExecutionFailed, StartedAt: started, FinishedAt: &finished})
		require.False(t, rep.Created)
		require.False(t, rep.Completed)
		require.Equal(t, store.ExecutionSuccess, rep.Execution.Status)
		require.Len(t, b.ingestRuns(t, job.ID), 1)
		require.Empty(t, b.auditActions(t))
	})
}

func TestRecordLateRunDoesNotRewindTheJob(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		cp := b.ingestCopyFixture(t, job, "nas", nil)

		newer := b.ingestRun(job, "newer", store.ExecutionSuccess, time.Hour, 10*time.Minute)
		newer.CopyID = &cp.ID
		b.ingestRecordOK(t, ctx, newer)
		before := b.ingestJobRow(t, job.ID)
		copyBefore := b.ingestCopyRow(t, cp.ID)

		older := b.ingestRun(job, "older", store.ExecutionFailed, 3*time.Hour, 10*time.Minute)
		older.CopyID = &cp.ID
		res := b.ingestRecordOK(t, ctx, older)
		require.True(t, res.Created)

		require.Len(t, b.ingestRuns(t, job.ID), 2)
		require.Equal(t, before, b.ingestJobRow(t, job.ID))
		require.Equal(t, store.JobStateUp, before.State)
		require.Zero(t, before.ConsecutiveFailures)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupFailed, job.ID))
		require.Equal(t, copyBefore, b.ingestCopyRow(t, cp.ID), "a late failure does not fail a copy written since")

		// A late success that finished after the copy's last write still
		// records that write.
		longRun := b.ingestRun(job, "long", store.ExecutionSuccess, 2*time.Hour, 110*time.Minute)
		longRun.CopyID = &cp.ID
		b.ingestRecordOK(t, ctx, longRun)
		require.Equal(t, before, b.ingestJobRow(t, job.ID))
		require.Equal(t, *longRun.FinishedAt, *b.ingestCopyRow(t, cp.ID).LastWrittenAt)
	})
}

func TestRecordMovesTheJob(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)

		step := func(runID string, status store.ExecutionStatus) *store.Job {
			t.Helper()
			b.clock.Advance(time.Hour)
			p := b.ingestRun(job, runID, status, 30*time.Minute, 10*time.Minute)
			if status == store.ExecutionRunning {
				p.FinishedAt = nil
			}
			b.ingestRecordOK(t, ctx, p)
			got := b.ingestJobRow(t, job.ID)
			require.Equal(t, p.StartedAt, *got.LastRunAt)
			due, err := NextDue(job.Schedule, job.Grace, p.StartedAt)
			require.NoError(t, err)
			require.Equal(t, due, got.NextDueAt)
			return got
		}

		got := step("c0", store.ExecutionCanceled)
		require.Equal(t, store.JobStateUp, got.State, "a canceled first run leaves a new job up")
		require.Equal(t, store.ExecutionCanceled, got.LastResult)

		got = step("s1", store.ExecutionSuccess)
		require.Equal(t, store.JobStateUp, got.State)
		require.Zero(t, got.ConsecutiveFailures)
		require.NotNil(t, got.LastSuccessAt)

		got = step("f1", store.ExecutionFailed)
		require.Equal(t, store.JobStateFailed, got.State)
		require.Equal(t, 1, got.ConsecutiveFailures)
		got = step("f2", store.ExecutionFailed)
		require.Equal(t, 2, got.ConsecutiveFailures)

		got = step("r3", store.ExecutionRunning)
		require.Equal(t, store.JobStateRunning, got.State)
		require.Equal(t, store.ExecutionFailed, got.LastResult, "a start is not a result")
		got = step("c3", store.ExecutionCanceled)
		require.Equal(t, store.JobStateFailed, got.State, "canceled goes back to the state before the run")
		require.Equal(t, 2, got.ConsecutiveFailures)
		require.Equal(t, store.ExecutionCanceled, got.LastResult)

		got = step("w4", store.ExecutionWarning)
		require.Equal(t, store.JobStateUp, got.State)
		require.Zero(t, got.ConsecutiveFailures)
		lastSuccess := *got.LastSuccessAt

		// A paused job records the facts but keeps its state, deadline and
		// quiet.
		got.Paused, got.State = true, store.JobStatePaused
		require.NoError(t, b.store.Jobs().Update(ctx, got))
		due := *got.NextDueAt
		b.clock.Advance(time.Hour)
		b.ingestRecordOK(t, ctx, b.ingestRun(job, "f5", store.ExecutionFailed, 30*time.Minute, time.Minute))
		got = b.ingestJobRow(t, job.ID)
		require.Equal(t, store.JobStatePaused, got.State)
		require.Equal(t, due, *got.NextDueAt)
		require.Equal(t, store.ExecutionFailed, got.LastResult)
		require.Equal(t, 1, got.ConsecutiveFailures)
		require.Equal(t, lastSuccess, *got.LastSuccessAt)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupFailed, job.ID))
	})
}

func TestRecordFailureAlerts(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		ch := b.channelFixture(t, "all", store.SeverityInfo)

		var id string
		for i, want := range []store.Severity{store.SeverityError, store.SeverityError, store.SeverityCritical, store.SeverityCritical} {
			b.clock.Advance(time.Hour)
			p := b.ingestRun(job, "f"+strconv.Itoa(i), store.ExecutionFailed, 30*time.Minute, time.Minute)
			p.Message = "exit status 1"
			b.ingestRecordOK(t, ctx, p)
			a := b.ingestAlert(t, store.AlertBackupFailed, job.ID)
			require.NotNil(t, a)
			if id == "" {
				id = a.ID
			}
			require.Equal(t, id, a.ID, "the same alert escalates")
			require.Equal(t, want, a.Severity, "failure %d", i+1)
			require.Equal(t, i+1, a.Occurrences)
			require.Contains(t, a.Message, "exit status 1")
		}

		b.clock.Advance(time.Hour)
		b.ingestRecordOK(t, ctx, b.ingestRun(job, "s", store.ExecutionSuccess, 30*time.Minute, time.Minute))
		require.Nil(t, b.ingestAlert(t, store.AlertBackupFailed, job.ID))
		a, err := b.store.Alerts().Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, store.AlertResolved, a.State)
		require.Equal(t, store.ResolvedByAuto, a.ResolvedBy)

		require.Equal(t, []string{
			"backup_failed/opened/error", "backup_failed/escalated/critical", "backup_failed/resolved/critical",
		}, ingestNoticeEvents(b.notices(t, ch.ID)))
		require.Empty(t, b.auditActions(t))
	})
}

func TestRecordResolvesMissedRun(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		// What the scheduler leaves behind after a missed deadline.
		job.State, job.LastResult = store.JobStateMissed, store.ExecutionMissed
		require.NoError(t, b.store.Jobs().Update(ctx, job))
		b.raise(t, alertSpec{Type: store.AlertBackupMissed, Severity: store.SeverityError, Subject: jobSubject(job.ID), JobID: &job.ID, Title: "missed"})

		// A warning run resolves it as well as a success would.
		b.clock.Advance(time.Hour)
		b.ingestRecordOK(t, ctx, b.ingestRun(job, "w", store.ExecutionWarning, 30*time.Minute, time.Minute))
		require.Nil(t, b.ingestAlert(t, store.AlertBackupMissed, job.ID))
		require.Equal(t, store.JobStateUp, b.ingestJobRow(t, job.ID).State)
	})
}

func TestRecordAnomaly(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		ch := b.channelFixture(t, "all", store.SeverityInfo)
		run := func(runID string, size int64, dur time.Duration) {
			t.Helper()
			b.clock.Advance(24 * time.Hour)
			p := b.ingestRun(job, runID, store.ExecutionSuccess, 2*time.Hour, dur)
			p.SizeBytes = size
			b.ingestRecordOK(t, ctx, p)
		}
		for i := range 10 {
			run("n"+strconv.Itoa(i), 10<<20+int64(i), 10*time.Minute)
			require.Nil(t, b.ingestAlert(t, store.AlertBackupAnomaly, job.ID))
		}

		run("small", 1<<20, 10*time.Minute)
		a := b.ingestAlert(t, store.AlertBackupAnomaly, job.ID)
		require.NotNil(t, a)
		require.Equal(t, store.SeverityWarning, a.Severity)
		require.Contains(t, a.Message, "size below 50 % of the median")
		require.Contains(t, a.Message, "size 1.0 MiB (median 10.0 MiB)")
		require.Contains(t, a.Message, "duration 10m0s (median 10m0s)")

		run("slow", 10<<20, 31*time.Minute)
		a = b.ingestAlert(t, store.AlertBackupAnomaly, job.ID)
		require.NotNil(t, a)
		require.Equal(t, 2, a.Occurrences)
		require.Contains(t, a.Message, "duration above 3× the median")

		run("normal", 10<<20, 11*time.Minute)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupAnomaly, job.ID))
		require.Equal(t, []string{"backup_anomaly/opened/warning", "backup_anomaly/resolved/warning"}, ingestNoticeEvents(b.notices(t, ch.ID)))
	})

	t.Run("FindsTheWindowAmongFailures", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, &Config{AnomalyWindow: 10, AnomalyMinSamples: 10})
		ctx := t.Context()
		job := b.jobFixture(t, "flaky", nil)
		for i := range 10 {
			b.clock.Advance(24 * time.Hour)
			b.ingestRecordOK(t, ctx, b.ingestRun(job, "n"+strconv.Itoa(i), store.ExecutionSuccess, 4*time.Hour, 10*time.Minute))
			for f := range 3 {
				b.ingestRecordOK(t, ctx, b.ingestRun(job, "f"+strconv.Itoa(i)+"-"+strconv.Itoa(f), store.ExecutionFailed, 3*time.Hour-time.Duration(f)*time.Minute, time.Minute))
			}
		}
		b.clock.Advance(24 * time.Hour)
		p := b.ingestRun(job, "small", store.ExecutionSuccess, time.Hour, 10*time.Minute)
		p.SizeBytes = 1
		b.ingestRecordOK(t, ctx, p)
		a := b.ingestAlert(t, store.AlertBackupAnomaly, job.ID)
		require.NotNil(t, a)
		require.Contains(t, a.Message, "over the last 10 successes")
	})

	t.Run("NeedsEnoughSamples", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		for i := range AnomalyMinSamplesDefault - 1 {
			b.clock.Advance(24 * time.Hour)
			b.ingestRecordOK(t, ctx, b.ingestRun(job, "n"+strconv.Itoa(i), store.ExecutionSuccess, time.Hour, time.Minute))
		}
		b.clock.Advance(24 * time.Hour)
		p := b.ingestRun(job, "tiny", store.ExecutionSuccess, time.Hour, time.Minute)
		p.SizeBytes = 1
		b.ingestRecordOK(t, ctx, p)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupAnomaly, job.ID))
	})
}

func TestIngestMedian(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   []int64
		want int64
	}{
		{[]int64{5}, 5},
		{[]int64{3, 1, 2}, 2},
		{[]int64{4, 1, 3, 2}, 2},
		{[]int64{1, 2}, 1},
		{[]int64{3, 5}, 4},
		{[]int64{1<<62 + 1, 1<<62 + 1}, 1<<62 + 1},
	} {
		require.Equal(t, tt.want, ingestMedian(tt.in), "%v", tt.in)
	}
}

func TestRecordWritesCopiesAndReevaluatesCompliance(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		disk := b.ingestCopyFixture(t, job, "disk", func(c *store.Copy) { c.Encrypted = true })
		cloud := b.ingestCopyFixture(t, job, "cloud", func(c *store.Copy) {
			c.Role, c.MediaType, c.Offsite, c.Immutable, c.Encrypted = store.CopyRoleOffsite, store.MediaCloudObject, true, true, true
		})
		require.NoError(t, b.store.VerificationTests().Create(ctx, &store.VerificationTest{
			JobID: job.ID, TestType: store.TestFullRestore, Result: store.TestSuccess, TestedAt: b.svc.Now(),
		}))
		st, err := b.svc.Compliance().EvaluateJob(ctx, job.ID)
		require.NoError(t, err)
		require.Equal(t, store.ComplianceNonCompliant, st.Status)

		status := func() store.ComplianceStatus {
			t.Helper()
			st, err := b.svc.Compliance().State(ctx, store.SubjectJob, job.ID)
			require.NoError(t, err)
			return st.Status
		}
		write := func(runID string, c *store.Copy, result store.ExecutionStatus) RecordParams {
			t.Helper()
			b.clock.Advance(time.Hour)
			p := b.ingestRun(job, runID, result, 20*time.Minute, 10*time.Minute)
			p.CopyID = &c.ID
			p.SizeBytes = 5 << 30
			b.ingestRecordOK(t, ctx, p)
			return p
		}

		p := write("disk-1", disk, store.ExecutionSuccess)
		c := b.ingestCopyRow(t, disk.ID)
		require.Equal(t, *p.FinishedAt, *c.LastWrittenAt)
		require.Equal(t, int64(5<<30), c.LastSizeBytes)
		require.Equal(t, store.CopyStatusOK, c.Status)
		require.Equal(t, store.ComplianceNonCompliant, status(), "one copy is not enough")

		write("cloud-1", cloud, store.ExecutionSuccess)
		require.Equal(t, store.ComplianceCompliant, status())
		require.Nil(t, b.ingestAlert(t, store.AlertComplianceViolation, job.ID))

		// A fresh copy written again changes nothing compliance reads.
		before, err := b.store.Compliance().GetState(ctx, store.SubjectJob, job.ID)
		require.NoError(t, err)
		write("disk-2", disk, store.ExecutionSuccess)
		after, err := b.store.Compliance().GetState(ctx, store.SubjectJob, job.ID)
		require.NoError(t, err)
		require.Equal(t, before.EvaluatedAt, after.EvaluatedAt)

		// A failed write fails the copy, and with it the "0".
		write("cloud-2", cloud, store.ExecutionFailed)
		require.Equal(t, store.CopyStatusFailed, b.ingestCopyRow(t, cloud.ID).Status)
		require.Equal(t, store.ComplianceNonCompliant, status())
		require.NotNil(t, b.ingestAlert(t, store.AlertComplianceViolation, job.ID))

		write("cloud-3", cloud, store.ExecutionSuccess)
		require.Equal(t, store.CopyStatusOK, b.ingestCopyRow(t, cloud.ID).Status)
		require.Equal(t, store.ComplianceCompliant, status())

		// A copy gone stale is fresh again after a write.
		b.clock.Advance(72 * time.Hour)
		st, err = b.svc.Compliance().EvaluateJob(ctx, job.ID)
		require.NoError(t, err)
		require.Equal(t, store.ComplianceNonCompliant, st.Status)
		write("disk-3", disk, store.ExecutionSuccess)
		require.Equal(t, store.ComplianceNonCompliant, status(), "the cloud copy is still stale")
		write("cloud-4", cloud, store.ExecutionSuccess)
		require.Equal(t, store.ComplianceCompliant, status())
		require.Empty(t, b.auditActions(t))
	})
}

func TestRecordHonoursKeyJobBinding(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		mine := b.jobFixture(t, "mine", nil)
		other := b.jobFixture(t, "other", nil)
		u := b.userFixture(t, "ingest", store.RoleOperator)
		key := &store.APIKey{UserID: u.ID, Name: "agent", Prefix: "abcd1234", SecretHash: "00ff", Scopes: []store.Scope{store.ScopeIngest}, JobID: &mine.ID}
		require.NoError(t, b.store.APIKeys().Create(t.Context(), key))
		ctx := WithActor(t.Context(), Actor{UserID: u.ID, APIKeyID: key.ID, Role: u.Role, Scopes: key.Scopes, KeyJobID: mine.ID})

		for name, p := range map[string]RecordParams{
			"by id": b.ingestRun(other, "x", store.ExecutionSuccess, time.Hour, time.Minute),
			"by name": func() RecordParams {
				p := b.ingestRun(other, "x", store.ExecutionSuccess, time.Hour, time.Minute)
				p.JobID, p.JobName = "", "other"
				return p
			}(),
			"unknown name": func() RecordParams {
				p := b.ingestRun(other, "x", store.ExecutionSuccess, time.Hour, time.Minute)
				p.JobID, p.JobName = "", "nope"
				return p
			}(),
		} {
			_, err := b.svc.Executions().Record(ctx, p)
			require.ErrorIs(t, err, ErrKeyJobMismatch, name)
		}
		require.Empty(t, b.ingestRuns(t, other.ID))

		p := b.ingestRun(mine, "x", store.ExecutionSuccess, time.Hour, time.Minute)
		p.JobID, p.JobName = "", "MINE"
		res := b.ingestRecordOK(t, ctx, p)
		require.Equal(t, mine.ID, res.Execution.JobID)
		require.Equal(t, key.ID, *res.Execution.APIKeyID)
		stored, err := b.svc.Executions().Get(t.Context(), res.Execution.ID)
		require.NoError(t, err)
		require.Equal(t, key.ID, *stored.APIKeyID)
		require.Equal(t, store.SourceAPI, stored.Source)
		require.Empty(t, b.auditActions(t))
	})
}

func TestRecordRejectsBadInput(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		otherJob := b.jobFixture(t, "other", nil)
		foreign := b.ingestCopyFixture(t, otherJob, "nas", nil)
		now := b.svc.Now()
		future := now.Add(IngestFutureSkew + time.Second)
		past := now.Add(-2 * time.Hour)
		empty := ""
		noCopy := "no-such-copy"

		for _, tt := range []struct {
			name  string
			mod   func(p *RecordParams)
			field string
		}{
			{"NoJob", func(p *RecordParams) { p.JobID = "" }, "job_id"},
			{"BothJobIDAndName", func(p *RecordParams) { p.JobName = "erp-db" }, "job_name"},
			{"UnknownJobID", func(p *RecordParams) { p.JobID = "no-such-job" }, "job_id"},
			{"UnknownJobName", func(p *RecordParams) { p.JobID, p.JobName = "", "nope" }, "job_name"},
			{"RunIDWithSpaces", func(p *RecordParams) { p.RunID = " r1" }, "run_id"},
			{"RunIDTooLong", func(p *RecordParams) { p.RunID = string(make([]byte, store.MaxNameLen+1)) }, "run_id"},
			{"NoStatus", func(p *RecordParams) { p.Status = "" }, "status"},
			{"UnknownStatus", func(p *RecordParams) { p.Status = "ok" }, "status"},
			{"MissedStatus", func(p *RecordParams) { p.Status = store.ExecutionMissed }, "status"},
			{"NoStart", func(p *RecordParams) { p.StartedAt = time.Time{} }, "started_at"},
			{"StartInTheFuture", func(p *RecordParams) { p.StartedAt = future; p.FinishedAt = &future }, "started_at"},
			{"FinishInTheFuture", func(p *RecordParams) { p.FinishedAt = &future }, "finished_at"},
			{"FinishBeforeStart", func(p *RecordParams) { p.FinishedAt = &past }, "finished_at"},
			{"OutcomeWithoutFinish", func(p *RecordParams) { p.FinishedAt = nil }, "finished_at"},
			{"RunningWithFinish", func(p *RecordParams) { p.Status = store.ExecutionRunning }, "finished_at"},
			{"NegativeSize", func(p *RecordParams) { p.SizeBytes = -1 }, "size_bytes"},
			{"NegativeFiles", func(p *RecordParams) { p.Files = -1 }, "files"},
			{"NegativeErrors", func(p *RecordParams) { p.Errors = -1 }, "errors"},
			{"UnknownSource", func(p *RecordParams) { p.Source = "tape-robot" }, "source"},
			{"SchedulerSource", func(p *RecordParams) { p.Source = store.SourceScheduler }, "source"},
			{"LongSnapshotID", func(p *RecordParams) { p.SnapshotID = string(make([]rune, store.MaxNameLen+1)) }, "snapshot_id"},
			{"UnknownCopy", func(p *RecordParams) { p.CopyID = &noCopy }, "copy_id"},
			{"CopyOfAnotherJob", func(p *RecordParams) { p.CopyID = &foreign.ID }, "copy_id"},
		} {
			p := b.ingestRun(job, "r1", store.ExecutionSuccess, time.Hour, 10*time.Minute)
			p.CopyID = &empty // counts as none
			tt.mod(&p)
			_, err := b.svc.Executions().Record(ctx, p)
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve, tt.name)
			require.Contains(t, ve.Fields, tt.field, tt.name)
		}
		require.Empty(t, b.ingestRuns(t, job.ID))
		require.Empty(t, b.ingestRuns(t, otherJob.ID))
		require.Equal(t, store.JobStateNew, b.ingestJobRow(t, job.ID).State)

		p := b.ingestRun(job, "", store.ExecutionSuccess, time.Hour, 10*time.Minute)
		p.CopyID = &empty
		res := b.ingestRecordOK(t, ctx, p)
		require.NotEmpty(t, res.Execution.RunID, "a run ID is made when none is given")
		require.Nil(t, res.Execution.CopyID)
	})
}

func TestRecordBatch(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		start := b.ingestRun(job, "b1", store.ExecutionRunning, 3*time.Hour, 0)
		start.FinishedAt = nil
		bad := b.ingestRun(job, "b2", store.ExecutionSuccess, 2*time.Hour, time.Minute)
		bad.SizeBytes = -5
		noJob := b.ingestRun(job, "b3", store.ExecutionSuccess, 2*time.Hour, time.Minute)
		noJob.JobID = "no-such-job"
		finish := b.ingestRun(job, "b1", store.ExecutionFailed, 3*time.Hour, time.Hour)
		later := b.ingestRun(job, "b4", store.ExecutionSuccess, time.Hour, time.Minute)

		res, err := b.svc.Executions().RecordBatch(ctx, []RecordParams{start, bad, noJob, finish, later, later})
		require.NoError(t, err)
		require.Len(t, res, 6)
		require.NoError(t, res[0].Err)
		require.True(t, res[0].Created)
		var ve *store.ValidationError
		require.ErrorAs(t, res[1].Err, &ve)
		require.Equal(t, map[string]string{"size_bytes": "must not be negative"}, ve.Fields)
		require.ErrorAs(t, res[2].Err, &ve)
		require.Equal(t, map[string]string{"job_id": "no such job"}, ve.Fields)
		require.NoError(t, res[3].Err)
		require.True(t, res[3].Completed)
		require.Equal(t, res[0].Execution.ID, res[3].Execution.ID)
		require.True(t, res[4].Created)
		require.False(t, res[5].Created)
		require.Equal(t, res[4].Execution.ID, res[5].Execution.ID)

		runs := b.ingestRuns(t, job.ID)
		require.Len(t, runs, 2)
		got := b.ingestJobRow(t, job.ID)
		require.Equal(t, store.JobStateUp, got.State)
		require.Zero(t, got.ConsecutiveFailures)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupFailed, job.ID), "the failure was resolved by the later success")

		_, err = b.svc.Executions().RecordBatch(ctx, nil)
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "items")
		_, err = b.svc.Executions().RecordBatch(ctx, make([]RecordParams, RecordBatchMax+1))
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "items")
		require.Empty(t, b.auditActions(t))
	})
}

func TestListExecutions(t *testing.T) {
	t.Parallel()
	b := setup(t, dbopen.SQLite, nil)
	ctx := t.Context()
	job := b.jobFixture(t, "erp-db", nil)
	b.ingestRecordOK(t, ctx, b.ingestRun(job, "a", store.ExecutionSuccess, 2*time.Hour, time.Minute))
	b.ingestRecordOK(t, ctx, b.ingestRun(job, "b", store.ExecutionFailed, time.Hour, time.Minute))
	page, err := b.svc.Executions().List(ctx, store.ListExecutionsParams{JobID: job.ID, Status: store.ExecutionFailed})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Equal(t, "b", page.Items[0].RunID)
	_, err = b.svc.Executions().List(ctx, store.ListExecutionsParams{Status: "bogus"})
	var ve *store.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Contains(t, ve.Fields, "status")
}

// TestRecordQueryBudget holds ingest to its statements per run: the budget
// behind the ingest benchmark.
func TestRecordQueryBudget(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		qc := &bunstore.QueryCounter{}
		svc, err := New(b.store.WithQueryHook(qc), &Config{Now: b.clock.Now})
		require.NoError(t, err)
		ctx := t.Context()
		job := b.jobFixture(t, "erp-db", nil)
		cp := b.ingestCopyFixture(t, job, "nas", nil)
		run := func(runID string, status store.ExecutionStatus) int64 {
			t.Helper()
			b.clock.Advance(time.Hour)
			p := b.ingestRun(job, runID, status, 30*time.Minute, 10*time.Minute)
			p.CopyID = &cp.ID
			if status == store.ExecutionRunning {
				p.FinishedAt = nil
			}
			qc.Reset()
			_, err := svc.Executions().Record(ctx, p)
			require.NoError(t, err)
			return qc.Count()
		}
		for i := range AnomalyWindowDefault {
			run("warmup-"+strconv.Itoa(i), store.ExecutionSuccess)
		}
		// job, copy, insert, copy write, job update: the anomaly window,
		// and that no anomaly alert is open, come from the service's cache.
		require.EqualValues(t, 5, run("steady", store.ExecutionSuccess))
		// job, copy, insert, job update.
		require.EqualValues(t, 4, run("start", store.ExecutionRunning))
		qc.Reset()
		_, err = svc.Executions().Record(ctx, RecordParams{JobID: job.ID, RunID: "steady", Status: store.ExecutionSuccess,
			StartedAt: b.svc.Now().Add(-30 * time.Minute), FinishedAt: ingestPtr(b.svc.Now().Add(-20 * time.Minute))})
		require.NoError(t, err)
		// A repeat: job, insert skipped, stored row read; nothing else.
		require.EqualValues(t, 3, qc.Count())
	})
}

func ingestPtr[T any](v T) *T { return &v }

func TestRecordConcurrently(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		jobs := []*store.Job{b.jobFixture(t, "a", nil), b.jobFixture(t, "b", nil)}
		const workers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					job := jobs[(w+i)%len(jobs)]
					p := b.ingestRun(job, "w"+strconv.Itoa(w)+"-"+strconv.Itoa(i), store.ExecutionFailed, time.Hour, time.Minute)
					if _, err := b.svc.Executions().Record(t.Context(), p); err != nil {
						errs <- err
					}
					// Every run twice: repeats must stay no-ops under contention.
					if _, err := b.svc.Executions().Record(t.Context(), p); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		total := 0
		for _, job := range jobs {
			n := len(b.ingestRuns(t, job.ID))
			total += n
			got := b.ingestJobRow(t, job.ID)
			require.Equal(t, n, got.ConsecutiveFailures, "every failure counted once")
			a := b.ingestAlert(t, store.AlertBackupFailed, job.ID)
			require.NotNil(t, a)
			require.Equal(t, n, a.Occurrences)
			require.Equal(t, store.SeverityCritical, a.Severity)
			p := store.ListAlertsParams{JobID: job.ID, Unresolved: true}
			page, err := b.store.Alerts().List(t.Context(), p)
			require.NoError(t, err)
			require.Len(t, page.Items, 1, "one open alert per job")
		}
		require.Equal(t, workers*each, total)
	})
}

// ingestExampleService opens a migrated SQLite store in a temporary
// directory and a service on it with a fixed clock.
func ingestExampleService(now time.Time) (*Service, store.Store, func(), error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custos-example")
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := dbopen.OpenStore(ctx, "sqlite:"+filepath.Join(dir, "custos.db"), nil)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	cleanup := func() { s.Close(); os.RemoveAll(dir) }
	if _, err := bunstore.Migrate(ctx, s.DB()); err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	svc, err := New(s, &Config{Now: func() time.Time { return now }})
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	return svc, s, cleanup, nil
}

// Record a run's start and then its finish under the same run ID: the
// finish completes the running row, the job follows, and a repeat of the
// finish changes nothing.
func ExampleExecutions_Record() {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 2, 30, 0, 0, time.UTC)
	svc, s, cleanup, err := ingestExampleService(now)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	job := &store.Job{
		Name: "erp-db", JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"}, Grace: time.Hour,
		Active: true, PingToken: "b1946ac92492d2347c6235b4d2611184", State: store.JobStateNew,
	}
	if err := s.Jobs().Create(ctx, job); err != nil {
		fmt.Println(err)
		return
	}

	started := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	res, err := svc.Executions().Record(ctx, RecordParams{
		JobName: "erp-db", RunID: "2026-11-30", Status: store.ExecutionRunning, StartedAt: started,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("start:", res.Execution.Status, "created:", res.Created)

	finished := started.Add(25 * time.Minute)
	finish := RecordParams{
		JobName: "erp-db", RunID: "2026-11-30", Status: store.ExecutionSuccess,
		StartedAt: started, FinishedAt: &finished, SizeBytes: 3 << 30, Source: store.SourceRestic,
	}
	for range 2 {
		res, err = svc.Executions().Record(ctx, finish)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("finish:", res.Execution.Status, "created:", res.Created, "completed:", res.Completed, "took:", res.Execution.Duration())
	}
	job, _ = s.Jobs().Get(ctx, job.ID)
	fmt.Println("job:", job.State, "next due:", job.NextDueAt.Format(time.RFC3339))

	_, err = svc.Executions().Record(ctx, RecordParams{JobName: "erp-db", Status: store.ExecutionMissed, StartedAt: started})
	fmt.Println(err)
	// Output:
	// start: running created: true
	// finish: success created: false completed: true took: 25m0s
	// finish: success created: false completed: false took: 25m0s
	// job: up next due: 2026-12-01T03:00:00Z
	// store: invalid input: status: missed runs are recorded by the scheduler only
}
