package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("Jobs", testJobs)
var _ = register("Copies", testCopies)

func testJobs(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		owner := b.user(t)
		asset := b.asset(t)
		j := newJob()
		j.Name = "夜間バックアップ " + uniq()
		j.Description = "会計サーバーのフルバックアップ"
		j.OwnerID = &owner.ID
		j.AssetID = &asset.ID
		j.Tags = []string{"本番", "db"}
		j.RetentionDays = 35
		j.RTOTarget = 4 * time.Hour
		j.NextDueAt = ptr(someTime())
		j.LastRunAt = ptr(someTime().Add(-time.Hour))
		j.LastSuccessAt = ptr(someTime().Add(-2 * time.Hour))
		j.LastResult = store.ExecutionSuccess
		j.ConsecutiveFailures = 0
		j.CreatedAt = someTime()
		require.NoError(t, b.s.Jobs().Create(b.ctx, j))
		require.NotEmpty(t, j.ID)
		require.Equal(t, norm(someTime()), *j.NextDueAt)

		got, err := b.s.Jobs().Get(b.ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, j, got)

		got.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: 90 * time.Minute}
		got.Paused = true
		got.State = store.JobStateFailed
		got.ConsecutiveFailures = 3
		got.LastResult = store.ExecutionFailed
		got.Tags = nil
		got.AssetID = nil
		got.NextDueAt = nil
		require.NoError(t, b.s.Jobs().Update(b.ctx, got))
		require.Equal(t, []string{}, got.Tags, "nil tags are stored as none")
		again, err := b.s.Jobs().Get(b.ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)
		require.True(t, again.UpdatedAt.After(j.UpdatedAt) || again.UpdatedAt.Equal(j.UpdatedAt))

		byName, err := b.s.Jobs().GetByName(b.ctx, j.Name)
		require.NoError(t, err)
		require.Equal(t, j.ID, byName.ID)
		byToken, err := b.s.Jobs().GetByPingToken(b.ctx, j.PingToken)
		require.NoError(t, err)
		require.Equal(t, j.ID, byToken.ID)
		_, err = b.s.Jobs().GetByPingToken(b.ctx, "")
		require.ErrorIs(t, err, store.ErrNotFound)

		require.NoError(t, b.s.Jobs().Delete(b.ctx, j.ID))
		_, err = b.s.Jobs().Get(b.ctx, j.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Jobs().Delete(b.ctx, j.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.Jobs().Update(b.ctx, got), store.ErrNotFound)
		_, err = b.s.Jobs().GetByPingToken(b.ctx, j.PingToken)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("UniqueKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t, func(j *store.Job) { j.Name = "ERP Nightly" })
		dup := newJob()
		dup.Name = "erp nightly"
		requireConflict(t, b.s.Jobs().Create(b.ctx, dup), "name")
		dup.Name = "  ERP NIGHTLY"
		requireValidation(t, b.s.Jobs().Create(b.ctx, dup), "name")
		got, err := b.s.Jobs().GetByName(b.ctx, "erp NIGHTLY")
		require.NoError(t, err)
		require.Equal(t, j.ID, got.ID)

		tok := newJob()
		tok.PingToken = j.PingToken
		requireConflict(t, b.s.Jobs().Create(b.ctx, tok), "ping_token")

		other := b.job(t)
		other.Name = "Erp Nightly"
		requireConflict(t, b.s.Jobs().Update(b.ctx, other), "name")
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		cases := map[string]func(*store.Job){
			"name":                      func(j *store.Job) { j.Name = "" },
			"job_type":                  func(j *store.Job) { j.JobType = "tape" },
			"tool":                      func(j *store.Job) { j.Tool = "" },
			"schedule.kind":             func(j *store.Job) { j.Schedule.Kind = "hourly" },
			"schedule.interval_seconds": func(j *store.Job) { j.Schedule.Interval = -time.Second },
			"grace_seconds":             func(j *store.Job) { j.Grace = 1500 * time.Millisecond },
			"max_runtime_seconds":       func(j *store.Job) { j.MaxRuntime = -time.Hour },
			"rpo_target_seconds":        func(j *store.Job) { j.RPOTarget = -1 },
			"retention_days":            func(j *store.Job) { j.RetentionDays = -1 },
			"state":                     func(j *store.Job) { j.State = "sleeping" },
			"ping_token":                func(j *store.Job) { j.PingToken = "" },
			"last_result":               func(j *store.Job) { j.LastResult = "meh" },
			"target_path":               func(j *store.Job) { j.TargetPath = string(make([]rune, store.MaxShortTextLen+1)) },
		}
		for field, mod := range cases {
			j := newJob()
			mod(j)
			requireValidation(t, b.s.Jobs().Create(b.ctx, j), field)
		}
		page, err := b.s.Jobs().List(b.ctx, store.ListJobsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items, "nothing written by rejected creates")
	})

	t.Run("RefusesWhatOneDatabaseWouldStoreDifferently", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		// MySQL compares 'a' and 'a ' as equal, the others do not; NUL is
		// text nowhere; INT columns overflow differently.
		for field, mod := range map[string]func(*store.Job){
			"ping_token":     func(j *store.Job) { j.PingToken = "tok " },
			"name":           func(j *store.Job) { j.Name = "a\x00b" },
			"retention_days": func(j *store.Job) { j.RetentionDays = 1 << 40 },
		} {
			bad := newJob()
			mod(bad)
			requireValidation(t, b.s.Jobs().Create(b.ctx, bad), field)
		}
		for _, lookup := range []func() (*store.Job, error){
			func() (*store.Job, error) { return b.s.Jobs().GetByName(b.ctx, j.Name+"\x00") },
			func() (*store.Job, error) { return b.s.Jobs().GetByPingToken(b.ctx, "\x00") },
			func() (*store.Job, error) { return b.s.Jobs().Get(b.ctx, "\x00") },
		} {
			_, err := lookup()
			require.ErrorIs(t, err, store.ErrNotFound)
		}
	})

	t.Run("NestedTransactionErrorLeavesTheOuterUsable", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		taken := b.job(t)
		var first, second *store.Job
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			first = newJob()
			if err := tx.Jobs().Create(ctx, first); err != nil {
				return err
			}
			err := tx.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				if err := tx.Jobs().Create(ctx, newJob()); err != nil {
					return err
				}
				dup := newJob()
				dup.Name = taken.Name
				return tx.Jobs().Create(ctx, dup)
			})
			// PostgreSQL would abort the whole transaction here but for the
			// savepoint of the nested InTx.
			requireConflict(t, err, "name")
			second = newJob()
			return tx.Jobs().Create(ctx, second)
		})
		require.NoError(t, err)
		page, err := b.s.Jobs().List(b.ctx, store.ListJobsParams{})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{taken.ID, first.ID, second.ID}, ids(page.Items, func(j store.Job) string { return j.ID }),
			"the inner writes are undone, the outer ones kept")
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := newJob()
		j.OwnerID = ptr(store.NewID())
		require.ErrorIs(t, b.s.Jobs().Create(b.ctx, j), store.ErrForeignKey)
		j = newJob()
		j.AssetID = ptr(store.NewID())
		require.ErrorIs(t, b.s.Jobs().Create(b.ctx, j), store.ErrForeignKey)

		owner := b.user(t)
		b.job(t, func(j *store.Job) { j.OwnerID = &owner.ID })
		require.ErrorIs(t, b.s.Users().Delete(b.ctx, owner.ID), store.ErrForeignKey, "a user who owns jobs cannot be deleted")
	})

	t.Run("DeleteRemovesCopiesExecutionsAndCompliance", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		c := b.copy(t, j.ID)
		e := b.execution(t, j.ID, func(e *store.Execution) { e.CopyID = &c.ID })
		a := b.alert(t, func(a *store.Alert) { a.JobID = &j.ID })
		require.NoError(t, b.s.Compliance().PutState(b.ctx, &store.ComplianceState{
			SubjectType: store.SubjectJob, SubjectID: j.ID, Status: store.ComplianceCompliant,
			Score: 100, EvaluatedAt: someTime(), ChangedAt: someTime(),
		}))
		require.NoError(t, b.s.Jobs().Delete(b.ctx, j.ID))
		_, err := b.s.Copies().Get(b.ctx, c.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Executions().Get(b.ctx, e.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Compliance().GetState(b.ctx, store.SubjectJob, j.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		kept, err := b.s.Alerts().Get(b.ctx, a.ID)
		require.NoError(t, err, "alerts outlive their job")
		require.Nil(t, kept.JobID)
	})

	t.Run("ListFilters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		owner := b.user(t)
		asset := b.asset(t)
		web := b.job(t, func(j *store.Job) {
			j.Name = "Web Files"
			j.JobType = store.JobTypeFile
			j.Tool = store.ToolBorg
			j.Tags = []string{"web", "100%_sure"}
			j.OwnerID = &owner.ID
		})
		db := b.job(t, func(j *store.Job) {
			j.Name = "DB dump"
			j.Tags = []string{"db2"}
			j.AssetID = &asset.ID
			j.State = store.JobStateFailed
		})
		paused := b.job(t, func(j *store.Job) {
			j.Name = "Paused VM"
			j.JobType = store.JobTypeVM
			j.Paused = true
			j.Tags = []string{"db"}
		})
		inactive := b.job(t, func(j *store.Job) { j.Name = "Old tape"; j.Active = false; j.Tags = nil })

		list := func(p store.ListJobsParams) []string {
			t.Helper()
			page, err := b.s.Jobs().List(b.ctx, p)
			require.NoError(t, err)
			return ids(page.Items, func(j store.Job) string { return j.ID })
		}
		require.Equal(t, []string{db.ID, inactive.ID, paused.ID, web.ID}, list(store.ListJobsParams{}), "ordered by name, ignoring case")
		require.ElementsMatch(t, []string{web.ID, db.ID, paused.ID}, list(store.ListJobsParams{Active: ptr(true)}))
		require.ElementsMatch(t, []string{inactive.ID}, list(store.ListJobsParams{Active: ptr(false)}))
		require.ElementsMatch(t, []string{paused.ID}, list(store.ListJobsParams{Paused: ptr(true)}))
		require.ElementsMatch(t, []string{db.ID}, list(store.ListJobsParams{State: store.JobStateFailed}))
		require.ElementsMatch(t, []string{web.ID}, list(store.ListJobsParams{JobType: store.JobTypeFile}))
		require.ElementsMatch(t, []string{web.ID}, list(store.ListJobsParams{Tool: store.ToolBorg}))
		require.ElementsMatch(t, []string{db.ID}, list(store.ListJobsParams{AssetID: asset.ID}))
		require.ElementsMatch(t, []string{web.ID}, list(store.ListJobsParams{OwnerID: owner.ID}))
		require.ElementsMatch(t, []string{paused.ID}, list(store.ListJobsParams{Tag: "db"}), "a tag matches whole, not db2")
		require.ElementsMatch(t, []string{web.ID}, list(store.ListJobsParams{Tag: "100%_sure"}))
		require.Empty(t, list(store.ListJobsParams{Tag: "100%"}), "wildcards in a tag are literal")
		require.Empty(t, list(store.ListJobsParams{Tag: "WEB"}), "tags are case-sensitive everywhere")
		require.ElementsMatch(t, []string{db.ID}, list(store.ListJobsParams{Query: "db D"}))
		require.ElementsMatch(t, []string{web.ID, paused.ID, db.ID}, list(store.ListJobsParams{Active: ptr(true), Query: ""}))
		require.Empty(t, list(store.ListJobsParams{Query: "_"}), "underscore is literal")

		got, err := b.s.Jobs().GetMany(b.ctx, []string{web.ID, db.ID, store.NewID()})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{web.ID, db.ID}, ids(got, func(j store.Job) string { return j.ID }))
		none, err := b.s.Jobs().GetMany(b.ctx, nil)
		require.NoError(t, err)
		require.Empty(t, none)

		counts, err := b.s.Jobs().CountByState(b.ctx)
		require.NoError(t, err)
		require.Equal(t, map[store.JobState]int{store.JobStateNew: 2, store.JobStateFailed: 1, store.JobStatePaused: 1}, counts)
	})

	t.Run("Pagination", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for range 9 {
			b.job(t)
		}
		seen := paginate(t, 4, func(p store.PageParams) (*store.Page[store.Job], error) {
			return b.s.Jobs().List(b.ctx, store.ListJobsParams{PageParams: p})
		}, func() { b.job(t) }, func(j store.Job) string { return j.ID })
		require.GreaterOrEqual(t, len(seen), 9)
	})

	t.Run("ListDueSelectsOnlyDueActiveUnpausedJobs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		at := func(d time.Duration) *time.Time { return ptr(now.Add(d)) }
		late := b.job(t, func(j *store.Job) { j.NextDueAt = at(-time.Hour) })
		exact := b.job(t, func(j *store.Job) { j.NextDueAt = at(0) })
		b.job(t, func(j *store.Job) { j.NextDueAt = at(time.Second) })
		b.job(t, func(j *store.Job) { j.NextDueAt = at(-time.Hour); j.Paused = true })
		b.job(t, func(j *store.Job) { j.NextDueAt = at(-time.Hour); j.Active = false })
		b.job(t, func(j *store.Job) { j.NextDueAt = nil })

		due, err := b.s.Jobs().ListDue(b.ctx, now.In(tokyo), 10)
		require.NoError(t, err)
		require.Equal(t, []string{late.ID, exact.ID}, ids(due, func(j store.Job) string { return j.ID }), "soonest first")
		due, err = b.s.Jobs().ListDue(b.ctx, now, 1)
		require.NoError(t, err)
		require.Len(t, due, 1)
	})
}

