package bunstore

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/custos-dev/custos/store"
)

var (
	_ store.MediaStore        = mediaRepo{}
	_ store.MediaEventStore   = mediaEventRepo{}
	_ store.LendingStore      = lendingRepo{}
	_ store.RotationPlanStore = rotationPlanRepo{}
)

type mediaRow struct {
	bun.BaseModel `bun:"table:media"`

	ID            string     `bun:"id,pk"`
	Label         string     `bun:"label"`
	LabelKey      string     `bun:"label_key"`
	MediaType     string     `bun:"media_type"`
	CapacityBytes int64      `bun:"capacity_bytes"`
	PurchasedOn   *time.Time `bun:"purchased_on"`
	Location      string     `bun:"location"`
	Status        string     `bun:"status"`
	OwnerID       string     `bun:"owner_id,nullzero"`
	Notes         string     `bun:"notes"`
	LastWrittenAt *time.Time `bun:"last_written_at"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
}

func mediaToRow(m *store.Media) *mediaRow {
	return &mediaRow{
		ID:            m.ID,
		Label:         m.Label,
		LabelKey:      store.NameKey(m.Label),
		MediaType:     string(m.MediaType),
		CapacityBytes: m.CapacityBytes,
		PurchasedOn:   dateTimePtr(m.PurchasedOn),
		Location:      m.Location,
		Status:        string(m.Status),
		OwnerID:       strVal(m.OwnerID),
		Notes:         m.Notes,
		LastWrittenAt: m.LastWrittenAt,
		CreatedAt:     m.CreatedAt,
		UpdatedAt:     m.UpdatedAt,
	}
}

func (r *mediaRow) toStore() store.Media {
	return store.Media{
		ID:            r.ID,
		Label:         r.Label,
		MediaType:     store.OfflineMediaType(r.MediaType),
		CapacityBytes: r.CapacityBytes,
		PurchasedOn:   datePtrOf(utcPtr(r.PurchasedOn)),
		Location:      r.Location,
		Status:        store.MediaStatus(r.Status),
		OwnerID:       strPtr(r.OwnerID),
		Notes:         r.Notes,
		LastWrittenAt: utcPtr(r.LastWrittenAt),
		CreatedAt:     utc(r.CreatedAt),
		UpdatedAt:     utc(r.UpdatedAt),
	}
}

var mediaKeyset = keyset[mediaRow]{
	keys:   []sortKey{{"label_key", keyString}, {"id", keyString}},
	values: func(r *mediaRow) []any { return []any{r.LabelKey, r.ID} },
}

type mediaRepo struct{ *conn }

func (r mediaRepo) Create(ctx context.Context, m *store.Media) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if m.ID == "" {
		m.ID = r.newID()
	}
	m.LastWrittenAt = normPtr(m.LastWrittenAt)
	m.CreatedAt = store.NormalizeTime(cmpTime(m.CreatedAt, r.stamp()))
	m.UpdatedAt = m.CreatedAt
	_, err := r.insert(mediaToRow(m)).Exec(ctx)
	return mapErr(err)
}

func (r mediaRepo) Get(ctx context.Context, id string) (*store.Media, error) {
	return r.getBy(ctx, "id", id)
}

func (r mediaRepo) GetByLabel(ctx context.Context, label string) (*store.Media, error) {
	return r.getBy(ctx, "label_key", store.NameKey(label))
}

func (r mediaRepo) getBy(ctx context.Context, col, v string) (*store.Media, error) {
	return getOneBy(ctx, r.conn, col, v, (*mediaRow).toStore)
}

func (r mediaRepo) GetMany(ctx context.Context, ids []string) ([]store.Media, error) {
	return getByIDs(ctx, r.r, ids, (*mediaRow).toStore)
}

func (r mediaRepo) Update(ctx context.Context, m *store.Media) error {
	if err := m.Validate(); err != nil {
		return err
	}
	m.LastWrittenAt = normPtr(m.LastWrittenAt)
	m.UpdatedAt = r.stamp()
	res, err := r.w.NewUpdate().Model(mediaToRow(m)).
		Column("label", "label_key", "media_type", "capacity_bytes", "purchased_on", "location",
			"status", "owner_id", "notes", "last_written_at", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "media", "id", m.ID)
}

// Delete removes a medium; the schema cascades to its events and lendings.
func (r mediaRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("media").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "media", "id", id)
}

func (r mediaRepo) List(ctx context.Context, p store.ListMediaParams) (*store.Page[store.Media], error) {
	q := r.r.NewSelect().Model((*mediaRow)(nil))
	if p.Status != "" {
		q = q.Where("status = ?", p.Status)
	}
	if p.MediaType != "" {
		q = q.Where("media_type = ?", p.MediaType)
	}
	if p.Location != "" {
		q = q.Where("location = ?", p.Location)
	}
	return listPage(ctx, q, mediaKeyset, p.PageParams, (*mediaRow).toStore)
}

// CountByStatus counts media per status; statuses no medium has are absent.
func (r mediaRepo) CountByStatus(ctx context.Context) (map[store.MediaStatus]int, error) {
	var rows []struct {
		Status string `bun:"status"`
		N      int    `bun:"n"`
	}
	if err := r.r.NewSelect().TableExpr("media").ColumnExpr("status").ColumnExpr("COUNT(*) AS n").
		Group("status").Scan(ctx, &rows); err != nil {
		return nil, mapErr(err)
	}
	out := make(map[store.MediaStatus]int, len(rows))
	for _, row := range rows {
		out[store.MediaStatus(row.Status)] = row.N
	}
	return out, nil
}

type mediaEventRow struct {
	bun.BaseModel `bun:"table:media_events"`

	ID           string    `bun:"id,pk"`
	MediaID      string    `bun:"media_id"`
	Kind         string    `bun:"kind"`
	FromLocation string    `bun:"from_location"`
	ToLocation   string    `bun:"to_location"`
	ActorID      string    `bun:"actor_id,nullzero"`
	At           time.Time `bun:"at"`
	Note         string    `bun:"note"`
}

func mediaEventToRow(e *store.MediaEvent) *mediaEventRow {
	return &mediaEventRow{
		ID:           e.ID,
		MediaID:      e.MediaID,
		Kind:         string(e.Kind),
		FromLocation: e.FromLocation,
		ToLocation:   e.ToLocation,
		ActorID:      strVal(e.ActorID),
		At:           e.At,
		Note:         e.Note,
	}
}

func (r *mediaEventRow) toStore() store.MediaEvent {
	return store.MediaEvent{
		ID:           r.ID,
		MediaID:      r.MediaID,
		Kind:         store.MediaEventKind(r.Kind),
		FromLocation: r.FromLocation,
		ToLocation:   r.ToLocation,
		ActorID:      strPtr(r.ActorID),
		At:           utc(r.At),
		Note:         r.Note,
	}
}

var mediaEventKeyset = keyset[mediaEventRow]{
	keys:   []sortKey{{"at", keyTime}, {"id", keyString}},
	desc:   true,
	values: func(r *mediaEventRow) []any { return []any{r.At, r.ID} },
}

type mediaEventRepo struct{ *conn }

func (r mediaEventRepo) Create(ctx context.Context, e *store.MediaEvent) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if e.ID == "" {
		e.ID = r.newID()
	}
	e.At = store.NormalizeTime(e.At)
	_, err := r.insert(mediaEventToRow(e)).Exec(ctx)
	return mapErr(err)
}

func (r mediaEventRepo) List(ctx context.Context, p store.ListMediaEventsParams) (*store.Page[store.MediaEvent], error) {
	q := r.r.NewSelect().Model((*mediaEventRow)(nil))
	if p.MediaID != "" {
		q = q.Where("media_id = ?", p.MediaID)
	}
	if p.Kind != "" {
		q = q.Where("kind = ?", p.Kind)
	}
	q = timeRange(q, "at", p.At)
	return listPage(ctx, q, mediaEventKeyset, p.PageParams, (*mediaEventRow).toStore)
}

type lendingRow struct {
	bun.BaseModel `bun:"table:lendings"`

	ID              string     `bun:"id,pk"`
	MediaID         string     `bun:"media_id"`
	BorrowerID      string     `bun:"borrower_id"`
	Purpose         string     `bun:"purpose"`
	LentAt          time.Time  `bun:"lent_at"`
	DueOn           time.Time  `bun:"due_on"`
	ReturnedAt      *time.Time `bun:"returned_at"`
	ReturnCondition string     `bun:"return_condition"`
	Notes           string     `bun:"notes"`
	OpenMediaID     string     `bun:"open_media_id,nullzero"`
	CreatedAt       time.Time  `bun:"created_at"`
	UpdatedAt       time.Time  `bun:"updated_at"`
}

func lendingToRow(l *store.Lending) *lendingRow {
	row := &lendingRow{
		ID:              l.ID,
		MediaID:         l.MediaID,
		BorrowerID:      l.BorrowerID,
		Purpose:         l.Purpose,
		LentAt:          l.LentAt,
		DueOn:           l.DueOn.Time(),
		ReturnedAt:      l.ReturnedAt,
		ReturnCondition: string(l.ReturnCondition),
		Notes:           l.Notes,
		CreatedAt:       l.CreatedAt,
		UpdatedAt:       l.UpdatedAt,
	}
	// The unique index on open_media_id allows one open lending per
	// medium; returned lendings leave it NULL and so never collide.
	if l.Open() {
		row.OpenMediaID = l.MediaID
	}
	return row
}

func (r *lendingRow) toStore() store.Lending {
	return store.Lending{
		ID:              r.ID,
		MediaID:         r.MediaID,
		BorrowerID:      r.BorrowerID,
		Purpose:         r.Purpose,
		LentAt:          utc(r.LentAt),
		DueOn:           dateOf(utc(r.DueOn)),
		ReturnedAt:      utcPtr(r.ReturnedAt),
		ReturnCondition: store.ReturnCondition(r.ReturnCondition),
		Notes:           r.Notes,
		CreatedAt:       utc(r.CreatedAt),
		UpdatedAt:       utc(r.UpdatedAt),
	}
}

var lendingKeyset = keyset[lendingRow]{
	keys:   []sortKey{{"lent_at", keyTime}, {"id", keyString}},
	desc:   true,
	values: func(r *lendingRow) []any { return []any{r.LentAt, r.ID} },
}

type lendingRepo struct{ *conn }

func (r lendingRepo) Create(ctx context.Context, l *store.Lending) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if l.ID == "" {
		l.ID = r.newID()
	}
	l.LentAt = store.NormalizeTime(l.LentAt)
	l.ReturnedAt = normPtr(l.ReturnedAt)
	l.CreatedAt = store.NormalizeTime(cmpTime(l.CreatedAt, r.stamp()))
	l.UpdatedAt = l.CreatedAt
	_, err := r.insert(lendingToRow(l)).Exec(ctx)
	return mapErr(err)
}

func (r lendingRepo) Get(ctx context.Context, id string) (*store.Lending, error) {
	return r.getBy(ctx, "id", id)
}

func (r lendingRepo) GetOpenByMedia(ctx context.Context, mediaID string) (*store.Lending, error) {
	return r.getBy(ctx, "open_media_id", mediaID)
}

func (r lendingRepo) getBy(ctx context.Context, col, v string) (*store.Lending, error) {
	return getOneBy(ctx, r.conn, col, v, (*lendingRow).toStore)
}

func (r lendingRepo) Update(ctx context.Context, l *store.Lending) error {
	if err := l.Validate(); err != nil {
		return err
	}
	l.LentAt = store.NormalizeTime(l.LentAt)
	l.ReturnedAt = normPtr(l.ReturnedAt)
	l.UpdatedAt = r.stamp()
	res, err := r.w.NewUpdate().Model(lendingToRow(l)).
		Column("media_id", "borrower_id", "purpose", "lent_at", "due_on", "returned_at",
			"return_condition", "notes", "open_media_id", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "lendings", "id", l.ID)
}

func (r lendingRepo) List(ctx context.Context, p store.ListLendingsParams) (*store.Page[store.Lending], error) {
	q := r.r.NewSelect().Model((*lendingRow)(nil))
	if p.MediaID != "" {
		q = q.Where("media_id = ?", p.MediaID)
	}
	if p.BorrowerID != "" {
		q = q.Where("borrower_id = ?", p.BorrowerID)
	}
	if p.Open != nil {
		if *p.Open {
			q = q.Where("returned_at IS NULL")
		} else {
			q = q.Where("returned_at IS NOT NULL")
		}
	}
	if p.DueBefore != nil && !p.DueBefore.IsZero() {
		q = q.Where("returned_at IS NULL").Where("due_on < ?", p.DueBefore.Time())
	}
	return listPage(ctx, q, lendingKeyset, p.PageParams, (*lendingRow).toStore)
}

type rotationPlanRow struct {
	bun.BaseModel `bun:"table:rotation_plans"`

	ID             string     `bun:"id,pk"`
	Name           string     `bun:"name"`
	NameKey        string     `bun:"name_key"`
	Scheme         string     `bun:"scheme"`
	Cycle          string     `bun:"cycle"`
	MediaIDs       string     `bun:"media_ids"`
	StartOn        *time.Time `bun:"start_on"`
	NextRotationOn *time.Time `bun:"next_rotation_on"`
	LastRotationOn *time.Time `bun:"last_rotation_on"`
	Active         bool       `bun:"active"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

func rotationPlanToRow(p *store.RotationPlan) *rotationPlanRow {
	return &rotationPlanRow{
		ID:             p.ID,
		Name:           p.Name,
		NameKey:        store.NameKey(p.Name),
		Scheme:         string(p.Scheme),
		Cycle:          string(p.Cycle),
		MediaIDs:       jsonText(p.MediaIDs),
		StartOn:        dateTimePtr(p.StartOn),
		NextRotationOn: dateTimePtr(p.NextRotationOn),
		LastRotationOn: dateTimePtr(p.LastRotationOn),
		Active:         p.Active,
		CreatedAt:      p.CreatedAt,
		UpdatedAt:      p.UpdatedAt,
	}
}

func (r *rotationPlanRow) toStore() store.RotationPlan {
	return store.RotationPlan{
		ID:             r.ID,
		Name:           r.Name,
		Scheme:         store.RotationScheme(r.Scheme),
		Cycle:          store.RotationCycle(r.Cycle),
		MediaIDs:       mediaIDsOf(fromJSONText[string](r.MediaIDs)),
		StartOn:        datePtrOf(utcPtr(r.StartOn)),
		NextRotationOn: datePtrOf(utcPtr(r.NextRotationOn)),
		LastRotationOn: datePtrOf(utcPtr(r.LastRotationOn)),
		Active:         r.Active,
		CreatedAt:      utc(r.CreatedAt),
		UpdatedAt:      utc(r.UpdatedAt),
	}
}

// mediaIDsOf gives an empty media list one form, nil, whether it was
// written as nil or as an empty slice.
func mediaIDsOf(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	return ids
}

var rotationPlanKeyset = keyset[rotationPlanRow]{
	keys:   []sortKey{{"name_key", keyString}, {"id", keyString}},
	values: func(r *rotationPlanRow) []any { return []any{r.NameKey, r.ID} },
}

type rotationPlanRepo struct{ *conn }

func (r rotationPlanRepo) Create(ctx context.Context, p *store.RotationPlan) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.ID == "" {
		p.ID = r.newID()
	}
	p.MediaIDs = mediaIDsOf(p.MediaIDs)
	p.CreatedAt = store.NormalizeTime(cmpTime(p.CreatedAt, r.stamp()))
	p.UpdatedAt = p.CreatedAt
	_, err := r.insert(rotationPlanToRow(p)).Exec(ctx)
	return mapErr(err)
}

