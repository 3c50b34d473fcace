package bunstore

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/custos-dev/custos/store"
)

type assetRow struct {
	bun.BaseModel `bun:"table:assets"`

	ID             string    `bun:"id,pk"`
	Name           string    `bun:"name"`
	NameKey        string    `bun:"name_key"`
	Description    string    `bun:"description"`
	Classification string    `bun:"classification"`
	OwnerID        string    `bun:"owner_id,nullzero"`
	CreatedAt      time.Time `bun:"created_at"`
	UpdatedAt      time.Time `bun:"updated_at"`
}

func assetToRow(a *store.Asset) *assetRow {
	return &assetRow{
		ID:             a.ID,
		Name:           a.Name,
		NameKey:        store.NameKey(a.Name),
		Description:    a.Description,
		Classification: string(a.Classification),
		OwnerID:        strVal(a.OwnerID),
		CreatedAt:      a.CreatedAt,
		UpdatedAt:      a.UpdatedAt,
	}
}

func (r *assetRow) toStore() store.Asset {
	return store.Asset{
		ID:             r.ID,
		Name:           r.Name,
		Description:    r.Description,
		Classification: store.Classification(r.Classification),
		OwnerID:        strPtr(r.OwnerID),
		CreatedAt:      utc(r.CreatedAt),
		UpdatedAt:      utc(r.UpdatedAt),
	}
}

var assetKeyset = keyset[assetRow]{
	keys:   []sortKey{{"name_key", keyString}, {"id", keyString}},
	values: func(r *assetRow) []any { return []any{r.NameKey, r.ID} },
}

type assetRepo struct{ *conn }

func (r assetRepo) Create(ctx context.Context, a *store.Asset) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.ID == "" {
		a.ID = r.newID()
	}
	a.CreatedAt = store.NormalizeTime(cmpTime(a.CreatedAt, r.stamp()))
	a.UpdatedAt = a.CreatedAt
	_, err := r.insert(assetToRow(a)).Exec(ctx)
	return mapErr(err)
}

func (r assetRepo) Get(ctx context.Context, id string) (*store.Asset, error) {
	return r.getBy(ctx, "id", id)
}

func (r assetRepo) GetByName(ctx context.Context, name string) (*store.Asset, error) {
	return r.getBy(ctx, "name_key", store.NameKey(name))
}

func (r assetRepo) getBy(ctx context.Context, col, v string) (*store.Asset, error) {
	return getOneBy(ctx, r.conn, col, v, (*assetRow).toStore)
}

func (r assetRepo) GetMany(ctx context.Context, ids []string) ([]store.Asset, error) {
	return getByIDs(ctx, r.r, ids, (*assetRow).toStore)
}

func (r assetRepo) Update(ctx context.Context, a *store.Asset) error {
	if err := a.Validate(); err != nil {
		return err
	}
	a.UpdatedAt = r.stamp()
	row := assetToRow(a)
	res, err := r.w.NewUpdate().Model(row).
		Column("name", "name_key", "description", "classification", "owner_id", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "assets", "id", a.ID)
}

func (r assetRepo) Delete(ctx context.Context, id string) error {
	return r.inWriteTx(ctx, func(c *conn) error {
		if err := deleteCompliance(ctx, c, store.SubjectAsset, id); err != nil {
			return err
		}
		res, err := c.w.NewDelete().TableExpr("assets").Where("id = ?", id).Exec(ctx)
		return c.affected(ctx, res, err, "assets", "id", id)
	})
}

func (r assetRepo) List(ctx context.Context, p store.ListAssetsParams) (*store.Page[store.Asset], error) {
	q := r.r.NewSelect().Model((*assetRow)(nil))
	if p.Classification != "" {
		q = q.Where("classification = ?", p.Classification)
	}
	if p.OwnerID != "" {
		q = q.Where("owner_id = ?", p.OwnerID)
	}
	return listPage(ctx, q, assetKeyset, p.PageParams, (*assetRow).toStore)
}

