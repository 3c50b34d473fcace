package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Copy is a configured destination of a job's backups.
type Copy struct {
	ID             string           `json:"id"`
	JobID          string           `json:"job_id"`
	Name           string           `json:"name"`
	Role           store.CopyRole   `json:"role"`
	MediaType      store.MediaType  `json:"media_type"`
	Location       string           `json:"location"`
	Offsite        bool             `json:"offsite"`
	Offline        bool             `json:"offline"`
	Immutable      bool             `json:"immutable"`
	ImmutableUntil *time.Time       `json:"immutable_until,omitempty"`
	Encrypted      bool             `json:"encrypted"`
	Compressed     bool             `json:"compressed"`
	MediaID        *string          `json:"media_id,omitempty"`
	LastWrittenAt  *time.Time       `json:"last_written_at,omitempty"`
	LastSizeBytes  int64            `json:"last_size_bytes"`
	Status         store.CopyStatus `json:"status"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
}

func copyView(c *store.Copy) Copy {
	return Copy{
		ID: c.ID, JobID: c.JobID, Name: c.Name, Role: c.Role, MediaType: c.MediaType, Location: c.Location,
		Offsite: c.Offsite, Offline: c.Offline, Immutable: c.Immutable, ImmutableUntil: utcPtr(c.ImmutableUntil),
		Encrypted: c.Encrypted, Compressed: c.Compressed, MediaID: c.MediaID,
		LastWrittenAt: utcPtr(c.LastWrittenAt), LastSizeBytes: c.LastSizeBytes, Status: c.Status,
		CreatedAt: utc(c.CreatedAt), UpdatedAt: utc(c.UpdatedAt),
	}
}

// CopyCreate is the body of POST /api/v1/jobs/{id}/copies.
type CopyCreate struct {
	Name           string          `json:"name" required:"true"`
	Role           store.CopyRole  `json:"role" required:"true"`
	MediaType      store.MediaType `json:"media_type" required:"true"`
	Location       string          `json:"location"`
	Offsite        bool            `json:"offsite"`
	Offline        bool            `json:"offline"`
	Immutable      bool            `json:"immutable"`
	ImmutableUntil *string         `json:"immutable_until" format:"date-time" doc:"end of immutability; only for an immutable copy"`
	Encrypted      bool            `json:"encrypted"`
	Compressed     bool            `json:"compressed"`
	MediaID        *string         `json:"media_id" doc:"the offline medium the copy is written to"`
}

// CopyPatch is the body of PATCH /api/v1/jobs/{id}/copies/{copy_id}:
// absent fields are kept.
type CopyPatch struct {
	Name           *string          `json:"name"`
	Role           *store.CopyRole  `json:"role"`
	MediaType      *store.MediaType `json:"media_type"`
	Location       *string          `json:"location"`
	Offsite        *bool            `json:"offsite"`
	Offline        *bool            `json:"offline"`
	Immutable      *bool            `json:"immutable"`
	ImmutableUntil *string          `json:"immutable_until" doc:"an RFC 3339 time; \"\" removes the end"`
	Encrypted      *bool            `json:"encrypted"`
	Compressed     *bool            `json:"compressed"`
	MediaID        *string          `json:"media_id" doc:"\"\" removes the medium"`
}

func (a *API) copyRoutes() []*route {
	const list = "/api/v1/jobs/{id}/copies"
	const one = list + "/{copy_id}"
	return []*route{
		{
			method: "GET", path: list, perm: backupmgmt.PermRead, resource: "job", tag: "jobs",
			summary: "List a job's copies, ordered by name (one page, never a cursor)",
			resp:    List[Copy]{}, status: http.StatusOK,
			h: a.listCopies,
		},
		{
			method: "POST", path: list, perm: backupmgmt.PermJobsWrite, resource: "job", tag: "jobs",
			summary: "Add a copy to a job",
			body:    CopyCreate{}, resp: Copy{}, status: http.StatusCreated,
			h: a.createCopy,
		},
		{
			method: "PATCH", path: one, perm: backupmgmt.PermJobsWrite, resource: "copy", tag: "jobs",
			summary: "Change a copy of a job",
			body:    CopyPatch{}, resp: Copy{}, status: http.StatusOK,
			h: a.patchCopy,
		},
		{
			method: "DELETE", path: one, perm: backupmgmt.PermJobsWrite, resource: "copy", tag: "jobs",
			summary: "Remove a copy from a job; executions that wrote it keep existing",
			status:  http.StatusNoContent,
			h:       a.deleteCopy,
		},
	}
}

func (a *API) listCopies(w http.ResponseWriter, r *http.Request) error {
	cs, err := a.svc.Jobs().ListCopies(r.Context(), pathID(r, "id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[Copy]{Items: sliceOf(cs, copyView)})
	return nil
}

func (a *API) createCopy(w http.ResponseWriter, r *http.Request) error {
	var in CopyCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	until := p.parseTime("immutable_until", in.ImmutableUntil)
	if err := p.err(); err != nil {
		return err
	}
	c, err := a.svc.Jobs().AddCopy(r.Context(), pathID(r, "id"), backupmgmt.CopyParams{
		Name: in.Name, Role: in.Role, MediaType: in.MediaType, Location: in.Location,
		Offsite: in.Offsite, Offline: in.Offline, Immutable: in.Immutable, ImmutableUntil: until,
		Encrypted: in.Encrypted, Compressed: in.Compressed, MediaID: in.MediaID,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, copyView(c))
	return nil
}

func (a *API) patchCopy(w http.ResponseWriter, r *http.Request) error {
	var in CopyPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u := backupmgmt.CopyUpdate{
		Name: in.Name, Role: in.Role, MediaType: in.MediaType, Location: in.Location,
		Offsite: in.Offsite, Offline: in.Offline, Immutable: in.Immutable,
		Encrypted: in.Encrypted, Compressed: in.Compressed, MediaID: in.MediaID,
	}
	if in.ImmutableUntil != nil {
		if *in.ImmutableUntil == "" {
			u.ImmutableUntil = &time.Time{}
		} else {
			var p problems
			u.ImmutableUntil = p.parseTime("immutable_until", in.ImmutableUntil)
			if err := p.err(); err != nil {
				return err
			}
		}
	}
	c, err := a.svc.Jobs().UpdateCopy(r.Context(), pathID(r, "id"), pathID(r, "copy_id"), u)
	if err != nil {
		return a.copyErr(r, err)
	}
	writeJSON(w, http.StatusOK, copyView(c))
	return nil
}

func (a *API) deleteCopy(w http.ResponseWriter, r *http.Request) error {
	if err := a.svc.Jobs().DeleteCopy(r.Context(), pathID(r, "id"), pathID(r, "copy_id")); err != nil {
		return a.copyErr(r, err)
	}
	noContent(w)
	return nil
}

// copyErr tells a missing job from a missing copy: the domain says
// store.ErrNotFound for both.
func (a *API) copyErr(r *http.Request, err error) error {
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, jerr := a.svc.Jobs().Get(r.Context(), pathID(r, "id")); errors.Is(jerr, store.ErrNotFound) {
		return notFound("job")
	}
	return notFound("copy")
}
