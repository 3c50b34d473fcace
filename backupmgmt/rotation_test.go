package backupmgmt

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/store"
	"github.com/custos-dev/custos/store/bunstore/dbopen"
)

// slots returns the media of the dates from start on, joined.
func slots(scheme store.RotationScheme, cycle store.RotationCycle, media []string, start store.Date, dates ...store.Date) string {
	out := make([]string, len(dates))
	for i, d := range dates {
		id, ok := RotationSlot(scheme, cycle, media, start, d)
		if !ok {
			id = "-"
		}
		out[i] = id
	}
	return strings.Join(out, " ")
}

// daysFrom returns n consecutive dates from d.
func daysFrom(d store.Date, n, step int) []store.Date {
	out := make([]store.Date, n)
	for i := range out {
		out[i] = d.AddDays(i * step)
	}
	return out
}

func TestRotationSlot(t *testing.T) {
	t.Parallel()
	abcd := []string{"A", "B", "C", "D"}
	start := day(2026, time.November, 2) // a Monday
	gfs := []string{"S0", "S1", "S2", "S3", "F0", "F1", "F2", "F3", "G0", "G1", "G2"}

	tests := []struct {
		name   string
		scheme store.RotationScheme
		cycle  store.RotationCycle
		media  []string
		start  store.Date
		dates  []store.Date
		want   string
	}{
		{
			name: "TowerOfHanoiDailyIsTheBinarySchedule", scheme: store.SchemeTowerOfHanoi, cycle: store.CycleDaily,
			media: abcd, start: start, dates: daysFrom(start, 16, 1),
			want: "A B A C A B A D A B A C A B A D",
		},
		{
			name: "TowerOfHanoiLastMediumTakesTheStepsBeyond", scheme: store.SchemeTowerOfHanoi, cycle: store.CycleDaily,
			media: []string{"A", "B", "C"}, start: start, dates: daysFrom(start, 8, 1),
			want: "A B A C A B A C",
		},
		{
			name: "TowerOfHanoiWeeklyKeepsAMediumAllWeek", scheme: store.SchemeTowerOfHanoi, cycle: store.CycleWeekly,
			media: abcd, start: start, dates: daysFrom(start.AddDays(-1), 6, 3),
			// Nov 1 (before start), Nov 4, Nov 7 (week 0), Nov 10, Nov 13 (week 1), Nov 16 (week 2)
			want: "- A A B B A",
		},
		{
			name: "TowerOfHanoiWeeklyOnRotationDays", scheme: store.SchemeTowerOfHanoi, cycle: store.CycleWeekly,
			media: abcd, start: start, dates: daysFrom(start, 8, 7),
			want: "A B A C A B A D",
		},
		{
			name: "RoundRobinDaily", scheme: store.SchemeRoundRobin, cycle: store.CycleDaily,
			media: []string{"A", "B", "C"}, start: start, dates: daysFrom(start.AddDays(-1), 8, 1),
			want: "- A B C A B C A",
		},
		{
			name: "RoundRobinMonthlyFromTheThirtyFirst", scheme: store.SchemeRoundRobin, cycle: store.CycleMonthly,
			media: []string{"A", "B", "C"}, start: day(2027, time.January, 31),
			dates: []store.Date{
				day(2027, time.January, 30), day(2027, time.January, 31), day(2027, time.February, 27),
				day(2027, time.February, 28), day(2027, time.March, 30), day(2027, time.March, 31),
				day(2027, time.April, 29), day(2027, time.April, 30),
			},
			want: "- A A B B C C A",
		},
		{
			name: "GFSInNovember2026", scheme: store.SchemeGFS, cycle: store.CycleDaily,
			media: gfs, start: start, dates: daysFrom(start.AddDays(-1), 29, 1),
			// Sun 1 | Mon 2 … Sun 8 | Mon 9 … Sun 15 | 16 … 22 | 23 … Fri 27 (last Friday) … Sun 29
			want: "- S0 S1 S2 S3 F0 F0 F0 S0 S1 S2 S3 F1 F1 F1 S0 S1 S2 S3 F2 F2 F2 S0 S1 S2 S3 G0 G0 G0",
		},
		{
			name: "GFSFridaysOverFourMonths", scheme: store.SchemeGFS, cycle: store.CycleDaily,
			media: gfs, start: start,
			dates: []store.Date{
				// December 2026: Fridays 4, 11, 18, 25 (last)
				day(2026, time.December, 4), day(2026, time.December, 11), day(2026, time.December, 18), day(2026, time.December, 25),
				// January 2027: five Fridays, 1 … 29 (last)
				day(2027, time.January, 1), day(2027, time.January, 22), day(2027, time.January, 29),
				// February 2027: the grandfathers come round again
				day(2027, time.February, 26),
			},
			want: "F0 F1 F2 G1 F0 F3 G2 G0",
		},
		{
			name: "GFSWithAWeeklyCycleHasNoSlot", scheme: store.SchemeGFS, cycle: store.CycleWeekly,
			media: gfs, start: start, dates: []store.Date{start}, want: "-",
		},
		{
			name: "TooFewMediaHaveNoSlot", scheme: store.SchemeTowerOfHanoi, cycle: store.CycleDaily,
			media: []string{"A"}, start: start, dates: []store.Date{start}, want: "-",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, slots(tt.scheme, tt.cycle, tt.media, tt.start, tt.dates...))
		})
	}
}

