package bunstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-dev/custos/store"
)

var (
	_ store.ComplianceInputReader      = (*Store)(nil)
	_ store.AssetComplianceInputReader = (*Store)(nil)
	_ store.DueComplianceReader        = (*Store)(nil)
)

// jobInputsSQL reads a page of jobs with their asset's classification,
// active verification schedule, latest test and stored state, a row per
// job. The page is a derived table so that the latest test is looked up
// once per job of the page, by a correlated subquery walking the (job_id,
// tested_at, id) index backwards; every other join is on a unique key. The
// rows come in name order from every planner seen, without a sort; the
// caller sorts them when they do not. The same text runs on SQLite,
// PostgreSQL and MySQL/MariaDB.
const jobInputsSQL = `SELECT j.id, j.name, j.name_key, j.asset_id, j.active, j.schedule_kind,
 j.schedule_interval_seconds, j.retention_days, j.rpo_target_seconds,
 a.classification, COALESCE(vs.next_due_on, NULL), t.result, COALESCE(t.tested_at, NULL),
 ` + stateColsSQL + `
FROM (
 SELECT p.id, p.name, p.name_key, p.asset_id, p.active, p.schedule_kind, p.schedule_interval_seconds,
  p.retention_days, p.rpo_target_seconds,
  (SELECT lt.id FROM verification_tests AS lt WHERE lt.job_id = p.id
   ORDER BY lt.tested_at DESC, lt.id DESC LIMIT 1) AS test_id
 FROM jobs AS p WHERE p.name_key > ? ORDER BY p.name_key LIMIT ?
) AS j
LEFT JOIN assets AS a ON a.id = j.asset_id
LEFT JOIN verification_schedules AS vs ON vs.active_job_id = j.id
LEFT JOIN verification_tests AS t ON t.id = j.test_id
LEFT JOIN compliance_states AS cs ON cs.subject_type = ? AND cs.subject_id = j.id`

// copyInputsSQL reads the copies of the active jobs among the same page
// of jobs, in the order of ListByJobs within each job, through the name
// index of jobs and the (job_id, name_key) index of copies. It needs
// nothing from jobInputsSQL, so the two run at once. The flags column
// packs the booleans: offsite 1, offline 2, immutable 4, encrypted 8.
const copyInputsSQL = `SELECT c.job_id, c.name, c.media_type,
 CASE WHEN c.offsite THEN 1 ELSE 0 END + CASE WHEN c.offline THEN 2 ELSE 0 END +
 CASE WHEN c.immutable THEN 4 ELSE 0 END + CASE WHEN c.encrypted THEN 8 ELSE 0 END,
 COALESCE(c.immutable_until, NULL), COALESCE(c.last_written_at, NULL), c.status
FROM (SELECT p.id, p.name_key, p.active FROM jobs AS p WHERE p.name_key > ? ORDER BY p.name_key LIMIT ?) AS j
JOIN copies AS c ON c.job_id = j.id
WHERE j.active = ?
ORDER BY j.name_key, c.name_key, c.id`

// JobComplianceInputs implements store.ComplianceInputReader in two
// statements per page, run at once on two connections of the read pool
// (so on SQLite they do not queue behind writes) and scanned straight into
// the store types, without bun's models: the jobs with their asset,
// schedule, latest test and state, and the copies of the active ones. The
// cursor is the last job's name key, which is unique.
//
// The statements are not one snapshot: a job created or renamed meanwhile
// may be on one page of jobs and not in the other's, which leaves its
// copies out. Callers re-read under lock what they write, as the sweep
// does.
func (s *Store) JobComplianceInputs(ctx context.Context, p store.ComplianceInputsParams) (*store.JobComplianceInputPage, error) {
	limit, after, err := inputsPage(p)
	if err != nil {
		return nil, err
	}

	type copiesResult struct {
		copies []store.Copy
		err    error
	}
	copiesDone := make(chan copiesResult, 1)
	go func() {
		copies, err := s.copyInputs(ctx, after, limit)
		copiesDone <- copiesResult{copies, err}
	}()
	out, keys, err := s.jobInputs(ctx, after, limit)
	cr := <-copiesDone
	if err != nil {
		return nil, err
	}
	if cr.err != nil {
		return nil, cr.err
	}
	if len(keys) > limit {
		out.Jobs, keys = out.Jobs[:limit], keys[:limit]
		out.NextCursor = store.EncodeCursor(keys[limit-1])
	}
	byJobID := make(map[string]int, len(out.Jobs))
	for i := range out.Jobs {
		if out.Jobs[i].Job.Active {
			byJobID[out.Jobs[i].Job.ID] = i
		}
	}
	// A job's copies come one after another: each job gets its run of the
	// one slice, capped so that appending to it copies.
	copies := cr.copies
	for start := 0; start < len(copies); {
		end := start + 1
		for end < len(copies) && copies[end].JobID == copies[start].JobID {
			end++
		}
		if i, ok := byJobID[copies[start].JobID]; ok {
			in := &out.Jobs[i]
			if len(in.Copies) == 0 {
				in.Copies = copies[start:end:end]
			} else {
				in.Copies = append(in.Copies, copies[start:end]...)
			}
		}
		start = end
	}
	return out, nil
}

