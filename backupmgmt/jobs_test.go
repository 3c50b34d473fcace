package backupmgmt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// jobsValidParams is a nightly restic job at 02:00 UTC with an hour of grace.
func jobsValidParams(name string) JobParams {
	return JobParams{
		Name:     name,
		JobType:  store.JobTypeFile,
		Tool:     store.ToolRestic,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"},
		Grace:    time.Hour,
	}
}

func jobsPtr[T any](v T) *T { return &v }

// jobsAuditDetails returns the details of the newest audit event with
// action about the resource id.
func (b *testBundle) jobsAuditDetails(t *testing.T, action, id string) map[string]any {
	t.Helper()
	page, err := b.store.Audit().List(t.Context(), store.ListAuditParams{Action: action, ResourceID: id, PageParams: store.PageParams{Limit: 1}})
	require.NoError(t, err)
	require.NotEmpty(t, page.Items, "no %s event", action)
	var d map[string]any
	if len(page.Items[0].Details) > 0 {
		require.NoError(t, json.Unmarshal(page.Items[0].Details, &d))
	}
	return d
}

func TestJobsCreateValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		mod   func(p *JobParams)
		field string
		want  string // a substring of the message
	}{
		{"MissingName", func(p *JobParams) { p.Name = "" }, "name", "required"},
		{"NameWithSurroundingSpaces", func(p *JobParams) { p.Name = " erp " }, "name", "spaces"},
		{"UnknownJobType", func(p *JobParams) { p.JobType = "tape_robot" }, "job_type", "must be one of"},
		{"UnknownTool", func(p *JobParams) { p.Tool = "tar" }, "tool", "must be one of"},
		{"UnknownScheduleKind", func(p *JobParams) { p.Schedule.Kind = "hourly" }, "schedule.kind", "must be one of"},
		{"CronMinuteOutOfRange", func(p *JobParams) { p.Schedule.Cron = "61 * * * *" }, "schedule.cron", "minute"},
		{"CronMissing", func(p *JobParams) { p.Schedule.Cron = "" }, "schedule.cron", "required"},
		{"UnknownZone", func(p *JobParams) { p.Schedule.Timezone = "Mars/Olympus" }, "schedule.timezone", "unknown time zone"},
		{"IntervalTooShort", func(p *JobParams) {
			p.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: 10 * time.Second}
		}, "schedule.interval_seconds", "at least 60"},
		{"NegativeGrace", func(p *JobParams) { p.Grace = -time.Minute }, "grace_seconds", "negative"},
		{"FractionalGrace", func(p *JobParams) { p.Grace = 1500 * time.Millisecond }, "grace_seconds", "whole seconds"},
		{"NegativeMaxRuntime", func(p *JobParams) { p.MaxRuntime = -time.Hour }, "max_runtime_seconds", "negative"},
		{"NegativeRPO", func(p *JobParams) { p.RPOTarget = -time.Hour }, "rpo_target_seconds", "negative"},
		{"NegativeRTO", func(p *JobParams) { p.RTOTarget = -time.Hour }, "rto_target_seconds", "negative"},
		{"NegativeRetention", func(p *JobParams) { p.RetentionDays = -1 }, "retention_days", "negative"},
		{"EmptyTag", func(p *JobParams) { p.Tags = []string{"db", ""} }, "tags", "required"},
		{"RepeatedTag", func(p *JobParams) { p.Tags = []string{"db", "db"} }, "tags", "twice"},
		{"UnknownAsset", func(p *JobParams) { p.AssetID = jobsPtr("0190a000-0000-7000-8000-000000000000") }, "asset_id", "no such asset"},
		{"UnknownOwner", func(p *JobParams) { p.OwnerID = jobsPtr("0190a000-0000-7000-8000-000000000000") }, "owner_id", "no such user"},
	}
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				p := jobsValidParams("job-" + tc.name)
				tc.mod(&p)
				_, err := b.svc.Jobs().Create(t.Context(), p)
				var ve *store.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Contains(t, ve.Fields, tc.field, "fields: %v", ve.Fields)
				require.Contains(t, ve.Fields[tc.field], tc.want)
			})
		}
		t.Run("GathersEveryBadFieldInOneError", func(t *testing.T) {
			t.Parallel()
			p := jobsValidParams("")
			p.Schedule = store.Schedule{Kind: store.ScheduleCron, Cron: "61 * * * *", Timezone: "Mars/Olympus"}
			p.Grace = -time.Second
			p.Tool = "tar"
			p.AssetID = jobsPtr("0190a000-0000-7000-8000-000000000000")
			_, err := b.svc.Jobs().Create(t.Context(), p)
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			for _, f := range []string{"name", "schedule.cron", "schedule.timezone", "grace_seconds", "tool", "asset_id"} {
				require.Contains(t, ve.Fields, f)
			}
		})
		t.Cleanup(func() {
			// Nothing was written by any refused create, not even an audit
			// event. (The test's context is over by now.)
			ctx := context.Background()
			page, err := b.store.Jobs().List(ctx, store.ListJobsParams{})
			require.NoError(t, err)
			require.Empty(t, page.Items)
			events, err := b.store.Audit().Range(ctx, 0, 10)
			require.NoError(t, err)
			require.Empty(t, events)
		})
	})
}