func TestRotationNext(t *testing.T) {
	t.Parallel()
	start := day(2026, time.November, 2) // a Monday
	tests := []struct {
		name   string
		scheme store.RotationScheme
		cycle  store.RotationCycle
		start  store.Date
		after  store.Date
		want   store.Date
	}{
		{"BeforeStartIsStart", store.SchemeRoundRobin, store.CycleWeekly, start, day(2026, time.October, 1), start},
		{"WeeklyMidWeek", store.SchemeTowerOfHanoi, store.CycleWeekly, start, day(2026, time.November, 4), day(2026, time.November, 9)},
		{"WeeklyOnTheDay", store.SchemeTowerOfHanoi, store.CycleWeekly, start, start, day(2026, time.November, 9)},
		{"Daily", store.SchemeRoundRobin, store.CycleDaily, start, start, day(2026, time.November, 3)},
		{"MonthlyCountsFromStart", store.SchemeRoundRobin, store.CycleMonthly, day(2027, time.January, 31), day(2027, time.February, 28), day(2027, time.March, 31)},
		{"GFSSkipsTheWeekend", store.SchemeGFS, store.CycleDaily, start, day(2026, time.November, 6), day(2026, time.November, 9)},
		{"GFSStartingOnASaturday", store.SchemeGFS, store.CycleDaily, day(2026, time.November, 7), day(2026, time.November, 6), day(2026, time.November, 9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, RotationNext(tt.scheme, tt.cycle, tt.start, tt.after))
		})
	}
}

func TestValidateRotation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scheme store.RotationScheme
		cycle  store.RotationCycle
		n      int
		fields []string
	}{
		{"RoundRobinWithOne", store.SchemeRoundRobin, store.CycleWeekly, 1, nil},
		{"RoundRobinWithNone", store.SchemeRoundRobin, store.CycleWeekly, 0, []string{"media_ids"}},
		{"TowerOfHanoiWithOne", store.SchemeTowerOfHanoi, store.CycleDaily, 1, []string{"media_ids"}},
		{"TowerOfHanoiWithTwo", store.SchemeTowerOfHanoi, store.CycleMonthly, 2, nil},
		{"GFSWithNine", store.SchemeGFS, store.CycleDaily, GFSMinMedia, nil},
		{"GFSWithEight", store.SchemeGFS, store.CycleDaily, 8, []string{"media_ids"}},
		{"GFSWeekly", store.SchemeGFS, store.CycleWeekly, 20, []string{"cycle"}},
		{"UnknownSchemeAndCycle", "lifo", "hourly", 3, []string{"scheme", "cycle"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateRotation(tt.scheme, tt.cycle, tt.n)
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			for _, f := range tt.fields {
				require.Contains(t, ve.Fields, f)
			}
			require.Len(t, ve.Fields, len(tt.fields))
		})
	}
}

