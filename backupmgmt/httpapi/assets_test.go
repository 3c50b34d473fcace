package httpapi

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func createAssetHTTP(t *testing.T, b *testBundle, c cred, body map[string]any) Asset {
	t.Helper()
	res := b.do(t, c, "POST", "/api/v1/assets", body)
	require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
	var a Asset
	res.decode(t, &a)
	return a
}

func TestAssets(t *testing.T) {
	t.Parallel()

	t.Run("CreateGetListPatchDelete", func(t *testing.T) {
		t.Parallel()
		eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
			b := setup(t, kind, nil)
			admin := adminCred(t, b)
			a := createAssetHTTP(t, b, admin, map[string]any{
				"name": "ERP database", "classification": "restricted", "owner_id": b.admin.ID,
			})
			require.NotEmpty(t, a.ID)
			require.Equal(t, "ERP database", a.Name)
			require.Equal(t, store.ClassificationRestricted, a.Classification)
			require.Equal(t, b.admin.ID, deref(a.OwnerID))

			res := b.do(t, admin, "GET", "/api/v1/assets/"+a.ID, nil)
			require.Equal(t, http.StatusOK, res.Code)
			var got Asset
			res.decode(t, &got)
			require.Equal(t, a, got)

			createAssetHTTP(t, b, admin, map[string]any{"name": "Website", "classification": "public"})
			var list List[Asset]
			res = b.do(t, admin, "GET", "/api/v1/assets?classification=restricted", nil)
			require.Equal(t, http.StatusOK, res.Code)
			res.decode(t, &list)
			require.Len(t, list.Items, 1)
			require.Equal(t, a.ID, list.Items[0].ID)
			res = b.do(t, admin, "GET", "/api/v1/assets?limit=1", nil)
			res.decode(t, &list)
			require.Len(t, list.Items, 1)
			require.Equal(t, "ERP database", list.Items[0].Name, "ordered by name")
			require.NotEmpty(t, list.NextCursor)

			res = b.do(t, admin, "PATCH", "/api/v1/assets/"+a.ID, map[string]any{"classification": "internal", "owner_id": ""})
			require.Equal(t, http.StatusOK, res.Code, "%s", res.Body)
			var patched Asset
			res.decode(t, &patched)
			require.Equal(t, store.ClassificationInternal, patched.Classification)
			require.Nil(t, patched.OwnerID, `"" removes the owner`)

			res = b.do(t, admin, "DELETE", "/api/v1/assets/"+a.ID, nil)
			require.Equal(t, http.StatusNoContent, res.Code)
			res = b.do(t, admin, "GET", "/api/v1/assets/"+a.ID, nil)
			require.Equal(t, http.StatusNotFound, res.Code)
			require.Equal(t, "asset_not_found", res.errBody(t).Code)
		})
	})

	t.Run("DeleteOfAnAssetInUseIsAConflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		a := createAssetHTTP(t, b, admin, map[string]any{"name": "ERP", "classification": "confidential"})
		res := b.do(t, admin, "POST", "/api/v1/jobs", map[string]any{
			"name": "erp nightly", "job_type": "database", "tool": "pg_dump", "asset_id": a.ID,
			"schedule": map[string]any{"kind": "manual"},
		})
		require.Equal(t, http.StatusCreated, res.Code, "%s", res.Body)
		res = b.do(t, admin, "DELETE", "/api/v1/assets/"+a.ID, nil)
		require.Equal(t, http.StatusConflict, res.Code)
		require.Equal(t, "asset_in_use", res.errBody(t).Code)
		require.Equal(t, http.StatusOK, b.do(t, admin, "GET", "/api/v1/assets/"+a.ID, nil).Code)
	})

	t.Run("OperatorEditsViewerReadsOnlyAdminDeletes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		op := asSession(b.session(t, b.user(t, "operator", store.RoleOperator)))
		viewer := asSession(b.session(t, b.user(t, "viewer", store.RoleViewer)))
		a := createAssetHTTP(t, b, op, map[string]any{"name": "ERP", "classification": "internal"})
		require.Equal(t, http.StatusForbidden, b.do(t, viewer, "POST", "/api/v1/assets", map[string]any{"name": "x", "classification": "public"}).Code)
		require.Equal(t, http.StatusOK, b.do(t, viewer, "GET", "/api/v1/assets/"+a.ID, nil).Code)
		require.Equal(t, http.StatusForbidden, b.do(t, op, "DELETE", "/api/v1/assets/"+a.ID, nil).Code)
	})

	t.Run("CreateRefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		cases := append(commonBodyCases(),
			badCase{name: "MissingName", body: map[string]any{"classification": "public"}, field: "name"},
			badCase{name: "MissingClassification", body: map[string]any{"name": "x"}, field: "classification"},
			badCase{name: "InvalidClassification", body: map[string]any{"name": "x", "classification": "secret"}, field: "classification"},
			badCase{name: "WrongType", body: map[string]any{"name": 7, "classification": "public"}, field: "name"},
			badCase{name: "UnknownOwner", body: map[string]any{"name": "x", "classification": "public", "owner_id": "01900000-0000-7000-8000-000000000000"}, field: "owner_id"},
			badCase{name: "NameTooLong", body: map[string]any{"name": string(make([]byte, 300)), "classification": "public"}, field: "name"},
		)
		runBadCases(t, b, admin, "POST", "/api/v1/assets", cases, func(t *testing.T) {
			var list List[Asset]
			b.do(t, admin, "GET", "/api/v1/assets", nil).decode(t, &list)
			require.Empty(t, list.Items)
		})
		req := b.newRequest(t, "POST", "/api/v1/assets", `{"name":"x","classification":"public"}`)
		req.Header.Set("Content-Type", "text/plain")
		res := b.doReq(t, admin, req)
		require.Equal(t, http.StatusUnsupportedMediaType, res.Code)
		var list List[Asset]
		b.do(t, admin, "GET", "/api/v1/assets", nil).decode(t, &list)
		require.Empty(t, list.Items)
	})

	t.Run("PatchRefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		a := createAssetHTTP(t, b, admin, map[string]any{"name": "ERP", "classification": "internal"})
		cases := append(commonBodyCases(),
			badCase{name: "InvalidClassification", body: map[string]any{"classification": "secret"}, field: "classification"},
			badCase{name: "EmptyName", body: map[string]any{"name": ""}, field: "name"},
			badCase{name: "UnknownAsset", path: "/api/v1/assets/01900000-0000-7000-8000-000000000000", body: map[string]any{"name": "y"}, status: http.StatusNotFound, code: "asset_not_found"},
		)
		runBadCases(t, b, admin, "PATCH", "/api/v1/assets/"+a.ID, cases, func(t *testing.T) {
			var got Asset
			b.do(t, admin, "GET", "/api/v1/assets/"+a.ID, nil).decode(t, &got)
			require.Equal(t, a, got)
		})
	})

	t.Run("ListRefusesBadQuery", func(t *testing.T) {
		t.Parallel()
		b := setup(t, dbopen.SQLite, nil)
		admin := adminCred(t, b)
		runBadCases(t, b, admin, "GET", "", []badCase{
			{name: "InvalidClassification", path: "/api/v1/assets?classification=secret", field: "classification"},
			{name: "UnknownParameter", path: "/api/v1/assets?classificaton=public", field: "classificaton"},
			{name: "BadLimit", path: "/api/v1/assets?limit=0", field: "limit"},
			{name: "BadCursor", path: "/api/v1/assets?cursor=garbage", field: "cursor"},
		}, func(*testing.T) {})
	})
}