func TestJobsCreate(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		alice := b.userFixture(t, "alice", store.RoleOperator)
		ctx := actorCtx(t.Context(), alice)

		t.Run("GivesA128BitPingTokenAndBerlinDeadline", func(t *testing.T) {
			t.Parallel()
			p := jobsValidParams("erp-db")
			p.Schedule.Timezone = "Europe/Berlin"
			p.Grace = 30 * time.Minute
			p.OwnerID = &alice.ID
			p.Tags = []string{"erp", "db"}
			j, err := b.svc.Jobs().Create(ctx, p)
			require.NoError(t, err)
			raw, err := base64.RawURLEncoding.DecodeString(j.PingToken)
			require.NoError(t, err)
			require.Len(t, raw, 16)
			require.Equal(t, store.JobStateNew, j.State)
			require.True(t, j.Active)
			// Monday 09:00 UTC in November: 02:00 in Berlin (CET, UTC+1) is
			// Tuesday 01:00 UTC, plus 30 minutes of grace.
			require.Equal(t, time.Date(2026, 11, 3, 1, 30, 0, 0, time.UTC), *j.NextDueAt)

			stored, err := b.svc.Jobs().Get(t.Context(), j.ID)
			require.NoError(t, err)
			require.Equal(t, j, stored)
			byName, err := b.svc.Jobs().GetByName(t.Context(), "ERP-DB")
			require.NoError(t, err)
			require.Equal(t, j.ID, byName.ID)
			byToken, err := b.store.Jobs().GetByPingToken(t.Context(), j.PingToken)
			require.NoError(t, err)
			require.Equal(t, j.ID, byToken.ID)

			d := b.jobsAuditDetails(t, "job.create", j.ID)
			require.Equal(t, "erp-db", d["name"])
			raw2, _ := json.Marshal(d)
			require.NotContains(t, string(raw2), j.PingToken)
		})

		t.Run("PingTokensAreUnique", func(t *testing.T) {
			t.Parallel()
			seen := make(map[string]bool)
			for _, name := range []string{"uniq-1", "uniq-2", "uniq-3"} {
				j, err := b.svc.Jobs().Create(ctx, jobsValidParams(name))
				require.NoError(t, err)
				require.False(t, seen[j.PingToken])
				seen[j.PingToken] = true
			}
		})

		t.Run("RefusesATakenNameIgnoringCase", func(t *testing.T) {
			t.Parallel()
			_, err := b.svc.Jobs().Create(ctx, jobsValidParams("Files-Nightly"))
			require.NoError(t, err)
			_, err = b.svc.Jobs().Create(ctx, jobsValidParams("files-nightly"))
			require.ErrorIs(t, err, store.ErrConflict)
			var ce *store.ConstraintError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, "name", ce.Field)
		})

		t.Run("ManualJobsHaveNoDeadline", func(t *testing.T) {
			t.Parallel()
			p := jobsValidParams("manual-export")
			p.Schedule = store.Schedule{Kind: store.ScheduleManual}
			j, err := b.svc.Jobs().Create(ctx, p)
			require.NoError(t, err)
			require.Nil(t, j.NextDueAt)
		})

		t.Run("InactiveAndPausedOnRequest", func(t *testing.T) {
			t.Parallel()
			p := jobsValidParams("spare")
			p.Active = jobsPtr(false)
			p.Paused = true
			j, err := b.svc.Jobs().Create(ctx, p)
			require.NoError(t, err)
			require.False(t, j.Active)
			require.True(t, j.Paused)
			require.Equal(t, store.JobStatePaused, j.State)
		})

		t.Run("EvaluatesComplianceOfTheNewJob", func(t *testing.T) {
			t.Parallel()
			j, err := b.svc.Jobs().Create(ctx, jobsValidParams("no-copies-yet"))
			require.NoError(t, err)
			st, err := b.svc.Compliance().State(t.Context(), store.SubjectJob, j.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceNonCompliant, st.Status)
		})
	})
}

