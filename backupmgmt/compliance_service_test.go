package backupmgmt

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// copyFixture stores a copy of a job, last written at written (nil: never).
func (b *testBundle) copyFixture(t testing.TB, jobID, name string, media store.MediaType, mod func(c *store.Copy)) *store.Copy {
	t.Helper()
	c := &store.Copy{JobID: jobID, Name: name, Role: store.CopyRolePrimary, MediaType: media, Status: store.CopyStatusOK, CreatedAt: b.svc.Now()}
	if mod != nil {
		mod(c)
	}
	require.NoError(t, b.store.Copies().Create(t.Context(), c))
	return c
}

// compliantJob stores a job that meets the full 3-2-1-1-0 rule now: a NAS
// copy and an offsite, offline tape, both written an hour ago, and a passing
// restore test yesterday.
func (b *testBundle) compliantJob(t testing.TB, name string, mod func(j *store.Job)) (*store.Job, []*store.Copy) {
	t.Helper()
	j := b.jobFixture(t, name, func(j *store.Job) {
		j.RPOTarget = 24 * time.Hour
		if mod != nil {
			mod(j)
		}
	})
	written := b.svc.Now().Add(-time.Hour)
	nas := b.copyFixture(t, j.ID, "nas", store.MediaNAS, func(c *store.Copy) { c.LastWrittenAt = &written; c.Encrypted = true })
	tape := b.copyFixture(t, j.ID, "tape", store.MediaTape, func(c *store.Copy) {
		c.LastWrittenAt = &written
		c.Offsite, c.Offline, c.Encrypted = true, true, true
		c.Role = store.CopyRoleOffline
	})
	vt := &store.VerificationTest{JobID: j.ID, TestType: store.TestFullRestore, Result: store.TestSuccess, TestedAt: b.svc.Now().Add(-24 * time.Hour), CreatedAt: b.svc.Now()}
	require.NoError(t, b.store.VerificationTests().Create(t.Context(), vt))
	return j, []*store.Copy{nas, tape}
}

func (b *testBundle) history(t testing.TB, subjectType store.SubjectType, id string) []store.ComplianceChange {
	t.Helper()
	page, err := b.svc.Compliance().History(t.Context(), store.ListComplianceChangesParams{SubjectType: subjectType, SubjectID: id})
	require.NoError(t, err)
	return page.Items
}

func (b *testBundle) unresolved(t testing.TB, typ store.AlertType, subject string) *store.Alert {
	t.Helper()
	a, err := b.store.Alerts().GetUnresolved(t.Context(), AlertKey(typ, subject))
	if err != nil {
		require.ErrorIs(t, err, store.ErrNotFound)
		return nil
	}
	return a
}

