package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("ComplianceInputs", testComplianceInputs)

// testComplianceInputs checks the optional store.ComplianceInputReader
// capability against the repositories it stands for: every page, job by
// job, holds what Jobs().List, Copies().ListByJobs,
// VerificationTests().LatestByJobs, VerificationSchedules().GetActiveByJob,
// Assets().GetMany and Compliance().GetStates give, in the fields it
// promises; and the same for store.AssetComplianceInputReader against
// Assets().List and Compliance().GetState. Stores without a capability skip
// its tests.
func testComplianceInputs(t *testing.T, newStore NewStoreFunc) {
	t.Run("AgreesWithTheRepositories", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r, ok := b.s.(store.ComplianceInputReader)
		if !ok {
			t.Skip("store has no JobComplianceInputs")
		}
		ctx := b.ctx
		restricted := b.asset(t, func(a *store.Asset) { a.Classification = store.ClassificationRestricted })
		public := b.asset(t, func(a *store.Asset) { a.Classification = store.ClassificationPublic })
		at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
		for i := range 13 {
			j := b.job(t, func(j *store.Job) {
				// Names out of creation order, and in mixed case.
				j.Name = fmt.Sprintf("Sweep-%02d-%s", (i*7)%13, uniq())
				j.RetentionDays = 30 * i
				j.Active = i%5 != 4
				switch i % 3 {
				case 0:
					j.AssetID = &restricted.ID
				case 1:
					j.AssetID = &public.ID
				}
				switch i % 4 {
				case 0:
					j.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: 6 * time.Hour}
				case 1:
					j.Schedule = store.Schedule{Kind: store.ScheduleManual}
					j.RPOTarget = 0
				}
			})
			for k := range i % 4 {
				b.copy(t, j.ID, func(c *store.Copy) {
					c.Name = fmt.Sprintf("copy-%d-%s", 3-k, uniq())
					c.MediaType = []store.MediaType{store.MediaDisk, store.MediaTape, store.MediaCloudObject}[k]
					c.Offsite, c.Offline, c.Immutable, c.Encrypted = k == 1, k == 2, k != 1, k != 0
					c.Status = []store.CopyStatus{store.CopyStatusOK, store.CopyStatusFailed, store.CopyStatusWarning}[k]
					if k > 0 {
						w := someTime().Add(time.Duration(k) * time.Hour)
						c.LastWrittenAt = &w
					}
					if k == 2 {
						u := someTime().Add(90 * 24 * time.Hour)
						c.ImmutableUntil = &u
					}
				})
			}
			for k := range i % 3 {
				test := newVerificationTest(j.ID)
				test.TestedAt = at.Add(time.Duration(i+k) * time.Hour)
				test.Result = []store.TestResult{store.TestFailed, store.TestWarning}[k]
				require.NoError(t, b.s.VerificationTests().Create(ctx, test))
			}
			if i%3 == 2 {
				// A tie on tested_at goes to the larger id.
				tie := newVerificationTest(j.ID)
				tie.TestedAt = at.Add(time.Duration(i+1) * time.Hour)
				require.NoError(t, b.s.VerificationTests().Create(ctx, tie))
			}
			if i%4 == 3 {
				b.verificationSchedule(t, j.ID, func(s *store.VerificationSchedule) { s.Active = i%8 == 3 })
			}
			if i%2 == 0 {
				st := newComplianceState(store.SubjectJob, j.ID)
				st.Offsite, st.Verified, st.OfflineOrImmutable = i%4 == 0, i%3 == 0, true
				if i%6 == 0 {
					st.Reasons = nil
				}
				require.NoError(t, b.s.Compliance().PutState(ctx, st))
			}
		}

		var got []store.JobComplianceInput
		assets := map[string]*store.Asset{}
		p := store.ComplianceInputsParams{Limit: 4}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10)
			page, err := r.JobComplianceInputs(ctx, p)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Jobs), 4)
			got = append(got, page.Jobs...)
			for id, a := range page.Assets {
				assets[id] = a
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}

		lp := store.ListJobsParams{}
		lp.Limit = store.LimitMax
		jobs, err := b.s.Jobs().List(ctx, lp)
		require.NoError(t, err)
		require.Empty(t, jobs.NextCursor)
		require.Len(t, got, len(jobs.Items))
		var ids, assetIDs []string
		for _, j := range jobs.Items {
			ids = append(ids, j.ID)
			if j.AssetID != nil && j.Active {
				assetIDs = append(assetIDs, *j.AssetID)
			}
		}
		copies, err := b.s.Copies().ListByJobs(ctx, ids)
		require.NoError(t, err)
		tests, err := b.s.VerificationTests().LatestByJobs(ctx, ids)
		require.NoError(t, err)
		states, err := b.s.Compliance().GetStates(ctx, store.SubjectJob, ids)
		require.NoError(t, err)
		stateOf := map[string]*store.ComplianceState{}
		for i := range states {
			stateOf[states[i].SubjectID] = &states[i]
		}
		testOf := map[string]*store.VerificationTest{}
		for i := range tests {
			testOf[tests[i].JobID] = &tests[i]
		}
		withStates, withTests, withSchedules, withCopies := 0, 0, 0, 0
		for i, j := range jobs.Items {
			in := got[i]
			require.Equal(t, store.Job{
				ID: j.ID, Name: j.Name, AssetID: j.AssetID, Active: j.Active,
				Schedule:      store.Schedule{Kind: j.Schedule.Kind, Interval: j.Schedule.Interval},
				RetentionDays: j.RetentionDays, RPOTarget: j.RPOTarget,
			}, in.Job, "job %d in name order", i)
			if !j.Active {
				require.Nil(t, in.Copies)
				require.Nil(t, in.LatestTest)
				require.Nil(t, in.Schedule)
				require.Nil(t, in.State)
				continue
			}

			want := []store.Copy{}
			for _, c := range copies {
				if c.JobID == j.ID {
					want = append(want, store.Copy{
						JobID: c.JobID, Name: c.Name, MediaType: c.MediaType, Offsite: c.Offsite, Offline: c.Offline,
						Immutable: c.Immutable, ImmutableUntil: c.ImmutableUntil, Encrypted: c.Encrypted,
						LastWrittenAt: c.LastWrittenAt, Status: c.Status,
					})
				}
			}
			require.Equal(t, want, in.Copies, "copies of %s", j.Name)
			withCopies += len(want)

			if lt := testOf[j.ID]; lt == nil {
				require.Nil(t, in.LatestTest)
			} else {
				withTests++
				require.Equal(t, &store.VerificationTest{JobID: j.ID, Result: lt.Result, TestedAt: lt.TestedAt}, in.LatestTest)
			}

			sched, err := b.s.VerificationSchedules().GetActiveByJob(ctx, j.ID)
			if errors.Is(err, store.ErrNotFound) {
				require.Nil(t, in.Schedule)
			} else {
				require.NoError(t, err)
				withSchedules++
				require.Equal(t, &store.VerificationSchedule{JobID: j.ID, NextDueOn: sched.NextDueOn, Active: true}, in.Schedule)
			}

			st := stateOf[j.ID]
			if st == nil {
				require.Nil(t, in.State)
				continue
			}
			withStates++
			requireStoredState(t, st, in.State)
		}
		// The fixtures cover every kind of input.
		require.NotZero(t, withStates)
		require.NotZero(t, withTests)
		require.NotZero(t, withSchedules)
		require.NotZero(t, withCopies)

		want, err := b.s.Assets().GetMany(ctx, assetIDs)
		require.NoError(t, err)
		require.Len(t, assets, len(want))
		for _, a := range want {
			require.Equal(t, &store.Asset{ID: a.ID, Classification: a.Classification}, assets[a.ID])
		}
	})

	t.Run("AssetsAgreeWithTheRepositories", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r, ok := b.s.(store.AssetComplianceInputReader)
		if !ok {
			t.Skip("store has no AssetComplianceInputs")
		}
		ctx := b.ctx
		for i := range 7 {
			a := b.asset(t, func(a *store.Asset) {
				a.Name = fmt.Sprintf("Sweep-%02d-%s", (i*3)%7, uniq())
				a.Classification = []store.Classification{
					store.ClassificationRestricted, store.ClassificationInternal, store.ClassificationPublic,
				}[i%3]
			})
			if i%2 == 0 {
				st := newComplianceState(store.SubjectAsset, a.ID)
				st.Verified, st.Score = i%4 == 0, 10*i
				if i == 4 {
					st.Reasons = nil
				}
				require.NoError(t, b.s.Compliance().PutState(ctx, st))
			}
		}
		// A job's state of the same ID is not an asset's.
		require.NoError(t, b.s.Compliance().PutState(ctx, newComplianceState(store.SubjectJob, "not-an-asset")))

		var got []store.AssetComplianceInput
		p := store.ComplianceInputsParams{Limit: 3}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			page, err := r.AssetComplianceInputs(ctx, p)
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Assets), 3)
			got = append(got, page.Assets...)
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		lp := store.ListAssetsParams{}
		lp.Limit = store.LimitMax
		assets, err := b.s.Assets().List(ctx, lp)
		require.NoError(t, err)
		require.Len(t, got, len(assets.Items))
		withStates := 0
		for i, a := range assets.Items {
			require.Equal(t, store.Asset{ID: a.ID, Name: a.Name, Classification: a.Classification}, got[i].Asset)
			st, err := b.s.Compliance().GetState(ctx, store.SubjectAsset, a.ID)
			if errors.Is(err, store.ErrNotFound) {
				require.Nil(t, got[i].State)
				continue
			}
			require.NoError(t, err)
			withStates++
			requireStoredState(t, st, got[i].State)
		}
		require.NotZero(t, withStates)
	})

	t.Run("EmptyStoreHasOneEmptyPage", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r, ok := b.s.(store.ComplianceInputReader)
		if !ok {
			t.Skip("store has no JobComplianceInputs")
		}
		page, err := r.JobComplianceInputs(b.ctx, store.ComplianceInputsParams{})
		require.NoError(t, err)
		require.Empty(t, page.Jobs)
		require.Empty(t, page.NextCursor)
		if ar, ok := b.s.(store.AssetComplianceInputReader); ok {
			page, err := ar.AssetComplianceInputs(b.ctx, store.ComplianceInputsParams{})
			require.NoError(t, err)
			require.Empty(t, page.Assets)
			require.Empty(t, page.NextCursor)
		}
	})

	t.Run("RejectsABadLimitOrCursor", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r, ok := b.s.(store.ComplianceInputReader)
		if !ok {
			t.Skip("store has no JobComplianceInputs")
		}
		_, err := r.JobComplianceInputs(b.ctx, store.ComplianceInputsParams{Limit: store.ComplianceInputsLimitMax + 1})
		requireValidation(t, err, "limit")
		_, err = r.JobComplianceInputs(b.ctx, store.ComplianceInputsParams{Limit: -1})
		requireValidation(t, err, "limit")
		_, err = r.JobComplianceInputs(b.ctx, store.ComplianceInputsParams{Cursor: "not a cursor"})
		requireValidation(t, err, "cursor")
		if ar, ok := b.s.(store.AssetComplianceInputReader); ok {
			_, err = ar.AssetComplianceInputs(b.ctx, store.ComplianceInputsParams{Limit: store.ComplianceInputsLimitMax + 1})
			requireValidation(t, err, "limit")
			_, err = ar.AssetComplianceInputs(b.ctx, store.ComplianceInputsParams{Cursor: "not a cursor"})
			requireValidation(t, err, "cursor")
		}
	})
}

// requireStoredState checks got against the state GetState read.
func requireStoredState(t *testing.T, want *store.ComplianceState, got *store.StoredComplianceState) {
	t.Helper()
	require.NotNil(t, got)
	var reasons []store.ComplianceReason
	require.NoError(t, json.Unmarshal([]byte(got.ReasonsJSON), &reasons))
	if len(reasons) == 0 {
		reasons = nil
	}
	require.Equal(t, want.Reasons, reasons)
	require.Equal(t, store.StoredComplianceState{
		Status: want.Status, Copies: want.Copies, MediaTypes: want.MediaTypes, Offsite: want.Offsite,
		OfflineOrImmutable: want.OfflineOrImmutable, Verified: want.Verified, Score: want.Score,
		EvaluatedAt: want.EvaluatedAt, ReasonsJSON: got.ReasonsJSON,
	}, *got)
}
