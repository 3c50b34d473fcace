package bunstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/custos-dev/custos/store"
)

// unresolvedStates are the alert states that take part in dedupe-key
// uniqueness.
var unresolvedStates = []store.AlertState{store.AlertOpen, store.AlertAcknowledged}

type alertRow struct {
	bun.BaseModel `bun:"table:alerts"`

	ID        string `bun:"id,pk"`
	Type      string `bun:"type"`
	Severity  string `bun:"severity"`
	JobID     string `bun:"job_id,nullzero"`
	MediaID   string `bun:"media_id,nullzero"`
	DedupeKey string `bun:"dedupe_key"`
	// OpenDedupeKey is DedupeKey while the alert is unresolved and NULL
	// after: its unique index allows one unresolved alert per key.
	OpenDedupeKey  string     `bun:"open_dedupe_key,nullzero"`
	Title          string     `bun:"title"`
	Message        string     `bun:"message"`
	State          string     `bun:"state"`
	Occurrences    int        `bun:"occurrences"`
	FirstSeenAt    time.Time  `bun:"first_seen_at"`
	LastSeenAt     time.Time  `bun:"last_seen_at"`
	AcknowledgedBy string     `bun:"acknowledged_by,nullzero"`
	AcknowledgedAt *time.Time `bun:"acknowledged_at"`
	AckNote        string     `bun:"ack_note"`
	ResolvedAt     *time.Time `bun:"resolved_at"`
	ResolvedBy     string     `bun:"resolved_by"`
	LastNotifiedAt *time.Time `bun:"last_notified_at"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// normAlert puts a's times and message in stored form, in place.
func normAlert(a *store.Alert) {
	a.Message = store.TruncateText(a.Message, store.MaxMessageLen)
	a.FirstSeenAt = store.NormalizeTime(a.FirstSeenAt)
	a.LastSeenAt = store.NormalizeTime(a.LastSeenAt)
	a.AcknowledgedAt = normPtr(a.AcknowledgedAt)
	a.ResolvedAt = normPtr(a.ResolvedAt)
	a.LastNotifiedAt = normPtr(a.LastNotifiedAt)
}

func alertToRow(a *store.Alert) *alertRow {
	row := &alertRow{
		ID:             a.ID,
		Type:           string(a.Type),
		Severity:       string(a.Severity),
		JobID:          strVal(a.JobID),
		MediaID:        strVal(a.MediaID),
		DedupeKey:      a.DedupeKey,
		Title:          a.Title,
		Message:        a.Message,
		State:          string(a.State),
		Occurrences:    a.Occurrences,
		FirstSeenAt:    a.FirstSeenAt,
		LastSeenAt:     a.LastSeenAt,
		AcknowledgedBy: strVal(a.AcknowledgedBy),
		AcknowledgedAt: a.AcknowledgedAt,
		AckNote:        a.AckNote,
		ResolvedAt:     a.ResolvedAt,
		ResolvedBy:     a.ResolvedBy,
		LastNotifiedAt: a.LastNotifiedAt,
		CreatedAt:      a.CreatedAt,
		UpdatedAt:      a.UpdatedAt,
	}
	if a.State != store.AlertResolved {
		row.OpenDedupeKey = a.DedupeKey
	}
	return row
}

func (r *alertRow) toStore() store.Alert {
	return store.Alert{
		ID:             r.ID,
		Type:           store.AlertType(r.Type),
		Severity:       store.Severity(r.Severity),
		JobID:          strPtr(r.JobID),
		MediaID:        strPtr(r.MediaID),
		DedupeKey:      r.DedupeKey,
		Title:          r.Title,
		Message:        r.Message,
		State:          store.AlertState(r.State),
		Occurrences:    r.Occurrences,
		FirstSeenAt:    utc(r.FirstSeenAt),
		LastSeenAt:     utc(r.LastSeenAt),
		AcknowledgedBy: strPtr(r.AcknowledgedBy),
		AcknowledgedAt: utcPtr(r.AcknowledgedAt),
		AckNote:        r.AckNote,
		ResolvedAt:     utcPtr(r.ResolvedAt),
		ResolvedBy:     r.ResolvedBy,
		LastNotifiedAt: utcPtr(r.LastNotifiedAt),
		CreatedAt:      utc(r.CreatedAt),
		UpdatedAt:      utc(r.UpdatedAt),
	}
}

var alertKeyset = keyset[alertRow]{
	keys:   []sortKey{{"last_seen_at", keyTime}, {"id", keyString}},
	desc:   true,
	values: func(r *alertRow) []any { return []any{r.LastSeenAt, r.ID} },
}

type alertRepo struct{ *conn }

var _ store.AlertStore = alertRepo{}

func (r alertRepo) Create(ctx context.Context, a *store.Alert) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.ID == "" {
		a.ID = r.newID()
	}
	normAlert(a)
	a.CreatedAt = store.NormalizeTime(cmpTime(a.CreatedAt, r.stamp()))
	a.UpdatedAt = a.CreatedAt
	_, err := r.insert(alertToRow(a)).Exec(ctx)
	return mapErr(err)
}

func (r alertRepo) Get(ctx context.Context, id string) (*store.Alert, error) {
	return r.getBy(ctx, "id", id)
}

func (r alertRepo) GetUnresolved(ctx context.Context, dedupeKey string) (*store.Alert, error) {
	return r.getBy(ctx, "open_dedupe_key", dedupeKey)
}

func (r alertRepo) getBy(ctx context.Context, col, v string) (*store.Alert, error) {
	return getOneBy(ctx, r.conn, col, v, (*alertRow).toStore)
}

func (r alertRepo) Update(ctx context.Context, a *store.Alert) error {
	if err := a.Validate(); err != nil {
		return err
	}
	normAlert(a)
	a.UpdatedAt = r.stamp()
	q := r.w.NewUpdate().Model(alertToRow(a)).
		Column("severity", "job_id", "media_id", "title", "message", "state", "occurrences",
			"first_seen_at", "last_seen_at", "acknowledged_by", "acknowledged_at", "ack_note",
			"resolved_at", "resolved_by", "last_notified_at", "updated_at")
	// The shadow follows the stored key, which Update does not change.
	if a.State == store.AlertResolved {
		q = q.Set("open_dedupe_key = NULL")
	} else {
		q = q.Set("open_dedupe_key = dedupe_key")
	}
	res, err := q.WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "alerts", "id", a.ID)
}

func (r alertRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("alerts").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "alerts", "id", id)
}

func (r alertRepo) List(ctx context.Context, p store.ListAlertsParams) (*store.Page[store.Alert], error) {
	if p.Unresolved && p.State != "" {
		return nil, &store.ValidationError{Fields: map[string]string{"state": "must be empty when listing unresolved alerts"}}
	}
	q := r.r.NewSelect().Model((*alertRow)(nil))
	if p.Unresolved {
		q = q.Where("state IN (?)", bun.List(unresolvedStates))
	}
	if p.State != "" {
		q = q.Where("state = ?", p.State)
	}
	if p.Severity != "" {
		q = q.Where("severity = ?", p.Severity)
	}
	if p.Type != "" {
		q = q.Where("type = ?", p.Type)
	}
	if p.JobID != "" {
		q = q.Where("job_id = ?", p.JobID)
	}
	if p.MediaID != "" {
		q = q.Where("media_id = ?", p.MediaID)
	}
	return listPage(ctx, q, alertKeyset, p.PageParams, (*alertRow).toStore)
}

func (r alertRepo) CountUnresolved(ctx context.Context) (map[store.AlertState]map[store.Severity]int, error) {
	var rows []struct {
		State    string `bun:"state"`
		Severity string `bun:"severity"`
		N        int    `bun:"n"`
	}
	err := r.r.NewSelect().TableExpr("alerts").
		ColumnExpr("state, severity, COUNT(*) AS n").
		Where("state IN (?)", bun.List(unresolvedStates)).
		GroupExpr("state, severity").
		Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[store.AlertState]map[store.Severity]int)
	for _, row := range rows {
		st := store.AlertState(row.State)
		if out[st] == nil {
			out[st] = make(map[store.Severity]int)
		}
		out[st][store.Severity(row.Severity)] = row.N
	}
	return out, nil
}

type channelRow struct {
	bun.BaseModel `bun:"table:channels"`

	ID          string    `bun:"id,pk"`
	Kind        string    `bun:"kind"`
	Name        string    `bun:"name"`
	NameKey     string    `bun:"name_key"`
	Settings    string    `bun:"settings"`
	MinSeverity string    `bun:"min_severity"`
	Active      bool      `bun:"active"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func channelToRow(c *store.Channel) *channelRow {
	return &channelRow{
		ID:          c.ID,
		Kind:        string(c.Kind),
		Name:        c.Name,
		NameKey:     store.NameKey(c.Name),
		Settings:    rawText(c.Settings),
		MinSeverity: string(c.MinSeverity),
		Active:      c.Active,
		CreatedAt:   c.CreatedAt,
		UpdatedAt:   c.UpdatedAt,
	}
}

func (r *channelRow) toStore() store.Channel {
	return store.Channel{
		ID:          r.ID,
		Kind:        store.ChannelKind(r.Kind),
		Name:        r.Name,
		Settings:    rawOf(r.Settings),
		MinSeverity: store.Severity(r.MinSeverity),
		Active:      r.Active,
		CreatedAt:   utc(r.CreatedAt),
		UpdatedAt:   utc(r.UpdatedAt),
	}
}

var channelKeyset = keyset[channelRow]{
	keys:   []sortKey{{"name_key", keyString}, {"id", keyString}},
	values: func(r *channelRow) []any { return []any{r.NameKey, r.ID} },
}

type channelRepo struct{ *conn }

var _ store.ChannelStore = channelRepo{}

func (r channelRepo) Create(ctx context.Context, c *store.Channel) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = r.newID()
	}
	c.CreatedAt = store.NormalizeTime(cmpTime(c.CreatedAt, r.stamp()))
	c.UpdatedAt = c.CreatedAt
	_, err := r.insert(channelToRow(c)).Exec(ctx)
	return mapErr(err)
}

