package backupmgmt_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/custos-dev/custos/backupmgmt"
	"github.com/custos-dev/custos/store"
)

func TestValidateSchedule(t *testing.T) {
	t.Parallel()
	cron := func(expr, zone string) store.Schedule {
		return store.Schedule{Kind: store.ScheduleCron, Cron: expr, Timezone: zone}
	}
	every := func(d time.Duration) store.Schedule {
		return store.Schedule{Kind: store.ScheduleInterval, Interval: d}
	}
	tests := []struct {
		name     string
		schedule store.Schedule
		want     map[string]string // nil: valid
	}{
		{"AcceptsCronInUTCByDefault", cron("0 2 * * *", ""), nil},
		{"AcceptsCronInZone", cron("30 1 * * *", "America/New_York"), nil},
		{"AcceptsExplicitUTC", cron("0 2 * * *", "UTC"), nil},
		{"AcceptsMacro", cron("@daily", "Asia/Tokyo"), nil},
		{"AcceptsLeapDay", cron("0 0 29 2 *", "Europe/Berlin"), nil},
		{"AcceptsImpossibleDateOrWeekday", cron("0 0 30 2 MON", ""), nil},
		{"AcceptsInterval", every(6 * time.Hour), nil},
		{"AcceptsOneMinuteInterval", every(time.Minute), nil},
		{"AcceptsManual", store.Schedule{Kind: store.ScheduleManual}, nil},

		{"RejectsMissingKind", store.Schedule{}, map[string]string{
			"schedule.kind": "required",
		}},
		{"RejectsUnknownKind", store.Schedule{Kind: "weekly"}, map[string]string{
			"schedule.kind": "must be one of cron, interval, manual",
		}},
		{"RejectsMissingCron", cron("", ""), map[string]string{
			"schedule.cron": "required",
		}},
		{"RejectsBlankCron", cron("  ", ""), map[string]string{
			"schedule.cron": "required",
		}},
		{"RejectsCronThatDoesNotParse", cron("0 24 * * *", ""), map[string]string{
			"schedule.cron": "hour: 24 out of range 0-23",
		}},
		{"RejectsCronWithSixFields", cron("0 0 2 * * *", ""), map[string]string{
			"schedule.cron": "want 5 fields, got 6",
		}},
		{"RejectsThirtiethOfFebruary", cron("0 0 30 2 *", ""), map[string]string{
			"schedule.cron": "never matches a date",
		}},
		{"RejectsThirtyFirstOfShortMonths", cron("0 0 31 4,6,9,11 *", ""), map[string]string{
			"schedule.cron": "never matches a date",
		}},
		{"RejectsUnknownTimeZone", cron("0 2 * * *", "Mars/Olympus_Mons"), map[string]string{
			"schedule.timezone": `unknown time zone "Mars/Olympus_Mons"`,
		}},
		{"RejectsLocalTimeZone", cron("0 2 * * *", "Local"), map[string]string{
			"schedule.timezone": "must be an IANA zone name, not Local",
		}},
		{"RejectsPathAsTimeZone", cron("0 2 * * *", "../../etc/passwd"), map[string]string{
			"schedule.timezone": `unknown time zone "../../etc/passwd"`,
		}},
		{"RejectsIntervalOnCron", store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *", Interval: time.Hour}, map[string]string{
			"schedule.interval_seconds": "must be empty for a cron schedule",
		}},
		{"ReportsEveryCronFieldAtOnce", store.Schedule{Kind: store.ScheduleCron, Cron: "0 0 * * 8", Timezone: "Nowhere", Interval: time.Hour}, map[string]string{
			"schedule.cron":             "day-of-week: 8 out of range 0-7",
			"schedule.timezone":         `unknown time zone "Nowhere"`,
			"schedule.interval_seconds": "must be empty for a cron schedule",
		}},
		{"RejectsMissingInterval", every(0), map[string]string{
			"schedule.interval_seconds": "required",
		}},
		{"RejectsNegativeInterval", every(-time.Hour), map[string]string{
			"schedule.interval_seconds": "must be positive",
		}},
		{"RejectsFractionalInterval", every(90*time.Second + 500*time.Millisecond), map[string]string{
			"schedule.interval_seconds": "must be whole seconds",
		}},
		{"RejectsIntervalUnderAMinute", every(59 * time.Second), map[string]string{
			"schedule.interval_seconds": "must be at least 60 seconds",
		}},
		{"RejectsCronAndZoneOnInterval", store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour, Cron: "0 * * * *", Timezone: "UTC"}, map[string]string{
			"schedule.cron":     "must be empty for an interval schedule",
			"schedule.timezone": "must be empty for an interval schedule",
		}},
		{"RejectsEveryFieldOnManual", store.Schedule{Kind: store.ScheduleManual, Cron: "0 2 * * *", Interval: time.Hour, Timezone: "Europe/Berlin"}, map[string]string{
			"schedule.cron":             "must be empty for a manual schedule",
			"schedule.timezone":         "must be empty for a manual schedule",
			"schedule.interval_seconds": "must be empty for a manual schedule",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := backupmgmt.ValidateSchedule(tt.schedule)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			var verr *store.ValidationError
			require.ErrorAs(t, err, &verr)
			require.Equal(t, tt.want, verr.Fields)
		})
	}
}

func TestNextRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		schedule store.Schedule
		after    time.Time
		want     time.Time
		wantOK   bool
	}{
		{"CronInUTC",
			store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"},
			time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC),
			time.Date(2026, 5, 2, 2, 0, 0, 0, time.UTC), true},
		{"CronRunsOnceInFallOverlap",
			store.Schedule{Kind: store.ScheduleCron, Cron: "30 1 * * *", Timezone: "America/New_York"},
			time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC),
			time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), true},
		{"CronInSpringGapRunsAtTheJump",
			store.Schedule{Kind: store.ScheduleCron, Cron: "30 2 * * *", Timezone: "Europe/Berlin"},
			time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), true},
		{"IntervalAddsToAfterExactly",
			store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour},
			time.Date(2026, 3, 8, 1, 30, 0, 123456789, time.FixedZone("EST", -5*3600)),
			time.Date(2026, 3, 8, 7, 30, 0, 123456789, time.UTC), true},
		{"ManualExpectsNothing",
			store.Schedule{Kind: store.ScheduleManual},
			time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC),
			time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := backupmgmt.NextRun(tt.schedule, tt.after)
			require.NoError(t, err)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
	t.Run("RejectsInvalidSchedule", func(t *testing.T) {
		t.Parallel()
		got, ok, err := backupmgmt.NextRun(store.Schedule{Kind: store.ScheduleCron, Cron: "0 0 30 2 *"}, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		var verr *store.ValidationError
		require.ErrorAs(t, err, &verr)
		require.Equal(t, map[string]string{"schedule.cron": "never matches a date"}, verr.Fields)
		require.False(t, ok)
		require.True(t, got.IsZero())
	})
}