func testCopies(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		m := b.media(t)
		c := newCopy(j.ID)
		c.Name = "テープ週次"
		c.Role = store.CopyRoleOffline
		c.MediaType = store.MediaTape
		c.Location = "大阪の金庫"
		c.Offsite, c.Offline, c.Immutable, c.Encrypted, c.Compressed = true, true, true, true, true
		c.ImmutableUntil = ptr(someTime())
		c.MediaID = &m.ID
		c.LastWrittenAt = ptr(someTime())
		c.LastSizeBytes = 5 << 40
		c.Status = store.CopyStatusOK
		require.NoError(t, b.s.Copies().Create(b.ctx, c))
		got, err := b.s.Copies().Get(b.ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, c, got)
		require.Equal(t, norm(someTime()), *got.LastWrittenAt)

		got.Status = store.CopyStatusFailed
		got.MediaID = nil
		got.Immutable = false
		got.ImmutableUntil = nil
		require.NoError(t, b.s.Copies().Update(b.ctx, got))
		again, err := b.s.Copies().Get(b.ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)

		require.NoError(t, b.s.Copies().Delete(b.ctx, c.ID))
		_, err = b.s.Copies().Get(b.ctx, c.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Copies().Delete(b.ctx, c.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.Copies().Update(b.ctx, got), store.ErrNotFound)
	})

	t.Run("NamesAreUniquePerJobIgnoringCase", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j1, j2 := b.job(t), b.job(t)
		b.copy(t, j1.ID, func(c *store.Copy) { c.Name = "NAS-A" })
		dup := newCopy(j1.ID)
		dup.Name = "nas-a"
		requireConflict(t, b.s.Copies().Create(b.ctx, dup), "name")
		other := newCopy(j2.ID)
		other.Name = "nas-a"
		require.NoError(t, b.s.Copies().Create(b.ctx, other), "another job may use the name")
	})

	t.Run("RejectsBadInputAndMissingReferences", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		for field, mod := range map[string]func(*store.Copy){
			"job_id":          func(c *store.Copy) { c.JobID = "" },
			"name":            func(c *store.Copy) { c.Name = "" },
			"role":            func(c *store.Copy) { c.Role = "tertiary" },
			"media_type":      func(c *store.Copy) { c.MediaType = "floppy" },
			"status":          func(c *store.Copy) { c.Status = "" },
			"last_size_bytes": func(c *store.Copy) { c.LastSizeBytes = -1 },
		} {
			c := newCopy(j.ID)
			mod(c)
			requireValidation(t, b.s.Copies().Create(b.ctx, c), field)
		}
		require.ErrorIs(t, b.s.Copies().Create(b.ctx, newCopy(store.NewID())), store.ErrForeignKey)
		c := newCopy(j.ID)
		c.MediaID = ptr(store.NewID())
		require.ErrorIs(t, b.s.Copies().Create(b.ctx, c), store.ErrForeignKey)
	})

	t.Run("ListByJobsInOneCall", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j1, j2, j3 := b.job(t), b.job(t), b.job(t)
		b1 := b.copy(t, j1.ID, func(c *store.Copy) { c.Name = "b" })
		a1 := b.copy(t, j1.ID, func(c *store.Copy) { c.Name = "A" })
		c2 := b.copy(t, j2.ID)
		b.copy(t, j3.ID)
		got, err := b.s.Copies().ListByJob(b.ctx, j1.ID)
		require.NoError(t, err)
		require.Equal(t, []string{a1.ID, b1.ID}, ids(got, func(c store.Copy) string { return c.ID }), "ordered by name")
		got, err = b.s.Copies().ListByJobs(b.ctx, []string{j1.ID, j2.ID})
		require.NoError(t, err)
		require.ElementsMatch(t, []string{a1.ID, b1.ID, c2.ID}, ids(got, func(c store.Copy) string { return c.ID }))
		got, err = b.s.Copies().ListByJobs(b.ctx, nil)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("DeletingMediaKeepsTheCopy", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		m := b.media(t)
		c := b.copy(t, j.ID, func(c *store.Copy) { c.MediaID = &m.ID })
		require.NoError(t, b.s.Media().Delete(b.ctx, m.ID))
		got, err := b.s.Copies().Get(b.ctx, c.ID)
		require.NoError(t, err)
		require.Nil(t, got.MediaID)
	})
}