// jobInputs runs jobInputsSQL for limit+1 jobs after the name key after,
// and returns them in name order with their name keys.
func (s *Store) jobInputs(ctx context.Context, after string, limit int) (*store.JobComplianceInputPage, []string, error) {
	rows, err := s.rdb.QueryContext(ctx, jobInputsSQL, after, limit+1, store.SubjectJob)
	if err != nil {
		return nil, nil, mapErr(err)
	}
	out := &store.JobComplianceInputPage{Jobs: make([]store.JobComplianceInput, 0, limit+1), Assets: map[string]*store.Asset{}}
	keys := make([]string, 0, limit+1)
	var arena jobInputArena
	for rows.Next() {
		var key string
		in, err := scanJobInput(rows, out.Assets, &arena, &key)
		if err != nil {
			_ = rows.Close()
			return nil, nil, mapErr(err)
		}
		out.Jobs = append(out.Jobs, in)
		keys = append(keys, key)
	}
	if err := closeRows(rows); err != nil {
		return nil, nil, err
	}
	if !slices.IsSorted(keys) {
		idx := make([]int, len(keys))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
		jobs, sorted := make([]store.JobComplianceInput, len(idx)), make([]string, len(idx))
		for i, k := range idx {
			jobs[i], sorted[i] = out.Jobs[k], keys[k]
		}
		out.Jobs, keys = jobs, sorted
	}
	return out, keys, nil
}

// copyInputs runs copyInputsSQL for the limit jobs after the name key
// after.
func (s *Store) copyInputs(ctx context.Context, after string, limit int) ([]store.Copy, error) {
	rows, err := s.rdb.QueryContext(ctx, copyInputsSQL, after, limit, true)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]store.Copy, 0, 2*limit)
	for rows.Next() {
		var (
			c                       store.Copy
			media, status           string
			flags                   int64
			immutableUntil, written inputTime
		)
		if err := rows.Scan(&c.JobID, &c.Name, &media, &flags, &immutableUntil, &written, &status); err != nil {
			_ = rows.Close()
			return nil, mapErr(err)
		}
		c.MediaType, c.Status = store.MediaType(media), store.CopyStatus(status)
		c.Offsite, c.Offline, c.Immutable, c.Encrypted = flags&1 != 0, flags&2 != 0, flags&4 != 0, flags&8 != 0
		c.ImmutableUntil, c.LastWrittenAt = immutableUntil.ptr(), written.ptr()
		out = append(out, c)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	return out, nil
}

// jobInputArena hands out the tests, schedules and states of a page from
// a few slices rather than an allocation each.
type jobInputArena struct {
	tests     []store.VerificationTest
	schedules []store.VerificationSchedule
	states    []store.StoredComplianceState
}

// next returns a new zero element of *pool, growing it by chunks.
func next[T any](pool *[]T) *T {
	if len(*pool) == cap(*pool) {
		*pool = make([]T, 0, 128)
	}
	*pool = (*pool)[:len(*pool)+1]
	return &(*pool)[len(*pool)-1]
}

// scanJobInput reads a row of jobInputsSQL; it adds the job's asset to
// assets and sets key to the job's name key.
func scanJobInput(rows *sql.Rows, assets map[string]*store.Asset, arena *jobInputArena, key *string) (store.JobComplianceInput, error) {
	var (
		in                      store.JobComplianceInput
		j                       = &in.Job
		assetID, classification sql.NullString
		kind                    string
		interval, rpo           int64
		testResult              sql.NullString
		dueOn, testedAt         inputTime
		st                      stateCols
	)
	err := rows.Scan(append([]any{&j.ID, &j.Name, key, &assetID, &j.Active, &kind, &interval, &j.RetentionDays, &rpo,
		&classification, &dueOn, &testResult, &testedAt}, st.dest()...)...)
	if err != nil {
		return in, err
	}
	j.Schedule = store.Schedule{Kind: store.ScheduleKind(kind), Interval: duration(interval)}
	j.RPOTarget = duration(rpo)
	if assetID.Valid && assetID.String != "" {
		j.AssetID = &assetID.String
	}
	if !j.Active {
		return in, nil
	}
	in.Copies = []store.Copy{}
	if j.AssetID != nil && classification.Valid && assets[*j.AssetID] == nil {
		assets[*j.AssetID] = &store.Asset{ID: *j.AssetID, Classification: store.Classification(classification.String)}
	}
	if dueOn.valid {
		in.Schedule = next(&arena.schedules)
		*in.Schedule = store.VerificationSchedule{JobID: j.ID, NextDueOn: dateOf(dueOn.t), Active: true}
	}
	if testResult.Valid {
		in.LatestTest = next(&arena.tests)
		*in.LatestTest = store.VerificationTest{JobID: j.ID, Result: store.TestResult(testResult.String), TestedAt: testedAt.t}
	}
	if st.status.Valid {
		in.State = next(&arena.states)
		*in.State = *st.state()
	}
	return in, nil
}