func TestNextDue(t *testing.T) {
	t.Parallel()
	newYork := func(expr string) store.Schedule {
		return store.Schedule{Kind: store.ScheduleCron, Cron: expr, Timezone: "America/New_York"}
	}
	berlin := func(expr string) store.Schedule {
		return store.Schedule{Kind: store.ScheduleCron, Cron: expr, Timezone: "Europe/Berlin"}
	}
	tests := []struct {
		name     string
		schedule store.Schedule
		grace    time.Duration
		after    string
		want     string // empty: no deadline
	}{
		{"CronWithoutGrace", store.Schedule{Kind: store.ScheduleCron, Cron: "0 2 * * *"}, 0,
			"2026-05-01T02:00:00Z", "2026-05-02T02:00:00Z"},
		{"CronGraceAddsToTheExpectedStart", newYork("0 2 * * *"), 45 * time.Minute,
			"2026-05-01T12:00:00Z", "2026-05-02T06:45:00Z"},
		{"CronGraceSpansSpringForward", newYork("30 2 * * *"), time.Hour,
			"2026-03-07T12:00:00Z", "2026-03-08T08:00:00Z"},
		{"CronGraceSpansFallBack", newYork("30 1 * * *"), 90 * time.Minute,
			"2026-10-31T12:00:00Z", "2026-11-01T07:00:00Z"},
		{"CronDueAfterFallBackIsTheNextDay", newYork("30 1 * * *"), 90 * time.Minute,
			"2026-11-01T05:30:00Z", "2026-11-02T08:00:00Z"},
		{"HourlyDueInTheRepeatedHour", berlin("0 * * * *"), 15 * time.Minute,
			"2026-10-25T00:30:00Z", "2026-10-25T01:15:00Z"},
		{"HourlyDueAcrossTheGap", berlin("0 * * * *"), 15 * time.Minute,
			"2026-03-29T00:30:00Z", "2026-03-29T01:15:00Z"},
		{"IntervalIsTruncatedToMicroseconds", store.Schedule{Kind: store.ScheduleInterval, Interval: 6 * time.Hour}, 30 * time.Minute,
			"2026-01-01T00:00:00.123456789Z", "2026-01-01T06:30:00.123456Z"},
		{"IntervalIgnoresDaylightSaving", store.Schedule{Kind: store.ScheduleInterval, Interval: 24 * time.Hour}, time.Hour,
			"2026-03-07T12:00:00-05:00", "2026-03-08T18:00:00Z"},
		{"ManualIsNeverDue", store.Schedule{Kind: store.ScheduleManual}, time.Hour,
			"2026-01-01T00:00:00Z", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			after, err := time.Parse(time.RFC3339Nano, tt.after)
			require.NoError(t, err)
			due, err := backupmgmt.NextDue(tt.schedule, tt.grace, after)
			require.NoError(t, err)
			if tt.want == "" {
				require.Nil(t, due)
				return
			}
			require.NotNil(t, due)
			require.Equal(t, time.UTC, due.Location())
			require.Equal(t, tt.want, due.Format(time.RFC3339Nano))
			require.Equal(t, store.NormalizeTime(*due), *due)
		})
	}
	rejects := []struct {
		name     string
		schedule store.Schedule
		grace    time.Duration
		want     map[string]string
	}{
		{"RejectsNegativeGrace", store.Schedule{Kind: store.ScheduleManual}, -time.Second,
			map[string]string{"grace_seconds": "must not be negative"}},
		{"RejectsFractionalGrace", store.Schedule{Kind: store.ScheduleInterval, Interval: time.Hour}, 1500 * time.Millisecond,
			map[string]string{"grace_seconds": "must be whole seconds"}},
		{"ReportsGraceAndScheduleTogether", store.Schedule{Kind: store.ScheduleCron, Cron: "* * *"}, -time.Minute,
			map[string]string{"grace_seconds": "must not be negative", "schedule.cron": "want 5 fields, got 3"}},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			due, err := backupmgmt.NextDue(tt.schedule, tt.grace, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			require.Nil(t, due)
			var verr *store.ValidationError
			require.ErrorAs(t, err, &verr)
			require.Equal(t, tt.want, verr.Fields)
		})
	}
}

func ExampleNextDue() {
	// A nightly backup at 01:30 New York time, watched with two hours of
	// grace. On 1 November 2026 the clocks go back and 01:30 happens twice;
	// the run is expected at the first one, 05:30 UTC.
	nightly := store.Schedule{Kind: store.ScheduleCron, Cron: "30 1 * * *", Timezone: "America/New_York"}
	lastRun := time.Date(2026, 10, 31, 5, 31, 0, 0, time.UTC)
	due, err := backupmgmt.NextDue(nightly, 2*time.Hour, lastRun)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("cron:", due.Format(time.RFC3339))

	every6h := store.Schedule{Kind: store.ScheduleInterval, Interval: 6 * time.Hour}
	due, _ = backupmgmt.NextDue(every6h, 30*time.Minute, lastRun)
	fmt.Println("interval:", due.Format(time.RFC3339))

	due, _ = backupmgmt.NextDue(store.Schedule{Kind: store.ScheduleManual}, time.Hour, lastRun)
	fmt.Println("manual:", due)
	// Output:
	// cron: 2026-11-01T07:30:00Z
	// interval: 2026-10-31T12:01:00Z
	// manual: <nil>
}
