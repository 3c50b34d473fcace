package bunstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/feature"

	"github.com/custos-dev/custos/store"
)

type auditRow struct {
	bun.BaseModel `bun:"table:audit_events"`

	Seq          int64     `bun:"seq,pk"`
	At           time.Time `bun:"at"`
	Actor        string    `bun:"actor"`
	Action       string    `bun:"action"`
	ResourceType string    `bun:"resource_type"`
	ResourceID   string    `bun:"resource_id"`
	Result       string    `bun:"result"`
	IP           string    `bun:"ip"`
	RequestID    string    `bun:"request_id"`
	Details      string    `bun:"details"`
	PrevHash     string    `bun:"prev_hash"`
	Hash         string    `bun:"hash"`
}

func auditToRow(e *store.AuditEvent) *auditRow {
	return &auditRow{
		Seq:          e.Seq,
		At:           e.At,
		Actor:        e.Actor,
		Action:       e.Action,
		ResourceType: e.ResourceType,
		ResourceID:   e.ResourceID,
		Result:       string(e.Result),
		IP:           e.IP,
		RequestID:    e.RequestID,
		Details:      rawText(e.Details),
		PrevHash:     e.PrevHash,
		Hash:         e.Hash,
	}
}

func (r *auditRow) toStore() store.AuditEvent {
	return store.AuditEvent{
		Seq:          r.Seq,
		At:           utc(r.At),
		Actor:        r.Actor,
		Action:       r.Action,
		ResourceType: r.ResourceType,
		ResourceID:   r.ResourceID,
		Result:       store.AuditResult(r.Result),
		IP:           r.IP,
		RequestID:    r.RequestID,
		Details:      rawOf(r.Details),
		PrevHash:     r.PrevHash,
		Hash:         r.Hash,
	}
}

// seq is unique, so it orders the log alone.
var auditKeyset = keyset[auditRow]{
	keys:   []sortKey{{"seq", keyInt}},
	desc:   true,
	values: func(r *auditRow) []any { return []any{r.Seq} },
}

type auditRepo struct{ *conn }

var _ store.AuditStore = auditRepo{}

func (r auditRepo) Append(ctx context.Context, e *store.AuditEvent) error {
	if err := e.Validate(); err != nil {
		return err
	}
	e.At = store.NormalizeTime(e.At)
	if len(e.Details) == 0 {
		e.Details = nil
	}
	_, err := r.insert(auditToRow(e)).Exec(ctx)
	if err = mapErr(err); errors.Is(err, store.ErrConflict) {
		// The primary key is the table's only unique key; PostgreSQL and
		// MySQL do not name it the way mapErr reads.
		return &store.ConstraintError{Err: store.ErrConflict, Table: "audit_events", Field: "seq"}
	}
	return err
}

func (r auditRepo) Head(ctx context.Context) (*store.AuditEvent, error) {
	var row auditRow
	if err := r.r.NewSelect().Model(&row).OrderExpr("seq DESC").Limit(1).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	e := row.toStore()
	return &e, nil
}

func (r auditRepo) Get(ctx context.Context, seq int64) (*store.AuditEvent, error) {
	return getOne(ctx, r.forUpdate(r.r.NewSelect().Where("seq = ?", seq)), (*auditRow).toStore)
}

func (r auditRepo) List(ctx context.Context, p store.ListAuditParams) (*store.Page[store.AuditEvent], error) {
	q := r.r.NewSelect().Model((*auditRow)(nil))
	for _, f := range []struct{ col, v string }{
		{"actor", p.Actor},
		{"action", p.Action},
		{"resource_type", p.ResourceType},
		{"resource_id", p.ResourceID},
		{"result", string(p.Result)},
	} {
		if f.v != "" {
			q = q.Where("? = ?", bun.Ident(f.col), f.v)
		}
	}
	q = timeRange(q, "at", p.At)
	return listPage(ctx, q, auditKeyset, p.PageParams, (*auditRow).toStore)
}

func (r auditRepo) Range(ctx context.Context, afterSeq int64, limit int) ([]store.AuditEvent, error) {
	if limit < 1 {
		return nil, &store.ValidationError{Fields: map[string]string{"limit": "must be at least 1"}}
	}
	var rows []auditRow
	if err := r.r.NewSelect().Model(&rows).Where("seq > ?", afterSeq).
		OrderExpr("seq ASC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.AuditEvent, len(rows))
	for i := range rows {
		out[i] = rows[i].toStore()
	}
	return out, nil
}

func (r auditRepo) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := r.w.NewDelete().TableExpr("audit_events").
		Where("at < ?", store.NormalizeTime(t)).Exec(ctx)
	return countAffected(res, err)
}

type settingRow struct {
	bun.BaseModel `bun:"table:settings"`

	// The column is "name": KEY is reserved in MySQL.
	Name      string    `bun:"name,pk"`
	Value     string    `bun:"value"`
	UpdatedBy string    `bun:"updated_by,nullzero"`
	UpdatedAt time.Time `bun:"updated_at"`
}

func settingToRow(s *store.Setting) *settingRow {
	return &settingRow{
		Name:      s.Key,
		Value:     rawText(s.Value),
		UpdatedBy: strVal(s.UpdatedBy),
		UpdatedAt: s.UpdatedAt,
	}
}

func (r *settingRow) toStore() store.Setting {
	return store.Setting{
		Key:       r.Name,
		Value:     rawOf(r.Value),
		UpdatedBy: strPtr(r.UpdatedBy),
		UpdatedAt: utc(r.UpdatedAt),
	}
}

type settingRepo struct{ *conn }

var _ store.SettingStore = settingRepo{}

func (r settingRepo) Get(ctx context.Context, key string) (*store.Setting, error) {
	return getOneBy(ctx, r.conn, "name", key, (*settingRow).toStore)
}

// Put stamps UpdatedAt with the store's clock: it is when the value was
// written, whatever the caller set.
func (r settingRepo) Put(ctx context.Context, s *store.Setting) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.UpdatedAt = r.stamp()
	if s.UpdatedBy != nil && *s.UpdatedBy == "" {
		s.UpdatedBy = nil
	}
	q := r.insert(settingToRow(s))
	switch {
	case r.feats.Has(feature.InsertOnConflict):
		q = q.On("CONFLICT (name) DO UPDATE").
			Set("value = EXCLUDED.value").
			Set("updated_by = EXCLUDED.updated_by").
			Set("updated_at = EXCLUDED.updated_at")
	case r.feats.Has(feature.InsertOnDuplicateKey):
		q = q.On("DUPLICATE KEY UPDATE").
			Set("value = VALUES(value)").
			Set("updated_by = VALUES(updated_by)").
			Set("updated_at = VALUES(updated_at)")
	default:
		return fmt.Errorf("bunstore: %s has no upsert", r.dialect)
	}
	_, err := q.Exec(ctx)
	return mapErr(err)
}

func (r settingRepo) Delete(ctx context.Context, key string) error {
	res, err := r.w.NewDelete().TableExpr("settings").Where("name = ?", key).Exec(ctx)
	return r.affected(ctx, res, err, "settings", "name", key)
}

// List orders by key in byte order, which no database collation changes.
func (r settingRepo) List(ctx context.Context) ([]store.Setting, error) {
	var rows []settingRow
	if err := r.r.NewSelect().Model(&rows).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	slices.SortFunc(rows, func(a, b settingRow) int { return strings.Compare(a.Name, b.Name) })
	out := make([]store.Setting, len(rows))
	for i := range rows {
		out[i] = rows[i].toStore()
	}
	return out, nil
}