// stateColsSQL selects the columns stateCols scans, of compliance_states
// AS cs.
const stateColsSQL = `cs.status, cs.copies, cs.media_types, cs.score,
 CASE WHEN cs.offsite THEN 1 ELSE 0 END + CASE WHEN cs.offline_or_immutable THEN 2 ELSE 0 END +
 CASE WHEN cs.verified THEN 4 ELSE 0 END,
 cs.reasons, COALESCE(cs.evaluated_at, NULL), COALESCE(cs.recheck_at, NULL)`

// stateCols scans the state columns of a left join of compliance_states:
// the digits come packed, offsite 1, offline or immutable 2, verified 4.
type stateCols struct {
	status, reasons                   sql.NullString
	copies, mediaTypes, score, digits sql.NullInt64
	evaluatedAt, recheckAt            inputTime
}

func (c *stateCols) dest() []any {
	return []any{&c.status, &c.copies, &c.mediaTypes, &c.score, &c.digits, &c.reasons, &c.evaluatedAt, &c.recheckAt}
}

// state returns the scanned state, nil when the join found none.
func (c *stateCols) state() *store.StoredComplianceState {
	if !c.status.Valid {
		return nil
	}
	return &store.StoredComplianceState{
		Status:             store.ComplianceStatus(c.status.String),
		Copies:             int(c.copies.Int64),
		MediaTypes:         int(c.mediaTypes.Int64),
		Offsite:            c.digits.Int64&1 != 0,
		OfflineOrImmutable: c.digits.Int64&2 != 0,
		Verified:           c.digits.Int64&4 != 0,
		Score:              int(c.score.Int64),
		EvaluatedAt:        c.evaluatedAt.t,
		ReasonsJSON:        c.reasons.String,
		RecheckAt:          c.recheckAt.t,
	}
}

// dueComplianceSQL lists the due subjects of a kind after an ID: the due
// states through the (subject_type, recheck_at) index, and the subjects of
// table %[1]s (filtered by %[2]s) without a state. The two parts are
// disjoint. The rows of the subject table are walked in full for the
// second part, but only their primary key and the state's key are read.
const dueComplianceSQL = `SELECT d.id FROM (
 SELECT cs.subject_id AS id FROM compliance_states AS cs
 WHERE cs.subject_type = ? AND (cs.recheck_at IS NULL OR cs.recheck_at <= ?) AND cs.subject_id > ?
 UNION ALL
 SELECT p.id FROM %[1]s AS p WHERE %[2]s p.id > ? AND NOT EXISTS (
  SELECT 1 FROM compliance_states AS ns WHERE ns.subject_type = ? AND ns.subject_id = p.id)
) AS d ORDER BY d.id LIMIT ?`

var (
	dueJobsSQL   = fmt.Sprintf(dueComplianceSQL, "jobs", "p.active = ? AND")
	dueAssetsSQL = fmt.Sprintf(dueComplianceSQL, "assets", "")
)