func ids(ms []*store.Media) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func TestRotationPlans(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, kind dbopen.Kind) {
		t.Run("RotateAndAlertWhenDueAndOverdue", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := actorCtx(t.Context(), b.userFixture(t, "ops", store.RoleOperator))
			media := b.mediaFixtures(t, "tape", 3)
			plan, err := b.svc.Rotation().CreatePlan(ctx, PlanParams{
				Name: "weekly tapes", Scheme: store.SchemeRoundRobin, Cycle: store.CycleWeekly, MediaIDs: ids(media),
			})
			require.NoError(t, err)
			today := b.svc.Today()
			require.Equal(t, today, *plan.StartOn)
			require.Equal(t, today, *plan.NextRotationOn)
			require.Nil(t, plan.LastRotationOn)

			for i, want := range []string{"tape-1", "tape-1", "tape-2", "tape-3", "tape-1"} {
				on := today.AddDays([]int{0, 6, 7, 14, 21}[i])
				m, err := b.svc.Rotation().DueMedia(ctx, plan.ID, on)
				require.NoError(t, err)
				require.Equal(t, want, m.Label, "on %s", on)
			}
			_, err = b.svc.Rotation().DueMedia(ctx, plan.ID, today.AddDays(-1))
			require.ErrorIs(t, err, ErrRotationNotDue)

			// due today: info
			n, err := b.svc.Rotation().TickRotation(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, n)
			a, err := b.store.Alerts().GetUnresolved(t.Context(), AlertKey(store.AlertMediaRotationDue, "plan:"+plan.ID))
			require.NoError(t, err)
			require.Equal(t, store.SeverityInfo, a.Severity)
			require.Equal(t, media[0].ID, *a.MediaID)
			require.Contains(t, a.Message, "tape-1")

			res, err := b.svc.Rotation().Rotate(ctx, plan.ID)
			require.NoError(t, err)
			require.Equal(t, "tape-1", res.Media.Label)
			require.Equal(t, today, *res.Plan.LastRotationOn)
			require.Equal(t, today.AddDays(7), *res.Plan.NextRotationOn)
			got, err := b.svc.Alerts().Get(t.Context(), a.ID)
			require.NoError(t, err)
			require.Equal(t, store.AlertResolved, got.State)

			// 8 days later the rotation of day 7 is overdue: the alert is warning
			b.clock.Advance(8 * 24 * time.Hour)
			n, err = b.svc.Rotation().TickRotation(t.Context())
			require.NoError(t, err)
			require.Equal(t, 1, n)
			a, err = b.store.Alerts().GetUnresolved(t.Context(), AlertKey(store.AlertMediaRotationDue, "plan:"+plan.ID))
			require.NoError(t, err)
			require.Equal(t, store.SeverityWarning, a.Severity)
			require.Contains(t, a.Title, "overdue")

			// rotating late records the medium of today's slot
			res, err = b.svc.Rotation().Rotate(ctx, plan.ID)
			require.NoError(t, err)
			require.Equal(t, "tape-2", res.Media.Label)
			require.Equal(t, today.AddDays(8), *res.Plan.LastRotationOn)
			require.Equal(t, today.AddDays(14), *res.Plan.NextRotationOn)
			got, err = b.svc.Alerts().Get(t.Context(), a.ID)
			require.NoError(t, err)
			require.Equal(t, store.AlertResolved, got.State)

			// rotating early records the pending rotation's medium
			res, err = b.svc.Rotation().Rotate(ctx, plan.ID)
			require.NoError(t, err)
			require.Equal(t, "tape-3", res.Media.Label)
			require.Equal(t, today.AddDays(21), *res.Plan.NextRotationOn)

			events, err := b.svc.Media().Events(t.Context(), store.ListMediaEventsParams{Kind: store.MediaEventRotated})
			require.NoError(t, err)
			require.Len(t, events.Items, 3)
			require.Equal(t, media[2].ID, events.Items[0].MediaID)
			require.Contains(t, events.Items[0].Note, "weekly tapes")

			// a plan far from its next rotation raises nothing
			_, err = b.svc.Rotation().UpdatePlan(ctx, plan.ID, PlanUpdate{Active: new(false)})
			require.NoError(t, err)
			n, err = b.svc.Rotation().TickRotation(t.Context())
			require.NoError(t, err)
			require.Zero(t, n)
			_, err = b.svc.Rotation().Rotate(ctx, plan.ID)
			require.ErrorIs(t, err, ErrRotationNotDue)

			require.NoError(t, b.svc.Rotation().DeletePlan(ctx, plan.ID))
			_, err = b.svc.Rotation().GetPlan(t.Context(), plan.ID)
			require.ErrorIs(t, err, store.ErrNotFound)

			require.Equal(t, []string{
				"media.register", "media.register", "media.register", "rotation.create",
				"rotation.rotate", "rotation.rotate", "rotation.rotate", "rotation.update", "rotation.delete",
			}, b.auditActions(t))
		})

		t.Run("UpdateRecomputesTheCalendar", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			media := b.mediaFixtures(t, "disk", 4)
			plan, err := b.svc.Rotation().CreatePlan(ctx, PlanParams{
				Name: "hanoi", Scheme: store.SchemeTowerOfHanoi, Cycle: store.CycleDaily, MediaIDs: ids(media),
				StartOn: day(2026, time.November, 7), // a Saturday
			})
			require.NoError(t, err)
			require.Equal(t, day(2026, time.November, 7), *plan.NextRotationOn)

			gfsMedia := append(ids(media), ids(b.mediaFixtures(t, "gfs", 5))...)
			plan, err = b.svc.Rotation().UpdatePlan(ctx, plan.ID, PlanUpdate{Scheme: new(store.SchemeGFS), MediaIDs: gfsMedia})
			require.NoError(t, err)
			require.Equal(t, day(2026, time.November, 9), *plan.NextRotationOn, "GFS rotates on business days")
			m, err := b.svc.Rotation().DueMedia(ctx, plan.ID, day(2026, time.November, 27))
			require.NoError(t, err)
			require.Equal(t, "gfs-5", m.Label, "the last Friday of November uses the first grandfather")

			_, err = b.svc.Rotation().UpdatePlan(ctx, plan.ID, PlanUpdate{Cycle: new(store.CycleWeekly)})
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields, "cycle")
			again, err := b.svc.Rotation().GetPlan(ctx, plan.ID)
			require.NoError(t, err)
			require.Equal(t, store.CycleDaily, again.Cycle)
		})

		t.Run("ARetiredMediumBlocksRotationUntilReplaced", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			media := b.mediaFixtures(t, "lto", 3)
			plan, err := b.svc.Rotation().CreatePlan(ctx, PlanParams{
				Name: "daily", Scheme: store.SchemeRoundRobin, Cycle: store.CycleDaily, MediaIDs: ids(media[:2]),
			})
			require.NoError(t, err)
			_, err = b.svc.Media().Retire(ctx, media[0].ID, "worn")
			require.NoError(t, err)

			_, err = b.svc.Rotation().Rotate(ctx, plan.ID)
			require.ErrorIs(t, err, ErrMediaRetired)
			require.ErrorContains(t, err, "lto-1")
			renamed, err := b.svc.Rotation().UpdatePlan(ctx, plan.ID, PlanUpdate{Name: new("daily tapes")})
			require.NoError(t, err, "a plan can be renamed although a medium was retired since")
			require.Equal(t, "daily tapes", renamed.Name)
			_, err = b.svc.Rotation().UpdatePlan(ctx, plan.ID, PlanUpdate{MediaIDs: ids(media)})
			var ve *store.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Contains(t, ve.Fields["media_ids"], "`lto-1` is retired")

			_, err = b.svc.Rotation().UpdatePlan(ctx, plan.ID, PlanUpdate{MediaIDs: []string{media[2].ID, media[1].ID}})
			require.NoError(t, err)
			res, err := b.svc.Rotation().Rotate(ctx, plan.ID)
			require.NoError(t, err)
			require.Equal(t, "lto-3", res.Media.Label)
		})

		t.Run("RejectsBadPlansNamingFieldsAndWritesNothing", func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, nil)
			ctx := t.Context()
			media := b.mediaFixtures(t, "usb", 3)
			_, err := b.svc.Media().Retire(ctx, media[2].ID, "worn out")
			require.NoError(t, err)
			before := b.auditActions(t)

			cases := []struct {
				p     PlanParams
				field string
				msg   string
			}{
				{PlanParams{Name: "", Scheme: store.SchemeRoundRobin, Cycle: store.CycleDaily, MediaIDs: ids(media[:1])}, "name", "required"},
				{PlanParams{Name: "x", Scheme: "lifo", Cycle: store.CycleDaily, MediaIDs: ids(media[:1])}, "scheme", "must be one of"},
				{PlanParams{Name: "x", Scheme: store.SchemeRoundRobin, Cycle: store.CycleDaily, MediaIDs: []string{"nope"}}, "media_ids", "no such medium"},
				{PlanParams{Name: "x", Scheme: store.SchemeRoundRobin, Cycle: store.CycleDaily, MediaIDs: ids(media)}, "media_ids", "retired"},
				{PlanParams{Name: "x", Scheme: store.SchemeRoundRobin, Cycle: store.CycleDaily, MediaIDs: []string{media[0].ID, media[0].ID}}, "media_ids", "more than once"},
				{PlanParams{Name: "x", Scheme: store.SchemeGFS, Cycle: store.CycleDaily, MediaIDs: ids(media[:2])}, "media_ids", "gfs needs"},
				{PlanParams{Name: "x", Scheme: store.SchemeTowerOfHanoi, Cycle: store.CycleDaily}, "media_ids", "at least 2"},
			}
			for _, c := range cases {
				_, err := b.svc.Rotation().CreatePlan(ctx, c.p)
				var ve *store.ValidationError
				require.ErrorAs(t, err, &ve, "%+v", c.p)
				require.Contains(t, ve.Fields[c.field], c.msg, "%+v", c.p)
			}
			page, err := b.svc.Rotation().ListPlans(ctx, store.ListRotationPlansParams{})
			require.NoError(t, err)
			require.Empty(t, page.Items)
			require.Equal(t, before, b.auditActions(t))
		})
	})
}

// ExampleRotationSlot prints a Tower of Hanoi schedule of four tapes rotated
// weekly: tape A every other week, B every fourth, C and D every eighth.
func ExampleRotationSlot() {
	start := store.Date{Year: 2026, Month: time.November, Day: 2}
	tapes := []string{"A", "B", "C", "D"}
	for week := range 8 {
		on := start.AddDays(7 * week)
		tape, _ := RotationSlot(store.SchemeTowerOfHanoi, store.CycleWeekly, tapes, start, on)
		fmt.Println(on, tape)
	}
	// Output:
	// 2026-11-02 A
	// 2026-11-09 B
	// 2026-11-16 A
	// 2026-11-23 C
	// 2026-11-30 A
	// 2026-12-07 B
	// 2026-12-14 A
	// 2026-12-21 D
}
