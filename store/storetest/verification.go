package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var (
	_ = register("VerificationTests", testVerificationTests)
	_ = register("VerificationSchedules", testVerificationSchedules)
	_ = register("Compliance", testCompliance)
	_ = register("Rollups", testRollups)
)

func (b *bundle) verificationTest(t *testing.T, jobID string, mod ...func(*store.VerificationTest)) *store.VerificationTest {
	t.Helper()
	v := newVerificationTest(jobID)
	for _, m := range mod {
		m(v)
	}
	require.NoError(t, b.s.VerificationTests().Create(b.ctx, v))
	return v
}

func newVerificationSchedule(jobID string) *store.VerificationSchedule {
	return &store.VerificationSchedule{
		JobID:     jobID,
		Frequency: store.FrequencyQuarterly,
		TestType:  store.TestFullRestore,
		NextDueOn: store.Date{Year: 2026, Month: 12, Day: 1},
		Active:    true,
	}
}

func (b *bundle) verificationSchedule(t *testing.T, jobID string, mod ...func(*store.VerificationSchedule)) *store.VerificationSchedule {
	t.Helper()
	s := newVerificationSchedule(jobID)
	for _, m := range mod {
		m(s)
	}
	require.NoError(t, b.s.VerificationSchedules().Create(b.ctx, s))
	return s
}

func newComplianceState(t store.SubjectType, id string) *store.ComplianceState {
	at := time.Date(2026, 11, 5, 6, 0, 0, 0, time.UTC)
	return &store.ComplianceState{
		SubjectType:        t,
		SubjectID:          id,
		Status:             store.ComplianceWarning,
		Copies:             2,
		MediaTypes:         1,
		Offsite:            true,
		OfflineOrImmutable: false,
		Verified:           true,
		Score:              80,
		Reasons: []store.ComplianceReason{
			{Rule: "2media", Severity: "warning", Message: "only one media type: nas"},
		},
		EvaluatedAt: at,
		ChangedAt:   at.Add(-48 * time.Hour),
	}
}

func (b *bundle) complianceState(t *testing.T, st store.SubjectType, id string, mod ...func(*store.ComplianceState)) *store.ComplianceState {
	t.Helper()
	s := newComplianceState(st, id)
	for _, m := range mod {
		m(s)
	}
	require.NoError(t, b.s.Compliance().PutState(b.ctx, s))
	return s
}

func newComplianceChange(st store.SubjectType, id string) *store.ComplianceChange {
	return &store.ComplianceChange{
		SubjectType: st,
		SubjectID:   id,
		From:        store.ComplianceCompliant,
		To:          store.ComplianceWarning,
		At:          time.Date(2026, 11, 5, 6, 0, 0, 0, time.UTC),
		Reasons: []store.ComplianceReason{
			{Rule: "1offsite", Severity: "error", Message: "no offsite copy"},
		},
	}
}

func (b *bundle) complianceChange(t *testing.T, st store.SubjectType, id string, mod ...func(*store.ComplianceChange)) *store.ComplianceChange {
	t.Helper()
	c := newComplianceChange(st, id)
	for _, m := range mod {
		m(c)
	}
	require.NoError(t, b.s.Compliance().AddChange(b.ctx, c))
	return c
}

// repeatRune returns n copies of r.
func repeatRune(r rune, n int) string { return strings.Repeat(string(r), n) }

// sortedIDs returns two new IDs, the smaller first.
func sortedIDs() (string, string) {
	a, b := store.NewID(), store.NewID()
	if b < a {
		a, b = b, a
	}
	return a, b
}