func (r channelRepo) Get(ctx context.Context, id string) (*store.Channel, error) {
	return getOneBy(ctx, r.conn, "id", id, (*channelRow).toStore)
}

func (r channelRepo) Update(ctx context.Context, c *store.Channel) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.UpdatedAt = r.stamp()
	res, err := r.w.NewUpdate().Model(channelToRow(c)).
		Column("kind", "name", "name_key", "settings", "min_severity", "active", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "channels", "id", c.ID)
}

// Delete removes a channel; its outbox rows go with it (ON DELETE CASCADE).
func (r channelRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("channels").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "channels", "id", id)
}

func (r channelRepo) List(ctx context.Context, p store.ListChannelsParams) (*store.Page[store.Channel], error) {
	q := r.r.NewSelect().Model((*channelRow)(nil))
	if p.Kind != "" {
		q = q.Where("kind = ?", p.Kind)
	}
	if p.Active != nil {
		q = q.Where("active = ?", *p.Active)
	}
	return listPage(ctx, q, channelKeyset, p.PageParams, (*channelRow).toStore)
}

func (r channelRepo) ListActive(ctx context.Context) ([]store.Channel, error) {
	var rows []channelRow
	err := r.r.NewSelect().Model(&rows).Where("active = ?", true).
		OrderExpr("name_key ASC, id ASC").Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.Channel, len(rows))
	for i := range rows {
		out[i] = rows[i].toStore()
	}
	return out, nil
}