func TestJobsList(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		for _, n := range []string{"b-job", "a-job"} {
			_, err := b.svc.Jobs().Create(ctx, jobsValidParams(n))
			require.NoError(t, err)
		}
		page, err := b.svc.Jobs().List(ctx, store.ListJobsParams{})
		require.NoError(t, err)
		require.Len(t, page.Items, 2)
		require.Equal(t, "a-job", page.Items[0].Name)

		_, err = b.svc.Jobs().List(ctx, store.ListJobsParams{State: "asleep", Tool: "tar", PageParams: store.PageParams{Limit: 1000}})
		var ve *store.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "state")
		require.Contains(t, ve.Fields, "tool")
		require.Contains(t, ve.Fields, "limit")
	})
}

func TestJobsUpdate(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()

		t.Run("NewScheduleMovesTheDeadlineAndIsAudited", func(t *testing.T) {
			t.Parallel()
			j, err := b.svc.Jobs().Create(ctx, jobsValidParams("moves"))
			require.NoError(t, err)
			got, err := b.svc.Jobs().Update(ctx, j.ID, JobUpdate{
				Schedule:    &store.Schedule{Kind: store.ScheduleCron, Cron: "30 22 * * *", Timezone: "Asia/Tokyo"},
				Grace:       jobsPtr(15 * time.Minute),
				Description: jobsPtr("nightly files"),
			})
			require.NoError(t, err)
			// 22:30 in Tokyo (UTC+9) is 13:30 UTC, the same Monday.
			require.Equal(t, time.Date(2026, 11, 2, 13, 45, 0, 0, time.UTC), *got.NextDueAt)
			stored, err := b.svc.Jobs().Get(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, got, stored)
		})

		t.Run("ADeadlinePassedLongAgoOwesOneCycleOnly", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			j, err := b.svc.Jobs().Create(ctx, jobsValidParams("old"))
			require.NoError(t, err)
			b.clock.Advance(10 * 24 * time.Hour) // Thursday 12 November, 09:00
			got, err := b.svc.Jobs().Update(ctx, j.ID, JobUpdate{Schedule: &store.Schedule{Kind: store.ScheduleCron, Cron: "0 3 * * *"}})
			require.NoError(t, err)
			// The job answered for nothing since its creation: it owes the
			// run of this morning, 03:00 + 1 h, not ten days of them.
			require.Equal(t, time.Date(2026, 11, 12, 4, 0, 0, 0, time.UTC), *got.NextDueAt)
			n, err := b.svc.Scheduler().TickMissed(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)
		})

		t.Run("ReactivatingCountsFromNow", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			j, err := b.svc.Jobs().Create(ctx, jobsValidParams("sleeper"))
			require.NoError(t, err)
			_, err = b.svc.Jobs().Update(ctx, j.ID, JobUpdate{Active: jobsPtr(false)})
			require.NoError(t, err)
			b.clock.Advance(5 * 24 * time.Hour)
			n, err := b.svc.Scheduler().TickMissed(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "an inactive job is never missed")
			got, err := b.svc.Jobs().Update(ctx, j.ID, JobUpdate{Active: jobsPtr(true)})
			require.NoError(t, err)
			require.Equal(t, time.Date(2026, 11, 8, 3, 0, 0, 0, time.UTC), *got.NextDueAt)
		})

		t.Run("ChangingNothingWritesNothing", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			j, err := b.svc.Jobs().Create(ctx, jobsValidParams("same"))
			require.NoError(t, err)
			b.clock.Advance(time.Minute)
			got, err := b.svc.Jobs().Update(ctx, j.ID, JobUpdate{Name: jobsPtr("same"), Tool: jobsPtr(store.ToolRestic)})
			require.NoError(t, err)
			require.Equal(t, j.UpdatedAt, got.UpdatedAt)
			require.Equal(t, []string{"job.create"}, b.auditActions(t))
		})

		t.Run("RefusesBadInputAndKeepsTheJob", func(t *testing.T) {
			t.Parallel()
			j, err := b.svc.Jobs().Create(ctx, jobsValidParams("kept"))
			require.NoError(t, err)
			_, err = b.svc.Jobs().Update(ctx, j.ID, JobUpdate{
				Schedule: &store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *", Timezone: "Mars/Olympus"},
				AssetID:  jobsPtr("0190a000-0000-7000-8000-000000000000"),
				Name:     jobsPtr(""),
			})
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields, "schedule.timezone")
			require.Contains(t, ve.Fields, "asset_id")
			require.Contains(t, ve.Fields, "name")
			stored, err := b.svc.Jobs().Get(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, j, stored)
		})

		t.Run("RefusesATakenName", func(t *testing.T) {
			t.Parallel()
			_, err := b.svc.Jobs().Create(ctx, jobsValidParams("taken"))
			require.NoError(t, err)
			j, err := b.svc.Jobs().Create(ctx, jobsValidParams("free"))
			require.NoError(t, err)
			_, err = b.svc.Jobs().Update(ctx, j.ID, JobUpdate{Name: jobsPtr("TAKEN")})
			require.ErrorIs(t, err, store.ErrConflict)
		})

		t.Run("UnknownJobIsNotFound", func(t *testing.T) {
			t.Parallel()
			_, err := b.svc.Jobs().Update(ctx, "0190a000-0000-7000-8000-000000000000", JobUpdate{Name: jobsPtr("x")})
			require.ErrorIs(t, err, store.ErrNotFound)
		})

		t.Run("MovingToAnotherAssetReevaluatesBoth", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			from, err := b.svc.Assets().Create(ctx, AssetParams{Name: "intranet", Classification: store.ClassificationInternal})
			require.NoError(t, err)
			to, err := b.svc.Assets().Create(ctx, AssetParams{Name: "payroll", Classification: store.ClassificationRestricted})
			require.NoError(t, err)
			p := jobsValidParams("mover")
			p.AssetID = &from.ID
			j, err := b.svc.Jobs().Create(ctx, p)
			require.NoError(t, err)
			before, err := b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
			require.NoError(t, err)
			fromState, err := b.svc.Compliance().State(ctx, store.SubjectAsset, from.ID)
			require.NoError(t, err)
			require.NotContains(t, complianceReasonsText(fromState.Reasons), "no jobs protect this asset")

			_, err = b.svc.Jobs().Update(ctx, j.ID, JobUpdate{AssetID: &to.ID})
			require.NoError(t, err)
			after, err := b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
			require.NoError(t, err)
			require.NotEqual(t, before.Reasons, after.Reasons, "the restricted preset judges the job differently")
			fromState, err = b.svc.Compliance().State(ctx, store.SubjectAsset, from.ID)
			require.NoError(t, err)
			require.Contains(t, complianceReasonsText(fromState.Reasons), "no jobs protect this asset")
			toState, err := b.svc.Compliance().State(ctx, store.SubjectAsset, to.ID)
			require.NoError(t, err)
			require.NotContains(t, complianceReasonsText(toState.Reasons), "no jobs protect this asset")
			require.Equal(t, []any{"asset_id"}, b.jobsAuditDetails(t, "job.update", j.ID)["changed"])
		})
	})
}

