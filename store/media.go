package store

import (
	"context"
	"time"
)

// Media is an offline medium: a tape, a removable disk, a cartridge.
type Media struct {
	ID            string
	Label         string // unique barcode or serial, case-insensitive
	MediaType     OfflineMediaType
	CapacityBytes int64
	PurchasedOn   *Date
	Location      string
	Status        MediaStatus
	OwnerID       *string
	Notes         string
	LastWrittenAt *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Validate reports the fields of m that no store accepts.
func (m *Media) Validate() error {
	var v validator
	v.name("label", m.Label)
	enum(&v, "media_type", m.MediaType, offlineMediaTypeValues)
	if m.CapacityBytes < 0 {
		v.add("capacity_bytes", "must not be negative")
	}
	v.text("location", m.Location, MaxShortTextLen)
	enum(&v, "status", m.Status, mediaStatusValues)
	v.text("notes", m.Notes, MaxTextLen)
	return v.err()
}

// ListMediaParams filters a list of media, ordered by label.
type ListMediaParams struct {
	PageParams
	Status    MediaStatus      // optional
	MediaType OfflineMediaType // optional
	Location  string           // optional, exact
}

// MediaStore stores offline media.
type MediaStore interface {
	Create(ctx context.Context, m *Media) error
	Get(ctx context.Context, id string) (*Media, error)
	GetByLabel(ctx context.Context, label string) (*Media, error)
	GetMany(ctx context.Context, ids []string) ([]Media, error)
	Update(ctx context.Context, m *Media) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListMediaParams) (*Page[Media], error)
	// CountByStatus counts media per status.
	CountByStatus(ctx context.Context) (map[MediaStatus]int, error)
}

// MediaEvent is one step in a medium's chain of custody. Events are never
// changed.
type MediaEvent struct {
	ID           string
	MediaID      string
	Kind         MediaEventKind
	FromLocation string
	ToLocation   string
	ActorID      *string
	At           time.Time
	Note         string
}

// Validate reports the fields of e that no store accepts.
func (e *MediaEvent) Validate() error {
	var v validator
	v.required("media_id", e.MediaID)
	enum(&v, "kind", e.Kind, mediaEventKindValues)
	v.text("from_location", e.FromLocation, MaxShortTextLen)
	v.text("to_location", e.ToLocation, MaxShortTextLen)
	if e.At.IsZero() {
		v.add("at", "required")
	}
	v.text("note", e.Note, MaxTextLen)
	return v.err()
}

// ListMediaEventsParams filters the custody chain, newest first.
type ListMediaEventsParams struct {
	PageParams
	MediaID string         // optional
	Kind    MediaEventKind // optional
	At      TimeRange      // optional
}

// MediaEventStore stores chain-of-custody events.
type MediaEventStore interface {
	Create(ctx context.Context, e *MediaEvent) error
	List(ctx context.Context, p ListMediaEventsParams) (*Page[MediaEvent], error)
}

// Lending is a medium handed to a person. A medium has at most one open
// lending.
type Lending struct {
	ID              string
	MediaID         string
	BorrowerID      string
	Purpose         string
	LentAt          time.Time
	DueOn           Date
	ReturnedAt      *time.Time
	ReturnCondition ReturnCondition // set when returned
	Notes           string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Open reports whether the lending has not been returned.
func (l *Lending) Open() bool { return l.ReturnedAt == nil }

// Validate reports the fields of l that no store accepts.
func (l *Lending) Validate() error {
	var v validator
	v.required("media_id", l.MediaID)
	v.required("borrower_id", l.BorrowerID)
	v.text("purpose", l.Purpose, MaxShortTextLen)
	if l.LentAt.IsZero() {
		v.add("lent_at", "required")
	}
	if l.DueOn.IsZero() {
		v.add("due_on", "required")
	}
	if l.ReturnedAt != nil {
		enum(&v, "return_condition", l.ReturnCondition, returnConditionValues)
		if l.ReturnedAt.Before(l.LentAt) {
			v.add("returned_at", "must not be before lent_at")
		}
	} else if l.ReturnCondition != "" {
		v.add("return_condition", "only when returned")
	}
	v.text("notes", l.Notes, MaxTextLen)
	return v.err()
}

// ListLendingsParams filters lendings, newest first.
type ListLendingsParams struct {
	PageParams
	MediaID    string // optional
	BorrowerID string // optional
	Open       *bool  // optional: only open (true) or only returned (false)
	// DueBefore keeps open lendings due before it (overdue lists).
	DueBefore *Date
}

// LendingStore stores lendings.
type LendingStore interface {
	Create(ctx context.Context, l *Lending) error
	Get(ctx context.Context, id string) (*Lending, error)
	// GetOpenByMedia returns the medium's open lending, or ErrNotFound.
	GetOpenByMedia(ctx context.Context, mediaID string) (*Lending, error)
	Update(ctx context.Context, l *Lending) error
	List(ctx context.Context, p ListLendingsParams) (*Page[Lending], error)
}

// RotationPlan rotates a set of media on a cycle.
type RotationPlan struct {
	ID             string
	Name           string // unique, case-insensitive
	Scheme         RotationScheme
	Cycle          RotationCycle
	MediaIDs       []string // in rotation order
	StartOn        *Date    // the first rotation: steps are counted from it
	NextRotationOn *Date
	LastRotationOn *Date
	Active         bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Validate reports the fields of p that no store accepts.
func (p *RotationPlan) Validate() error {
	var v validator
	v.name("name", p.Name)
	enum(&v, "scheme", p.Scheme, rotationSchemeValues)
	enum(&v, "cycle", p.Cycle, rotationCycleValues)
	if len(p.MediaIDs) > 1000 {
		v.add("media_ids", "at most 1000 media")
	}
	return v.err()
}

// ListRotationPlansParams filters rotation plans, ordered by name.
type ListRotationPlansParams struct {
	PageParams
	Active *bool // optional
}

// RotationPlanStore stores rotation plans.
type RotationPlanStore interface {
	Create(ctx context.Context, p *RotationPlan) error
	Get(ctx context.Context, id string) (*RotationPlan, error)
	Update(ctx context.Context, p *RotationPlan) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context, p ListRotationPlansParams) (*Page[RotationPlan], error)
}
