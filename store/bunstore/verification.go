package bunstore

import (
	"context"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/feature"

	"github.com/custos-dev/custos/store"
)

var (
	_ store.VerificationTestStore     = verificationTestRepo{}
	_ store.VerificationScheduleStore = verificationScheduleRepo{}
	_ store.ComplianceStore           = complianceRepo{}
	_ store.RollupStore               = rollupRepo{}
)

type verificationTestRow struct {
	bun.BaseModel `bun:"table:verification_tests,alias:vt"`

	ID              string    `bun:"id,pk"`
	JobID           string    `bun:"job_id"`
	CopyID          string    `bun:"copy_id,nullzero"`
	TestType        string    `bun:"test_type"`
	Result          string    `bun:"result"`
	TestedAt        time.Time `bun:"tested_at"`
	TesterID        string    `bun:"tester_id,nullzero"`
	RestoreTarget   string    `bun:"restore_target"`
	DurationSeconds int64     `bun:"duration_seconds"`
	FilesChecked    int64     `bun:"files_checked"`
	FilesFailed     int64     `bun:"files_failed"`
	Issues          string    `bun:"issues"`
	Notes           string    `bun:"notes"`
	CreatedAt       time.Time `bun:"created_at"`
}

func verificationTestToRow(t *store.VerificationTest) *verificationTestRow {
	return &verificationTestRow{
		ID:              t.ID,
		JobID:           t.JobID,
		CopyID:          strVal(t.CopyID),
		TestType:        string(t.TestType),
		Result:          string(t.Result),
		TestedAt:        t.TestedAt,
		TesterID:        strVal(t.TesterID),
		RestoreTarget:   t.RestoreTarget,
		DurationSeconds: seconds(t.Duration),
		FilesChecked:    t.FilesChecked,
		FilesFailed:     t.FilesFailed,
		Issues:          t.Issues,
		Notes:           t.Notes,
		CreatedAt:       t.CreatedAt,
	}
}

func (r *verificationTestRow) toStore() store.VerificationTest {
	return store.VerificationTest{
		ID:            r.ID,
		JobID:         r.JobID,
		CopyID:        strPtr(r.CopyID),
		TestType:      store.TestType(r.TestType),
		Result:        store.TestResult(r.Result),
		TestedAt:      utc(r.TestedAt),
		TesterID:      strPtr(r.TesterID),
		RestoreTarget: r.RestoreTarget,
		Duration:      duration(r.DurationSeconds),
		FilesChecked:  r.FilesChecked,
		FilesFailed:   r.FilesFailed,
		Issues:        r.Issues,
		Notes:         r.Notes,
		CreatedAt:     utc(r.CreatedAt),
	}
}

var verificationTestKeyset = keyset[verificationTestRow]{
	keys: []sortKey{{"tested_at", keyTime}, {"id", keyString}},
	desc: true,
	values: func(r *verificationTestRow) []any {
		return []any{r.TestedAt, r.ID}
	},
}

type verificationTestRepo struct{ *conn }

func (r verificationTestRepo) Create(ctx context.Context, t *store.VerificationTest) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if t.ID == "" {
		t.ID = r.newID()
	}
	t.TestedAt = store.NormalizeTime(t.TestedAt)
	t.CreatedAt = store.NormalizeTime(cmpTime(t.CreatedAt, r.stamp()))
	// The stored form: whole seconds, and no pointer to an empty ID.
	t.Duration = duration(seconds(t.Duration))
	t.CopyID = strPtr(strVal(t.CopyID))
	t.TesterID = strPtr(strVal(t.TesterID))
	_, err := r.insert(verificationTestToRow(t)).Exec(ctx)
	return mapErr(err)
}

func (r verificationTestRepo) Get(ctx context.Context, id string) (*store.VerificationTest, error) {
	var row verificationTestRow
	if err := r.r.NewSelect().Model(&row).Where("vt.id = ?", id).Limit(1).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	t := row.toStore()
	return &t, nil
}

func (r verificationTestRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("verification_tests").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "verification_tests", "id", id)
}

func (r verificationTestRepo) List(ctx context.Context, p store.ListVerificationTestsParams) (*store.Page[store.VerificationTest], error) {
	q := r.r.NewSelect().Model((*verificationTestRow)(nil))
	if p.JobID != "" {
		q = q.Where("vt.job_id = ?", p.JobID)
	}
	if p.Result != "" {
		q = q.Where("vt.result = ?", p.Result)
	}
	q = timeRange(q, "vt.tested_at", p.Tested)
	return listPage(ctx, q, verificationTestKeyset, p.PageParams, (*verificationTestRow).toStore)
}

