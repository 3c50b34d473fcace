package httpapi

import (
	"net/http"
	"slices"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// RotationPlan is a media rotation plan on the wire (DESIGN §4.5).
type RotationPlan struct {
	ID     string               `json:"id"`
	Name   string               `json:"name"`
	Scheme store.RotationScheme `json:"scheme"`
	Cycle  store.RotationCycle  `json:"cycle"`
	// MediaIDs are in rotation order.
	MediaIDs       []string    `json:"media_ids"`
	StartOn        *store.Date `json:"start_on,omitempty"`
	NextRotationOn *store.Date `json:"next_rotation_on,omitempty"`
	LastRotationOn *store.Date `json:"last_rotation_on,omitempty"`
	Active         bool        `json:"active"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
}

func rotationPlanView(p *store.RotationPlan) RotationPlan {
	ids := slices.Clone(p.MediaIDs)
	if ids == nil {
		ids = []string{}
	}
	return RotationPlan{
		ID: p.ID, Name: p.Name, Scheme: p.Scheme, Cycle: p.Cycle, MediaIDs: ids,
		StartOn: p.StartOn, NextRotationOn: p.NextRotationOn, LastRotationOn: p.LastRotationOn,
		Active: p.Active, CreatedAt: utc(p.CreatedAt), UpdatedAt: utc(p.UpdatedAt),
	}
}

// RotationPlanCreate is a plan to create; start_on defaults to today.
type RotationPlanCreate struct {
	Name     string               `json:"name" required:"true"`
	Scheme   store.RotationScheme `json:"scheme" required:"true"`
	Cycle    store.RotationCycle  `json:"cycle" required:"true"`
	MediaIDs []string             `json:"media_ids" required:"true"`
	StartOn  *string              `json:"start_on" format:"date"`
}

// RotationPlanPatch changes a plan; absent fields stay. A new scheme, cycle
// or start moves the next rotation.
type RotationPlanPatch struct {
	Name     *string               `json:"name"`
	Scheme   *store.RotationScheme `json:"scheme"`
	Cycle    *store.RotationCycle  `json:"cycle"`
	MediaIDs []string              `json:"media_ids"`
	StartOn  *string               `json:"start_on" format:"date"`
	Active   *bool                 `json:"active"`
}

// RotationDone is the body of a rotation: the plan after it and the medium
// rotated in.
type RotationDone struct {
	Plan  RotationPlan `json:"plan"`
	Media Media        `json:"media"`
}

// RotationDue says which medium of a plan is in service on a date.
type RotationDue struct {
	PlanID string     `json:"plan_id"`
	On     store.Date `json:"on"`
	Media  Media      `json:"media"`
}

func (a *API) rotationRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/rotation-plans", perm: backupmgmt.PermRead, resource: "rotation_plan", tag: "rotation",
			summary: "List rotation plans, ordered by name",
			resp:    List[RotationPlan]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "active", typ: "boolean", desc: "only active (true) or inactive (false) plans"},
			}, pageParams...),
			h: a.listRotationPlans,
		},
		{
			method: "POST", path: "/api/v1/rotation-plans", perm: backupmgmt.PermMediaManage, resource: "rotation_plan", tag: "rotation",
			summary: "Create an active rotation plan whose next rotation is its first",
			body:    RotationPlanCreate{}, resp: RotationPlan{}, status: http.StatusCreated,
			h: a.createRotationPlan,
		},
		{
			method: "GET", path: "/api/v1/rotation-plans/{id}", perm: backupmgmt.PermRead, resource: "rotation_plan", tag: "rotation",
			summary: "Get a rotation plan",
			resp:    RotationPlan{}, status: http.StatusOK,
			h: getByID(a.svc.Rotation().GetPlan, rotationPlanView),
		},
		{
			method: "PATCH", path: "/api/v1/rotation-plans/{id}", perm: backupmgmt.PermMediaManage, resource: "rotation_plan", tag: "rotation",
			summary: "Change a rotation plan (active false pauses it)",
			body:    RotationPlanPatch{}, resp: RotationPlan{}, status: http.StatusOK,
			h: a.patchRotationPlan,
		},
		{
			// Deleting is the "delete … schedules" row of the matrix: a plan is
			// the media's schedule. Operators pause a plan with active false.
			method: "DELETE", path: "/api/v1/rotation-plans/{id}", perm: backupmgmt.PermDelete, resource: "rotation_plan", tag: "rotation",
			summary: "Delete a rotation plan (the media stay) and resolve its rotation alert",
			status:  http.StatusNoContent,
			h:       deleteByID(a.svc.Rotation().DeletePlan),
		},
		{
			method: "POST", path: "/api/v1/rotation-plans/{id}/rotate", perm: backupmgmt.PermMediaManage, resource: "rotation_plan", tag: "rotation",
			summary: "Record the plan's rotation today; 409 rotation_not_due for an inactive plan or one before its start",
			resp:    RotationDone{}, status: http.StatusOK,
			h: a.rotatePlan,
		},
		{
			method: "GET", path: "/api/v1/rotation-plans/{id}/due", perm: backupmgmt.PermRead, resource: "rotation_plan", tag: "rotation",
			summary: "The medium of a plan in service on a date (default today); 409 rotation_not_due before the plan's start",
			resp:    RotationDue{}, status: http.StatusOK,
			query: []queryParam{
				{name: "on", typ: "date", desc: "the date, YYYY-MM-DD; defaults to today in the organisation's zone"},
			},
			h: a.rotationDue,
		},
	}
}

func (a *API) listRotationPlans(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListRotationPlansParams{PageParams: q.page(), Active: q.boolean("active")}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Rotation().ListPlans(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, rotationPlanView))
	return nil
}

func (a *API) createRotationPlan(w http.ResponseWriter, r *http.Request) error {
	var in RotationPlanCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	start := p.parseDate("start_on", in.StartOn)
	if err := p.err(); err != nil {
		return err
	}
	plan, err := a.svc.Rotation().CreatePlan(r.Context(), backupmgmt.PlanParams{
		Name: in.Name, Scheme: in.Scheme, Cycle: in.Cycle, MediaIDs: in.MediaIDs, StartOn: deref(start),
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rotationPlanView(plan))
	return nil
}

func (a *API) patchRotationPlan(w http.ResponseWriter, r *http.Request) error {
	var in RotationPlanPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	start := p.parseDate("start_on", in.StartOn)
	if err := p.err(); err != nil {
		return err
	}
	plan, err := a.svc.Rotation().UpdatePlan(r.Context(), pathID(r, "id"), backupmgmt.PlanUpdate{
		Name: in.Name, Scheme: in.Scheme, Cycle: in.Cycle, MediaIDs: in.MediaIDs, StartOn: start, Active: in.Active,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rotationPlanView(plan))
	return nil
}

func (a *API) rotatePlan(w http.ResponseWriter, r *http.Request) error {
	var in struct{}
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	res, err := a.svc.Rotation().Rotate(r.Context(), pathID(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RotationDone{Plan: rotationPlanView(res.Plan), Media: mediaView(res.Media)})
	return nil
}

func (a *API) rotationDue(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	on := q.date("on")
	if err := q.err(); err != nil {
		return err
	}
	if on.IsZero() {
		on = a.svc.Today()
	}
	id := pathID(r, "id")
	m, err := a.svc.Rotation().DueMedia(r.Context(), id, on)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, RotationDue{PlanID: id, On: on, Media: mediaView(m)})
	return nil
}
