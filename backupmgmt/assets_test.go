package backupmgmt

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestAssetsCreate(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		owner := b.userFixture(t, "olga", store.RoleOperator)

		t.Run("StoresAndEvaluatesTheAsset", func(t *testing.T) {
			t.Parallel()
			a, err := b.svc.Assets().Create(ctx, AssetParams{Name: "ERP database", Description: "SAP", Classification: store.ClassificationRestricted, OwnerID: &owner.ID})
			require.NoError(t, err)
			got, err := b.svc.Assets().Get(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, a, got)
			st, err := b.svc.Compliance().State(ctx, store.SubjectAsset, a.ID)
			require.NoError(t, err)
			require.Equal(t, store.ComplianceNonCompliant, st.Status, "no job protects it yet")
			_, err = b.svc.Assets().Create(ctx, AssetParams{Name: "erp DATABASE", Classification: store.ClassificationPublic})
			require.ErrorIs(t, err, store.ErrConflict)
		})

		t.Run("RefusesBadInputNamingEveryField", func(t *testing.T) {
			t.Parallel()
			_, err := b.svc.Assets().Create(ctx, AssetParams{Classification: "secret", OwnerID: jobsPtr("0190a000-0000-7000-8000-000000000000")})
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields, "name")
			require.Contains(t, ve.Fields, "classification")
			require.Equal(t, "no such user", ve.Fields["owner_id"])
		})

		t.Run("ListsByClassification", func(t *testing.T) {
			t.Parallel()
			_, err := b.svc.Assets().Create(ctx, AssetParams{Name: "brochure site", Classification: store.ClassificationInternal})
			require.NoError(t, err)
			page, err := b.svc.Assets().List(ctx, store.ListAssetsParams{Classification: store.ClassificationInternal})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			require.Equal(t, "brochure site", page.Items[0].Name)
			_, err = b.svc.Assets().List(ctx, store.ListAssetsParams{Classification: "secret"})
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields, "classification")
		})
	})
}

func TestAssetsClassificationChangesThePolicy(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		a, err := b.svc.Assets().Create(ctx, AssetParams{Name: "wiki", Classification: store.ClassificationPublic})
		require.NoError(t, err)
		p := jobsValidParams("wiki-files")
		p.AssetID = &a.ID
		p.RetentionDays = 3650
		j, err := b.svc.Jobs().Create(ctx, p)
		require.NoError(t, err)
		c, err := b.svc.Jobs().AddCopy(ctx, j.ID, CopyParams{Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS})
		require.NoError(t, err)
		written := b.svc.Now()
		c.LastWrittenAt, c.Status = &written, store.CopyStatusOK
		require.NoError(t, b.store.Copies().Update(ctx, c))
		_, err = b.svc.Compliance().EvaluateJob(ctx, j.ID)
		require.NoError(t, err)
		public, err := b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
		require.NoError(t, err)
		require.NotEqual(t, store.ComplianceNonCompliant, public.Status, "one copy is plenty for public data: %v", public.Reasons)

		_, err = b.svc.Assets().Update(ctx, a.ID, AssetUpdate{Classification: jobsPtr(store.ClassificationRestricted)})
		require.NoError(t, err)
		restricted, err := b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
		require.NoError(t, err)
		require.Equal(t, store.ComplianceNonCompliant, restricted.Status)
		assetState, err := b.svc.Compliance().State(ctx, store.SubjectAsset, a.ID)
		require.NoError(t, err)
		require.Equal(t, store.ComplianceNonCompliant, assetState.Status)
		// A restricted asset's violations are critical.
		alert, err := b.store.Alerts().GetUnresolved(ctx, AlertKey(store.AlertComplianceViolation, jobSubject(j.ID)))
		require.NoError(t, err)
		require.Equal(t, store.SeverityCritical, alert.Severity)

		// Renaming alone does not touch compliance.
		_, err = b.svc.Assets().Update(ctx, a.ID, AssetUpdate{Name: jobsPtr("team wiki")})
		require.NoError(t, err)
		again, err := b.svc.Compliance().State(ctx, store.SubjectJob, j.ID)
		require.NoError(t, err)
		require.Equal(t, restricted.EvaluatedAt, again.EvaluatedAt)
		require.Equal(t, []string{"asset.create", "job.create", "copy.create", "asset.update", "asset.update"}, b.auditActions(t))
	})
}

func TestAssetsDelete(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		ctx := t.Context()
		a, err := b.svc.Assets().Create(ctx, AssetParams{Name: "mail", Classification: store.ClassificationConfidential})
		require.NoError(t, err)
		p := jobsValidParams("mail-vm")
		p.AssetID = &a.ID
		j, err := b.svc.Jobs().Create(ctx, p)
		require.NoError(t, err)

		err = b.svc.Assets().Delete(ctx, a.ID)
		require.ErrorIs(t, err, ErrAssetInUse)
		require.Contains(t, err.Error(), `1 job belong to asset "mail"`)
		_, err = b.svc.Assets().Get(ctx, a.ID)
		require.NoError(t, err)

		_, err = b.svc.Jobs().Update(ctx, j.ID, JobUpdate{AssetID: jobsPtr("")})
		require.NoError(t, err)
		alert, err := b.store.Alerts().GetUnresolved(ctx, AlertKey(store.AlertComplianceViolation, assetSubject(a.ID)))
		require.NoError(t, err)
		require.NoError(t, b.svc.Assets().Delete(ctx, a.ID))
		_, err = b.svc.Assets().Get(ctx, a.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = b.svc.Compliance().State(ctx, store.SubjectAsset, a.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		resolved, err := b.store.Alerts().Get(ctx, alert.ID)
		require.NoError(t, err)
		require.Equal(t, store.AlertResolved, resolved.State)
		require.Equal(t, "mail", b.jobsAuditDetails(t, "asset.delete", a.ID)["name"])
		require.ErrorIs(t, b.svc.Assets().Delete(ctx, a.ID), store.ErrNotFound)
	})
}