// DueCompliance implements store.DueComplianceReader in one statement
// through the read pool; the cursor is the last ID.
func (s *Store) DueCompliance(ctx context.Context, p store.DueComplianceParams) (*store.DueCompliancePage, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	limit, after, err := inputsPage(store.ComplianceInputsParams{Limit: p.Limit, Cursor: p.Cursor})
	if err != nil {
		return nil, err
	}
	now := s.timeArg(store.NormalizeTime(p.Now))
	var rows *sql.Rows
	if p.SubjectType == store.SubjectJob {
		rows, err = s.rdb.QueryContext(ctx, dueJobsSQL, p.SubjectType, now, after, true, after, p.SubjectType, limit+1)
	} else {
		rows, err = s.rdb.QueryContext(ctx, dueAssetsSQL, p.SubjectType, now, after, after, p.SubjectType, limit+1)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	out := &store.DueCompliancePage{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return nil, mapErr(err)
		}
		out.IDs = append(out.IDs, id)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	if len(out.IDs) > limit {
		out.IDs = out.IDs[:limit]
		out.NextCursor = store.EncodeCursor(out.IDs[limit-1])
	}
	return out, nil
}

// assetInputsSQL reads a page of assets in name order with their stored
// states; the name key is unique.
const assetInputsSQL = `SELECT a.id, a.name, a.name_key, a.classification, ` + stateColsSQL + `
FROM (SELECT p.id, p.name, p.name_key, p.classification FROM assets AS p
 WHERE p.name_key > ? ORDER BY p.name_key LIMIT ?) AS a
LEFT JOIN compliance_states AS cs ON cs.subject_type = ? AND cs.subject_id = a.id
ORDER BY a.name_key`

// AssetComplianceInputs implements store.AssetComplianceInputReader in one
// statement through the read pool; the cursor is the last asset's name
// key.
func (s *Store) AssetComplianceInputs(ctx context.Context, p store.ComplianceInputsParams) (*store.AssetComplianceInputPage, error) {
	limit, after, err := inputsPage(p)
	if err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, assetInputsSQL, after, limit+1, store.SubjectAsset)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &store.AssetComplianceInputPage{Assets: make([]store.AssetComplianceInput, 0, min(limit, 256))}
	var last string
	for rows.Next() {
		if len(out.Assets) == limit {
			out.NextCursor = store.EncodeCursor(last)
			break
		}
		var (
			in             store.AssetComplianceInput
			classification string
			st             stateCols
		)
		if err := rows.Scan(append([]any{&in.Asset.ID, &in.Asset.Name, &last, &classification}, st.dest()...)...); err != nil {
			_ = rows.Close()
			return nil, mapErr(err)
		}
		in.Asset.Classification = store.Classification(classification)
		in.State = st.state()
		out.Assets = append(out.Assets, in)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	return out, nil
}

// inputsPage validates p and returns its limit and the name key it starts
// after.
func inputsPage(p store.ComplianceInputsParams) (int, string, error) {
	if err := p.Validate(); err != nil {
		return 0, "", err
	}
	limit := p.Limit
	if limit == 0 {
		limit = store.ComplianceInputsLimitDefault
	}
	if p.Cursor == "" {
		return limit, "", nil
	}
	raw, err := store.DecodeCursor(p.Cursor, 1)
	if err != nil {
		return 0, "", err
	}
	return limit, raw[0], nil
}

// closeRows closes rows and reports the error that ended them.
func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return mapErr(err)
}

func (it *inputTime) ptr() *time.Time {
	if !it.valid {
		return nil
	}
	t := it.t
	return &t
}

// inputTime scans a time column of the input statements. PostgreSQL and
// MySQL hand over a time.Time. On SQLite the statements select the column
// as COALESCE(col, NULL), an expression with no declared type, so the
// driver hands over the stored text instead of trying layout after layout
// on it; the text bun writes ("2006-01-02 15:04:05.999999-07:00") is
// parsed here by hand, several times faster, and any other falls back to
// the layouts the driver would have tried.
type inputTime struct {
	t     time.Time
	valid bool
}

func (it *inputTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		it.t, it.valid = time.Time{}, false
		return nil
	case time.Time:
		it.t, it.valid = v.UTC(), true
		return nil
	case string:
		return it.parse(v)
	case []byte:
		return it.parse(string(v))
	}
	return fmt.Errorf("bunstore: cannot scan %T as a time", src)
}

// sqliteTimeLayouts are the layouts modernc.org/sqlite tries on a TIMESTAMP
// or DATE column, after the time.Time.String form.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

func (it *inputTime) parse(s string) error {
	if t, ok := parseBunTime(s); ok {
		it.t, it.valid = t, true
		return nil
	}
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range sqliteTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			it.t, it.valid = t.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("bunstore: cannot parse time %q", s)
}

// parseBunTime parses "2006-01-02 15:04:05[.f…]±07:00" (or with a T, or
// Z for the zone), the form bun writes; ok is false for anything else,
// out-of-range fields included.
func parseBunTime(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
		sec < 0 || sec > 59 || day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	i, nsec := 19, 0
	if s[i] == '.' {
		i++
		digits := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if digits < 9 {
				nsec = nsec*10 + int(s[i]-'0')
				digits++
			} else {
				return time.Time{}, false
			}
			i++
		}
		if digits == 0 {
			return time.Time{}, false
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	}
	offset := 0
	switch rest := s[i:]; {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, om := num(i+1, i+3), num(i+4, i+6)
		if oh < 0 || om < 0 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

// daysIn is the number of days of month m of year.
func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int((m-1)%7%2)
}