// deleteCompliance removes a subject's compliance state and history; the
// tables have no foreign key because a subject is a job or an asset.
func deleteCompliance(ctx context.Context, c *conn, t store.SubjectType, id string) error {
	if _, err := c.w.NewDelete().TableExpr("compliance_states").
		Where("subject_type = ? AND subject_id = ?", t, id).Exec(ctx); err != nil {
		return mapErr(err)
	}
	_, err := c.w.NewDelete().TableExpr("compliance_changes").
		Where("subject_type = ? AND subject_id = ?", t, id).Exec(ctx)
	return mapErr(err)
}

// cmpTime returns t, or def when t is zero.
func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

type jobRow struct {
	bun.BaseModel `bun:"table:jobs"`

	ID                      string     `bun:"id,pk"`
	Name                    string     `bun:"name"`
	NameKey                 string     `bun:"name_key"`
	Description             string     `bun:"description"`
	AssetID                 string     `bun:"asset_id,nullzero"`
	JobType                 string     `bun:"job_type"`
	Tool                    string     `bun:"tool"`
	TargetServer            string     `bun:"target_server"`
	TargetPath              string     `bun:"target_path"`
	ScheduleKind            string     `bun:"schedule_kind"`
	ScheduleCron            string     `bun:"schedule_cron"`
	ScheduleIntervalSeconds int64      `bun:"schedule_interval_seconds"`
	ScheduleTimezone        string     `bun:"schedule_timezone"`
	GraceSeconds            int64      `bun:"grace_seconds"`
	MaxRuntimeSeconds       int64      `bun:"max_runtime_seconds"`
	RetentionDays           int        `bun:"retention_days"`
	RPOTargetSeconds        int64      `bun:"rpo_target_seconds"`
	RTOTargetSeconds        int64      `bun:"rto_target_seconds"`
	OwnerID                 string     `bun:"owner_id,nullzero"`
	Tags                    string     `bun:"tags"`
	Active                  bool       `bun:"active"`
	Paused                  bool       `bun:"paused"`
	PingToken               string     `bun:"ping_token"`
	State                   string     `bun:"state"`
	NextDueAt               *time.Time `bun:"next_due_at"`
	LastRunAt               *time.Time `bun:"last_run_at"`
	LastSuccessAt           *time.Time `bun:"last_success_at"`
	LastResult              string     `bun:"last_result"`
	ConsecutiveFailures     int        `bun:"consecutive_failures"`
	CreatedAt               time.Time  `bun:"created_at"`
	UpdatedAt               time.Time  `bun:"updated_at"`
}

// jobUpdateColumns is every column Update writes.
var jobUpdateColumns = []string{
	"name", "name_key", "description", "asset_id", "job_type", "tool", "target_server", "target_path",
	"schedule_kind", "schedule_cron", "schedule_interval_seconds", "schedule_timezone", "grace_seconds",
	"max_runtime_seconds", "retention_days", "rpo_target_seconds", "rto_target_seconds", "owner_id", "tags",
	"active", "paused", "ping_token", "state", "next_due_at", "last_run_at", "last_success_at", "last_result",
	"consecutive_failures", "updated_at",
}

// normalizeJob puts j's times in stored form.
func normalizeJob(j *store.Job) {
	j.NextDueAt = normPtr(j.NextDueAt)
	j.LastRunAt = normPtr(j.LastRunAt)
	j.LastSuccessAt = normPtr(j.LastSuccessAt)
	if j.Tags == nil {
		j.Tags = []string{}
	}
}

func jobToRow(j *store.Job) *jobRow {
	return &jobRow{
		ID:                      j.ID,
		Name:                    j.Name,
		NameKey:                 store.NameKey(j.Name),
		Description:             j.Description,
		AssetID:                 strVal(j.AssetID),
		JobType:                 string(j.JobType),
		Tool:                    string(j.Tool),
		TargetServer:            j.TargetServer,
		TargetPath:              j.TargetPath,
		ScheduleKind:            string(j.Schedule.Kind),
		ScheduleCron:            j.Schedule.Cron,
		ScheduleIntervalSeconds: seconds(j.Schedule.Interval),
		ScheduleTimezone:        j.Schedule.Timezone,
		GraceSeconds:            seconds(j.Grace),
		MaxRuntimeSeconds:       seconds(j.MaxRuntime),
		RetentionDays:           j.RetentionDays,
		RPOTargetSeconds:        seconds(j.RPOTarget),
		RTOTargetSeconds:        seconds(j.RTOTarget),
		OwnerID:                 strVal(j.OwnerID),
		Tags:                    jsonText(j.Tags),
		Active:                  j.Active,
		Paused:                  j.Paused,
		PingToken:               j.PingToken,
		State:                   string(j.State),
		NextDueAt:               j.NextDueAt,
		LastRunAt:               j.LastRunAt,
		LastSuccessAt:           j.LastSuccessAt,
		LastResult:              string(j.LastResult),
		ConsecutiveFailures:     j.ConsecutiveFailures,
		CreatedAt:               j.CreatedAt,
		UpdatedAt:               j.UpdatedAt,
	}
}

