package backupmgmt

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestSettings(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		admin := b.userFixture(t, "admin", store.RoleAdmin)
		ctx := actorCtx(t.Context(), admin)
		st := b.svc.Settings()

		set, err := st.Put(ctx, "sla.target", json.RawMessage(`0.99`))
		require.NoError(t, err)
		require.Equal(t, admin.ID, *set.UpdatedBy)
		_, err = st.Put(ctx, "sla.target", json.RawMessage(`0.98`))
		require.NoError(t, err)
		got, err := st.Get(t.Context(), "sla.target")
		require.NoError(t, err)
		require.JSONEq(t, `0.98`, string(got.Value))

		_, err = st.Put(ctx, "bad", json.RawMessage(`{not json`))
		var ve *store.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "value")
		_, err = st.Put(ctx, " spaced ", json.RawMessage(`1`))
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Fields, "key")
		all, err := st.List(t.Context())
		require.NoError(t, err)
		require.Len(t, all, 1, "refused settings are not stored")

		require.NoError(t, st.Delete(ctx, "sla.target"))
		require.ErrorIs(t, st.Delete(ctx, "sla.target"), store.ErrNotFound)
		require.Equal(t, []string{"setting.update", "setting.update", "setting.delete"}, b.auditActions(t))
	})
}
