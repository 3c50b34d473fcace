package httpapi

import (
	"net/http"
	"time"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

// Media is an offline medium on the wire (DESIGN §3, §4.5).
type Media struct {
	ID            string                 `json:"id"`
	Label         string                 `json:"label"`
	MediaType     store.OfflineMediaType `json:"media_type"`
	CapacityBytes int64                  `json:"capacity_bytes"`
	PurchasedOn   *store.Date            `json:"purchased_on,omitempty"`
	Location      string                 `json:"location"`
	Status        store.MediaStatus      `json:"status"`
	OwnerID       *string                `json:"owner_id,omitempty"`
	Notes         string                 `json:"notes"`
	LastWrittenAt *time.Time             `json:"last_written_at,omitempty"`
	CreatedAt     time.Time              `json:"created_at"`
	UpdatedAt     time.Time              `json:"updated_at"`
}

func mediaView(m *store.Media) Media {
	return Media{
		ID: m.ID, Label: m.Label, MediaType: m.MediaType, CapacityBytes: m.CapacityBytes,
		PurchasedOn: m.PurchasedOn, Location: m.Location, Status: m.Status, OwnerID: m.OwnerID,
		Notes: m.Notes, LastWrittenAt: utcPtr(m.LastWrittenAt), CreatedAt: utc(m.CreatedAt), UpdatedAt: utc(m.UpdatedAt),
	}
}

// MediaEvent is one link of a medium's chain of custody.
type MediaEvent struct {
	ID           string               `json:"id"`
	MediaID      string               `json:"media_id"`
	Kind         store.MediaEventKind `json:"kind"`
	FromLocation string               `json:"from_location"`
	ToLocation   string               `json:"to_location"`
	ActorID      *string              `json:"actor_id,omitempty"`
	At           time.Time            `json:"at"`
	Note         string               `json:"note"`
}

func mediaEventView(e *store.MediaEvent) MediaEvent {
	return MediaEvent{
		ID: e.ID, MediaID: e.MediaID, Kind: e.Kind, FromLocation: e.FromLocation, ToLocation: e.ToLocation,
		ActorID: e.ActorID, At: utc(e.At), Note: e.Note,
	}
}

// Lending is a medium lent to a user.
type Lending struct {
	ID         string     `json:"id"`
	MediaID    string     `json:"media_id"`
	BorrowerID string     `json:"borrower_id"`
	Purpose    string     `json:"purpose"`
	LentAt     time.Time  `json:"lent_at"`
	DueOn      store.Date `json:"due_on"`
	ReturnedAt *time.Time `json:"returned_at,omitempty"`
	// ReturnCondition is set once returned.
	ReturnCondition *store.ReturnCondition `json:"return_condition,omitempty"`
	Notes           string                 `json:"notes"`
	CreatedAt       time.Time              `json:"created_at"`
	UpdatedAt       time.Time              `json:"updated_at"`
}

func lendingView(l *store.Lending) Lending {
	out := Lending{
		ID: l.ID, MediaID: l.MediaID, BorrowerID: l.BorrowerID, Purpose: l.Purpose, LentAt: utc(l.LentAt),
		DueOn: l.DueOn, ReturnedAt: utcPtr(l.ReturnedAt), Notes: l.Notes,
		CreatedAt: utc(l.CreatedAt), UpdatedAt: utc(l.UpdatedAt),
	}
	if l.ReturnCondition != "" {
		c := l.ReturnCondition
		out.ReturnCondition = &c
	}
	return out
}

// MediaCreate registers a medium.
type MediaCreate struct {
	Label         string                 `json:"label" required:"true"`
	MediaType     store.OfflineMediaType `json:"media_type" required:"true"`
	CapacityBytes int64                  `json:"capacity_bytes"`
	PurchasedOn   *string                `json:"purchased_on" format:"date"`
	Location      string                 `json:"location"`
	OwnerID       string                 `json:"owner_id"`
	Notes         string                 `json:"notes"`
}

// MediaPatch changes a medium's inventory fields; absent fields stay.
// Location and status change only through move, lend, return and retire.
type MediaPatch struct {
	Label         *string                 `json:"label"`
	MediaType     *store.OfflineMediaType `json:"media_type"`
	CapacityBytes *int64                  `json:"capacity_bytes"`
	// PurchasedOn "" removes the date.
	PurchasedOn *string `json:"purchased_on" format:"date"`
	// OwnerID "" removes the owner.
	OwnerID *string `json:"owner_id"`
	Notes   *string `json:"notes"`
}

// MediaLend lends a medium.
type MediaLend struct {
	BorrowerID string  `json:"borrower_id" required:"true"`
	Purpose    string  `json:"purpose"`
	DueOn      *string `json:"due_on" required:"true" format:"date"`
	Notes      string  `json:"notes"`
}

// MediaReturn returns a lent medium; condition defaults to normal.
type MediaReturn struct {
	Condition store.ReturnCondition `json:"condition"`
	Notes     string                `json:"notes"`
}

// MediaMove records a change of location.
type MediaMove struct {
	ToLocation string `json:"to_location" required:"true"`
	// Offsite makes the medium stored_offsite; otherwise available.
	Offsite bool   `json:"offsite"`
	Note    string `json:"note"`
}

// MediaRetire takes a medium out of service for good.
type MediaRetire struct {
	Reason string `json:"reason"`
}

func (a *API) mediaRoutes() []*route {
	return []*route{
		{
			method: "GET", path: "/api/v1/media", perm: backupmgmt.PermRead, resource: "media", tag: "media",
			summary: "List offline media, ordered by label",
			resp:    List[Media]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "status", typ: "string", desc: "only media in this status", enum: enumOf[store.MediaStatus]()},
				{name: "media_type", typ: "string", desc: "only media of this type", enum: enumOf[store.OfflineMediaType]()},
				{name: "location", typ: "string", desc: "only media at this location (exact)"},
			}, pageParams...),
			h: a.listMedia,
		},
		{
			method: "POST", path: "/api/v1/media", perm: backupmgmt.PermMediaManage, resource: "media", tag: "media",
			summary: "Register a medium, available at its location",
			body:    MediaCreate{}, resp: Media{}, status: http.StatusCreated,
			h: a.registerMedia,
		},
		{
			method: "GET", path: "/api/v1/media/{id}", perm: backupmgmt.PermRead, resource: "media", tag: "media",
			summary: "Get a medium",
			resp:    Media{}, status: http.StatusOK,
			h: getByID(a.svc.Media().Get, mediaView),
		},
		{
			method: "PATCH", path: "/api/v1/media/{id}", perm: backupmgmt.PermMediaManage, resource: "media", tag: "media",
			summary: "Change a medium's inventory fields (not its location or status)",
			body:    MediaPatch{}, resp: Media{}, status: http.StatusOK,
			h: a.patchMedia,
		},
		{
			method: "POST", path: "/api/v1/media/{id}/lend", perm: backupmgmt.PermMediaManage, resource: "media", tag: "media",
			summary: "Lend an available or stored_offsite medium to an active user",
			body:    MediaLend{}, resp: Lending{}, status: http.StatusCreated,
			h: a.lendMedia,
		},
		{
			method: "POST", path: "/api/v1/media/{id}/return", perm: backupmgmt.PermMediaManage, resource: "media", tag: "media",
			summary: "Close a medium's open lending; a lost medium is retired",
			body:    MediaReturn{}, resp: Lending{}, status: http.StatusOK,
			h: a.returnMedia,
		},
		{
			method: "POST", path: "/api/v1/media/{id}/move", perm: backupmgmt.PermMediaManage, resource: "media", tag: "media",
			summary: "Record that a medium changed location",
			body:    MediaMove{}, resp: Media{}, status: http.StatusOK,
			h: a.moveMedia,
		},
		{
			method: "POST", path: "/api/v1/media/{id}/retire", perm: backupmgmt.PermMediaManage, resource: "media", tag: "media",
			summary: "Retire a medium for good, with an optional reason",
			body:    MediaRetire{}, resp: Media{}, status: http.StatusOK,
			h: a.retireMedia,
		},
		{
			method: "GET", path: "/api/v1/media/{id}/events", perm: backupmgmt.PermRead, resource: "media", tag: "media",
			summary: "A medium's chain of custody, newest first",
			resp:    List[MediaEvent]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "kind", typ: "string", desc: "only events of this kind", enum: enumOf[store.MediaEventKind]()},
				{name: "from", typ: "date-time", desc: "only events at or after this time"},
				{name: "to", typ: "date-time", desc: "only events before this time"},
			}, pageParams...),
			h: a.mediaEvents,
		},
		{
			method: "GET", path: "/api/v1/lendings", perm: backupmgmt.PermRead, resource: "lending", tag: "media",
			summary: "List lendings, newest first",
			resp:    List[Lending]{}, status: http.StatusOK,
			query: append([]queryParam{
				{name: "media_id", typ: "string", desc: "only lendings of this medium"},
				{name: "borrower_id", typ: "string", desc: "only lendings to this user"},
				{name: "open", typ: "boolean", desc: "true: only open lendings; false: only returned ones"},
				{name: "due_before", typ: "date", desc: "only open lendings due before this date (overdue lists)"},
			}, pageParams...),
			h: a.listLendings,
		},
	}
}