func testVerificationTests(t *testing.T, newStore NewStoreFunc) {
	testID := func(v store.VerificationTest) string { return v.ID }

	t.Run("CreateGetDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		c := b.copy(t, j.ID)
		tester := b.user(t)
		v := newVerificationTest(j.ID)
		v.CopyID = &c.ID
		v.TesterID = &tester.ID
		v.TestType = store.TestApplication
		v.Result = store.TestWarning
		v.TestedAt = someTime()
		v.CreatedAt = someTime().Add(time.Hour)
		v.RestoreTarget = "検証用サーバー vm-restore-01"
		v.Duration = 45*time.Minute + 30*time.Second + 900*time.Millisecond
		v.FilesChecked = 120000
		v.FilesFailed = 3
		v.Issues = "3 ファイルのチェックサムが一致しない"
		v.Notes = "アプリケーションは起動した。ログイン確認済み。"
		require.NoError(t, b.s.VerificationTests().Create(b.ctx, v))
		require.NotEmpty(t, v.ID)
		require.Equal(t, norm(someTime()), v.TestedAt, "stored times are UTC microseconds")
		require.Equal(t, norm(someTime().Add(time.Hour)), v.CreatedAt)
		require.Equal(t, 45*time.Minute+30*time.Second, v.Duration, "durations are stored in whole seconds")

		got, err := b.s.VerificationTests().Get(b.ctx, v.ID)
		require.NoError(t, err)
		require.Equal(t, v, got)
		require.Equal(t, time.UTC, got.TestedAt.Location())

		require.NoError(t, b.s.VerificationTests().Delete(b.ctx, v.ID))
		_, err = b.s.VerificationTests().Get(b.ctx, v.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.VerificationTests().Delete(b.ctx, v.ID), store.ErrNotFound)
	})

	t.Run("OptionalFieldsStayEmpty", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		v := newVerificationTest(j.ID)
		v.CopyID = ptr("")
		v.RestoreTarget = ""
		v.Duration = 0
		require.NoError(t, b.s.VerificationTests().Create(b.ctx, v))
		require.Nil(t, v.CopyID, "an empty copy ID is no copy")
		require.False(t, v.CreatedAt.IsZero(), "created_at is set by the store")
		got, err := b.s.VerificationTests().Get(b.ctx, v.ID)
		require.NoError(t, err)
		require.Equal(t, v, got)
		require.Nil(t, got.TesterID)
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		for field, mod := range map[string]func(*store.VerificationTest){
			"job_id":           func(v *store.VerificationTest) { v.JobID = "" },
			"test_type":        func(v *store.VerificationTest) { v.TestType = "smoke" },
			"result":           func(v *store.VerificationTest) { v.Result = "" },
			"tested_at":        func(v *store.VerificationTest) { v.TestedAt = time.Time{} },
			"duration_seconds": func(v *store.VerificationTest) { v.Duration = -time.Second },
			"files_checked":    func(v *store.VerificationTest) { v.FilesChecked = -1 },
			"files_failed":     func(v *store.VerificationTest) { v.FilesFailed = -1 },
			"restore_target":   func(v *store.VerificationTest) { v.RestoreTarget = repeatRune('鯖', store.MaxShortTextLen+1) },
			"issues":           func(v *store.VerificationTest) { v.Issues = repeatRune('障', store.MaxTextLen+1) },
			"notes":            func(v *store.VerificationTest) { v.Notes = repeatRune('備', store.MaxTextLen+1) },
		} {
			v := newVerificationTest(j.ID)
			mod(v)
			requireValidation(t, b.s.VerificationTests().Create(b.ctx, v), field)
		}
		page, err := b.s.VerificationTests().List(b.ctx, store.ListVerificationTestsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items, "a rejected test stores nothing")
	})

	t.Run("LongestTextFits", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		v := b.verificationTest(t, j.ID, func(v *store.VerificationTest) {
			v.RestoreTarget = repeatRune('鯖', store.MaxShortTextLen)
			v.Issues = repeatRune('障', store.MaxTextLen)
			v.Notes = repeatRune('備', store.MaxTextLen)
		})
		got, err := b.s.VerificationTests().Get(b.ctx, v.ID)
		require.NoError(t, err)
		require.Equal(t, v, got, "MaxTextLen Japanese characters are kept whole")
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		for name, mod := range map[string]func(*store.VerificationTest){
			"job":    func(v *store.VerificationTest) { v.JobID = store.NewID() },
			"copy":   func(v *store.VerificationTest) { v.CopyID = ptr(store.NewID()) },
			"tester": func(v *store.VerificationTest) { v.TesterID = ptr(store.NewID()) },
		} {
			v := newVerificationTest(j.ID)
			mod(v)
			require.ErrorIs(t, b.s.VerificationTests().Create(b.ctx, v), store.ErrForeignKey, "missing %s", name)
		}
	})

	t.Run("DeletingReferencedRows", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		c := b.copy(t, j.ID)
		tester := b.user(t)
		v := b.verificationTest(t, j.ID, func(v *store.VerificationTest) {
			v.CopyID = &c.ID
			v.TesterID = &tester.ID
		})

		require.NoError(t, b.s.Users().Delete(b.ctx, tester.ID))
		got, err := b.s.VerificationTests().Get(b.ctx, v.ID)
		require.NoError(t, err)
		require.Nil(t, got.TesterID, "the test outlives its tester")
		require.Equal(t, &c.ID, got.CopyID)

		require.NoError(t, b.s.Copies().Delete(b.ctx, c.ID))
		got, err = b.s.VerificationTests().Get(b.ctx, v.ID)
		require.NoError(t, err)
		require.Nil(t, got.CopyID, "the test outlives its copy")

		other := b.job(t)
		kept := b.verificationTest(t, other.ID)
		require.NoError(t, b.s.Jobs().Delete(b.ctx, j.ID))
		_, err = b.s.VerificationTests().Get(b.ctx, v.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "deleting a job deletes its tests")
		_, err = b.s.VerificationTests().Get(b.ctx, kept.ID)
		require.NoError(t, err, "other jobs' tests stay")
	})

	t.Run("ListFiltersOrderAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j1, j2 := b.job(t), b.job(t)
		base := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)
		// Inserted out of order; the list orders by tested_at.
		var all []*store.VerificationTest
		for i, h := range []int{5, 1, 3, 0, 4, 2} {
			jobID := j1.ID
			if i%2 == 1 {
				jobID = j2.ID
			}
			all = append(all, b.verificationTest(t, jobID, func(v *store.VerificationTest) {
				v.TestedAt = base.Add(time.Duration(h) * time.Hour)
				if h%3 == 0 {
					v.Result = store.TestFailed
				}
			}))
		}
		list := func(p store.ListVerificationTestsParams) []string {
			t.Helper()
			page, err := b.s.VerificationTests().List(b.ctx, p)
			require.NoError(t, err)
			require.Empty(t, page.NextCursor)
			return ids(page.Items, testID)
		}
		idsWhere := func(keep func(v *store.VerificationTest) bool) []string {
			sorted := slices.Clone(all)
			slices.SortFunc(sorted, func(a, c *store.VerificationTest) int { return c.TestedAt.Compare(a.TestedAt) })
			var out []string
			for _, v := range sorted {
				if keep(v) {
					out = append(out, v.ID)
				}
			}
			return out
		}
		require.Equal(t, idsWhere(func(*store.VerificationTest) bool { return true }),
			list(store.ListVerificationTestsParams{}), "newest first")
		require.Equal(t, idsWhere(func(v *store.VerificationTest) bool { return v.JobID == j2.ID }),
			list(store.ListVerificationTestsParams{JobID: j2.ID}))
		require.Equal(t, idsWhere(func(v *store.VerificationTest) bool { return v.Result == store.TestFailed }),
			list(store.ListVerificationTestsParams{Result: store.TestFailed}))
		require.Len(t, list(store.ListVerificationTestsParams{Result: store.TestFailed}), 2)
		from, to := base.Add(time.Hour), base.Add(4*time.Hour)
		require.Equal(t, idsWhere(func(v *store.VerificationTest) bool {
			return !v.TestedAt.Before(from) && v.TestedAt.Before(to)
		}), list(store.ListVerificationTestsParams{Tested: store.TimeRange{From: from.In(tokyo), To: to.In(tokyo)}}),
			"from is inclusive, to exclusive, whatever the zone")
		require.Len(t, list(store.ListVerificationTestsParams{Tested: store.TimeRange{From: from, To: to}}), 3)
		require.Len(t, list(store.ListVerificationTestsParams{Tested: store.TimeRange{From: from}}), 5)
		require.Len(t, list(store.ListVerificationTestsParams{Tested: store.TimeRange{To: to}}), 4)
		require.Equal(t, idsWhere(func(v *store.VerificationTest) bool {
			return v.JobID == j1.ID && v.Result == store.TestFailed
		}), list(store.ListVerificationTestsParams{JobID: j1.ID, Result: store.TestFailed}))

		// Equal times are ordered by ID, newest first, and pages never split
		// them wrongly.
		same := base.Add(10 * time.Hour)
		for range 3 {
			b.verificationTest(t, j1.ID, func(v *store.VerificationTest) { v.TestedAt = same })
		}
		n := 0
		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.VerificationTest], error) {
			return b.s.VerificationTests().List(b.ctx, store.ListVerificationTestsParams{PageParams: p})
		}, func() {
			n++
			b.verificationTest(t, j2.ID, func(v *store.VerificationTest) { v.TestedAt = base.Add(time.Duration(n) * time.Minute) })
		}, testID)
		require.GreaterOrEqual(t, len(seen), 9)
		page, err := b.s.VerificationTests().List(b.ctx, store.ListVerificationTestsParams{PageParams: store.PageParams{Limit: store.LimitMax}})
		require.NoError(t, err)
		for i := 1; i < len(page.Items); i++ {
			prev, cur := page.Items[i-1], page.Items[i]
			require.False(t, cur.TestedAt.After(prev.TestedAt), "newest first")
			if cur.TestedAt.Equal(prev.TestedAt) {
				require.Less(t, cur.ID, prev.ID, "ties newest ID first")
			}
		}
	})

	t.Run("LatestAndLatestByJobs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j1, j2, j3, none := b.job(t), b.job(t), b.job(t), b.job(t)
		base := time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)

		_, err := b.s.VerificationTests().Latest(b.ctx, none.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.VerificationTests().Latest(b.ctx, store.NewID())
		require.ErrorIs(t, err, store.ErrNotFound)

		// j1: the newest test was recorded first.
		newest := b.verificationTest(t, j1.ID, func(v *store.VerificationTest) {
			v.TestedAt = base.Add(2 * time.Hour)
			v.Result = store.TestFailed
		})
		b.verificationTest(t, j1.ID, func(v *store.VerificationTest) { v.TestedAt = base })
		b.verificationTest(t, j1.ID, func(v *store.VerificationTest) { v.TestedAt = base.Add(time.Hour) })
		// j2: two tests at the same time; the larger ID wins.
		small, large := sortedIDs()
		tieLarge := b.verificationTest(t, j2.ID, func(v *store.VerificationTest) { v.ID = large; v.TestedAt = base })
		b.verificationTest(t, j2.ID, func(v *store.VerificationTest) { v.ID = small; v.TestedAt = base })
		b.verificationTest(t, j2.ID, func(v *store.VerificationTest) { v.TestedAt = base.Add(-time.Hour) })
		// j3: one test.
		only := b.verificationTest(t, j3.ID)

		got, err := b.s.VerificationTests().Latest(b.ctx, j1.ID)
		require.NoError(t, err)
		require.Equal(t, newest, got)
		got, err = b.s.VerificationTests().Latest(b.ctx, j2.ID)
		require.NoError(t, err)
		require.Equal(t, tieLarge, got)

		latest, err := b.s.VerificationTests().LatestByJobs(b.ctx, []string{j1.ID, j2.ID, none.ID, store.NewID()})
		require.NoError(t, err)
		require.ElementsMatch(t, []store.VerificationTest{*newest, *tieLarge}, latest,
			"one test per job that has any; other jobs' tests are not returned")

		latest, err = b.s.VerificationTests().LatestByJobs(b.ctx, []string{j1.ID, j2.ID, j3.ID})
		require.NoError(t, err)
		require.ElementsMatch(t, []store.VerificationTest{*newest, *tieLarge, *only}, latest)

		latest, err = b.s.VerificationTests().LatestByJobs(b.ctx, nil)
		require.NoError(t, err)
		require.Empty(t, latest)
	})

	t.Run("RolledBackCreateLeavesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		v := newVerificationTest(j.ID)
		boom := errors.New("boom")
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			require.NoError(t, tx.VerificationTests().Create(ctx, v))
			got, err := tx.VerificationTests().Latest(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, v.ID, got.ID, "the transaction sees its own write")
			return boom
		})
		require.ErrorIs(t, err, boom)
		_, err = b.s.VerificationTests().Get(b.ctx, v.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func testVerificationSchedules(t *testing.T, newStore NewStoreFunc) {
	schedID := func(s store.VerificationSchedule) string { return s.ID }

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		assignee := b.user(t)
		s := newVerificationSchedule(j.ID)
		s.Frequency = store.FrequencySemiannual
		s.TestType = store.TestBoot
		s.NextDueOn = store.Date{Year: 2028, Month: 2, Day: 29}
		s.AssigneeID = &assignee.ID
		s.CreatedAt = someTime()
		require.NoError(t, b.s.VerificationSchedules().Create(b.ctx, s))
		require.NotEmpty(t, s.ID)
		require.Equal(t, norm(someTime()), s.CreatedAt)
		require.Equal(t, s.CreatedAt, s.UpdatedAt)

		got, err := b.s.VerificationSchedules().Get(b.ctx, s.ID)
		require.NoError(t, err)
		require.Equal(t, s, got)
		require.Nil(t, got.LastTestedOn)

		got.LastTestedOn = &store.Date{Year: 2027, Month: 12, Day: 31}
		got.NextDueOn = store.Date{Year: 2028, Month: 6, Day: 30}
		got.Frequency = store.FrequencyAnnual
		got.TestType = store.TestIntegrity
		got.AssigneeID = nil
		require.NoError(t, b.s.VerificationSchedules().Update(b.ctx, got))
		require.True(t, got.UpdatedAt.After(s.CreatedAt), "updated_at moves")
		again, err := b.s.VerificationSchedules().Get(b.ctx, s.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)
		require.Equal(t, store.Date{Year: 2027, Month: 12, Day: 31}, *again.LastTestedOn, "dates keep their day in every zone")

		require.NoError(t, b.s.VerificationSchedules().Delete(b.ctx, s.ID))
		_, err = b.s.VerificationSchedules().Get(b.ctx, s.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.VerificationSchedules().Delete(b.ctx, s.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.VerificationSchedules().Update(b.ctx, got), store.ErrNotFound)
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		for field, mod := range map[string]func(*store.VerificationSchedule){
			"job_id":      func(s *store.VerificationSchedule) { s.JobID = "" },
			"frequency":   func(s *store.VerificationSchedule) { s.Frequency = "weekly" },
			"test_type":   func(s *store.VerificationSchedule) { s.TestType = "" },
			"next_due_on": func(s *store.VerificationSchedule) { s.NextDueOn = store.Date{} },
		} {
			s := newVerificationSchedule(j.ID)
			mod(s)
			requireValidation(t, b.s.VerificationSchedules().Create(b.ctx, s), field)
			ok := b.verificationSchedule(t, j.ID, func(s *store.VerificationSchedule) { s.Active = false })
			mod(ok)
			requireValidation(t, b.s.VerificationSchedules().Update(b.ctx, ok), field)
		}
	})

	t.Run("OneActiveSchedulePerJob", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j, other := b.job(t), b.job(t)
		_, err := b.s.VerificationSchedules().GetActiveByJob(b.ctx, j.ID)
		require.ErrorIs(t, err, store.ErrNotFound)

		active := b.verificationSchedule(t, j.ID)
		requireConflict(t, b.s.VerificationSchedules().Create(b.ctx, newVerificationSchedule(j.ID)), "job_id")
		inactive := b.verificationSchedule(t, j.ID, func(s *store.VerificationSchedule) { s.Active = false })
		b.verificationSchedule(t, j.ID, func(s *store.VerificationSchedule) { s.Active = false })
		otherActive := b.verificationSchedule(t, other.ID)

		got, err := b.s.VerificationSchedules().GetActiveByJob(b.ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, active, got)

		// Activating a second one is refused too.
		inactive.Active = true
		requireConflict(t, b.s.VerificationSchedules().Update(b.ctx, inactive), "job_id")
		stored, err := b.s.VerificationSchedules().Get(b.ctx, inactive.ID)
		require.NoError(t, err)
		require.False(t, stored.Active)

		// Deactivating frees the slot.
		active.Active = false
		require.NoError(t, b.s.VerificationSchedules().Update(b.ctx, active))
		_, err = b.s.VerificationSchedules().GetActiveByJob(b.ctx, j.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, b.s.VerificationSchedules().Update(b.ctx, inactive))
		got, err = b.s.VerificationSchedules().GetActiveByJob(b.ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, inactive.ID, got.ID)

		// Deleting frees it as well.
		require.NoError(t, b.s.VerificationSchedules().Delete(b.ctx, inactive.ID))
		fresh := b.verificationSchedule(t, j.ID)
		got, err = b.s.VerificationSchedules().GetActiveByJob(b.ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, fresh, got)

		got, err = b.s.VerificationSchedules().GetActiveByJob(b.ctx, other.ID)
		require.NoError(t, err)
		require.Equal(t, otherActive, got, "other jobs keep theirs")
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j := b.job(t)
		require.ErrorIs(t, b.s.VerificationSchedules().Create(b.ctx, newVerificationSchedule(store.NewID())), store.ErrForeignKey)
		s := newVerificationSchedule(j.ID)
		s.AssigneeID = ptr(store.NewID())
		require.ErrorIs(t, b.s.VerificationSchedules().Create(b.ctx, s), store.ErrForeignKey)

		assignee := b.user(t)
		s = b.verificationSchedule(t, j.ID, func(s *store.VerificationSchedule) { s.AssigneeID = &assignee.ID })
		require.NoError(t, b.s.Users().Delete(b.ctx, assignee.ID))
		got, err := b.s.VerificationSchedules().Get(b.ctx, s.ID)
		require.NoError(t, err)
		require.Nil(t, got.AssigneeID, "the schedule outlives its assignee")

		require.NoError(t, b.s.Jobs().Delete(b.ctx, j.ID))
		_, err = b.s.VerificationSchedules().Get(b.ctx, s.ID)
		require.ErrorIs(t, err, store.ErrNotFound, "deleting a job deletes its schedules")
	})

	t.Run("ListFiltersOrderAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		j1, j2 := b.job(t), b.job(t)
		type spec struct {
			job    string
			due    store.Date
			active bool
		}
		specs := []spec{
			{j1.ID, store.Date{Year: 2026, Month: 12, Day: 1}, true},
			{j2.ID, store.Date{Year: 2026, Month: 10, Day: 31}, true},
			{j1.ID, store.Date{Year: 2026, Month: 11, Day: 15}, false},
			{j2.ID, store.Date{Year: 2026, Month: 11, Day: 15}, false},
			{j1.ID, store.Date{Year: 2027, Month: 1, Day: 1}, false},
			{j2.ID, store.Date{Year: 2026, Month: 11, Day: 30}, false},
		}
		var all []*store.VerificationSchedule
		for _, sp := range specs {
			all = append(all, b.verificationSchedule(t, sp.job, func(s *store.VerificationSchedule) {
				s.NextDueOn = sp.due
				s.Active = sp.active
			}))
		}
		sorted := slices.Clone(all)
		slices.SortFunc(sorted, func(a, c *store.VerificationSchedule) int {
			if d := a.NextDueOn.Time().Compare(c.NextDueOn.Time()); d != 0 {
				return d
			}
			return strings.Compare(a.ID, c.ID)
		})
		want := func(keep func(s *store.VerificationSchedule) bool) []string {
			var out []string
			for _, s := range sorted {
				if keep(s) {
					out = append(out, s.ID)
				}
			}
			return out
		}
		list := func(p store.ListVerificationSchedulesParams) []string {
			t.Helper()
			page, err := b.s.VerificationSchedules().List(b.ctx, p)
			require.NoError(t, err)
			require.Empty(t, page.NextCursor)
			return ids(page.Items, schedID)
		}
		require.Equal(t, want(func(*store.VerificationSchedule) bool { return true }),
			list(store.ListVerificationSchedulesParams{}), "soonest due first, ties by ID")
		require.Equal(t, want(func(s *store.VerificationSchedule) bool { return s.JobID == j1.ID }),
			list(store.ListVerificationSchedulesParams{JobID: j1.ID}))
		require.Equal(t, want(func(s *store.VerificationSchedule) bool { return s.Active }),
			list(store.ListVerificationSchedulesParams{Active: ptr(true)}))
		require.Equal(t, want(func(s *store.VerificationSchedule) bool { return !s.Active }),
			list(store.ListVerificationSchedulesParams{Active: ptr(false)}))
		cut := store.Date{Year: 2026, Month: 11, Day: 30}
		overdue := want(func(s *store.VerificationSchedule) bool { return s.NextDueOn.Before(cut) })
		require.Len(t, overdue, 3, "the day itself is not before it")
		require.Equal(t, overdue, list(store.ListVerificationSchedulesParams{DueBefore: &cut}))
		require.Equal(t, want(func(s *store.VerificationSchedule) bool { return s.Active && s.NextDueOn.Before(cut) }),
			list(store.ListVerificationSchedulesParams{DueBefore: &cut, Active: ptr(true)}))

		n := 0
		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.VerificationSchedule], error) {
			return b.s.VerificationSchedules().List(b.ctx, store.ListVerificationSchedulesParams{PageParams: p})
		}, func() {
			n++
			b.verificationSchedule(t, j1.ID, func(s *store.VerificationSchedule) {
				s.Active = false
				s.NextDueOn = store.Date{Year: 2026, Month: 11, Day: 15 + n}
			})
		}, schedID)
		require.GreaterOrEqual(t, len(seen), len(all))
	})
}

