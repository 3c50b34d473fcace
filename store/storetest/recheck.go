package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("ComplianceRecheck", testComplianceRecheck)

// testComplianceRecheck checks the optional store.ComplianceRecheckWriter
// (on the repositories of a transaction) and store.DueComplianceReader
// capabilities. Stores without a capability skip its tests.
func testComplianceRecheck(t *testing.T, newStore NewStoreFunc) {
	t.Run("RecheckWriterPutsTheStateWithItsTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		ctx := b.ctx
		j := b.job(t)
		st := newComplianceState(store.SubjectJob, j.ID)
		recheck := st.EvaluatedAt.Add(90*time.Minute + 1234*time.Nanosecond)
		err := b.s.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
			w, ok := tx.(store.ComplianceRecheckWriter)
			if !ok {
				t.Skip("repositories have no PutStateRecheck")
			}
			requireValidation(t, w.PutStateRecheck(ctx, st, time.Time{}), "recheck_at")
			return w.PutStateRecheck(ctx, st, recheck)
		})
		require.NoError(t, err)
		// The same state as PutState stores.
		got, err := b.s.Compliance().GetState(ctx, store.SubjectJob, j.ID)
		require.NoError(t, err)
		require.Equal(t, st, got)

		if r, ok := b.s.(store.ComplianceInputReader); ok {
			page, err := r.JobComplianceInputs(ctx, store.ComplianceInputsParams{})
			require.NoError(t, err)
			require.Len(t, page.Jobs, 1)
			require.NotNil(t, page.Jobs[0].State)
			require.Equal(t, store.NormalizeTime(recheck), page.Jobs[0].State.RecheckAt)
			// PutState clears it.
			require.NoError(t, b.s.Compliance().PutState(ctx, st))
			page, err = r.JobComplianceInputs(ctx, store.ComplianceInputsParams{})
			require.NoError(t, err)
			require.Zero(t, page.Jobs[0].State.RecheckAt)
		}
	})

	t.Run("DueListsDueStatesAndSubjectsWithoutOne", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r, ok := b.s.(store.DueComplianceReader)
		if !ok {
			t.Skip("store has no DueCompliance")
		}
		ctx := b.ctx
		now := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
		put := func(subject store.SubjectType, id string, recheck time.Time) {
			t.Helper()
			st := newComplianceState(subject, id)
			err := b.s.InTx(ctx, func(ctx context.Context, tx store.Repos) error {
				w, ok := tx.(store.ComplianceRecheckWriter)
				if !ok {
					t.Skip("repositories have no PutStateRecheck to set recheck times with")
				}
				if recheck.IsZero() {
					return tx.Compliance().PutState(ctx, st)
				}
				return w.PutStateRecheck(ctx, st, recheck)
			})
			require.NoError(t, err)
		}
		var wantJobs, wantAssets []string
		job := func(active bool) string {
			return b.job(t, func(j *store.Job) { j.Active = active }).ID
		}
		// Due at now exactly, past, and put without a recheck time.
		for _, at := range []time.Time{now, now.Add(-time.Hour), {}} {
			id := job(true)
			put(store.SubjectJob, id, at)
			wantJobs = append(wantJobs, id)
		}
		// Not yet due.
		put(store.SubjectJob, job(true), now.Add(time.Microsecond))
		// Active without a state; an inactive one without is not listed, an
		// inactive one's due state is.
		wantJobs = append(wantJobs, job(true))
		job(false)
		gone := job(false)
		put(store.SubjectJob, gone, now.Add(-time.Minute))
		wantJobs = append(wantJobs, gone)

		for i, at := range []time.Time{now.Add(-time.Second), now.Add(time.Hour), {}} {
			a := b.asset(t)
			switch i {
			case 0:
				put(store.SubjectAsset, a.ID, at)
				wantAssets = append(wantAssets, a.ID)
			case 1:
				put(store.SubjectAsset, a.ID, at)
			default:
				wantAssets = append(wantAssets, a.ID)
			}
		}
		slices.Sort(wantJobs)
		slices.Sort(wantAssets)

		list := func(subject store.SubjectType) []string {
			t.Helper()
			var ids []string
			p := store.DueComplianceParams{SubjectType: subject, Now: now, Limit: 2}
			for pages := 0; ; pages++ {
				require.Less(t, pages, 10)
				page, err := r.DueCompliance(ctx, p)
				require.NoError(t, err)
				require.LessOrEqual(t, len(page.IDs), 2)
				ids = append(ids, page.IDs...)
				if page.NextCursor == "" {
					return ids
				}
				p.Cursor = page.NextCursor
			}
		}
		require.Equal(t, wantJobs, list(store.SubjectJob))
		require.Equal(t, wantAssets, list(store.SubjectAsset))
	})

	t.Run("DueRejectsBadParams", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		r, ok := b.s.(store.DueComplianceReader)
		if !ok {
			t.Skip("store has no DueCompliance")
		}
		now := time.Now()
		_, err := r.DueCompliance(b.ctx, store.DueComplianceParams{SubjectType: "user", Now: now})
		requireValidation(t, err, "subject_type")
		_, err = r.DueCompliance(b.ctx, store.DueComplianceParams{SubjectType: store.SubjectJob, Now: now, Limit: store.ComplianceInputsLimitMax + 1})
		requireValidation(t, err, "limit")
		_, err = r.DueCompliance(b.ctx, store.DueComplianceParams{SubjectType: store.SubjectAsset, Now: now, Cursor: "not a cursor"})
		requireValidation(t, err, "cursor")
	})
}