func TestJobsPauseResume(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("APausedJobIsNeverMissed", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			j, err := b.svc.Jobs().Create(ctx, jobsValidParams("paused"))
			require.NoError(t, err)
			paused, err := b.svc.Jobs().Pause(ctx, j.ID)
			require.NoError(t, err)
			require.True(t, paused.Paused)
			require.Equal(t, store.JobStatePaused, paused.State)
			require.Equal(t, j.NextDueAt, paused.NextDueAt, "the deadline is kept")

			b.clock.Advance(3 * 24 * time.Hour)
			n, err := b.svc.Scheduler().TickMissed(ctx)
			require.NoError(t, err)
			require.Zero(t, n)
			require.Empty(t, b.jobsExecutions(t, j.ID))

			// Resuming counts from now: the pause is not a missed run.
			resumed, err := b.svc.Jobs().Resume(ctx, j.ID)
			require.NoError(t, err)
			require.False(t, resumed.Paused)
			require.Equal(t, store.JobStateNew, resumed.State)
			require.Equal(t, time.Date(2026, 11, 6, 3, 0, 0, 0, time.UTC), *resumed.NextDueAt)
			n, err = b.svc.Scheduler().TickMissed(ctx)
			require.NoError(t, err)
			require.Zero(t, n)
			require.Empty(t, b.jobsExecutions(t, j.ID))

			// Pausing twice, or resuming a running job, changes nothing.
			_, err = b.svc.Jobs().Resume(ctx, j.ID)
			require.NoError(t, err)
			_, err = b.svc.Jobs().Pause(ctx, j.ID)
			require.NoError(t, err)
			_, err = b.svc.Jobs().Pause(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, []string{"job.create", "job.pause", "job.resume", "job.pause"}, b.auditActions(t))
		})

		t.Run("ResumeRestoresTheStateOfTheLastResult", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			j, err := b.svc.Jobs().Create(ctx, jobsValidParams("was-missed"))
			require.NoError(t, err)
			b.clock.Advance(24 * time.Hour)
			n, err := b.svc.Scheduler().TickMissed(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			_, err = b.svc.Jobs().Pause(ctx, j.ID)
			require.NoError(t, err)
			resumed, err := b.svc.Jobs().Resume(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, store.JobStateMissed, resumed.State)
		})
	})
}