func (r verificationTestRepo) Latest(ctx context.Context, jobID string) (*store.VerificationTest, error) {
	var row verificationTestRow
	err := r.r.NewSelect().Model(&row).Where("vt.job_id = ?", jobID).
		OrderExpr("vt.tested_at DESC, vt.id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	t := row.toStore()
	return &t, nil
}

func (r verificationTestRepo) LatestByJobs(ctx context.Context, jobIDs []string) ([]store.VerificationTest, error) {
	if len(jobIDs) == 0 {
		return nil, nil
	}
	// A test is the latest of its job when no test of that job is newer
	// (ties on tested_at go to the larger id). The anti-join runs on every
	// dialect and walks the (job_id, tested_at, id) index.
	newer := r.r.NewSelect().TableExpr("verification_tests AS o").ColumnExpr("1").
		Where("o.job_id = vt.job_id").
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("o.tested_at > vt.tested_at").
				WhereOr("o.tested_at = vt.tested_at AND o.id > vt.id")
		})
	var rows []verificationTestRow
	err := r.r.NewSelect().Model(&rows).
		Where("vt.job_id IN (?)", bun.List(jobIDs)).
		Where("NOT EXISTS (?)", newer).
		OrderExpr("vt.job_id ASC").
		Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.VerificationTest, len(rows))
	for i := range rows {
		out[i] = rows[i].toStore()
	}
	return out, nil
}

