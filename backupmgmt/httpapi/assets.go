package httpapi

import (
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Asset is a protected system or data set; its classification picks the
// compliance policy of its jobs (DESIGN §4.3).
type Asset struct {
	ID             string               `json:"id"`
	Name           string               `json:"name"`
	Description    string               `json:"description"`
	Classification store.Classification `json:"classification"`
	OwnerID        *string              `json:"owner_id,omitempty"`
	CreatedAt      time.Time            `json:"created_at"`
	UpdatedAt      time.Time            `json:"updated_at"`
}

func assetView(a *store.Asset) Asset {
	return Asset{
		ID: a.ID, Name: a.Name, Description: a.Description, Classification: a.Classification,
		OwnerID: a.OwnerID, CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt),
	}
}

// AssetCreate is the body of POST /api/v1/assets.
type AssetCreate struct {
	Name           string               `json:"name" required:"true"`
	Description    string               `json:"description"`
	Classification store.Classification `json:"classification" required:"true"`
	OwnerID        *string              `json:"owner_id" doc:"a user ID"`
}

// AssetPatch is the body of PATCH /api/v1/assets/{id}: absent fields are
// kept.
type AssetPatch struct {
	Name           *string               `json:"name"`
	Description    *string               `json:"description"`
	Classification *store.Classification `json:"classification"`
	OwnerID        *string               `json:"owner_id" doc:"a user ID; \"\" removes the owner"`
}

func (a *API) assetRoutes() []*route {
	idParam := "/api/v1/assets/{id}"
	return []*route{
		{
			method: "GET", path: "/api/v1/assets", perm: backupmgmt.PermRead, tag: "assets",
			summary: "List assets, ordered by name",
			resp:    List[Asset]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "classification", enum: enumOf[store.Classification](), desc: "only assets of this classification"},
				{name: "owner_id", desc: "only assets of this owner"},
			}, pageParams...),
			h: a.listAssets,
		},
		{
			method: "POST", path: "/api/v1/assets", perm: backupmgmt.PermJobsWrite, tag: "assets",
			summary: "Create an asset",
			body:    AssetCreate{}, resp: Asset{}, status: http.StatusCreated,
			h: a.createAsset,
		},
		{
			method: "GET", path: idParam, perm: backupmgmt.PermRead, resource: "asset", tag: "assets",
			summary: "Get an asset",
			resp:    Asset{}, status: http.StatusOK,
			h: a.getAsset,
		},
		{
			method: "PATCH", path: idParam, perm: backupmgmt.PermJobsWrite, resource: "asset", tag: "assets",
			summary: "Change an asset; a new classification re-evaluates its jobs",
			body:    AssetPatch{}, resp: Asset{}, status: http.StatusOK,
			h: a.patchAsset,
		},
		{
			method: "DELETE", path: idParam, perm: backupmgmt.PermDelete, resource: "asset", tag: "assets",
			summary: "Delete an asset no job belongs to (409 asset_in_use otherwise)",
			status:  http.StatusNoContent,
			h:       a.deleteAsset,
		},
	}
}

func (a *API) listAssets(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListAssetsParams{
		PageParams:     q.page(),
		Classification: store.Classification(q.str("classification")),
		OwnerID:        q.str("owner_id"),
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Assets().List(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, assetView))
	return nil
}

func (a *API) createAsset(w http.ResponseWriter, r *http.Request) error {
	var in AssetCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	as, err := a.svc.Assets().Create(r.Context(), backupmgmt.AssetParams{
		Name: in.Name, Description: in.Description, Classification: in.Classification, OwnerID: in.OwnerID,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, assetView(as))
	return nil
}

func (a *API) getAsset(w http.ResponseWriter, r *http.Request) error {
	as, err := a.svc.Assets().Get(r.Context(), pathID(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assetView(as))
	return nil
}

func (a *API) patchAsset(w http.ResponseWriter, r *http.Request) error {
	var in AssetPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	as, err := a.svc.Assets().Update(r.Context(), pathID(r, "id"), backupmgmt.AssetUpdate{
		Name: in.Name, Description: in.Description, Classification: in.Classification, OwnerID: in.OwnerID,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, assetView(as))
	return nil
}

func (a *API) deleteAsset(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.Assets().Delete(r.Context(), pathID(r, "id")); err != nil {
		return err
	}
	noContent(w)
	return nil
}