func TestJobsStateAfter(t *testing.T) {
	t.Parallel()
	for last, want := range map[store.ExecutionStatus]store.JobState{
		"":                      store.JobStateNew,
		store.ExecutionSuccess:  store.JobStateUp,
		store.ExecutionWarning:  store.JobStateUp,
		store.ExecutionFailed:   store.JobStateFailed,
		store.ExecutionCanceled: store.JobStateFailed,
		store.ExecutionMissed:   store.JobStateMissed,
		store.ExecutionRunning:  store.JobStateRunning,
	} {
		require.Equal(t, want, jobsStateAfter(last), "after %q", last)
	}
}

func TestJobsRotatePingToken(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		j, err := b.svc.Jobs().Create(ctx, jobsValidParams("rotated"))
		require.NoError(t, err)
		got, err := b.svc.Jobs().RotatePingToken(ctx, j.ID)
		require.NoError(t, err)
		require.NotEqual(t, j.PingToken, got.PingToken)
		_, err = b.store.Jobs().GetByPingToken(ctx, j.PingToken)
		require.ErrorIs(t, err, store.ErrNotFound)
		byToken, err := b.store.Jobs().GetByPingToken(ctx, got.PingToken)
		require.NoError(t, err)
		require.Equal(t, j.ID, byToken.ID)

		require.Equal(t, []string{"job.create", "job.rotate_ping_token"}, b.auditActions(t))
		events, err := b.store.Audit().Range(ctx, 0, 10)
		require.NoError(t, err)
		for _, e := range events {
			require.NotContains(t, string(e.Details), j.PingToken)
			require.NotContains(t, string(e.Details), got.PingToken)
		}
	})
}