type verificationScheduleRow struct {
	bun.BaseModel `bun:"table:verification_schedules,alias:vs"`

	ID           string     `bun:"id,pk"`
	JobID        string     `bun:"job_id"`
	Frequency    string     `bun:"frequency"`
	TestType     string     `bun:"test_type"`
	NextDueOn    time.Time  `bun:"next_due_on"`
	LastTestedOn *time.Time `bun:"last_tested_on"`
	AssigneeID   string     `bun:"assignee_id,nullzero"`
	Active       bool       `bun:"active"`
	// ActiveJobID is job_id while the schedule is active and NULL otherwise;
	// its unique index allows one active schedule per job.
	ActiveJobID string    `bun:"active_job_id,nullzero"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func verificationScheduleToRow(s *store.VerificationSchedule) *verificationScheduleRow {
	row := &verificationScheduleRow{
		ID:           s.ID,
		JobID:        s.JobID,
		Frequency:    string(s.Frequency),
		TestType:     string(s.TestType),
		NextDueOn:    s.NextDueOn.Time(),
		LastTestedOn: dateTimePtr(s.LastTestedOn),
		AssigneeID:   strVal(s.AssigneeID),
		Active:       s.Active,
		CreatedAt:    s.CreatedAt,
		UpdatedAt:    s.UpdatedAt,
	}
	if s.Active {
		row.ActiveJobID = s.JobID
	}
	return row
}

func (r *verificationScheduleRow) toStore() store.VerificationSchedule {
	return store.VerificationSchedule{
		ID:           r.ID,
		JobID:        r.JobID,
		Frequency:    store.Frequency(r.Frequency),
		TestType:     store.TestType(r.TestType),
		NextDueOn:    dateOf(r.NextDueOn),
		LastTestedOn: datePtrOf(r.LastTestedOn),
		AssigneeID:   strPtr(r.AssigneeID),
		Active:       r.Active,
		CreatedAt:    utc(r.CreatedAt),
		UpdatedAt:    utc(r.UpdatedAt),
	}
}

var verificationScheduleKeyset = keyset[verificationScheduleRow]{
	keys: []sortKey{{"next_due_on", keyTime}, {"id", keyString}},
	values: func(r *verificationScheduleRow) []any {
		return []any{r.NextDueOn, r.ID}
	},
}

type verificationScheduleRepo struct{ *conn }

// normalizeSchedule puts s in its stored form.
func normalizeSchedule(s *store.VerificationSchedule) {
	s.LastTestedOn = datePtrOf(dateTimePtr(s.LastTestedOn))
	s.AssigneeID = strPtr(strVal(s.AssigneeID))
}

func (r verificationScheduleRepo) Create(ctx context.Context, s *store.VerificationSchedule) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if s.ID == "" {
		s.ID = r.newID()
	}
	s.CreatedAt = store.NormalizeTime(cmpTime(s.CreatedAt, r.stamp()))
	s.UpdatedAt = s.CreatedAt
	normalizeSchedule(s)
	_, err := r.insert(verificationScheduleToRow(s)).Exec(ctx)
	return mapErr(err)
}

func (r verificationScheduleRepo) Get(ctx context.Context, id string) (*store.VerificationSchedule, error) {
	return r.getBy(ctx, "id", id)
}

func (r verificationScheduleRepo) GetActiveByJob(ctx context.Context, jobID string) (*store.VerificationSchedule, error) {
	return r.getBy(ctx, "active_job_id", jobID)
}

func (r verificationScheduleRepo) getBy(ctx context.Context, col, v string) (*store.VerificationSchedule, error) {
	return getOneBy(ctx, r.conn, col, v, (*verificationScheduleRow).toStore)
}

func (r verificationScheduleRepo) Update(ctx context.Context, s *store.VerificationSchedule) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.UpdatedAt = r.stamp()
	normalizeSchedule(s)
	res, err := r.w.NewUpdate().Model(verificationScheduleToRow(s)).
		Column("job_id", "frequency", "test_type", "next_due_on", "last_tested_on", "assignee_id",
			"active", "active_job_id", "updated_at").
		WherePK().Exec(ctx)
	return r.affected(ctx, res, err, "verification_schedules", "id", s.ID)
}

func (r verificationScheduleRepo) Delete(ctx context.Context, id string) error {
	res, err := r.w.NewDelete().TableExpr("verification_schedules").Where("id = ?", id).Exec(ctx)
	return r.affected(ctx, res, err, "verification_schedules", "id", id)
}

func (r verificationScheduleRepo) List(ctx context.Context, p store.ListVerificationSchedulesParams) (*store.Page[store.VerificationSchedule], error) {
	q := r.r.NewSelect().Model((*verificationScheduleRow)(nil))
	if p.JobID != "" {
		q = q.Where("vs.job_id = ?", p.JobID)
	}
	if p.Active != nil {
		q = q.Where("vs.active = ?", *p.Active)
	}
	if p.DueBefore != nil && !p.DueBefore.IsZero() {
		q = q.Where("vs.next_due_on < ?", p.DueBefore.Time())
	}
	return listPage(ctx, q, verificationScheduleKeyset, p.PageParams, (*verificationScheduleRow).toStore)
}

type complianceStateRow struct {
	bun.BaseModel `bun:"table:compliance_states,alias:cs"`

	SubjectType        string    `bun:"subject_type,pk"`
	SubjectID          string    `bun:"subject_id,pk"`
	Status             string    `bun:"status"`
	Copies             int       `bun:"copies"`
	MediaTypes         int       `bun:"media_types"`
	Offsite            bool      `bun:"offsite"`
	OfflineOrImmutable bool      `bun:"offline_or_immutable"`
	Verified           bool      `bun:"verified"`
	Score              int       `bun:"score"`
	Reasons            string    `bun:"reasons"`
	EvaluatedAt        time.Time `bun:"evaluated_at"`
	ChangedAt          time.Time `bun:"changed_at"`
	// RecheckAt is nil for a state put by PutState (always due).
	RecheckAt *time.Time `bun:"recheck_at"`
}

func complianceStateToRow(s *store.ComplianceState) *complianceStateRow {
	return &complianceStateRow{
		SubjectType:        string(s.SubjectType),
		SubjectID:          s.SubjectID,
		Status:             string(s.Status),
		Copies:             s.Copies,
		MediaTypes:         s.MediaTypes,
		Offsite:            s.Offsite,
		OfflineOrImmutable: s.OfflineOrImmutable,
		Verified:           s.Verified,
		Score:              s.Score,
		Reasons:            jsonText(s.Reasons),
		EvaluatedAt:        s.EvaluatedAt,
		ChangedAt:          s.ChangedAt,
	}
}

func (r *complianceStateRow) toStore() store.ComplianceState {
	return store.ComplianceState{
		SubjectType:        store.SubjectType(r.SubjectType),
		SubjectID:          r.SubjectID,
		Status:             store.ComplianceStatus(r.Status),
		Copies:             r.Copies,
		MediaTypes:         r.MediaTypes,
		Offsite:            r.Offsite,
		OfflineOrImmutable: r.OfflineOrImmutable,
		Verified:           r.Verified,
		Score:              r.Score,
		Reasons:            reasonsOf(r.Reasons),
		EvaluatedAt:        utc(r.EvaluatedAt),
		ChangedAt:          utc(r.ChangedAt),
	}
}

// reasonsOf decodes stored reasons; none is nil, whether stored as "[]" or
// given as an empty slice.
func reasonsOf(s string) []store.ComplianceReason {
	out := fromJSONText[store.ComplianceReason](s)
	if len(out) == 0 {
		return nil
	}
	return out
}

var complianceStateKeyset = keyset[complianceStateRow]{
	keys: []sortKey{{"subject_type", keyString}, {"subject_id", keyString}},
	values: func(r *complianceStateRow) []any {
		return []any{r.SubjectType, r.SubjectID}
	},
}

type complianceChangeRow struct {
	bun.BaseModel `bun:"table:compliance_changes,alias:cc"`

	ID          string    `bun:"id,pk"`
	SubjectType string    `bun:"subject_type"`
	SubjectID   string    `bun:"subject_id"`
	FromStatus  string    `bun:"from_status"`
	ToStatus    string    `bun:"to_status"`
	At          time.Time `bun:"at"`
	Reasons     string    `bun:"reasons"`
}

func complianceChangeToRow(c *store.ComplianceChange) *complianceChangeRow {
	return &complianceChangeRow{
		ID:          c.ID,
		SubjectType: string(c.SubjectType),
		SubjectID:   c.SubjectID,
		FromStatus:  string(c.From),
		ToStatus:    string(c.To),
		At:          c.At,
		Reasons:     jsonText(c.Reasons),
	}
}

func (r *complianceChangeRow) toStore() store.ComplianceChange {
	return store.ComplianceChange{
		ID:          r.ID,
		SubjectType: store.SubjectType(r.SubjectType),
		SubjectID:   r.SubjectID,
		From:        store.ComplianceStatus(r.FromStatus),
		To:          store.ComplianceStatus(r.ToStatus),
		At:          utc(r.At),
		Reasons:     reasonsOf(r.Reasons),
	}
}

var complianceChangeKeyset = keyset[complianceChangeRow]{
	keys: []sortKey{{"at", keyTime}, {"id", keyString}},
	desc: true,
	values: func(r *complianceChangeRow) []any {
		return []any{r.At, r.ID}
	},
}

type complianceRepo struct{ *conn }

func (r complianceRepo) PutState(ctx context.Context, s *store.ComplianceState) error {
	return r.putState(ctx, s, nil)
}

var _ store.ComplianceRecheckWriter = (*conn)(nil)

// PutStateRecheck implements store.ComplianceRecheckWriter in the one
// statement of PutState.
func (c *conn) PutStateRecheck(ctx context.Context, s *store.ComplianceState, recheckAt time.Time) error {
	if recheckAt.IsZero() {
		return &store.ValidationError{Fields: map[string]string{"recheck_at": "must be set"}}
	}
	at := store.NormalizeTime(recheckAt)
	return complianceRepo{c}.putState(ctx, s, &at)
}

// putState upserts s with its recheck time, nil for none.
func (r complianceRepo) putState(ctx context.Context, s *store.ComplianceState, recheckAt *time.Time) error {
	if err := s.Validate(); err != nil {
		return err
	}
	s.EvaluatedAt = store.NormalizeTime(s.EvaluatedAt)
	// A state put without a change time changed when it was evaluated.
	s.ChangedAt = store.NormalizeTime(cmpTime(s.ChangedAt, s.EvaluatedAt))
	if len(s.Reasons) == 0 {
		s.Reasons = nil
	}
	row := complianceStateToRow(s)
	row.RecheckAt = recheckAt
	q := r.insert(row)
	q = upsertColumns(r.conn, q, "subject_type, subject_id",
		"status", "copies", "media_types", "offsite", "offline_or_immutable", "verified", "score",
		"reasons", "evaluated_at", "changed_at", "recheck_at")
	_, err := q.Exec(ctx)
	return mapErr(err)
}

func (r complianceRepo) GetState(ctx context.Context, subjectType store.SubjectType, subjectID string) (*store.ComplianceState, error) {
	var row complianceStateRow
	err := r.r.NewSelect().Model(&row).
		Where("cs.subject_type = ? AND cs.subject_id = ?", subjectType, subjectID).Limit(1).Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	s := row.toStore()
	return &s, nil
}

func (r complianceRepo) GetStates(ctx context.Context, subjectType store.SubjectType, subjectIDs []string) ([]store.ComplianceState, error) {
	if len(subjectIDs) == 0 {
		return nil, nil
	}
	var rows []complianceStateRow
	err := r.r.NewSelect().Model(&rows).
		Where("cs.subject_type = ?", subjectType).
		Where("cs.subject_id IN (?)", bun.List(subjectIDs)).
		OrderExpr("cs.subject_id ASC").
		Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.ComplianceState, len(rows))
	for i := range rows {
		out[i] = rows[i].toStore()
	}
	return out, nil
}

func (r complianceRepo) DeleteState(ctx context.Context, subjectType store.SubjectType, subjectID string) error {
	res, err := r.w.NewDelete().TableExpr("compliance_states").
		Where("subject_type = ? AND subject_id = ?", subjectType, subjectID).Exec(ctx)
	if err != nil {
		return mapErr(err)
	}
	// The key has two columns, which affected cannot look up; a delete
	// reports found rows on every dialect, so no lookup is needed.
	n, err := res.RowsAffected()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (r complianceRepo) ListStates(ctx context.Context, p store.ListComplianceStatesParams) (*store.Page[store.ComplianceState], error) {
	q := r.r.NewSelect().Model((*complianceStateRow)(nil))
	if p.SubjectType != "" {
		q = q.Where("cs.subject_type = ?", p.SubjectType)
	}
	if p.Status != "" {
		q = q.Where("cs.status = ?", p.Status)
	}
	return listPage(ctx, q, complianceStateKeyset, p.PageParams, (*complianceStateRow).toStore)
}

func (r complianceRepo) CountByStatus(ctx context.Context, subjectType store.SubjectType) (map[store.ComplianceStatus]int, error) {
	var rows []struct {
		Status string `bun:"status"`
		N      int    `bun:"n"`
	}
	err := r.r.NewSelect().TableExpr("compliance_states").
		ColumnExpr("status, COUNT(*) AS n").
		Where("subject_type = ?", subjectType).
		GroupExpr("status").
		Scan(ctx, &rows)
	if err != nil {
		return nil, mapErr(err)
	}
	// Every status is present, zero when no subject has it, so that callers
	// (gauges, dashboards) see a stable set of keys.
	out := make(map[store.ComplianceStatus]int, len(store.ComplianceStatusValues()))
	for _, st := range store.ComplianceStatusValues() {
		out[st] = 0
	}
	for _, row := range rows {
		out[store.ComplianceStatus(row.Status)] = row.N
	}
	return out, nil
}

func (r complianceRepo) AddChange(ctx context.Context, c *store.ComplianceChange) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = r.newID()
	}
	c.At = store.NormalizeTime(cmpTime(c.At, r.stamp()))
	if len(c.Reasons) == 0 {
		c.Reasons = nil
	}
	_, err := r.insert(complianceChangeToRow(c)).Exec(ctx)
	return mapErr(err)
}

func (r complianceRepo) ListChanges(ctx context.Context, p store.ListComplianceChangesParams) (*store.Page[store.ComplianceChange], error) {
	q := r.r.NewSelect().Model((*complianceChangeRow)(nil))
	if p.SubjectType != "" {
		q = q.Where("cc.subject_type = ?", p.SubjectType)
	}
	if p.SubjectID != "" {
		q = q.Where("cc.subject_id = ?", p.SubjectID)
	}
	q = timeRange(q, "cc.at", p.At)
	return listPage(ctx, q, complianceChangeKeyset, p.PageParams, (*complianceChangeRow).toStore)
}

type rollupRow struct {
	bun.BaseModel `bun:"table:daily_rollups,alias:dr"`

	Day                time.Time `bun:"day,pk"`
	ExecutionsSuccess  int64     `bun:"executions_success"`
	ExecutionsWarning  int64     `bun:"executions_warning"`
	ExecutionsFailed   int64     `bun:"executions_failed"`
	ExecutionsCanceled int64     `bun:"executions_canceled"`
	ExecutionsMissed   int64     `bun:"executions_missed"`
	BytesWritten       int64     `bun:"bytes_written"`
	JobsCompliant      int       `bun:"jobs_compliant"`
	JobsWarning        int       `bun:"jobs_warning"`
	JobsNonCompliant   int       `bun:"jobs_non_compliant"`
	JobsUnknown        int       `bun:"jobs_unknown"`
	UpdatedAt          time.Time `bun:"updated_at"`
}

func rollupToRow(d *store.DailyRollup) *rollupRow {
	return &rollupRow{
		Day:                d.Day.Time(),
		ExecutionsSuccess:  d.ExecutionsSuccess,
		ExecutionsWarning:  d.ExecutionsWarning,
		ExecutionsFailed:   d.ExecutionsFailed,
		ExecutionsCanceled: d.ExecutionsCanceled,
		ExecutionsMissed:   d.ExecutionsMissed,
		BytesWritten:       d.BytesWritten,
		JobsCompliant:      d.JobsCompliant,
		JobsWarning:        d.JobsWarning,
		JobsNonCompliant:   d.JobsNonCompliant,
		JobsUnknown:        d.JobsUnknown,
		UpdatedAt:          d.UpdatedAt,
	}
}

func (r *rollupRow) toStore() store.DailyRollup {
	return store.DailyRollup{
		Day:                dateOf(r.Day),
		ExecutionsSuccess:  r.ExecutionsSuccess,
		ExecutionsWarning:  r.ExecutionsWarning,
		ExecutionsFailed:   r.ExecutionsFailed,
		ExecutionsCanceled: r.ExecutionsCanceled,
		ExecutionsMissed:   r.ExecutionsMissed,
		BytesWritten:       r.BytesWritten,
		JobsCompliant:      r.JobsCompliant,
		JobsWarning:        r.JobsWarning,
		JobsNonCompliant:   r.JobsNonCompliant,
		JobsUnknown:        r.JobsUnknown,
		UpdatedAt:          utc(r.UpdatedAt),
	}
}

type rollupRepo struct{ *conn }

func (r rollupRepo) Put(ctx context.Context, d *store.DailyRollup) error {
	if err := d.Validate(); err != nil {
		return err
	}
	d.UpdatedAt = r.stamp()
	q := r.insert(rollupToRow(d))
	q = upsertColumns(r.conn, q, "day",
		"executions_success", "executions_warning", "executions_failed", "executions_canceled",
		"executions_missed", "bytes_written", "jobs_compliant", "jobs_warning", "jobs_non_compliant",
		"jobs_unknown", "updated_at")
	_, err := q.Exec(ctx)
	return mapErr(err)
}

func (r rollupRepo) Get(ctx context.Context, day store.Date) (*store.DailyRollup, error) {
	var row rollupRow
	if err := r.r.NewSelect().Model(&row).Where("dr.day = ?", day.Time()).Limit(1).Scan(ctx); err != nil {
		return nil, mapErr(err)
	}
	d := row.toStore()
	return &d, nil
}

func (r rollupRepo) List(ctx context.Context, from, to store.Date) ([]store.DailyRollup, error) {
	var rows []rollupRow
	err := r.r.NewSelect().Model(&rows).
		Where("dr.day >= ?", from.Time()).
		Where("dr.day <= ?", to.Time()).
		OrderExpr("dr.day ASC").
		Scan(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.DailyRollup, len(rows))
	for i := range rows {
		out[i] = rows[i].toStore()
	}
	return out, nil
}

func (r rollupRepo) DeleteBefore(ctx context.Context, day store.Date) (int64, error) {
	return countAffected(r.w.NewDelete().TableExpr("daily_rollups").Where("day < ?", day.Time()).Exec(ctx))
}

// upsertColumns turns an insert into an insert-or-update on the key
// columns, overwriting cols with the inserted values.
func upsertColumns(c *conn, q *bun.InsertQuery, key string, cols ...string) *bun.InsertQuery {
	switch {
	case c.feats.Has(feature.InsertOnConflict):
		q = q.On("CONFLICT (" + key + ") DO UPDATE")
		for _, col := range cols {
			q = q.Set("? = EXCLUDED.?", bun.Ident(col), bun.Ident(col))
		}
	case c.feats.Has(feature.InsertOnDuplicateKey):
		q = q.On("DUPLICATE KEY UPDATE")
		for _, col := range cols {
			q = q.Set("? = VALUES(?)", bun.Ident(col), bun.Ident(col))
		}
	}
	return q
}