func (r *jobRow) toStore() store.Job {
	tags := fromJSONText[string](r.Tags)
	if tags == nil {
		tags = []string{}
	}
	return store.Job{
		ID:           r.ID,
		Name:         r.Name,
		Description:  r.Description,
		AssetID:      strPtr(r.AssetID),
		JobType:      store.JobType(r.JobType),
		Tool:         store.Tool(r.Tool),
		TargetServer: r.TargetServer,
		TargetPath:   r.TargetPath,
		Schedule: store.Schedule{
			Kind:     store.ScheduleKind(r.ScheduleKind),
			Cron:     r.ScheduleCron,
			Interval: duration(r.ScheduleIntervalSeconds),
			Timezone: r.ScheduleTimezone,
		},
		Grace:               duration(r.GraceSeconds),
		MaxRuntime:          duration(r.MaxRuntimeSeconds),
		RetentionDays:       r.RetentionDays,
		RPOTarget:           duration(r.RPOTargetSeconds),
		RTOTarget:           duration(r.RTOTargetSeconds),
		OwnerID:             strPtr(r.OwnerID),
		Tags:                tags,
		Active:              r.Active,
		Paused:              r.Paused,
		PingToken:           r.PingToken,
		State:               store.JobState(r.State),
		NextDueAt:           utcPtr(r.NextDueAt),
		LastRunAt:           utcPtr(r.LastRunAt),
		LastSuccessAt:       utcPtr(r.LastSuccessAt),
		LastResult:          store.ExecutionStatus(r.LastResult),
		ConsecutiveFailures: r.ConsecutiveFailures,
		CreatedAt:           utc(r.CreatedAt),
		UpdatedAt:           utc(r.UpdatedAt),
	}
}

var jobKeyset = keyset[jobRow]{
	keys:   []sortKey{{"name_key", keyString}, {"id", keyString}},
	values: func(r *jobRow) []any { return []any{r.NameKey, r.ID} },
}

type jobRepo struct{ *conn }

var _ store.JobStore = jobRepo{}

func (r jobRepo) Create(ctx context.Context, j *store.Job) error {
	if err := j.Validate(); err != nil {
		return err
	}
	if j.ID == "" {
		j.ID = r.newID()
	}
	normalizeJob(j)
	j.CreatedAt = store.NormalizeTime(cmpTime(j.CreatedAt, r.stamp()))
	j.UpdatedAt = j.CreatedAt
	_, err := r.insert(jobToRow(j)).Exec(ctx)
	return mapErr(err)
}

func (r jobRepo) Get(ctx context.Context, id string) (*store.Job, error) {
	return r.getBy(ctx, "id", id)
}

func (r jobRepo) GetByName(ctx context.Context, name string) (*store.Job, error) {
	return r.getBy(ctx, "name_key", store.NameKey(name))
}

func (r jobRepo) GetByPingToken(ctx context.Context, token string) (*store.Job, error) {
	return r.getBy(ctx, "ping_token", token)
}

func (r jobRepo) getBy(ctx context.Context, col, v string) (*store.Job, error) {
	return getOneBy(ctx, r.conn, col, v, (*jobRow).toStore)
}

func (r jobRepo) GetMany(ctx context.Context, ids []string) ([]store.Job, error) {
	return getByIDs(ctx, r.r, ids, (*jobRow).toStore)
}

func (r jobRepo) Update(ctx context.Context, j *store.Job) error {
	if err := j.Validate(); err != nil {
		return err
	}
	normalizeJob(j)
	j.UpdatedAt = r.stamp()
	res, err := r.w.NewUpdate().Model(jobToRow(j)).Column(jobUpdateColumns...).WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "jobs", "id", j.ID)
}

