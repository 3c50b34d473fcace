package backupmgmt

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func (b *testBundle) ingestPing(t *testing.T, p PingParams) *PingResult {
	t.Helper()
	res, err := b.svc.Pings().Ping(t.Context(), p)
	require.NoError(t, err)
	return res
}

func TestPingPairsStartAndFinish(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		job := b.jobFixture(t, "borgmatic", nil)
		tok := job.PingToken

		started := b.svc.Now()
		start := b.ingestPing(t, PingParams{Token: tok, Kind: PingStart})
		require.True(t, start.Created)
		require.Equal(t, store.ExecutionRunning, start.Execution.Status)
		require.Equal(t, store.SourcePing, start.Execution.Source)
		require.Equal(t, started, start.Execution.StartedAt)
		require.Equal(t, store.JobStateRunning, b.ingestJobRow(t, job.ID).State)

		b.clock.Advance(10 * time.Minute)
		done := b.ingestPing(t, PingParams{Token: tok, Kind: PingSuccess, Body: []byte("archive created\nstats...")})
		require.False(t, done.Created)
		require.True(t, done.Completed)
		require.Equal(t, start.Execution.ID, done.Execution.ID)
		require.Equal(t, store.ExecutionSuccess, done.Execution.Status)
		require.Equal(t, started, done.Execution.StartedAt)
		require.Equal(t, b.svc.Now(), *done.Execution.FinishedAt)
		require.Equal(t, "archive created", done.Execution.Message)
		require.Equal(t, "archive created\nstats...", done.Execution.LogExcerpt)
		got := b.ingestJobRow(t, job.ID)
		require.Equal(t, store.JobStateUp, got.State)
		require.Equal(t, b.svc.Now(), *got.LastSuccessAt)

		// A finish with nothing running is a run of its own, at the ping.
		b.clock.Advance(time.Hour)
		lone := b.ingestPing(t, PingParams{Token: tok, Kind: PingFail})
		require.True(t, lone.Created)
		require.Equal(t, store.ExecutionFailed, lone.Execution.Status)
		require.Equal(t, lone.Execution.StartedAt, *lone.Execution.FinishedAt)
		require.Equal(t, store.JobStateFailed, b.ingestJobRow(t, job.ID).State)
		require.NotNil(t, b.ingestAlert(t, store.AlertBackupFailed, job.ID))
		require.Len(t, b.ingestRuns(t, job.ID), 2)
		require.Empty(t, b.auditActions(t))
	})
}

func TestPingPairsByRID(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		job := b.jobFixture(t, "runitor", nil)
		tok := job.PingToken

		a := b.ingestPing(t, PingParams{Token: tok, Kind: PingStart, RunID: "rid-a"})
		b.clock.Advance(time.Minute)
		bb := b.ingestPing(t, PingParams{Token: tok, Kind: PingStart, RunID: "rid-b"})
		require.True(t, a.Created)
		require.True(t, bb.Created)
		require.Equal(t, "rid-a", a.Execution.RunID)
		again := b.ingestPing(t, PingParams{Token: tok, Kind: PingStart, RunID: "rid-a"})
		require.False(t, again.Created)

		// A finish without rid pairs only with a start without rid.
		b.clock.Advance(time.Minute)
		lone := b.ingestPing(t, PingParams{Token: tok, Kind: PingSuccess})
		require.True(t, lone.Created)
		require.True(t, strings.HasPrefix(lone.Execution.RunID, ingestPingRunIDPrefix))

		b.clock.Advance(time.Minute)
		fa := b.ingestPing(t, PingParams{Token: tok, Kind: PingExit, ExitCode: 2, RunID: "rid-a"})
		require.True(t, fa.Completed)
		require.Equal(t, a.Execution.ID, fa.Execution.ID)
		require.Equal(t, store.ExecutionFailed, fa.Execution.Status)
		require.Equal(t, "exit code 2", fa.Execution.Message)

		fb := b.ingestPing(t, PingParams{Token: tok, Kind: PingExit, ExitCode: 0, RunID: "rid-b"})
		require.True(t, fb.Completed)
		require.Equal(t, store.ExecutionSuccess, fb.Execution.Status)

		// A repeated finish changes nothing.
		rep := b.ingestPing(t, PingParams{Token: tok, Kind: PingFail, RunID: "rid-b"})
		require.False(t, rep.Created)
		require.False(t, rep.Completed)
		require.Equal(t, store.ExecutionSuccess, rep.Execution.Status)

		// A finish with an unknown rid is a run of its own with that rid.
		own := b.ingestPing(t, PingParams{Token: tok, Kind: PingSuccess, RunID: "rid-c"})
		require.True(t, own.Created)
		require.Equal(t, "rid-c", own.Execution.RunID)
		require.Len(t, b.ingestRuns(t, job.ID), 4)
	})
}

func TestPingFinishLooksBackOnlyWithinMaxRuntime(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		job := b.jobFixture(t, "slow", func(j *store.Job) { j.MaxRuntime = 2 * time.Hour })
		start := b.ingestPing(t, PingParams{Token: job.PingToken, Kind: PingStart})
		b.clock.Advance(2*time.Hour + time.Second)
		fin := b.ingestPing(t, PingParams{Token: job.PingToken, Kind: PingSuccess})
		require.True(t, fin.Created, "the start is too old to pair")
		stored, err := b.svc.Executions().Get(t.Context(), start.Execution.ID)
		require.NoError(t, err)
		require.Equal(t, store.ExecutionRunning, stored.Status)
	})
}

