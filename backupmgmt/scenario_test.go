package backupmgmt

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// scenarioEvent is one thing that happens during the week.
type scenarioEvent struct {
	at time.Time
	do func(ctx context.Context) error
}

// TestAWeekInTheLife runs a fake clock over seven days (Mon 2 Nov to Mon 9
// Nov 2026) with 20 jobs on mixed schedules: most succeed, three start
// failing on Wednesday, one fails once, two never run, one runs stuck, one
// shrinks, one is manual and one paused. A restore test fails on Thursday
// and passes on Saturday; a tape lent on Monday is never returned. The
// background tick runs every hour. At the end the exact alerts, compliance
// states, SLA figures, dashboard and audit chain are checked.
func TestAWeekInTheLife(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		b := setup(t, kind, nil)
		monday := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		end := monday.AddDate(0, 0, 7)
		b.clock.Set(monday)
		admin := b.userFixture(t, "admin", store.RoleAdmin)
		actx := actorCtx(t.Context(), admin)
		olivia, err := b.svc.Users().Create(actx, UserParams{Username: "olivia", Email: "olivia@example.com", Role: store.RoleOperator, Password: "correct horse battery staple"})
		require.NoError(t, err)
		ctx := actorCtx(t.Context(), olivia)
		b.channelFixture(t, "ops", store.SeverityWarning)

		daily := store.Schedule{Kind: store.ScheduleCron, Cron: "0 1 * * *"}
		type jobSpec struct {
			name string
			p    JobParams
		}
		var specs []jobSpec
		add := func(name string, mod func(p *JobParams)) {
			p := JobParams{Name: name, JobType: store.JobTypeFile, Tool: store.ToolRestic, Schedule: daily, Grace: time.Hour}
			if mod != nil {
				mod(&p)
			}
			specs = append(specs, jobSpec{name, p})
		}
		for i := 1; i <= 8; i++ {
			add(fmt.Sprintf("daily-ok-%d", i), func(p *JobParams) {
				if i == 8 {
					p.MaxRuntime = 2 * time.Hour
				}
			})
		}
		for i := 1; i <= 2; i++ {
			add(fmt.Sprintf("six-hourly-%d", i), func(p *JobParams) {
				p.Schedule = store.Schedule{Kind: store.ScheduleInterval, Interval: 6 * time.Hour}
				p.Grace = 30 * time.Minute
			})
		}
		for i := 1; i <= 3; i++ {
			add(fmt.Sprintf("fail-%d", i), nil)
		}
		add("never-1", nil)
		add("never-2", nil)
		add("manual-1", func(p *JobParams) { p.Schedule = store.Schedule{Kind: store.ScheduleManual} })
		add("new-york", func(p *JobParams) {
			p.Schedule = store.Schedule{Kind: store.ScheduleCron, Cron: "30 1 * * *", Timezone: "America/New_York"}
		})
		add("recover", nil)
		add("gold", nil)
		add("paused-1", func(p *JobParams) { p.Paused = true })
		require.Len(t, specs, 20)

		jobs := map[string]*store.Job{}
		nas := map[string]string{} // job name → its NAS copy
		for _, sp := range specs {
			j, err := b.svc.Jobs().Create(ctx, sp.p)
			require.NoError(t, err)
			jobs[sp.name] = j
			c, err := b.svc.Jobs().AddCopy(ctx, j.ID, CopyParams{Name: "nas", Role: store.CopyRolePrimary, MediaType: store.MediaNAS, Encrypted: true})
			require.NoError(t, err)
			nas[sp.name] = c.ID
		}
		cloud, err := b.svc.Jobs().AddCopy(ctx, jobs["gold"].ID, CopyParams{
			Name: "cloud", Role: store.CopyRoleOffsite, MediaType: store.MediaCloudObject,
			Offsite: true, Immutable: true, Encrypted: true,
		})
		require.NoError(t, err)
		tape, err := b.svc.Media().Register(ctx, MediaParams{Label: "T-001", MediaType: store.OfflineTape, Location: "server room"})
		require.NoError(t, err)

		// The week's events.
		var events []scenarioEvent
		at := func(t time.Time, do func(ctx context.Context) error) {
			events = append(events, scenarioEvent{t, do})
		}
		run := func(name, runID string, status store.ExecutionStatus, started, finished time.Time, size int64, copyID string) func(context.Context) error {
			return func(ctx context.Context) error {
				p := RecordParams{JobID: jobs[name].ID, RunID: runID, Status: status, StartedAt: started, SizeBytes: size, CopyID: &copyID}
				if status != store.ExecutionRunning {
					p.FinishedAt = &finished
				}
				_, err := b.svc.Executions().Record(ctx, p)
				return err
			}
		}
		const mb = 1 << 20
		for d := range 7 {
			day := monday.AddDate(0, 0, d)
			start, finish := day.Add(time.Hour), day.Add(time.Hour+10*time.Minute)
			rid := func(name string) string { return fmt.Sprintf("%s-%d", name, d) }
			for i := 1; i <= 8; i++ {
				name := fmt.Sprintf("daily-ok-%d", i)
				switch {
				case i == 8 && d == 4: // Friday: starts, runs four hours
					at(start, run(name, rid(name), store.ExecutionRunning, start, time.Time{}, 0, nas[name]))
					at(day.Add(5*time.Hour), run(name, rid(name), store.ExecutionSuccess, start, day.Add(5*time.Hour), 100*mb, nas[name]))
				case i == 7 && d == 6: // Sunday: a fraction of the usual size
					at(finish, run(name, rid(name), store.ExecutionSuccess, start, finish, 1*mb, nas[name]))
				default:
					at(finish, run(name, rid(name), store.ExecutionSuccess, start, finish, 100*mb, nas[name]))
				}
			}
			for i := 1; i <= 3; i++ {
				name := fmt.Sprintf("fail-%d", i)
				st := store.ExecutionSuccess
				if d >= 2 {
					st = store.ExecutionFailed
				}
				at(finish, run(name, rid(name), st, start, finish, 100*mb, nas[name]))
			}
			recoverStatus := store.ExecutionSuccess
			if d == 1 {
				recoverStatus = store.ExecutionFailed
			}
			at(finish, run("recover", rid("recover"), recoverStatus, start, finish, 100*mb, nas["recover"]))
			at(finish, run("gold", rid("gold-nas"), store.ExecutionSuccess, start, finish, 100*mb, nas["gold"]))
			at(finish, run("gold", rid("gold-cloud"), store.ExecutionSuccess, start, finish, 100*mb, cloud.ID))
			ny := day.Add(6*time.Hour + 30*time.Minute) // 01:30 in New York (UTC-5)
			at(ny.Add(10*time.Minute), run("new-york", rid("new-york"), store.ExecutionSuccess, ny, ny.Add(10*time.Minute), 100*mb, nas["new-york"]))
			for h := 0; h < 24; h += 6 {
				if d == 0 && h == 0 {
					continue // created at midnight: first due at 06:30
				}
				s := day.Add(time.Duration(h)*time.Hour + 5*time.Minute)
				for i := 1; i <= 2; i++ {
					name := fmt.Sprintf("six-hourly-%d", i)
					at(s.Add(5*time.Minute), run(name, fmt.Sprintf("%s-%d-%d", name, d, h), store.ExecutionSuccess, s, s.Add(5*time.Minute), 10*mb, nas[name]))
				}
			}
		}
		restore := func(result store.TestResult) func(context.Context) error {
			return func(ctx context.Context) error {
				_, err := b.svc.Verification().RecordTest(ctx, TestParams{
					JobID: jobs["gold"].ID, CopyID: cloud.ID, TestType: store.TestFullRestore, Result: result,
					Duration: 40 * time.Minute, FilesChecked: 1000,
				})
				return err
			}
		}
		at(monday.Add(12*time.Hour), restore(store.TestSuccess))
		at(monday.AddDate(0, 0, 3).Add(12*time.Hour), restore(store.TestFailed))  // Thursday
		at(monday.AddDate(0, 0, 5).Add(12*time.Hour), restore(store.TestSuccess)) // Saturday
		at(monday.Add(9*time.Hour), func(ctx context.Context) error {
			_, err := b.svc.Media().Lend(ctx, tape.ID, LendParams{BorrowerID: olivia.ID, Purpose: "offsite restore drill", DueOn: store.Date{Year: 2026, Month: 11, Day: 4}})
			return err
		})
		ticks := 0
		for tk := monday.Add(30 * time.Minute); tk.Before(end); tk = tk.Add(time.Hour) {
			at(tk, func(ctx context.Context) error {
				ticks++
				_, err := b.svc.Tick(ctx)
				return err
			})
		}
		slices.SortStableFunc(events, func(a, b scenarioEvent) int { return a.at.Compare(b.at) })
		for _, ev := range events {
			b.clock.Set(ev.at)
			require.NoError(t, ev.do(ctx), "at %s", ev.at)
		}
		require.Equal(t, 168, ticks)
		b.clock.Set(end)

		// Alerts: every one of the week, by type, state, subject and count.
		type alertRow struct {
			Type        store.AlertType
			Subject     string
			State       store.AlertState
			Severity    store.Severity
			Occurrences int
		}
		subjectName := map[string]string{}
		for name, j := range jobs {
			subjectName[jobSubject(j.ID)] = name
		}
		subjectName[mediaSubject(tape.ID)] = "T-001"
		var got []alertRow
		p := store.ListAlertsParams{PageParams: store.PageParams{Limit: store.LimitMax}}
		for {
			page, err := b.store.Alerts().List(t.Context(), p)
			require.NoError(t, err)
			for _, a := range page.Items {
				subject := a.DedupeKey[len(a.Type)+1:]
				name, ok := subjectName[subject]
				require.True(t, ok, "alert about unknown subject %s", a.DedupeKey)
				got = append(got, alertRow{a.Type, name, a.State, a.Severity, a.Occurrences})
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		var want []alertRow
		for _, sp := range specs {
			if sp.name != "gold" {
				want = append(want, alertRow{store.AlertComplianceViolation, sp.name, store.AlertOpen, store.SeverityError, 1})
			}
		}
		want = append(want,
			// gold: violated until Monday's restore test, again from Thursday's
			// failed one until Saturday's.
			alertRow{store.AlertComplianceViolation, "gold", store.AlertResolved, store.SeverityError, 1},
			alertRow{store.AlertComplianceViolation, "gold", store.AlertResolved, store.SeverityError, 1},
			alertRow{store.AlertVerificationFailed, "gold", store.AlertResolved, store.SeverityCritical, 1},
			// failing from Wednesday: five failures, critical from the third.
			alertRow{store.AlertBackupFailed, "fail-1", store.AlertOpen, store.SeverityCritical, 5},
			alertRow{store.AlertBackupFailed, "fail-2", store.AlertOpen, store.SeverityCritical, 5},
			alertRow{store.AlertBackupFailed, "fail-3", store.AlertOpen, store.SeverityCritical, 5},
			alertRow{store.AlertBackupFailed, "recover", store.AlertResolved, store.SeverityError, 1},
			alertRow{store.AlertBackupMissed, "never-1", store.AlertOpen, store.SeverityError, 7},
			alertRow{store.AlertBackupMissed, "never-2", store.AlertOpen, store.SeverityError, 7},
			alertRow{store.AlertBackupStuck, "daily-ok-8", store.AlertResolved, store.SeverityWarning, 1},
			alertRow{store.AlertBackupAnomaly, "daily-ok-7", store.AlertOpen, store.SeverityWarning, 1},
			alertRow{store.AlertMediaLendingOverdue, "T-001", store.AlertOpen, store.SeverityWarning, 1},
		)
		for _, name := range []string{"fail-1", "fail-2", "fail-3", "never-1", "never-2", "recover"} {
			want = append(want, alertRow{store.AlertSLABreach, name, store.AlertOpen, store.SeverityWarning, 1})
		}
		key := func(r alertRow) string {
			return fmt.Sprintf("%s %s %s %s %d", r.Type, r.Subject, r.State, r.Severity, r.Occurrences)
		}
		sortRows := func(rows []alertRow) []string {
			out := make([]string, len(rows))
			for i, r := range rows {
				out[i] = key(r)
			}
			slices.Sort(out)
			return out
		}
		require.Equal(t, sortRows(want), sortRows(got))

		// The open lending alert went up at the first tick of Thursday 5 Nov.
		lending := b.unresolved(t, store.AlertMediaLendingOverdue, mediaSubject(tape.ID))
		require.Equal(t, time.Date(2026, 11, 5, 0, 30, 0, 0, time.UTC), lending.FirstSeenAt)
		// never-1's alert went up at the first tick after its first deadline.
		missed := b.unresolved(t, store.AlertBackupMissed, jobSubject(jobs["never-1"].ID))
		require.Equal(t, time.Date(2026, 11, 2, 2, 30, 0, 0, time.UTC), missed.FirstSeenAt)
		require.Equal(t, time.Date(2026, 11, 8, 2, 30, 0, 0, time.UTC), missed.LastSeenAt)

		// Compliance: only gold meets 3-2-1-1-0 (one NAS copy is not enough).
		for name, j := range jobs {
			st, err := b.svc.Compliance().State(t.Context(), store.SubjectJob, j.ID)
			require.NoError(t, err, name)
			want := store.ComplianceNonCompliant
			if name == "gold" {
				want = store.ComplianceCompliant
			}
			require.Equal(t, want, st.Status, name)
		}
		gold := b.history(t, store.SubjectJob, jobs["gold"].ID)
		var transitions []string
		for i := len(gold) - 1; i >= 0; i-- {
			transitions = append(transitions, fmt.Sprintf("%s→%s", gold[i].From, gold[i].To))
		}
		require.Equal(t, []string{"unknown→non_compliant", "non_compliant→compliant", "compliant→non_compliant", "non_compliant→compliant"}, transitions)
		sum, err := b.svc.Compliance().Summary(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, sum.Jobs[store.ComplianceCompliant])
		require.Equal(t, 19, sum.Jobs[store.ComplianceNonCompliant])
		require.InDelta(t, 1.0/20, sum.Rate, 1e-9)

		// SLA over the default 30-day window.
		sla := func(name string) *JobSLA {
			s, err := b.svc.SLA().Job(t.Context(), jobs[name].ID, 0)
			require.NoError(t, err)
			return s
		}
		f := sla("fail-1")
		require.Equal(t, []int{7, 2, 5, 0}, []int{f.Runs, f.Successes, f.Failures, f.Missed})
		require.InDelta(t, 2.0/7, *f.SuccessRate, 1e-9)
		require.True(t, f.Breached)
		require.Equal(t, monday.AddDate(0, 0, 1).Add(time.Hour+10*time.Minute), *f.LastSuccessAt)
		n := sla("never-1")
		require.Equal(t, []int{7, 0, 7, 7}, []int{n.Runs, n.Successes, n.Failures, n.Missed})
		require.InDelta(t, 0, *n.SuccessRate, 1e-9)
		require.Nil(t, n.LastSuccessAt)
		r := sla("recover")
		require.InDelta(t, 6.0/7, *r.SuccessRate, 1e-9)
		require.True(t, r.Breached)
		h := sla("six-hourly-1")
		require.Equal(t, 27, h.Runs)
		require.InDelta(t, 1, *h.SuccessRate, 1e-9)
		require.False(t, h.Breached)
		stuck := sla("daily-ok-8")
		require.Equal(t, 4*time.Hour, stuck.MaxDuration)
		require.Equal(t, (6*10*time.Minute+4*time.Hour)/7, stuck.MeanDuration)
		m := sla("manual-1")
		require.Zero(t, m.Runs)
		require.Nil(t, m.SuccessRate)

		// Dashboard.
		dash, err := b.svc.Dashboard().Summary(t.Context())
		require.NoError(t, err)
		require.Equal(t, map[store.JobState]int{
			store.JobStateUp: 13, store.JobStateFailed: 3, store.JobStateMissed: 2,
			store.JobStateNew: 1, store.JobStatePaused: 1,
		}, nonZero(dash.Jobs))
		require.Equal(t, 1, dash.Media[store.MediaLent])
		require.Equal(t, 32, dash.Alerts[store.SeverityInfo]+dash.Alerts[store.SeverityWarning]+dash.Alerts[store.SeverityError]+dash.Alerts[store.SeverityCritical])

		// The audit chain holds exactly the people's actions; ingest, pings
		// and ticks wrote none.
		counts := map[string]int{}
		for _, a := range b.auditActions(t) {
			counts[a]++
		}
		require.Equal(t, map[string]int{
			"user.create": 1, "job.create": 20, "copy.create": 21,
			"media.register": 1, "media.lend": 1, "verification.record": 3,
		}, counts)
	})
}

func nonZero[K comparable](m map[K]int) map[K]int {
	out := map[K]int{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}