func (r rotationPlanRepo) Get(ctx context.Context, id string) (*store.RotationPlan, error) {
	var row rotationPlanRow
	if err := r.r.NewSelect().Model(&row).Where("id = ?", id).Limit(1).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	p := row.toStore()
	return &p, nil
}

func (r rotationPlanRepo) Update(ctx context.Context, p *store.RotationPlan) error {
	if err := p.Validate(); err != nil {
		return err
	}
	p.MediaIDs = mediaIDsOf(p.MediaIDs)
	p.UpdatedAt = r.stamp()
	res, err := r.w.NewUpdate().Model(rotationPlanToRow(p)).
		Column("name", "name_key", "scheme", "cycle", "media_ids", "start_on", "next_rotation_on",
			"last_rotation_on", "active", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "rotation_plans", "id", p.ID)
}

func (r rotationPlanRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("rotation_plans").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "rotation_plans", "id", id)
}

func (r rotationPlanRepo) List(ctx context.Context, p store.ListRotationPlansParams) (*store.Page[store.RotationPlan], error) {
	q := r.r.NewSelect().Model((*rotationPlanRow)(nil))
	if p.Active != nil {
		q = q.Where("active = ?", *p.Active)
	}
	return listPage(ctx, q, rotationPlanKeyset, p.PageParams, (*rotationPlanRow).toStore)
}