func TestJobsDelete(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		asset, err := b.svc.Assets().Create(ctx, AssetParams{Name: "erp", Classification: store.ClassificationInternal})
		require.NoError(t, err)
		p := jobsValidParams("doomed")
		p.AssetID = &asset.ID
		j, err := b.svc.Jobs().Create(ctx, p)
		require.NoError(t, err)
		c, err := b.svc.Jobs().AddCopy(ctx, j.ID, CopyParams{Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS})
		require.NoError(t, err)
		b.clock.Advance(24 * time.Hour)
		_, err = b.svc.Scheduler().TickMissed(ctx)
		require.NoError(t, err)
		missed, err := b.store.Alerts().GetUnresolved(ctx, AlertKey(store.AlertBackupMissed, jobSubject(j.ID)))
		require.NoError(t, err)

		require.NoError(t, b.svc.Jobs().Delete(ctx, j.ID))
		_, err = b.svc.Jobs().Get(ctx, j.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.store.Copies().Get(ctx, c.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Empty(t, b.jobsExecutions(t, j.ID))
		// Its alerts can never clear by themselves: they are resolved.
		gone, err := b.store.Alerts().Get(ctx, missed.ID)
		require.NoError(t, err)
		require.Equal(t, store.AlertResolved, gone.State)
		require.Equal(t, store.ResolvedByAuto, gone.ResolvedBy)
		// The asset is judged without the job.
		st, err := b.svc.Compliance().State(ctx, store.SubjectAsset, asset.ID)
		require.NoError(t, err)
		require.Contains(t, complianceReasonsText(st.Reasons), "no jobs protect this asset")
		require.Equal(t, "doomed", b.jobsAuditDetails(t, "job.delete", j.ID)["name"])

		require.ErrorIs(t, b.svc.Jobs().Delete(ctx, j.ID), store.ErrNotFound)
	})
}