type notificationRow struct {
	bun.BaseModel `bun:"table:notifications"`

	ID            string     `bun:"id,pk"`
	ChannelID     string     `bun:"channel_id"`
	AlertID       string     `bun:"alert_id,nullzero"`
	ReportID      string     `bun:"report_id,nullzero"`
	Payload       string     `bun:"payload"`
	State         string     `bun:"state"`
	Attempts      int        `bun:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at"`
	LastError     string     `bun:"last_error"`
	SentAt        *time.Time `bun:"sent_at"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
}

// normNotification puts n's times and error text in stored form, in place.
func normNotification(n *store.Notification) {
	n.LastError = store.TruncateText(n.LastError, store.MaxMessageLen)
	n.NextAttemptAt = store.NormalizeTime(n.NextAttemptAt)
	n.SentAt = normPtr(n.SentAt)
}

func notificationToRow(n *store.Notification) *notificationRow {
	return &notificationRow{
		ID:            n.ID,
		ChannelID:     n.ChannelID,
		AlertID:       strVal(n.AlertID),
		ReportID:      strVal(n.ReportID),
		Payload:       rawText(n.Payload),
		State:         string(n.State),
		Attempts:      n.Attempts,
		NextAttemptAt: n.NextAttemptAt,
		LastError:     n.LastError,
		SentAt:        n.SentAt,
		CreatedAt:     n.CreatedAt,
		UpdatedAt:     n.UpdatedAt,
	}
}

func (r *notificationRow) toStore() store.Notification {
	return store.Notification{
		ID:            r.ID,
		ChannelID:     r.ChannelID,
		AlertID:       strPtr(r.AlertID),
		ReportID:      strPtr(r.ReportID),
		Payload:       rawOf(r.Payload),
		State:         store.NotificationState(r.State),
		Attempts:      r.Attempts,
		NextAttemptAt: utc(r.NextAttemptAt),
		LastError:     r.LastError,
		SentAt:        utcPtr(r.SentAt),
		CreatedAt:     utc(r.CreatedAt),
		UpdatedAt:     utc(r.UpdatedAt),
	}
}

var notificationKeyset = keyset[notificationRow]{
	keys:   []sortKey{{"created_at", keyTime}, {"id", keyString}},
	values: func(r *notificationRow) []any { return []any{r.CreatedAt, r.ID} },
}

// claimableStates are the outbox states a dispatcher may (re)send.
var claimableStates = []store.NotificationState{store.NotificationPending, store.NotificationFailed}

// finishedStates are the outbox states retention removes.
var finishedStates = []store.NotificationState{store.NotificationSent, store.NotificationDead}

type notificationRepo struct{ *conn }

var _ store.NotificationStore = notificationRepo{}

func (r notificationRepo) Create(ctx context.Context, n *store.Notification) error {
	if err := n.Validate(); err != nil {
		return err
	}
	if n.ID == "" {
		n.ID = r.newID()
	}
	normNotification(n)
	n.CreatedAt = store.NormalizeTime(cmpTime(n.CreatedAt, r.stamp()))
	n.UpdatedAt = n.CreatedAt
	_, err := r.insert(notificationToRow(n)).Exec(ctx)
	return mapErr(err)
}

func (r notificationRepo) Get(ctx context.Context, id string) (*store.Notification, error) {
	return getOneBy(ctx, r.conn, "id", id, (*notificationRow).toStore)
}

func (r notificationRepo) Update(ctx context.Context, n *store.Notification) error {
	if err := n.Validate(); err != nil {
		return err
	}
	normNotification(n)
	n.UpdatedAt = r.stamp()
	res, err := r.w.NewUpdate().Model(notificationToRow(n)).
		Column("state", "attempts", "next_attempt_at", "last_error", "sent_at", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "notifications", "id", n.ID)
}

func (r notificationRepo) List(ctx context.Context, p store.ListNotificationsParams) (*store.Page[store.Notification], error) {
	q := r.r.NewSelect().Model((*notificationRow)(nil))
	if p.State != "" {
		q = q.Where("state = ?", p.State)
	}
	if p.ChannelID != "" {
		q = q.Where("channel_id = ?", p.ChannelID)
	}
	if p.AlertID != "" {
		q = q.Where("alert_id = ?", p.AlertID)
	}
	return listPage(ctx, q, notificationKeyset, p.PageParams, (*notificationRow).toStore)
}

func (r notificationRepo) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Notification, error) {
	bad := map[string]string{}
	if now.IsZero() {
		bad["now"] = "required"
	}
	if lease <= 0 {
		bad["lease"] = "must be positive"
	}
	if limit < 1 {
		bad["limit"] = "must be at least 1"
	}
	if len(bad) > 0 {
		return nil, &store.ValidationError{Fields: bad}
	}
	now = store.NormalizeTime(now)
	until := store.NormalizeTime(now.Add(lease))
	var out []store.Notification
	err := r.claimTx(ctx, func(c *conn) error {
		var rows []notificationRow
		q := c.w.NewSelect().Model(&rows).
			Where("state IN (?)", bun.List(claimableStates)).
			Where("next_attempt_at <= ?", now).
			OrderExpr("next_attempt_at ASC, id ASC").
			Limit(int64(limit))
		// Concurrent dispatchers skip each other's rows instead of waiting
		// for them; SQLite has one writer, whose transaction is the lock.
		if c.dialect != dialect.SQLite {
			q = q.For("UPDATE SKIP LOCKED")
		}
		if err := q.Scan(ctx); err != nil {
			return mapErr(err)
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]string, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
		}
		stamp := c.stamp()
		_, err := c.w.NewUpdate().TableExpr("notifications").
			Set("next_attempt_at = ?", until).
			Set("attempts = attempts + 1").
			Set("updated_at = ?", stamp).
			Where("id IN (?)", bun.List(ids)).
			Exec(ctx)
		if err != nil {
			return mapErr(err)
		}
		out = make([]store.Notification, len(rows))
		for i := range rows {
			rows[i].NextAttemptAt = until
			rows[i].Attempts++
			rows[i].UpdatedAt = stamp
			out[i] = rows[i].toStore()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// claimTx runs a claim in the current transaction, or in a new READ
// COMMITTED one. Under MySQL's default REPEATABLE READ the locking scan
// takes next-key locks past the due rows, and two dispatchers moving their
// rows' next_attempt_at into the same gap deadlock; READ COMMITTED takes no
// gap locks. PostgreSQL's default is READ COMMITTED already; SQLite has one
// writer and no isolation levels to choose.
func (r notificationRepo) claimTx(ctx context.Context, fn func(c *conn) error) error {
	if r.dialect == dialect.SQLite {
		return r.inWriteTx(ctx, fn)
	}
	return r.runTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, false, fn)
}

func (r notificationRepo) CountByState(ctx context.Context) (map[store.NotificationState]int, error) {
	var rows []struct {
		State string `bun:"state"`
		N     int    `bun:"n"`
	}
	err := r.r.NewSelect().TableExpr("notifications").
		ColumnExpr("state, COUNT(*) AS n").
		GroupExpr("state").
		Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make(map[store.NotificationState]int, len(rows))
	for _, row := range rows {
		out[store.NotificationState(row.State)] = row.N
	}
	return out, nil
}

func (r notificationRepo) DeleteSentBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := r.w.NewDelete().TableExpr("notifications").
		Where("state IN (?)", bun.List(finishedStates)).
		Where("updated_at < ?", store.NormalizeTime(t)).
		Exec(ctx)
	return countAffected(res, err)
}

type reportRow struct {
	bun.BaseModel `bun:"table:reports"`

	ID          string    `bun:"id,pk"`
	Type        string    `bun:"type"`
	Format      string    `bun:"format"`
	PeriodFrom  time.Time `bun:"period_from"`
	PeriodTo    time.Time `bun:"period_to"`
	GeneratedBy string    `bun:"generated_by,nullzero"`
	GeneratedAt time.Time `bun:"generated_at"`
	SizeBytes   int64     `bun:"size_bytes"`
	SHA256      string    `bun:"sha256"`
	Content     []byte    `bun:"content"`
	CreatedAt   time.Time `bun:"created_at"`
}

// reportMetaColumns are every report column but the content, which only
// GetContent reads.
var reportMetaColumns = []string{
	"id", "type", "format", "period_from", "period_to", "generated_by",
	"generated_at", "size_bytes", "sha256", "created_at",
}

func reportToRow(p *store.Report) *reportRow {
	content := p.Content
	if content == nil {
		content = []byte{} // the column is NOT NULL; an empty report is empty, not missing
	}
	return &reportRow{
		ID:          p.ID,
		Type:        string(p.Type),
		Format:      string(p.Format),
		PeriodFrom:  p.PeriodFrom,
		PeriodTo:    p.PeriodTo,
		GeneratedBy: strVal(p.GeneratedBy),
		GeneratedAt: p.GeneratedAt,
		SizeBytes:   p.SizeBytes,
		SHA256:      p.SHA256,
		Content:     content,
		CreatedAt:   p.CreatedAt,
	}
}

func (r *reportRow) toStore() store.Report {
	return store.Report{
		ID:          r.ID,
		Type:        store.ReportType(r.Type),
		Format:      store.ReportFormat(r.Format),
		PeriodFrom:  utc(r.PeriodFrom),
		PeriodTo:    utc(r.PeriodTo),
		GeneratedBy: strPtr(r.GeneratedBy),
		GeneratedAt: utc(r.GeneratedAt),
		SizeBytes:   r.SizeBytes,
		SHA256:      r.SHA256,
		Content:     r.Content,
		CreatedAt:   utc(r.CreatedAt),
	}
}

var reportKeyset = keyset[reportRow]{
	keys:   []sortKey{{"generated_at", keyTime}, {"id", keyString}},
	desc:   true,
	values: func(r *reportRow) []any { return []any{r.GeneratedAt, r.ID} },
}

type reportRepo struct{ *conn }

var _ store.ReportStore = reportRepo{}

func (r reportRepo) Create(ctx context.Context, p *store.Report) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.ID == "" {
		p.ID = r.newID()
	}
	p.PeriodFrom = store.NormalizeTime(p.PeriodFrom)
	p.PeriodTo = store.NormalizeTime(p.PeriodTo)
	p.GeneratedAt = store.NormalizeTime(p.GeneratedAt)
	p.CreatedAt = store.NormalizeTime(cmpTime(p.CreatedAt, r.stamp()))
	_, err := r.insert(reportToRow(p)).Exec(ctx)
	return mapErr(err)
}

func (r reportRepo) Get(ctx context.Context, id string) (*store.Report, error) {
	var row reportRow
	err := r.r.NewSelect().Model(&row).Column(reportMetaColumns...).
		Where("id = ?", id).Limit(1).Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	p := row.toStore()
	return &p, nil
}

func (r reportRepo) GetContent(ctx context.Context, id string) (*store.Report, error) {
	var row reportRow
	if err := r.r.NewSelect().Model(&row).Where("id = ?", id).Limit(1).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	p := row.toStore()
	if p.Content == nil {
		p.Content = []byte{}
	}
	return &p, nil
}

func (r reportRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("reports").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "reports", "id", id)
}

func (r reportRepo) List(ctx context.Context, p store.ListReportsParams) (*store.Page[store.Report], error) {
	q := r.r.NewSelect().Model((*reportRow)(nil)).Column(reportMetaColumns...)
	if p.Type != "" {
		q = q.Where("type = ?", p.Type)
	}
	q = timeRange(q, "generated_at", p.Generated)
	return listPage(ctx, q, reportKeyset, p.PageParams, (*reportRow).toStore)
}