func testCompliance(t *testing.T, newStore NewStoreFunc) {
	stateKey := func(s store.ComplianceState) string { return string(s.SubjectType) + "/" + s.SubjectID }
	changeID := func(c store.ComplianceChange) string { return c.ID }

	t.Run("PutStateInsertsThenReplaces", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		id := store.NewID()
		s := newComplianceState(store.SubjectJob, id)
		s.EvaluatedAt = someTime()
		s.ChangedAt = someTime().Add(-time.Hour)
		s.Reasons = []store.ComplianceReason{
			{Rule: "1offsite", Severity: "error", Message: "遠隔地コピーがない（コピー `nas-本社` のみ）"},
			{Rule: "0errors", Severity: "warning", Message: "最終リストアテストは 200 日前 <期限 180 日> & \"quoted\""},
		}
		require.NoError(t, b.s.Compliance().PutState(b.ctx, s))
		require.Equal(t, norm(someTime()), s.EvaluatedAt)
		require.Equal(t, norm(someTime().Add(-time.Hour)), s.ChangedAt)
		got, err := b.s.Compliance().GetState(b.ctx, store.SubjectJob, id)
		require.NoError(t, err)
		require.Equal(t, s, got)

		_, err = b.s.Compliance().GetState(b.ctx, store.SubjectAsset, id)
		require.ErrorIs(t, err, store.ErrNotFound, "the subject type is part of the key")

		next := &store.ComplianceState{
			SubjectType:        store.SubjectJob,
			SubjectID:          id,
			Status:             store.ComplianceCompliant,
			Copies:             3,
			MediaTypes:         2,
			Offsite:            true,
			OfflineOrImmutable: true,
			Verified:           true,
			Score:              100,
			EvaluatedAt:        someTime().Add(time.Hour),
			ChangedAt:          someTime().Add(time.Hour),
		}
		require.NoError(t, b.s.Compliance().PutState(b.ctx, next))
		got, err = b.s.Compliance().GetState(b.ctx, store.SubjectJob, id)
		require.NoError(t, err)
		require.Equal(t, next, got, "a second put replaces every field")
		require.Nil(t, got.Reasons)

		page, err := b.s.Compliance().ListStates(b.ctx, store.ListComplianceStatesParams{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1, "one state per subject")
	})

	t.Run("ChangedAtDefaultsToEvaluatedAt", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		s := newComplianceState(store.SubjectAsset, store.NewID())
		s.ChangedAt = time.Time{}
		s.Reasons = []store.ComplianceReason{}
		require.NoError(t, b.s.Compliance().PutState(b.ctx, s))
		require.Equal(t, s.EvaluatedAt, s.ChangedAt)
		got, err := b.s.Compliance().GetState(b.ctx, s.SubjectType, s.SubjectID)
		require.NoError(t, err)
		require.Equal(t, s, got)
	})

	t.Run("RejectsBadState", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for field, mod := range map[string]func(*store.ComplianceState){
			"subject_type": func(s *store.ComplianceState) { s.SubjectType = "copy" },
			"subject_id":   func(s *store.ComplianceState) { s.SubjectID = "" },
			"status":       func(s *store.ComplianceState) { s.Status = "green" },
			"score":        func(s *store.ComplianceState) { s.Score = 101 },
			"copies":       func(s *store.ComplianceState) { s.Copies = -1 },
			"evaluated_at": func(s *store.ComplianceState) { s.EvaluatedAt = time.Time{} },
		} {
			s := newComplianceState(store.SubjectJob, store.NewID())
			mod(s)
			requireValidation(t, b.s.Compliance().PutState(b.ctx, s), field)
		}
		page, err := b.s.Compliance().ListStates(b.ctx, store.ListComplianceStatesParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
	})

	t.Run("GetStatesReadsSeveralSubjectsOfOneType", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		a, c, d := store.NewID(), store.NewID(), store.NewID()
		sa := b.complianceState(t, store.SubjectJob, a)
		sc := b.complianceState(t, store.SubjectJob, c, func(s *store.ComplianceState) { s.Status = store.ComplianceNonCompliant })
		b.complianceState(t, store.SubjectJob, d)
		b.complianceState(t, store.SubjectAsset, a)

		got, err := b.s.Compliance().GetStates(b.ctx, store.SubjectJob, []string{a, c, store.NewID()})
		require.NoError(t, err)
		require.ElementsMatch(t, []store.ComplianceState{*sa, *sc}, got)

		got, err = b.s.Compliance().GetStates(b.ctx, store.SubjectAsset, []string{a, c})
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, store.SubjectAsset, got[0].SubjectType)

		got, err = b.s.Compliance().GetStates(b.ctx, store.SubjectJob, nil)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("DeleteState", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		id := store.NewID()
		b.complianceState(t, store.SubjectJob, id)
		kept := b.complianceState(t, store.SubjectAsset, id)
		require.NoError(t, b.s.Compliance().DeleteState(b.ctx, store.SubjectJob, id))
		_, err := b.s.Compliance().GetState(b.ctx, store.SubjectJob, id)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Compliance().DeleteState(b.ctx, store.SubjectJob, id), store.ErrNotFound)
		got, err := b.s.Compliance().GetState(b.ctx, store.SubjectAsset, id)
		require.NoError(t, err)
		require.Equal(t, kept, got)
	})

	t.Run("ListStatesFiltersOrderAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		statuses := store.ComplianceStatusValues()
		var all []*store.ComplianceState
		for i := range 8 {
			st := store.SubjectJob
			if i%3 == 0 {
				st = store.SubjectAsset
			}
			all = append(all, b.complianceState(t, st, store.NewID(), func(s *store.ComplianceState) {
				s.Status = statuses[i%len(statuses)]
			}))
		}
		sorted := slices.Clone(all)
		slices.SortFunc(sorted, func(a, c *store.ComplianceState) int {
			if d := strings.Compare(string(a.SubjectType), string(c.SubjectType)); d != 0 {
				return d
			}
			return strings.Compare(a.SubjectID, c.SubjectID)
		})
		want := func(keep func(s *store.ComplianceState) bool) []string {
			var out []string
			for _, s := range sorted {
				if keep(s) {
					out = append(out, stateKey(*s))
				}
			}
			return out
		}
		list := func(p store.ListComplianceStatesParams) []string {
			t.Helper()
			page, err := b.s.Compliance().ListStates(b.ctx, p)
			require.NoError(t, err)
			require.Empty(t, page.NextCursor)
			return ids(page.Items, stateKey)
		}
		require.Equal(t, want(func(*store.ComplianceState) bool { return true }),
			list(store.ListComplianceStatesParams{}), "ordered by subject type, then subject ID")
		require.Equal(t, want(func(s *store.ComplianceState) bool { return s.SubjectType == store.SubjectAsset }),
			list(store.ListComplianceStatesParams{SubjectType: store.SubjectAsset}))
		require.Equal(t, want(func(s *store.ComplianceState) bool { return s.Status == store.ComplianceWarning }),
			list(store.ListComplianceStatesParams{Status: store.ComplianceWarning}))
		jobsWarning := want(func(s *store.ComplianceState) bool {
			return s.SubjectType == store.SubjectJob && s.Status == store.ComplianceWarning
		})
		require.NotEmpty(t, jobsWarning)
		require.Equal(t, jobsWarning, list(store.ListComplianceStatesParams{SubjectType: store.SubjectJob, Status: store.ComplianceWarning}))

		types := []store.SubjectType{store.SubjectJob, store.SubjectAsset}
		n := 0
		seen := paginate(t, 3, func(p store.PageParams) (*store.Page[store.ComplianceState], error) {
			return b.s.Compliance().ListStates(b.ctx, store.ListComplianceStatesParams{PageParams: p})
		}, func() {
			n++
			b.complianceState(t, types[n%2], store.NewID())
		}, stateKey)
		require.GreaterOrEqual(t, len(seen), len(all))
	})

	t.Run("CountByStatus", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		counts, err := b.s.Compliance().CountByStatus(b.ctx, store.SubjectJob)
		require.NoError(t, err)
		for _, st := range store.ComplianceStatusValues() {
			require.Zero(t, counts[st])
		}
		for _, st := range []store.ComplianceStatus{store.ComplianceCompliant, store.ComplianceCompliant, store.ComplianceCompliant, store.ComplianceNonCompliant} {
			b.complianceState(t, store.SubjectJob, store.NewID(), func(s *store.ComplianceState) { s.Status = st })
		}
		b.complianceState(t, store.SubjectAsset, store.NewID(), func(s *store.ComplianceState) { s.Status = store.ComplianceUnknown })
		// Replacing a state moves its subject to the new status.
		id := store.NewID()
		b.complianceState(t, store.SubjectJob, id, func(s *store.ComplianceState) { s.Status = store.ComplianceNonCompliant })
		b.complianceState(t, store.SubjectJob, id, func(s *store.ComplianceState) { s.Status = store.ComplianceWarning })

		counts, err = b.s.Compliance().CountByStatus(b.ctx, store.SubjectJob)
		require.NoError(t, err)
		require.Equal(t, 3, counts[store.ComplianceCompliant])
		require.Equal(t, 1, counts[store.ComplianceWarning])
		require.Equal(t, 1, counts[store.ComplianceNonCompliant])
		require.Zero(t, counts[store.ComplianceUnknown], "assets are not counted with jobs")
		counts, err = b.s.Compliance().CountByStatus(b.ctx, store.SubjectAsset)
		require.NoError(t, err)
		require.Equal(t, 1, counts[store.ComplianceUnknown])
		require.Zero(t, counts[store.ComplianceCompliant])
	})

	t.Run("ChangesRoundTrip", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		subject := store.NewID()
		c := newComplianceChange(store.SubjectAsset, subject)
		c.From = store.ComplianceUnknown
		c.To = store.ComplianceNonCompliant
		c.At = someTime()
		c.Reasons = []store.ComplianceReason{
			{Rule: "3copies", Severity: "error", Message: "新しいコピーが 1 つしかない（必要数 2）"},
			{Rule: "policy", Severity: "warning", Message: "機密区分「限定」の資産"},
		}
		require.NoError(t, b.s.Compliance().AddChange(b.ctx, c))
		require.NotEmpty(t, c.ID)
		require.Equal(t, norm(someTime()), c.At)
		page, err := b.s.Compliance().ListChanges(b.ctx, store.ListComplianceChangesParams{SubjectID: subject})
		require.NoError(t, err)
		require.Equal(t, []store.ComplianceChange{*c}, page.Items)

		none := b.complianceChange(t, store.SubjectJob, store.NewID(), func(c *store.ComplianceChange) { c.Reasons = nil })
		page, err = b.s.Compliance().ListChanges(b.ctx, store.ListComplianceChangesParams{SubjectID: none.SubjectID})
		require.NoError(t, err)
		require.Equal(t, []store.ComplianceChange{*none}, page.Items)
	})

	t.Run("RejectsBadChange", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for field, mod := range map[string]func(*store.ComplianceChange){
			"subject_type": func(c *store.ComplianceChange) { c.SubjectType = "" },
			"subject_id":   func(c *store.ComplianceChange) { c.SubjectID = "" },
			"from":         func(c *store.ComplianceChange) { c.From = "ok" },
			"to":           func(c *store.ComplianceChange) { c.To = "" },
		} {
			c := newComplianceChange(store.SubjectJob, store.NewID())
			mod(c)
			requireValidation(t, b.s.Compliance().AddChange(b.ctx, c), field)
		}
		page, err := b.s.Compliance().ListChanges(b.ctx, store.ListComplianceChangesParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
	})

	t.Run("ListChangesFiltersOrderAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		s1, s2 := store.NewID(), store.NewID()
		base := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
		var all []*store.ComplianceChange
		for i, h := range []int{3, 0, 5, 1, 4, 2} {
			st, id := store.SubjectJob, s1
			switch i % 3 {
			case 1:
				id = s2
			case 2:
				st = store.SubjectAsset
			}
			all = append(all, b.complianceChange(t, st, id, func(c *store.ComplianceChange) {
				c.At = base.Add(time.Duration(h) * time.Hour)
			}))
		}
		sorted := slices.Clone(all)
		slices.SortFunc(sorted, func(a, c *store.ComplianceChange) int { return c.At.Compare(a.At) })
		want := func(keep func(c *store.ComplianceChange) bool) []string {
			var out []string
			for _, c := range sorted {
				if keep(c) {
					out = append(out, c.ID)
				}
			}
			return out
		}
		list := func(p store.ListComplianceChangesParams) []string {
			t.Helper()
			page, err := b.s.Compliance().ListChanges(b.ctx, p)
			require.NoError(t, err)
			require.Empty(t, page.NextCursor)
			return ids(page.Items, changeID)
		}
		require.Equal(t, want(func(*store.ComplianceChange) bool { return true }),
			list(store.ListComplianceChangesParams{}), "newest first")
		require.Equal(t, want(func(c *store.ComplianceChange) bool { return c.SubjectType == store.SubjectAsset }),
			list(store.ListComplianceChangesParams{SubjectType: store.SubjectAsset}))
		jobS1 := want(func(c *store.ComplianceChange) bool { return c.SubjectType == store.SubjectJob && c.SubjectID == s1 })
		require.Len(t, jobS1, 2)
		require.Equal(t, jobS1, list(store.ListComplianceChangesParams{SubjectType: store.SubjectJob, SubjectID: s1}))
		require.Equal(t, want(func(c *store.ComplianceChange) bool { return c.SubjectID == s1 }),
			list(store.ListComplianceChangesParams{SubjectID: s1}))
		from, to := base.Add(time.Hour), base.Add(4*time.Hour)
		inRange := want(func(c *store.ComplianceChange) bool { return !c.At.Before(from) && c.At.Before(to) })
		require.Len(t, inRange, 3)
		require.Equal(t, inRange, list(store.ListComplianceChangesParams{At: store.TimeRange{From: from.In(tokyo), To: to.In(tokyo)}}),
			"from is inclusive, to exclusive")

		// Changes at the same instant stay in a total order.
		for range 3 {
			b.complianceChange(t, store.SubjectJob, s1, func(c *store.ComplianceChange) { c.At = base.Add(10 * time.Hour) })
		}
		n := 0
		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.ComplianceChange], error) {
			return b.s.Compliance().ListChanges(b.ctx, store.ListComplianceChangesParams{PageParams: p})
		}, func() {
			n++
			b.complianceChange(t, store.SubjectJob, s2, func(c *store.ComplianceChange) { c.At = base.Add(time.Duration(n) * time.Minute) })
		}, changeID)
		require.GreaterOrEqual(t, len(seen), 9)
	})

	t.Run("DeletingASubjectRemovesItsCompliance", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		a, kept := b.asset(t), b.asset(t)
		b.complianceState(t, store.SubjectAsset, a.ID)
		b.complianceChange(t, store.SubjectAsset, a.ID)
		keptState := b.complianceState(t, store.SubjectAsset, kept.ID)
		keptChange := b.complianceChange(t, store.SubjectAsset, kept.ID)
		require.NoError(t, b.s.Assets().Delete(b.ctx, a.ID))
		_, err := b.s.Compliance().GetState(b.ctx, store.SubjectAsset, a.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		page, err := b.s.Compliance().ListChanges(b.ctx, store.ListComplianceChangesParams{SubjectID: a.ID})
		require.NoError(t, err)
		require.Empty(t, page.Items)

		j := b.job(t)
		b.complianceState(t, store.SubjectJob, j.ID)
		b.complianceChange(t, store.SubjectJob, j.ID)
		require.NoError(t, b.s.Jobs().Delete(b.ctx, j.ID))
		_, err = b.s.Compliance().GetState(b.ctx, store.SubjectJob, j.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		page, err = b.s.Compliance().ListChanges(b.ctx, store.ListComplianceChangesParams{SubjectID: j.ID})
		require.NoError(t, err)
		require.Empty(t, page.Items)

		got, err := b.s.Compliance().GetState(b.ctx, store.SubjectAsset, kept.ID)
		require.NoError(t, err)
		require.Equal(t, keptState, got)
		page, err = b.s.Compliance().ListChanges(b.ctx, store.ListComplianceChangesParams{})
		require.NoError(t, err)
		require.Equal(t, []store.ComplianceChange{*keptChange}, page.Items)
	})

	t.Run("RolledBackPutLeavesNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		id := store.NewID()
		before := b.complianceState(t, store.SubjectJob, id)
		boom := errors.New("boom")
		err := b.s.InTx(b.ctx, func(ctx context.Context, tx store.Repos) error {
			s := newComplianceState(store.SubjectJob, id)
			s.Status = store.ComplianceNonCompliant
			require.NoError(t, tx.Compliance().PutState(ctx, s))
			require.NoError(t, tx.Compliance().AddChange(ctx, newComplianceChange(store.SubjectJob, id)))
			return boom
		})
		require.ErrorIs(t, err, boom)
		got, err := b.s.Compliance().GetState(b.ctx, store.SubjectJob, id)
		require.NoError(t, err)
		require.Equal(t, before, got)
		page, err := b.s.Compliance().ListChanges(b.ctx, store.ListComplianceChangesParams{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
	})
}

func newRollup(day store.Date) *store.DailyRollup {
	return &store.DailyRollup{
		Day:                day,
		ExecutionsSuccess:  120,
		ExecutionsWarning:  4,
		ExecutionsFailed:   2,
		ExecutionsCanceled: 1,
		ExecutionsMissed:   3,
		BytesWritten:       5 << 40,
		JobsCompliant:      40,
		JobsWarning:        5,
		JobsNonCompliant:   2,
		JobsUnknown:        1,
	}
}

func testRollups(t *testing.T, newStore NewStoreFunc) {
	t.Run("PutGetReplace", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		day := store.Date{Year: 2028, Month: 2, Day: 29}
		_, err := b.s.Rollups().Get(b.ctx, day)
		require.ErrorIs(t, err, store.ErrNotFound)

		r := newRollup(day)
		require.NoError(t, b.s.Rollups().Put(b.ctx, r))
		require.False(t, r.UpdatedAt.IsZero(), "updated_at is set by the store")
		got, err := b.s.Rollups().Get(b.ctx, day)
		require.NoError(t, err)
		require.Equal(t, r, got)

		r2 := &store.DailyRollup{Day: day, ExecutionsSuccess: 7, BytesWritten: 1, JobsUnknown: 9}
		require.NoError(t, b.s.Rollups().Put(b.ctx, r2))
		got, err = b.s.Rollups().Get(b.ctx, day)
		require.NoError(t, err)
		require.Equal(t, r2, got, "a second put replaces the day")
		all, err := b.s.Rollups().List(b.ctx, day, day)
		require.NoError(t, err)
		require.Len(t, all, 1, "one row per day")

		_, err = b.s.Rollups().Get(b.ctx, day.AddDays(1))
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.s.Rollups().Get(b.ctx, day.AddDays(-1))
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		requireValidation(t, b.s.Rollups().Put(b.ctx, newRollup(store.Date{})), "day")
		neg := newRollup(store.Date{Year: 2026, Month: 11, Day: 1})
		neg.ExecutionsFailed = -1
		requireValidation(t, b.s.Rollups().Put(b.ctx, neg), "executions_failed")
		_, err := b.s.Rollups().Get(b.ctx, neg.Day)
		require.ErrorIs(t, err, store.ErrNotFound)
	})

	t.Run("ListIsInclusiveOldestFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		start := store.Date{Year: 2026, Month: 12, Day: 28}
		for _, n := range []int{4, 0, 2, 6, 1, 5, 3} {
			r := newRollup(start.AddDays(n))
			r.ExecutionsSuccess = int64(n)
			require.NoError(t, b.s.Rollups().Put(b.ctx, r))
		}
		days := func(rs []store.DailyRollup) []store.Date {
			out := make([]store.Date, len(rs))
			for i, r := range rs {
				out[i] = r.Day
			}
			return out
		}
		got, err := b.s.Rollups().List(b.ctx, start.AddDays(1), start.AddDays(4))
		require.NoError(t, err)
		require.Equal(t, []store.Date{
			{Year: 2026, Month: 12, Day: 29}, {Year: 2026, Month: 12, Day: 30},
			{Year: 2026, Month: 12, Day: 31}, {Year: 2027, Month: 1, Day: 1},
		}, days(got), "both ends are included, across the year end")
		for _, r := range got {
			require.Equal(t, int64(int(r.Day.Time().Sub(start.Time())/(24*time.Hour))), r.ExecutionsSuccess)
		}
		got, err = b.s.Rollups().List(b.ctx, start.AddDays(-10), start.AddDays(100))
		require.NoError(t, err)
		require.Len(t, got, 7)
		got, err = b.s.Rollups().List(b.ctx, start.AddDays(3), start.AddDays(3))
		require.NoError(t, err)
		require.Equal(t, []store.Date{start.AddDays(3)}, days(got))
		got, err = b.s.Rollups().List(b.ctx, start.AddDays(10), start.AddDays(20))
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("DeleteBefore", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		start := store.Date{Year: 2026, Month: 11, Day: 1}
		for n := range 5 {
			require.NoError(t, b.s.Rollups().Put(b.ctx, newRollup(start.AddDays(n))))
		}
		n, err := b.s.Rollups().DeleteBefore(b.ctx, start.AddDays(3))
		require.NoError(t, err)
		require.Equal(t, int64(3), n)
		got, err := b.s.Rollups().List(b.ctx, start.AddDays(-1), start.AddDays(10))
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, start.AddDays(3), got[0].Day, "the day itself is kept")
		n, err = b.s.Rollups().DeleteBefore(b.ctx, start.AddDays(3))
		require.NoError(t, err)
		require.Zero(t, n)
	})
}