func (a *API) listMedia(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListMediaParams{
		PageParams: q.page(),
		Status:     store.MediaStatus(q.str("status")),
		MediaType:  store.OfflineMediaType(q.str("media_type")),
		Location:   q.str("location"),
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Media().List(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, mediaView))
	return nil
}

func (a *API) registerMedia(w http.ResponseWriter, r *http.Request) error {
	var in MediaCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	purchased := p.parseDate("purchased_on", in.PurchasedOn)
	if err := p.err(); err != nil {
		return err
	}
	m, err := a.svc.Media().Register(r.Context(), backupmgmt.MediaParams{
		Label: in.Label, MediaType: in.MediaType, CapacityBytes: in.CapacityBytes, PurchasedOn: purchased,
		Location: in.Location, OwnerID: in.OwnerID, Notes: in.Notes,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, mediaView(m))
	return nil
}

func (a *API) patchMedia(w http.ResponseWriter, r *http.Request) error {
	var in MediaPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u := backupmgmt.MediaUpdate{
		Label: in.Label, MediaType: in.MediaType, CapacityBytes: in.CapacityBytes, OwnerID: in.OwnerID, Notes: in.Notes,
	}
	if in.PurchasedOn != nil {
		if *in.PurchasedOn == "" {
			u.PurchasedOn = &store.Date{}
		} else {
			var p problems
			u.PurchasedOn = p.parseDate("purchased_on", in.PurchasedOn)
			if err := p.err(); err != nil {
				return err
			}
		}
	}
	m, err := a.svc.Media().Update(r.Context(), pathID(r, "id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mediaView(m))
	return nil
}

func (a *API) lendMedia(w http.ResponseWriter, r *http.Request) error {
	var in MediaLend
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var p problems
	due := p.parseDate("due_on", in.DueOn)
	if err := p.err(); err != nil {
		return err
	}
	l, err := a.svc.Media().Lend(r.Context(), pathID(r, "id"), backupmgmt.LendParams{
		BorrowerID: in.BorrowerID, Purpose: in.Purpose, DueOn: *due, Notes: in.Notes,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, lendingView(l))
	return nil
}

func (a *API) returnMedia(w http.ResponseWriter, r *http.Request) error {
	var in MediaReturn
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	l, err := a.svc.Media().Return(r.Context(), pathID(r, "id"), backupmgmt.ReturnParams{Condition: in.Condition, Notes: in.Notes})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, lendingView(l))
	return nil
}

func (a *API) moveMedia(w http.ResponseWriter, r *http.Request) error {
	var in MediaMove
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	m, err := a.svc.Media().Move(r.Context(), pathID(r, "id"), backupmgmt.MoveParams{
		ToLocation: in.ToLocation, Offsite: in.Offsite, Note: in.Note,
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mediaView(m))
	return nil
}

func (a *API) retireMedia(w http.ResponseWriter, r *http.Request) error {
	var in MediaRetire
	if err := decodeOptionalJSON(r, &in); err != nil {
		return err
	}
	m, err := a.svc.Media().Retire(r.Context(), pathID(r, "id"), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mediaView(m))
	return nil
}

func (a *API) mediaEvents(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListMediaEventsParams{
		PageParams: q.page(),
		MediaID:    pathID(r, "id"),
		Kind:       store.MediaEventKind(q.str("kind")),
		At:         store.TimeRange{From: deref(q.time("from")), To: deref(q.time("to"))},
	}
	if err := q.err(); err != nil {
		return err
	}
	// An unknown medium is a 404, not an empty chain.
	if _, err := a.svc.Media().Get(r.Context(), p.MediaID); err != nil {
		return err
	}
	page, err := a.svc.Media().Events(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, mediaEventView))
	return nil
}

func (a *API) listLendings(w http.ResponseWriter, r *http.Request) error {
	q := newQuery(r)
	p := store.ListLendingsParams{
		PageParams: q.page(),
		MediaID:    q.str("media_id"),
		BorrowerID: q.str("borrower_id"),
		Open:       q.boolean("open"),
		DueBefore:  datePtr(q.date("due_before")),
	}
	if err := q.err(); err != nil {
		return err
	}
	page, err := a.svc.Media().Lendings(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOf(page, lendingView))
	return nil
}