func (r jobRepo) Delete(ctx context.Context, id string) error {
	return r.inWriteTx(ctx, func(c *conn) error {
		if err := deleteCompliance(ctx, c, store.SubjectJob, id); err != nil {
			return err
		}
		res, err := c.w.NewDelete().TableExpr("jobs").Where("id = ?", id).Exec(ctx)
		return c.affected(ctx, res, err, "jobs", "id", id)
	})
}

func (r jobRepo) List(ctx context.Context, p store.ListJobsParams) (*store.Page[store.Job], error) {
	q := r.r.NewSelect().Model((*jobRow)(nil))
	if p.Active != nil {
		q = q.Where("active = ?", *p.Active)
	}
	if p.Paused != nil {
		q = q.Where("paused = ?", *p.Paused)
	}
	if p.State != "" {
		q = q.Where("state = ?", p.State)
	}
	if p.JobType != "" {
		q = q.Where("job_type = ?", p.JobType)
	}
	if p.Tool != "" {
		q = q.Where("tool = ?", p.Tool)
	}
	if p.AssetID != "" {
		q = q.Where("asset_id = ?", p.AssetID)
	}
	if p.OwnerID != "" {
		q = q.Where("owner_id = ?", p.OwnerID)
	}
	if p.Tag != "" {
		// Tags are a JSON array of strings: match the encoded element, quotes
		// included, so "db" does not match "db2".
		enc := jsonText([]string{p.Tag})
		elem := enc[1 : len(enc)-1]
		if r.dialect == dialect.SQLite {
			// SQLite's LIKE ignores ASCII case; tags are case-sensitive.
			q = q.Where("instr(tags, ?) > 0", elem)
		} else {
			q = q.Where("tags LIKE ? ESCAPE '!'", "%"+likeEscape(elem)+"%")
		}
	}
	if p.Query != "" {
		q = q.Where("name_key LIKE ? ESCAPE '!'", "%"+likeEscape(store.NameKey(p.Query))+"%")
	}
	return listPage(ctx, q, jobKeyset, p.PageParams, (*jobRow).toStore)
}

func (r jobRepo) ListDue(ctx context.Context, now time.Time, limit int) ([]store.Job, error) {
	if limit <= 0 {
		limit = store.LimitDefault
	}
	var rows []jobRow
	err := r.r.NewSelect().Model(&rows).
		Where("active = ?", true).
		Where("next_due_at <= ?", store.NormalizeTime(now)).
		Where("paused = ?", false).
		OrderExpr("next_due_at ASC, id ASC").
		Limit(int64(limit)).
		Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.Job, len(rows))
	for i := range rows {
		out[i] = rows[i].toStore()
	}
	return out, nil
}

func (r jobRepo) CountByState(ctx context.Context) (map[store.JobState]int, error) {
	var rows []struct {
		State  string `bun:"state"`
		Paused bool   `bun:"paused"`
		N      int    `bun:"n"`
	}
	err := r.r.NewSelect().TableExpr("jobs").
		ColumnExpr("state, paused, count(*) AS n").
		GroupExpr("state, paused").
		Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[store.JobState]int)
	for _, row := range rows {
		st := store.JobState(row.State)
		if row.Paused {
			st = store.JobStatePaused
		}
		out[st] += row.N
	}
	return out, nil
}

// likeEscape escapes LIKE wildcards with '!'.
func likeEscape(s string) string {
	return likeEscaper.Replace(s)
}

var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