func TestComplianceService(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("StoresTransitionsOnlyAndRaisesAndResolvesAlerts", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			j, copies := b.compliantJob(t, "erp", nil)

			st, err := b.svc.Compliance().EvaluateJob(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceCompliant, st.Status)
			require.Equal(t, 100, st.Score)
			first := st.ChangedAt

			// Nothing changed: no new history row, the state is not rewritten.
			b.clock.Advance(time.Minute)
			st, err = b.svc.Compliance().EvaluateJob(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, first, st.EvaluatedAt)
			require.Len(t, b.history(t, store.SubjectJob, j.ID), 1)

			// The tape goes stale after 7 days: non_compliant, one history row,
			// one violation alert naming the evidence.
			b.clock.Advance(8 * 24 * time.Hour)
			nas := copies[0]
			now := b.svc.Now()
			nas.LastWrittenAt = &now
			require.NoError(t, b.store.Copies().Update(ctx, nas))
			st, err = b.svc.Compliance().EvaluateJob(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceNonCompliant, st.Status)
			require.False(t, st.Offsite)
			require.Equal(t, b.svc.Now(), st.ChangedAt)
			h := b.history(t, store.SubjectJob, j.ID)
			require.Len(t, h, 2)
			require.Equal(t, store.ComplianceCompliant, h[0].From)
			require.Equal(t, store.ComplianceNonCompliant, h[0].To)
			a := b.unresolved(t, store.AlertComplianceViolation, jobSubject(j.ID))
			require.NotNil(t, a)
			require.Equal(t, store.SeverityError, a.Severity)
			require.Contains(t, a.Message, "copy `tape`")

			// Written again: compliant, the alert resolves by itself.
			b.clock.Advance(time.Hour)
			now = b.svc.Now()
			tape := copies[1]
			tape.LastWrittenAt = &now
			require.NoError(t, b.store.Copies().Update(ctx, tape))
			st, err = b.svc.Compliance().EvaluateJob(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceCompliant, st.Status)
			require.Nil(t, b.unresolved(t, store.AlertComplianceViolation, jobSubject(j.ID)))
			require.Len(t, b.history(t, store.SubjectJob, j.ID), 3)

			sum, err := b.svc.Compliance().Summary(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, sum.Jobs[store.ComplianceCompliant])
			require.InDelta(t, 1.0, sum.Rate, 1e-9)
		})

		t.Run("EvaluatesTheAssetAndEscalatesRestricted", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			asset := &store.Asset{Name: "Payroll", Classification: store.ClassificationRestricted}
			require.NoError(t, b.store.Assets().Create(ctx, asset))
			// Restricted requires encryption: a copy without it violates.
			j, _ := b.compliantJob(t, "payroll-db", func(j *store.Job) { j.AssetID = &asset.ID; j.RetentionDays = 7 * 365 })
			b.copyFixture(t, j.ID, "cloud", store.MediaCloudObject, func(c *store.Copy) { now := b.svc.Now(); c.LastWrittenAt = &now })

			st, err := b.svc.Compliance().EvaluateJob(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceNonCompliant, st.Status)
			a := b.unresolved(t, store.AlertComplianceViolation, jobSubject(j.ID))
			require.NotNil(t, a)
			require.Equal(t, store.SeverityCritical, a.Severity)

			ast, err := b.svc.Compliance().State(ctx, store.SubjectAsset, asset.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceNonCompliant, ast.Status)
			require.Equal(t, 3, ast.Copies)
			require.NotNil(t, b.unresolved(t, store.AlertComplianceViolation, assetSubject(asset.ID)))
		})

		t.Run("WarningReplacesViolation", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			asset := &store.Asset{Name: "Intranet", Classification: store.ClassificationInternal}
			require.NoError(t, b.store.Assets().Create(ctx, asset))
			j := b.jobFixture(t, "wiki", func(j *store.Job) { j.AssetID = &asset.ID; j.RPOTarget = 24 * time.Hour; j.RetentionDays = 3 * 365 })

			// No copies: internal requires one.
			st, err := b.svc.Compliance().EvaluateJob(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceNonCompliant, st.Status)
			require.NotNil(t, b.unresolved(t, store.AlertComplianceViolation, jobSubject(j.ID)))

			// One fresh NAS copy: only recommended parts fail → warning.
			now := b.svc.Now()
			b.copyFixture(t, j.ID, "nas", store.MediaNAS, func(c *store.Copy) { c.LastWrittenAt = &now })
			st, err = b.svc.Compliance().EvaluateJob(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceWarning, st.Status)
			require.Nil(t, b.unresolved(t, store.AlertComplianceViolation, jobSubject(j.ID)))
			w := b.unresolved(t, store.AlertComplianceWarning, jobSubject(j.ID))
			require.NotNil(t, w)
			require.Equal(t, store.SeverityWarning, w.Severity)
		})

		t.Run("InactiveJobHasNoState", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			j, _ := b.compliantJob(t, "old", nil)
			_, err := b.svc.Compliance().EvaluateJob(ctx, j.ID)
			require.NoError(t, err)
			j.Active = false
			require.NoError(t, b.store.Jobs().Update(ctx, j))
			st, err := b.svc.Compliance().EvaluateJob(ctx, j.ID)
			require.NoError(t, err)
			require.Nil(t, st)
			_, err = b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
			require.ErrorIs(t, err, store.ErrNotFound)
		})
	})
}