func TestJobsCopies(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		j, err := b.svc.Jobs().Create(ctx, jobsValidParams("copied"))
		require.NoError(t, err)
		other, err := b.svc.Jobs().Create(ctx, jobsValidParams("other"))
		require.NoError(t, err)

		t.Run("RefusesBadCopies", func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				p     CopyParams
				field string
			}{
				{CopyParams{Name: "", Role: store.CopyRolePrimary, MediaType: store.MediaDisk}, "name"},
				{CopyParams{Name: "x", Role: "tertiary", MediaType: store.MediaDisk}, "role"},
				{CopyParams{Name: "x", Role: store.CopyRolePrimary, MediaType: "floppy"}, "media_type"},
				{CopyParams{Name: "x", Role: store.CopyRoleOffsite, MediaType: store.MediaCloudObject, ImmutableUntil: jobsPtr(testStart.Add(time.Hour))}, "immutable_until"},
				{CopyParams{Name: "x", Role: store.CopyRoleOffline, MediaType: store.MediaTape, MediaID: jobsPtr("0190a000-0000-7000-8000-000000000000")}, "media_id"},
			} {
				_, err := b.svc.Jobs().AddCopy(ctx, j.ID, tc.p)
				var ve *store.ValidationError
				require.ErrorAs(t, err, &ve, "field %s", tc.field)
				require.Contains(t, ve.Fields, tc.field)
			}
			_, err := b.svc.Jobs().AddCopy(ctx, "0190a000-0000-7000-8000-000000000000", CopyParams{Name: "x", Role: store.CopyRolePrimary, MediaType: store.MediaDisk})
			require.ErrorIs(t, err, store.ErrNotFound)
		})

		t.Run("WritesToLiveMediaOnly", func(t *testing.T) {
			t.Parallel()
			tape := &store.Media{Label: "LTO-0001", MediaType: store.OfflineTape, Status: store.MediaAvailable}
			retired := &store.Media{Label: "LTO-0002", MediaType: store.OfflineTape, Status: store.MediaRetired}
			require.NoError(t, b.store.Media().Create(ctx, tape))
			require.NoError(t, b.store.Media().Create(ctx, retired))
			_, err := b.svc.Jobs().AddCopy(ctx, other.ID, CopyParams{Name: "vault", Role: store.CopyRoleOffline, MediaType: store.MediaTape, Offline: true, MediaID: &retired.ID})
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "media is retired", ve.Fields["media_id"])
			c, err := b.svc.Jobs().AddCopy(ctx, other.ID, CopyParams{Name: "vault", Role: store.CopyRoleOffline, MediaType: store.MediaTape, Offline: true, MediaID: &tape.ID})
			require.NoError(t, err)
			require.Equal(t, tape.ID, *c.MediaID)
			moved, err := b.svc.Jobs().UpdateCopy(ctx, other.ID, c.ID, CopyUpdate{MediaID: jobsPtr("")})
			require.NoError(t, err)
			require.Nil(t, moved.MediaID)
		})

		t.Run("AddsUpdatesAndDeletesCopiesReevaluatingCompliance", func(t *testing.T) {
			t.Parallel()
			nas, err := b.svc.Jobs().AddCopy(ctx, j.ID, CopyParams{Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS, Location: "rack 3"})
			require.NoError(t, err)
			require.Equal(t, store.CopyStatusUnknown, nas.Status)
			st, err := b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
			require.NoError(t, err)
			require.Equal(t, 0, st.Copies, "a copy never written is not fresh")
			// Pretend ingest wrote the copy a minute ago, then rename it: the
			// update re-evaluates and now counts it.
			written := b.svc.Now()
			nas.LastWrittenAt = &written
			nas.Status = store.CopyStatusOK
			require.NoError(t, b.store.Copies().Update(ctx, nas))
			renamed, err := b.svc.Jobs().UpdateCopy(ctx, j.ID, nas.ID, CopyUpdate{Name: jobsPtr("nas-1"), Encrypted: jobsPtr(true)})
			require.NoError(t, err)
			require.Equal(t, "nas-1", renamed.Name)
			st, err = b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
			require.NoError(t, err)
			require.Equal(t, 1, st.Copies)

			_, err = b.svc.Jobs().AddCopy(ctx, j.ID, CopyParams{Name: "NAS-1", Role: store.CopyRoleSecondary, MediaType: store.MediaDisk})
			require.ErrorIs(t, err, store.ErrConflict)
			_, err = b.svc.Jobs().AddCopy(ctx, other.ID, CopyParams{Name: "nas-1", Role: store.CopyRolePrimary, MediaType: store.MediaDisk})
			require.NoError(t, err, "copy names are unique per job only")

			_, err = b.svc.Jobs().UpdateCopy(ctx, other.ID, nas.ID, CopyUpdate{Name: jobsPtr("stolen")})
			require.ErrorIs(t, err, store.ErrNotFound, "a copy is reached through its own job")
			_, err = b.svc.Jobs().UpdateCopy(ctx, j.ID, nas.ID, CopyUpdate{ImmutableUntil: jobsPtr(testStart.Add(time.Hour))})
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields, "immutable_until")
			worm, err := b.svc.Jobs().UpdateCopy(ctx, j.ID, nas.ID, CopyUpdate{Immutable: jobsPtr(true), ImmutableUntil: jobsPtr(testStart.Add(30 * 24 * time.Hour))})
			require.NoError(t, err)
			require.True(t, worm.Immutable)
			cleared, err := b.svc.Jobs().UpdateCopy(ctx, j.ID, nas.ID, CopyUpdate{ImmutableUntil: &time.Time{}})
			require.NoError(t, err)
			require.Nil(t, cleared.ImmutableUntil)

			list, err := b.svc.Jobs().ListCopies(ctx, j.ID)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.NoError(t, b.svc.Jobs().DeleteCopy(ctx, j.ID, nas.ID))
			list, err = b.svc.Jobs().ListCopies(ctx, j.ID)
			require.NoError(t, err)
			require.Empty(t, list)
			st, err = b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
			require.NoError(t, err)
			require.Equal(t, 0, st.Copies)
			require.ErrorIs(t, b.svc.Jobs().DeleteCopy(ctx, j.ID, nas.ID), store.ErrNotFound)
			_, err = b.svc.Jobs().ListCopies(ctx, "0190a000-0000-7000-8000-000000000000")
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	})
}

