package report

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore"
	"github.com/custos-dev/custos/store/bunstore/bunstoretest"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

func TestMain(m *testing.M) { os.Exit(bunstoretest.Main(m)) }

// ipaexFont is Debian's fonts-ipaexfont Gothic, the CJK font of the PDF
// tests.
const ipaexFont = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"

var tokyo = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return loc
}()

// t0 is when the fixture starts: Monday 2 November 2026, 09:00 in Tokyo.
var t0 = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// Hostile names: HTML in one, a spreadsheet formula in the other.
const (
	jobJP     = "経理データベース"
	jobScript = "<script>alert(1)</script>"
	jobCSV    = "=cmd|' /C calc'!A0"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// fixture is a service over a fresh store with a fake clock and IDs
// counted from 1, so that every run stores the same rows.
type fixture struct {
	svc   *backupmgmt.Service
	store *bunstore.Store
	clock *fakeClock
	ctx   context.Context // acting as admin
	admin *store.User
	jobs  map[string]*store.Job
}

func newFixture(t *testing.T, kind dbopen.Kind) *fixture {
	t.Helper()
	clock := &fakeClock{t: t0}
	var n atomic.Int64
	newID := func() string { return fmt.Sprintf("00000000-0000-7000-8000-%012d", n.Add(1)) }
	st := bunstoretest.New(t, kind, &bunstoretest.Options{Config: &bunstore.Config{Now: clock.Now, NewID: newID}})
	svc, err := backupmgmt.New(st, &backupmgmt.Config{Now: clock.Now, NewID: newID, Location: tokyo, IngestGroupMax: 1})
	require.NoError(t, err)
	f := &fixture{svc: svc, store: st, clock: clock, jobs: map[string]*store.Job{}}
	f.admin = f.user(t, "alice", store.RoleAdmin)
	f.ctx = backupmgmt.WithActor(t.Context(), backupmgmt.Actor{UserID: f.admin.ID, Role: store.RoleAdmin, IP: "192.0.2.1", RequestID: "req-1"})
	return f
}

func (f *fixture) user(t *testing.T, name string, role store.Role) *store.User {
	t.Helper()
	u := &store.User{Username: name, Email: name + "@example.com", Role: role, Active: true, PasswordHash: "$argon2id$placeholder", CreatedAt: f.svc.Now()}
	require.NoError(t, f.store.Users().Create(t.Context(), u))
	return u
}

func (f *fixture) step() { f.clock.Advance(time.Minute) }

func ptr[T any](v T) *T { return &v }

// seed stores a small estate on 2 November 2026 (Tokyo): three jobs with
// copies and runs (successes, failures with errors, a missed run),
// compliance states, restore tests with durations, an overdue schedule,
// media with a lending, a move and a rotation plan, a denied audit event,
// and the rollups of the days. It leaves the clock at 3 November, 10:00
// in Tokyo.
func (f *fixture) seed(t *testing.T) {
	t.Helper()
	ctx := f.ctx
	suzuki := f.user(t, "suzuki", store.RoleOperator)
	asset, err := f.svc.Assets().Create(ctx, backupmgmt.AssetParams{Name: "経理システム", Classification: store.ClassificationConfidential})
	require.NoError(t, err)
	f.step()
	mk := func(p backupmgmt.JobParams) *store.Job {
		j, err := f.svc.Jobs().Create(ctx, p)
		require.NoError(t, err)
		f.jobs[j.Name] = j
		f.step()
		return j
	}
	jp := mk(backupmgmt.JobParams{Name: jobJP, AssetID: &asset.ID, JobType: store.JobTypeDatabase, Tool: store.ToolPgDump,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 1 * * *", Timezone: "Asia/Tokyo"}, Grace: time.Hour,
		RPOTarget: 26 * time.Hour, RTOTarget: 4 * time.Hour, OwnerID: &f.admin.ID, RetentionDays: 30})
	xss := mk(backupmgmt.JobParams{Name: jobScript, JobType: store.JobTypeFile, Tool: store.ToolRestic,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 10 * * *"}, Grace: time.Hour, RTOTarget: time.Hour, RetentionDays: 30})
	csvJob := mk(backupmgmt.JobParams{Name: jobCSV, JobType: store.JobTypeVM, Tool: store.ToolVeeam,
		Schedule: store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"}, Grace: 30 * time.Minute, RetentionDays: 30})

	copyOf := func(j *store.Job, p backupmgmt.CopyParams) *store.Copy {
		c, err := f.svc.Jobs().AddCopy(ctx, j.ID, p)
		require.NoError(t, err)
		f.step()
		return c
	}
	primary := copyOf(jp, backupmgmt.CopyParams{Name: "primary", Role: store.CopyRolePrimary, MediaType: store.MediaDisk, Location: "東京DC", Encrypted: true})
	offsite := copyOf(jp, backupmgmt.CopyParams{Name: "offsite", Role: store.CopyRoleOffsite, MediaType: store.MediaCloudObject, Location: "大阪", Offsite: true, Encrypted: true})
	tape := copyOf(jp, backupmgmt.CopyParams{Name: "tape", Role: store.CopyRoleOffline, MediaType: store.MediaTape, Location: "本社金庫", Offline: true, Encrypted: true})
	xssCopy := copyOf(xss, backupmgmt.CopyParams{Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS, Location: "rack 3"})
	copyOf(csvJob, backupmgmt.CopyParams{Name: "datastore", Role: store.CopyRolePrimary, MediaType: store.MediaDisk, Location: "=HYPERLINK(\"x\")"})

	run := func(j *store.Job, c *store.Copy, id string, status store.ExecutionStatus, start time.Duration, size, errs int64, msg string) {
		p := backupmgmt.RecordParams{JobID: j.ID, RunID: id, Status: status, StartedAt: t0.Add(start), FinishedAt: ptr(t0.Add(start + 20*time.Minute)),
			SizeBytes: size, Errors: errs, Message: msg, Source: store.SourceAPI}
		if c != nil {
			p.CopyID = &c.ID
		}
		f.clock.Set(t0.Add(start + 21*time.Minute))
		_, err := f.svc.Executions().Record(ctx, p)
		require.NoError(t, err)
	}
	run(jp, primary, "jp-1", store.ExecutionSuccess, time.Hour, 5<<30, 0, "ok")
	run(jp, offsite, "jp-2", store.ExecutionSuccess, time.Hour+30*time.Minute, 5<<30, 0, "ok")
	run(jp, tape, "jp-3", store.ExecutionWarning, 2*time.Hour, 5<<30, 0, "1 file skipped: ロック中")
	run(csvJob, nil, "vm-1", store.ExecutionSuccess, 2*time.Hour+30*time.Minute, 40<<30, 0, "ok")
	run(xss, xssCopy, "x-1", store.ExecutionFailed, 3*time.Hour, 0, 3, "<img src=x onerror=alert(1)> disk full")
	run(xss, xssCopy, "x-2", store.ExecutionFailed, 3*time.Hour+30*time.Minute, 0, 1, "-rf: permission denied")
	run(csvJob, nil, "vm-2", store.ExecutionFailed, 4*time.Hour, 0, 2, "=HYPERLINK(\"http://evil.example\")")

	f.clock.Set(t0.Add(4*time.Hour + 30*time.Minute))
	test := func(j *store.Job, tt store.TestType, res store.TestResult, d time.Duration, checked, failed int64, issues string) {
		_, err := f.svc.Verification().RecordTest(ctx, backupmgmt.TestParams{JobID: j.ID, TestType: tt, Result: res, TestedAt: f.clock.Now().Add(-time.Minute),
			TesterID: f.admin.ID, Duration: d, FilesChecked: checked, FilesFailed: failed, Issues: issues, RestoreTarget: "検証サーバ"})
		require.NoError(t, err)
		f.step()
	}
	test(jp, store.TestFullRestore, store.TestSuccess, 3*time.Hour, 1200, 0, "")
	test(xss, store.TestPartialRestore, store.TestFailed, 2*time.Hour, 40, 5, "checksum mismatch <b>bold</b>")
	test(csvJob, store.TestIntegrity, store.TestWarning, 30*time.Minute, 10, 0, "@SUM(1+1)")
	_, err = f.svc.Verification().CreateSchedule(ctx, backupmgmt.ScheduleParams{JobID: xss.ID, Frequency: store.FrequencyMonthly,
		TestType: store.TestFullRestore, NextDueOn: store.Date{Year: 2026, Month: 10, Day: 20}})
	require.NoError(t, err)
	f.step()

	lto1, err := f.svc.Media().Register(ctx, backupmgmt.MediaParams{Label: "LTO-0001", MediaType: store.OfflineTape, CapacityBytes: 12 << 40, Location: "本社金庫"})
	require.NoError(t, err)
	f.step()
	lto2, err := f.svc.Media().Register(ctx, backupmgmt.MediaParams{Label: "LTO-0002", MediaType: store.OfflineTape, CapacityBytes: 12 << 40, Location: "本社金庫"})
	require.NoError(t, err)
	f.step()
	_, err = f.svc.Media().Lend(ctx, lto1.ID, backupmgmt.LendParams{BorrowerID: suzuki.ID, Purpose: "監査用の復元テスト", DueOn: store.Date{Year: 2026, Month: 11, Day: 2}})
	require.NoError(t, err)
	f.step()
	_, err = f.svc.Media().Move(ctx, lto2.ID, backupmgmt.MoveParams{ToLocation: "外部保管庫", Offsite: true, Note: "週次搬出"})
	require.NoError(t, err)
	f.step()
	_, err = f.svc.Rotation().CreatePlan(ctx, backupmgmt.PlanParams{Name: "週次テープ", Scheme: store.SchemeRoundRobin, Cycle: store.CycleWeekly,
		MediaIDs: []string{lto1.ID, lto2.ID}, StartOn: store.Date{Year: 2026, Month: 11, Day: 2}})
	require.NoError(t, err)
	f.step()
	_, err = f.svc.Audit().Record(ctx, backupmgmt.AuditEntry{Actor: "user:" + suzuki.ID, Action: "job.delete", ResourceType: "job",
		ResourceID: jp.ID, Result: store.AuditDenied, IP: "198.51.100.7", RequestID: "req-2"})
	require.NoError(t, err)
	f.step()

	_, err = f.svc.Compliance().SweepAll(ctx)
	require.NoError(t, err)
	// 03:00 in Tokyo on the 3rd: csvJob's 02:00 UTC run of the 3rd is not
	// due yet, but the scheduler marks the 2nd's runs it watches.
	f.clock.Set(time.Date(2026, 11, 2, 18, 0, 0, 0, time.UTC))
	_, err = f.svc.Scheduler().TickMissed(ctx)
	require.NoError(t, err)
	for _, d := range []store.Date{{Year: 2026, Month: 11, Day: 1}, {Year: 2026, Month: 11, Day: 2}} {
		_, err := f.svc.Rollups().Fold(ctx, d)
		require.NoError(t, err)
	}
	f.clock.Set(time.Date(2026, 11, 3, 1, 0, 0, 0, time.UTC))
}

// eachDialect runs fn as a parallel subtest per database.
func eachDialect(t *testing.T, fn func(t *testing.T, kind dbopen.Kind)) {
	t.Helper()
	for _, kind := range bunstoretest.Dialects {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}
