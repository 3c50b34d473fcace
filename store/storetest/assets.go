package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
)

var _ = register("Assets", testAssets)

func testAssets(t *testing.T, newStore NewStoreFunc) {
	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		owner := b.user(t)
		a := newAsset()
		a.OwnerID = &owner.ID
		a.Name = "基幹システム DB " + uniq()
		a.Description = "販売管理のデータベース。毎晩バックアップ。"
		a.CreatedAt = someTime()
		require.NoError(t, b.s.Assets().Create(b.ctx, a))
		require.NotEmpty(t, a.ID)
		require.Equal(t, norm(someTime()), a.CreatedAt, "stored times are UTC microseconds")

		got, err := b.s.Assets().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, a, got)
		require.Equal(t, time.UTC, got.CreatedAt.Location())

		got.Classification = store.ClassificationRestricted
		got.Description = ""
		got.OwnerID = nil
		require.NoError(t, b.s.Assets().Update(b.ctx, got))
		again, err := b.s.Assets().Get(b.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, got, again)

		byName, err := b.s.Assets().GetByName(b.ctx, a.Name)
		require.NoError(t, err)
		require.Equal(t, a.ID, byName.ID)

		require.NoError(t, b.s.Assets().Delete(b.ctx, a.ID))
		_, err = b.s.Assets().Get(b.ctx, a.ID)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.ErrorIs(t, b.s.Assets().Delete(b.ctx, a.ID), store.ErrNotFound)
		require.ErrorIs(t, b.s.Assets().Update(b.ctx, got), store.ErrNotFound)
	})

	t.Run("NamesAreUniqueIgnoringCase", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		a := b.asset(t, func(a *store.Asset) { a.Name = "ERP-Database" })
		err := b.s.Assets().Create(b.ctx, &store.Asset{Name: "erp-database", Classification: store.ClassificationPublic})
		requireConflict(t, err, "name")
		got, err := b.s.Assets().GetByName(b.ctx, "Erp-DATABASE")
		require.NoError(t, err)
		require.Equal(t, a.ID, got.ID)

		// Accents and widths are not folded: they are different names everywhere.
		require.NoError(t, b.s.Assets().Create(b.ctx, &store.Asset{Name: "ERP-Databasé", Classification: store.ClassificationPublic}))

		other := b.asset(t)
		other.Name = "ERP-DATABASE"
		requireConflict(t, b.s.Assets().Update(b.ctx, other), "name")
	})

	t.Run("RejectsBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for field, mod := range map[string]func(*store.Asset){
			"name":           func(a *store.Asset) { a.Name = "" },
			"classification": func(a *store.Asset) { a.Classification = "secret" },
			"description":    func(a *store.Asset) { a.Description = string(make([]rune, store.MaxTextLen+1)) },
		} {
			a := newAsset()
			mod(a)
			requireValidation(t, b.s.Assets().Create(b.ctx, a), field)
		}
		long := newAsset()
		long.Name = strings200("名") + "x"
		requireValidation(t, b.s.Assets().Create(b.ctx, long), "name")
		fits := newAsset()
		fits.Name = strings200("名")
		require.NoError(t, b.s.Assets().Create(b.ctx, fits), "200 Japanese characters fit")
		got, err := b.s.Assets().Get(b.ctx, fits.ID)
		require.NoError(t, err)
		require.Equal(t, fits.Name, got.Name)
	})

	t.Run("ForeignKeys", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		a := newAsset()
		a.OwnerID = ptr(store.NewID())
		require.ErrorIs(t, b.s.Assets().Create(b.ctx, a), store.ErrForeignKey)

		used := b.asset(t)
		b.job(t, func(j *store.Job) { j.AssetID = &used.ID })
		require.ErrorIs(t, b.s.Assets().Delete(b.ctx, used.ID), store.ErrForeignKey, "an asset with jobs cannot be deleted")
	})

	t.Run("ListFiltersAndPages", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		owner := b.user(t)
		var want []string
		for i := range 7 {
			a := b.asset(t, func(a *store.Asset) {
				if i%2 == 0 {
					a.Classification = store.ClassificationRestricted
					a.OwnerID = &owner.ID
				}
			})
			if i%2 == 0 {
				want = append(want, a.ID)
			}
		}
		page, err := b.s.Assets().List(b.ctx, store.ListAssetsParams{Classification: store.ClassificationRestricted})
		require.NoError(t, err)
		require.ElementsMatch(t, want, ids(page.Items, func(a store.Asset) string { return a.ID }))
		page, err = b.s.Assets().List(b.ctx, store.ListAssetsParams{OwnerID: owner.ID})
		require.NoError(t, err)
		require.Len(t, page.Items, len(want))

		seen := paginate(t, 2, func(p store.PageParams) (*store.Page[store.Asset], error) {
			return b.s.Assets().List(b.ctx, store.ListAssetsParams{PageParams: p})
		}, func() { b.asset(t) }, func(a store.Asset) string { return a.ID })
		require.GreaterOrEqual(t, len(seen), 7)
	})
}

func strings200(s string) string {
	out := make([]rune, 0, store.MaxNameLen)
	for range store.MaxNameLen {
		out = append(out, []rune(s)[0])
	}
	return string(out)
}