func TestPingExitCodes(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		job := b.jobFixture(t, "cron", nil)
		for _, tt := range []struct {
			code int
			want store.ExecutionStatus
		}{{0, store.ExecutionSuccess}, {1, store.ExecutionFailed}, {255, store.ExecutionFailed}} {
			b.clock.Advance(time.Minute)
			res := b.ingestPing(t, PingParams{Token: job.PingToken, Kind: PingExit, ExitCode: tt.code})
			require.Equal(t, tt.want, res.Execution.Status, "exit %d", tt.code)
		}
		for _, code := range []int{256, -1} {
			_, err := b.svc.Pings().Ping(t.Context(), PingParams{Token: job.PingToken, Kind: PingExit, ExitCode: code})
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields, "exit_code")
		}
		require.Len(t, b.ingestRuns(t, job.ID), 3)
		require.Equal(t, 2, b.ingestJobRow(t, job.ID).ConsecutiveFailures)
	})
}

func TestPingKeepsTheBodyTail(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		job := b.jobFixture(t, "noisy", nil)
		body := "\n  first line  \r\n" + strings.Repeat("x", store.MaxLogExcerptLen+100) + "\xff\x00 tail"
		res := b.ingestPing(t, PingParams{Token: job.PingToken, Kind: PingFail, Body: []byte(body)})
		e, err := b.svc.Executions().Get(t.Context(), res.Execution.ID)
		require.NoError(t, err)
		require.Equal(t, "first line", e.Message)
		require.Equal(t, store.MaxLogExcerptLen, utf8.RuneCountInString(e.LogExcerpt))
		require.True(t, strings.HasSuffix(e.LogExcerpt, "x\uFFFD tail"), "the tail is kept, cleaned")
		require.True(t, utf8.ValidString(e.LogExcerpt))
	})
}

func TestPingLogAndBadPings(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		job := b.jobFixture(t, "quiet", nil)
		b.ingestPing(t, PingParams{Token: job.PingToken, Kind: PingStart})
		before := b.ingestJobRow(t, job.ID)

		res := b.ingestPing(t, PingParams{Token: job.PingToken, Kind: PingLog, Body: []byte("50% done")})
		require.True(t, res.LogIgnored)
		require.Nil(t, res.Execution)
		require.Equal(t, before, b.ingestJobRow(t, job.ID))
		runs := b.ingestRuns(t, job.ID)
		require.Len(t, runs, 1)
		require.Empty(t, runs[0].LogExcerpt)

		for _, k := range []PingKind{PingStart, PingSuccess, PingFail, PingLog, PingExit} {
			_, err := b.svc.Pings().Ping(t.Context(), PingParams{Token: "no-such-token", Kind: k})
			require.ErrorIs(t, err, ErrUnknownPingToken, k)
		}
		_, err := b.svc.Pings().Ping(t.Context(), PingParams{Kind: PingSuccess})
		require.ErrorIs(t, err, ErrUnknownPingToken)

		var ve *store.ValidationError
		_, err = b.svc.Pings().Ping(t.Context(), PingParams{Token: job.PingToken, Kind: "ping"})
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "kind")
		_, err = b.svc.Pings().Ping(t.Context(), PingParams{Token: job.PingToken, Kind: PingStart, RunID: " padded "})
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "rid")
		require.Len(t, b.ingestRuns(t, job.ID), 1)
		require.Empty(t, b.auditActions(t))
	})
}

func TestPingToAPausedJob(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		job := b.jobFixture(t, "paused", func(j *store.Job) { j.Paused, j.State = true, store.JobStatePaused })
		due := *job.NextDueAt
		b.clock.Advance(time.Hour)
		res := b.ingestPing(t, PingParams{Token: job.PingToken, Kind: PingExit, ExitCode: 1})
		require.True(t, res.Created)
		got := b.ingestJobRow(t, job.ID)
		require.True(t, got.Paused)
		require.Equal(t, store.JobStatePaused, got.State)
		require.Equal(t, due, *got.NextDueAt)
		require.Equal(t, store.ExecutionFailed, got.LastResult)
		require.Nil(t, b.ingestAlert(t, store.AlertBackupFailed, job.ID))
	})
}

// A healthchecks-style wrapper pings start, then the exit code with the
// tool's output: the two pings are one execution, the output its log.
func ExamplePings_Ping() {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	svc, s, cleanup, err := ingestExampleService(now)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cleanup()
	job := &store.Job{
		Name: "nas-borg", JobType: store.JobTypeFile, Tool: store.ToolBorg,
		Schedule: store.Schedule{Kind: store.ScheduleManual},
		Active:   true, PingToken: "5d41402abc4b2a76b9719d911017c592", State: store.JobStateNew,
	}
	if err := s.Jobs().Create(ctx, job); err != nil {
		fmt.Println(err)
		return
	}
	start, err := svc.Pings().Ping(ctx, PingParams{Token: job.PingToken, Kind: PingStart, RunID: "4f1c"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fin, err := svc.Pings().Ping(ctx, PingParams{
		Token: job.PingToken, Kind: PingExit, ExitCode: 2, RunID: "4f1c", At: now.Add(3 * time.Minute),
		Body: []byte("Repository /srv/borg is locked\nterminating with error status, rc 2\n"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("same run:", start.Execution.ID == fin.Execution.ID)
	fmt.Println(fin.Execution.Status, fin.Execution.Duration(), fin.Execution.Message)
	_, err = svc.Pings().Ping(ctx, PingParams{Token: "wrong", Kind: PingSuccess})
	fmt.Println(err)
	// Output:
	// same run: true
	// failed 3m0s Repository /srv/borg is locked
	// backupmgmt: unknown ping token
}