// TestJobsAuditTrail performs every audited job, copy and asset action once
// and reads the log back: one event each, by the acting user.
func TestJobsAuditTrail(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		alice := b.userFixture(t, "alice", store.RoleAdmin)
		ctx := actorCtx(t.Context(), alice)
		a, err := b.svc.Assets().Create(ctx, AssetParams{Name: "erp", Classification: store.ClassificationInternal})
		require.NoError(t, err)
		_, err = b.svc.Assets().Update(ctx, a.ID, AssetUpdate{Classification: jobsPtr(store.ClassificationConfidential)})
		require.NoError(t, err)
		p := jobsValidParams("audited")
		p.AssetID = &a.ID
		j, err := b.svc.Jobs().Create(ctx, p)
		require.NoError(t, err)
		_, err = b.svc.Jobs().Update(ctx, j.ID, JobUpdate{Grace: jobsPtr(2 * time.Hour), Tags: []string{"erp"}})
		require.NoError(t, err)
		_, err = b.svc.Jobs().Pause(ctx, j.ID)
		require.NoError(t, err)
		_, err = b.svc.Jobs().Resume(ctx, j.ID)
		require.NoError(t, err)
		_, err = b.svc.Jobs().RotatePingToken(ctx, j.ID)
		require.NoError(t, err)
		c, err := b.svc.Jobs().AddCopy(ctx, j.ID, CopyParams{Name: "tape", Role: store.CopyRoleOffline, MediaType: store.MediaTape, Offline: true})
		require.NoError(t, err)
		_, err = b.svc.Jobs().UpdateCopy(ctx, j.ID, c.ID, CopyUpdate{Location: jobsPtr("vault")})
		require.NoError(t, err)
		require.NoError(t, b.svc.Jobs().DeleteCopy(ctx, j.ID, c.ID))
		require.NoError(t, b.svc.Jobs().Delete(ctx, j.ID))
		require.NoError(t, b.svc.Assets().Delete(ctx, a.ID))

		require.Equal(t, []string{
			"asset.create", "asset.update", "job.create", "job.update", "job.pause", "job.resume",
			"job.rotate_ping_token", "copy.create", "copy.update", "copy.delete", "job.delete", "asset.delete",
		}, b.auditActions(t))
		events, err := b.store.Audit().Range(t.Context(), 0, 100)
		require.NoError(t, err)
		for _, e := range events {
			require.Equal(t, "user:"+alice.ID, e.Actor, e.Action)
			require.Equal(t, "192.0.2.1", e.IP)
		}
		require.ElementsMatch(t, []any{"grace_seconds", "tags"}, b.jobsAuditDetails(t, "job.update", j.ID)["changed"])
		require.Equal(t, []any{"location"}, b.jobsAuditDetails(t, "copy.update", c.ID)["changed"])
		require.Equal(t, []any{"classification"}, b.jobsAuditDetails(t, "asset.update", a.ID)["changed"])
	})
}

// jobsExecutions returns a job's executions, newest first.
func (b *testBundle) jobsExecutions(t *testing.T, jobID string) []store.Execution {
	t.Helper()
	page, err := b.store.Executions().List(t.Context(), store.ListExecutionsParams{JobID: jobID, PageParams: store.PageParams{Limit: store.LimitMax}})
	require.NoError(t, err)
	return page.Items
}

func TestJobsDeadline(t *testing.T) {
	t.Parallel()
	daily := store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"}
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC) // a Friday
	cases := []struct {
		name     string
		schedule store.Schedule
		grace    time.Duration
		base     time.Time
		want     *time.Time
	}{
		{"NextDeadlineStillAhead", daily, time.Hour, now.Add(-time.Hour), jobsPtr(time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC))},
		{"PassedLongAgoOwesTodayOnly", daily, time.Hour, now.Add(-30 * 24 * time.Hour), jobsPtr(time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC))},
		{"GraceStillRunningOwesYesterday", daily, 9 * time.Hour, now.Add(-30 * 24 * time.Hour), jobsPtr(time.Date(2026, 11, 19, 11, 0, 0, 0, time.UTC))},
		{"WeekdaysOnly", store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * 1-5"}, time.Hour,
			time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), jobsPtr(time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC))},
		{"IrregularGapsFindTheLatest", store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 1,2 * *"}, time.Hour,
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), jobsPtr(time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC))},
		{"Interval", store.Schedule{Kind: store.ScheduleInterval, Interval: 6 * time.Hour}, 0,
			time.Date(2026, 11, 17, 1, 0, 0, 0, time.UTC), jobsPtr(time.Date(2026, 11, 20, 7, 0, 0, 0, time.UTC))},
		{"ManualHasNone", store.Schedule{Kind: store.ScheduleManual}, 0, now.Add(-time.Hour), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := jobsDeadline(tc.schedule, tc.grace, tc.base, now)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