type copyRow struct {
	bun.BaseModel `bun:"table:copies"`

	ID             string     `bun:"id,pk"`
	JobID          string     `bun:"job_id"`
	Name           string     `bun:"name"`
	NameKey        string     `bun:"name_key"`
	Role           string     `bun:"role"`
	MediaType      string     `bun:"media_type"`
	Location       string     `bun:"location"`
	Offsite        bool       `bun:"offsite"`
	Offline        bool       `bun:"offline"`
	Immutable      bool       `bun:"immutable"`
	ImmutableUntil *time.Time `bun:"immutable_until"`
	Encrypted      bool       `bun:"encrypted"`
	Compressed     bool       `bun:"compressed"`
	MediaID        string     `bun:"media_id,nullzero"`
	LastWrittenAt  *time.Time `bun:"last_written_at"`
	LastSizeBytes  int64      `bun:"last_size_bytes"`
	Status         string     `bun:"status"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

func copyToRow(c *store.Copy) *copyRow {
	return &copyRow{
		ID:             c.ID,
		JobID:          c.JobID,
		Name:           c.Name,
		NameKey:        store.NameKey(c.Name),
		Role:           string(c.Role),
		MediaType:      string(c.MediaType),
		Location:       c.Location,
		Offsite:        c.Offsite,
		Offline:        c.Offline,
		Immutable:      c.Immutable,
		ImmutableUntil: c.ImmutableUntil,
		Encrypted:      c.Encrypted,
		Compressed:     c.Compressed,
		MediaID:        strVal(c.MediaID),
		LastWrittenAt:  c.LastWrittenAt,
		LastSizeBytes:  c.LastSizeBytes,
		Status:         string(c.Status),
		CreatedAt:      c.CreatedAt,
		UpdatedAt:      c.UpdatedAt,
	}
}

func (r *copyRow) toStore() store.Copy {
	return store.Copy{
		ID:             r.ID,
		JobID:          r.JobID,
		Name:           r.Name,
		Role:           store.CopyRole(r.Role),
		MediaType:      store.MediaType(r.MediaType),
		Location:       r.Location,
		Offsite:        r.Offsite,
		Offline:        r.Offline,
		Immutable:      r.Immutable,
		ImmutableUntil: utcPtr(r.ImmutableUntil),
		Encrypted:      r.Encrypted,
		Compressed:     r.Compressed,
		MediaID:        strPtr(r.MediaID),
		LastWrittenAt:  utcPtr(r.LastWrittenAt),
		LastSizeBytes:  r.LastSizeBytes,
		Status:         store.CopyStatus(r.Status),
		CreatedAt:      utc(r.CreatedAt),
		UpdatedAt:      utc(r.UpdatedAt),
	}
}

type copyRepo struct{ *conn }

var _ store.CopyStore = copyRepo{}

func (r copyRepo) Create(ctx context.Context, c *store.Copy) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = r.newID()
	}
	c.ImmutableUntil = normPtr(c.ImmutableUntil)
	c.LastWrittenAt = normPtr(c.LastWrittenAt)
	c.CreatedAt = store.NormalizeTime(cmpTime(c.CreatedAt, r.stamp()))
	c.UpdatedAt = c.CreatedAt
	_, err := r.insert(copyToRow(c)).Exec(ctx)
	return mapErr(err)
}

func (r copyRepo) Get(ctx context.Context, id string) (*store.Copy, error) {
	return getOneBy(ctx, r.conn, "id", id, (*copyRow).toStore)
}

func (r copyRepo) Update(ctx context.Context, c *store.Copy) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.ImmutableUntil = normPtr(c.ImmutableUntil)
	c.LastWrittenAt = normPtr(c.LastWrittenAt)
	c.UpdatedAt = r.stamp()
	res, err := r.w.NewUpdate().Model(copyToRow(c)).
		Column("name", "name_key", "role", "media_type", "location", "offsite", "offline", "immutable",
			"immutable_until", "encrypted", "compressed", "media_id", "last_written_at", "last_size_bytes",
			"status", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "copies", "id", c.ID)
}

func (r copyRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("copies").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "copies", "id", id)
}

func (r copyRepo) ListByJob(ctx context.Context, jobID string) ([]store.Copy, error) {
	return r.ListByJobs(ctx, []string{jobID})
}

func (r copyRepo) ListByJobs(ctx context.Context, jobIDs []string) ([]store.Copy, error) {
	if len(jobIDs) == 0 {
		return nil, nil
	}
	var rows []copyRow
	err := r.r.NewSelect().Model(&rows).Where("job_id IN (?)", bun.List(jobIDs)).
		OrderExpr("job_id ASC, name_key ASC, id ASC").Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.Copy, len(rows))
	for i := range rows {
		out[i] = rows[i].toStore()
	}
	return out, nil
}
