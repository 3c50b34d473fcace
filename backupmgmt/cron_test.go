package backupmgmt

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the same zone rules on every test host

	"github.com/stretchr/testify/require"
)

func TestParseCronAcceptsAndNormalizes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, want string
	}{
		{"EveryFifteenMinutes", "*/15 * * * *", "*/15 * * * *"},
		{"ExtraSpacesAndTabs", "  0\t9 * *  1-5 ", "0 9 * * 1-5"},
		{"LeadingZeros", "05 04 * * *", "5 4 * * *"},
		{"MonthAndDayNamesIgnoreCase", "0 9 * jan,Jul MON-fri", "0 9 * 1,7 1-5"},
		{"SundayAsSeven", "0 12 * * 7", "0 12 * * 0"},
		{"SundayAsZeroAndSeven", "0 12 * * 0,7", "0 12 * * 0"},
		{"SundayName", "0 12 * * sun", "0 12 * * 0"},
		{"RangeEndingOnSeven", "0 12 * * 5-7", "0 12 * * 0,5,6"},
		{"FullRangesStayRestrictedForDays", "0-59 0-23 1-31 1-12 0-6", "* * 1-31 * 0-6"},
		{"StepOneIsStar", "*/1 * * * */1", "* * * * *"},
		{"RangeWithStep", "10-50/20 * * * *", "10-50/20 * * * *"},
		{"StartWithStep", "5/15 * * * *", "5-50/15 * * * *"},
		{"DayOfWeekStartWithStepStopsAtSaturday", "0 0 * * 1/2", "0 0 * * 1-5/2"},
		{"DayOfWeekSevenWithStepIsSunday", "0 0 * * 7/2", "0 0 * * 0"},
		{"HourStep", "0 */6 * * *", "0 */6 * * *"},
		{"DayOfMonthStep", "0 0 */2 * *", "0 0 */2 * *"},
		{"ListWithRun", "1,2,3,5 * * * *", "1-3,5 * * * *"},
		{"TwoValues", "0,30 * * * *", "0,30 * * * *"},
		{"StepLargerThanRange", "0 1-3/5 * * *", "0 1 * * *"},
		{"HugeStep", "1/9223372036854775807 * * * *", "1 * * * *"},
		{"LastMinuteOfYear", "59 23 31 12 *", "59 23 31 12 *"},
		{"ImpossibleDateStillParses", "0 0 30 2 *", "0 0 30 2 *"},
		{"Yearly", "@yearly", "0 0 1 1 *"},
		{"Annually", "@annually", "0 0 1 1 *"},
		{"Monthly", "@monthly", "0 0 1 * *"},
		{"Weekly", "@weekly", "0 0 * * 0"},
		{"Daily", "@daily", "0 0 * * *"},
		{"Midnight", "@midnight", "0 0 * * *"},
		{"Hourly", "@hourly", "0 * * * *"},
		{"MacroIgnoresCase", " @Daily ", "0 0 * * *"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCron(tt.expr)
			require.NoError(t, err)
			require.Equal(t, tt.want, c.String())
			again, err := ParseCron(c.String())
			require.NoError(t, err)
			require.Equal(t, *c, *again, "the normalized form means the same")
		})
	}
}

func TestParseCronRejectsWithFieldAndProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, want string
	}{
		{"Empty", "", "cron: empty expression"},
		{"Blank", " \t ", "cron: empty expression"},
		{"FourFields", "* * * *", "cron: want 5 fields, got 4"},
		{"SixFields", "0 0 * * * *", "cron: want 5 fields, got 6"},
		{"RebootMacro", "@reboot", `cron: unknown macro "@reboot"`},
		{"EveryMacro", "@every 1h", `cron: unknown macro "@every 1h"`},
		{"MinuteTooBig", "60 * * * *", "cron: minute: 60 out of range 0-59"},
		{"HourTooBig", "0 24 * * *", "cron: hour: 24 out of range 0-23"},
		{"DayOfMonthZero", "0 0 0 * *", "cron: day-of-month: 0 out of range 1-31"},
		{"DayOfMonthTooBig", "0 0 32 * *", "cron: day-of-month: 32 out of range 1-31"},
		{"MonthZero", "0 0 * 0 *", "cron: month: 0 out of range 1-12"},
		{"MonthTooBig", "0 0 * 13 *", "cron: month: 13 out of range 1-12"},
		{"DayOfWeekTooBig", "0 0 * * 8", "cron: day-of-week: 8 out of range 0-7"},
		{"HugeNumber", "99999999999999999999 * * * *", "cron: minute: 99999999999999999999 out of range 0-59"},
		{"ValueInStepRangeTooBig", "0 20-25/2 * * *", "cron: hour: 25 out of range 0-23"},
		{"ReversedRange", "0 5-3 * * *", "cron: hour: range 5-3 is reversed"},
		{"ReversedNamedRange", "0 0 * DEC-JAN *", "cron: month: range DEC-JAN is reversed"},
		{"ReversedWeekdayRange", "0 0 * * SAT-SUN", "cron: day-of-week: range SAT-SUN is reversed"},
		{"ZeroStepOnStar", "*/0 * * * *", `cron: minute: zero step in "*/0"`},
		{"ZeroStepOnRange", "0 1-5/0 * * *", `cron: hour: zero step in "1-5/0"`},
		{"StepNotANumber", "0 0 * * MON/x", `cron: day-of-week: step "x" in "MON/x" is not a number`},
		{"EmptyStep", "*/ * * * *", `cron: minute: step "" in "*/" is not a number`},
		{"TwoSteps", "1/2/3 * * * *", `cron: minute: step "2/3" in "1/2/3" is not a number`},
		{"EmptyListElement", "1,,2 * * * *", `cron: minute: empty list element in "1,,2"`},
		{"TrailingComma", "0 1, * * *", `cron: hour: empty list element in "1,"`},
		{"Word", "x * * * *", `cron: minute: "x" is not a number`},
		{"NameInNumericField", "0 MON * * *", `cron: hour: "MON" is not a number`},
		{"UnknownMonthName", "0 0 * FOO *", `cron: month: "FOO" is not a number or a name`},
		{"LongDayName", "0 0 * * MONDAY", `cron: day-of-week: "MONDAY" is not a number or a name`},
		{"MonthNameInDayOfWeek", "0 0 * * JAN", `cron: day-of-week: "JAN" is not a number or a name`},
		{"NegativeNumber", "-1 * * * *", `cron: minute: malformed range "-1"`},
		{"OpenRange", "0 0 1- * *", `cron: day-of-month: malformed range "1-"`},
		{"ThreePartRange", "1-2-3 * * * *", `cron: minute: "2-3" is not a number`},
		{"PlusSign", "+5 * * * *", `cron: minute: "+5" is not a number`},
		{"QuestionMark", "0 0 ? * *", `cron: day-of-month: "?" is not a number`},
		{"LastDayOfMonth", "0 0 L * *", `cron: day-of-month: "L" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCron(tt.expr)
			require.Nil(t, c)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestCronNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, zone, after string
		// want lists the runs in order: each is Next of the one before.
		want []string
	}{
		{"EveryMinuteIsStrictlyAfter", "* * * * *", "UTC", "2026-01-01T00:00:00Z",
			[]string{"2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"}},
		{"SecondsRoundUpToTheNextMinute", "* * * * *", "UTC", "2026-01-01T00:00:30.5Z",
			[]string{"2026-01-01T00:01:00Z"}},
		{"EveryFifteenMinutes", "*/15 * * * *", "UTC", "2026-01-01T10:07:00Z",
			[]string{"2026-01-01T10:15:00Z", "2026-01-01T10:30:00Z", "2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z"}},
		{"ZoneOtherThanUTCAcceptedAsAfter", "0 12 * * *", "UTC", "2026-01-01T12:30:00+02:00",
			[]string{"2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z"}},
		{"YearRollsOver", "0 0 1 1 *", "UTC", "2026-12-31T23:59:00Z",
			[]string{"2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"}},
		{"ThirtyFirstSkipsShortMonths", "0 0 31 * *", "UTC", "2026-01-31T00:00:00Z",
			[]string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z"}},
		{"ThirtiethSkipsFebruary", "0 6 30 * *", "UTC", "2026-01-30T06:00:00Z",
			[]string{"2026-03-30T06:00:00Z", "2026-04-30T06:00:00Z"}},
		{"LeapDay", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"LeapDaySkips2100", "0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z",
			[]string{"2104-02-29T00:00:00Z"}},
		{"DayOfMonthOrDayOfWeekWhenBothRestricted", "0 0 13 * 5", "UTC", "2026-02-01T00:00:00Z",
			[]string{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z", "2026-02-27T00:00:00Z", "2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z"}},
		{"DayOfMonthStepCountsAsRestricted", "0 0 */10 * 0", "UTC", "2026-02-01T00:00:00Z",
			[]string{"2026-02-08T00:00:00Z", "2026-02-11T00:00:00Z", "2026-02-15T00:00:00Z", "2026-02-21T00:00:00Z", "2026-02-22T00:00:00Z"}},
		{"DayOfWeekAloneWhenDayOfMonthIsStar", "0 0 * * 5", "UTC", "2026-02-01T00:00:00Z",
			[]string{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z"}},
		{"DayOfMonthAloneWhenDayOfWeekIsStar", "0 0 13 * *", "UTC", "2026-02-01T00:00:00Z",
			[]string{"2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z"}},
		{"FullDayOfWeekRangeMatchesEveryDay", "0 0 13 * 0-6", "UTC", "2026-02-01T00:00:00Z",
			[]string{"2026-02-02T00:00:00Z", "2026-02-03T00:00:00Z"}},
		{"SundayAsZero", "0 12 * * 0", "UTC", "2026-02-02T00:00:00Z",
			[]string{"2026-02-08T12:00:00Z", "2026-02-15T12:00:00Z"}},
		{"SundayAsSeven", "0 12 * * 7", "UTC", "2026-02-02T00:00:00Z",
			[]string{"2026-02-08T12:00:00Z", "2026-02-15T12:00:00Z"}},
		{"WeekdayAndMonthNames", "30 8 * mar,APR Mon-Fri", "UTC", "2026-03-27T09:00:00Z",
			[]string{"2026-03-30T08:30:00Z", "2026-03-31T08:30:00Z", "2026-04-01T08:30:00Z"}},
		{"WeekdaysSkipWeekendAndMonth", "0 9 * 1,3 1-5", "UTC", "2026-01-30T10:00:00Z",
			[]string{"2026-03-02T09:00:00Z"}},
		{"Yearly", "@yearly", "UTC", "2026-06-01T00:00:00Z", []string{"2027-01-01T00:00:00Z"}},
		{"Monthly", "@monthly", "UTC", "2026-06-01T00:00:00Z", []string{"2026-07-01T00:00:00Z"}},
		{"Weekly", "@weekly", "UTC", "2026-06-01T00:00:00Z", []string{"2026-06-07T00:00:00Z"}},
		{"Daily", "@daily", "UTC", "2026-06-01T00:00:00Z", []string{"2026-06-02T00:00:00Z"}},
		{"Hourly", "@hourly", "UTC", "2026-06-01T00:00:00Z", []string{"2026-06-01T01:00:00Z"}},
		{"ThirtiethOfFebruaryNeverRuns", "0 0 30 2 *", "UTC", "2026-01-01T00:00:00Z", []string{""}},
		{"ThirtyFirstOfShortMonthsNeverRuns", "0 0 31 4,6,9,11 *", "Europe/Berlin", "2026-01-01T00:00:00Z", []string{""}},

		{"TokyoDaily", "0 9 * * *", "Asia/Tokyo", "2026-03-08T00:00:00Z",
			[]string{"2026-03-09T00:00:00Z", "2026-03-10T00:00:00Z"}},
		{"TokyoMonthStartIsTheDayBeforeInUTC", "30 0 1 * *", "Asia/Tokyo", "2026-04-01T00:00:00Z",
			[]string{"2026-04-30T15:30:00Z", "2026-05-31T15:30:00Z"}},
		{"TokyoFridaysAreLocalFridays", "0 1 * * FRI", "Asia/Tokyo", "2026-02-01T00:00:00Z",
			[]string{"2026-02-05T16:00:00Z", "2026-02-12T16:00:00Z"}},

		{"NewYorkDailyInSpringGapRunsAtTheJump", "30 2 * * *", "America/New_York", "2026-03-06T12:00:00Z",
			[]string{"2026-03-07T07:30:00Z", "2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
		{"NewYorkPinnedQuartersInSpringGapRunOnce", "*/15 2 * * *", "America/New_York", "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:15:00Z"}},
		{"NewYorkJumpTimeThatMatchesRunsOnce", "0 2,3 * * *", "America/New_York", "2026-03-08T06:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z"}},
		{"NewYorkHourlyAcrossSpringForward", "0 * * * *", "America/New_York", "2026-03-08T04:30:00Z",
			[]string{"2026-03-08T05:00:00Z", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"}},
		{"NewYorkHourlyAtHalfPastSkipsTheGap", "30 * * * *", "America/New_York", "2026-03-08T05:45:00Z",
			[]string{"2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z"}},
		{"NewYorkQuartersAcrossSpringForward", "*/15 * * * *", "America/New_York", "2026-03-08T06:30:00Z",
			[]string{"2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z"}},
		{"NewYorkAfterTheJumpIsTheNextDay", "30 2 * * *", "America/New_York", "2026-03-08T07:00:00Z",
			[]string{"2026-03-09T06:30:00Z"}},
		{"NewYorkDailyInFallOverlapRunsAtFirstOccurrence", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"NewYorkDailyDoesNotRepeatInTheSecondOccurrence", "30 1 * * *", "America/New_York", "2026-11-01T06:10:00Z",
			[]string{"2026-11-02T06:30:00Z"}},
		{"NewYorkPinnedHourRunsOnceInFallOverlap", "*/30 1 * * *", "America/New_York", "2026-11-01T04:00:00Z",
			[]string{"2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:00:00Z"}},
		{"NewYorkDailyAfterOverlap", "0 2 * * *", "America/New_York", "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T07:00:00Z", "2026-11-02T07:00:00Z"}},
		{"NewYorkHourlyAcrossFallBack", "0 * * * *", "America/New_York", "2026-11-01T04:30:00Z",
			[]string{"2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"}},
		{"NewYorkQuartersAcrossFallBack", "*/15 * * * *", "America/New_York", "2026-11-01T05:40:00Z",
			[]string{"2026-11-01T05:45:00Z", "2026-11-01T06:00:00Z", "2026-11-01T06:15:00Z", "2026-11-01T06:30:00Z", "2026-11-01T06:45:00Z", "2026-11-01T07:00:00Z"}},

		{"BerlinDailyInSpringGapRunsAtTheJump", "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{"BerlinHourlyAcrossSpringForward", "0 * * * *", "Europe/Berlin", "2026-03-28T23:30:00Z",
			[]string{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}},
		{"BerlinQuartersAcrossSpringForward", "*/15 * * * *", "Europe/Berlin", "2026-03-29T00:30:00Z",
			[]string{"2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"}},
		{"BerlinDailyInFallOverlapRunsAtFirstOccurrence", "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{"BerlinHourlyAcrossFallBack", "0 * * * *", "Europe/Berlin", "2026-10-24T23:30:00Z",
			[]string{"2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"}},
		{"BerlinQuartersAcrossFallBack", "*/15 * * * *", "Europe/Berlin", "2026-10-25T00:40:00Z",
			[]string{"2026-10-25T00:45:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:15:00Z", "2026-10-25T01:30:00Z", "2026-10-25T01:45:00Z", "2026-10-25T02:00:00Z"}},
		{"BerlinWeeklyOnSpringForwardSunday", "30 2 * * SUN", "Europe/Berlin", "2026-03-22T12:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-04-05T00:30:00Z"}},

		{"LastDayOfLeapYearServedByTheZoneRule", "*/15 * * * *", "America/New_York", "2040-12-30T23:45:00Z",
			[]string{"2040-12-31T00:00:00Z", "2040-12-31T00:15:00Z"}},
		{"YearEndOfLeapYearServedByTheZoneRule", "0 12 * * *", "Europe/Berlin", "2040-12-30T12:00:00Z",
			[]string{"2040-12-31T11:00:00Z", "2041-01-01T11:00:00Z"}},

		{"SaoPauloMidnightSkippedRunsAtOne", "0 0 * * *", "America/Sao_Paulo", "2018-11-03T12:00:00Z",
			[]string{"2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z"}},
		{"SamoaSkippedDayRunsAtTheJump", "0 12 * * *", "Pacific/Apia", "2011-12-29T12:00:00Z",
			[]string{"2011-12-29T22:00:00Z", "2011-12-30T10:00:00Z", "2011-12-30T22:00:00Z"}},
		{"LordHoweHalfHourGap", "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00Z",
			[]string{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseCron(tt.expr)
			require.NoError(t, err)
			loc, err := time.LoadLocation(tt.zone)
			require.NoError(t, err)
			after, err := time.Parse(time.RFC3339Nano, tt.after)
			require.NoError(t, err)
			var got []string
			for range tt.want {
				next := c.Next(after, loc)
				if next.IsZero() {
					got = append(got, "")
					break
				}
				require.Equal(t, time.UTC, next.Location())
				got = append(got, next.Format(time.RFC3339))
				after = next
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCronNextChainsDailyThroughDecades(t *testing.T) {
	t.Parallel()
	c, err := ParseCron("0 0 * * *")
	require.NoError(t, err)
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	prev := time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)
	days := 0
	for prev.Year() < 2070 {
		next := c.Next(prev, loc)
		gap := next.Sub(prev)
		require.True(t, gap == 23*time.Hour || gap == 24*time.Hour || gap == 25*time.Hour, "%s after %s", next, prev)
		require.Equal(t, "00:00", next.In(loc).Format("15:04"))
		prev = next
		days++
	}
	require.Equal(t, 16071, days, "every day from 2026 through 2069 once")
}

func TestCronZeroValueNeverRuns(t *testing.T) {
	t.Parallel()
	var c Cron
	require.True(t, c.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil).IsZero())
}

func TestCronNextTreatsNilLocationAsUTC(t *testing.T) {
	t.Parallel()
	c, err := ParseCron("0 9 * * *")
	require.NoError(t, err)
	after := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	require.Equal(t, c.Next(after, time.UTC), c.Next(after, nil))
}

// TestCronNextAgreesWithMinuteScan checks Next against a brute-force reading
// of the same rules: for random expressions, zones and start times (many of
// them in the day and a half before a transition), the runs Next chains through a window are
// exactly the minutes the scan accepts, and the first run past the window is
// one the scan accepts too.
func TestCronNextAgreesWithMinuteScan(t *testing.T) {
	t.Parallel()
	zones := []string{"UTC", "Asia/Tokyo", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Sao_Paulo"}
	rng := rand.New(rand.NewPCG(20260308, 20261101))
	const window = 2 * 24 * time.Hour
	cases := 500
	if testing.Short() {
		cases = 100
	}
	for range cases {
		expr := cronTestRandomExpr(rng)
		c, err := ParseCron(expr)
		require.NoError(t, err, expr)
		again, err := ParseCron(c.String())
		require.NoError(t, err, expr)
		require.Equal(t, *c, *again, "%q normalizes to %q", expr, c.String())

		loc, err := time.LoadLocation(zones[rng.IntN(len(zones))])
		require.NoError(t, err)
		after := cronTestRandomAfter(rng, loc)
		end := after.Add(window)
		msg := fmt.Sprintf("%q in %s after %s", expr, loc, after.Format(time.RFC3339Nano))

		var want []time.Time
		for u := after.UTC().Truncate(time.Minute).Add(time.Minute); !u.After(end); u = u.Add(time.Minute) {
			if cronTestRunsAt(c, loc, u) {
				want = append(want, u)
			}
		}
		var got []time.Time
		next := c.Next(after, loc)
		for !next.IsZero() && !next.After(end) {
			got = append(got, next)
			prev := next
			next = c.Next(next, loc)
			require.True(t, next.IsZero() || next.After(prev), msg)
		}
		require.Equal(t, want, got, msg)
		if next.IsZero() {
			require.False(t, c.matchesSomeDay(), msg)
			continue
		}
		require.True(t, cronTestRunsAt(c, loc, next), "%s: first run past the window %s", msg, next)
	}
}

// cronTestRunsAt is the scan's reading of the rules, one instant at a time:
// u runs if its wall time matches and either the job runs every hour or
// that wall time did not already happen within the last three hours, or if
// u is the end of a spring-forward gap that swallowed a matching wall time.

func cronTestRunsAt(c *Cron, loc *time.Location, u time.Time) bool {
	hourly := c.hour == 1<<24-1
	wall := u.In(loc)
	if cronTestMatchesWall(c, wall) {
		if hourly {
			return true
		}
		for back := time.Minute; back <= 3*time.Hour; back += time.Minute {
			if cronTestSameWall(u.Add(-back).In(loc), wall) {
				return false
			}
		}
		return true
	}
	if hourly {
		return false
	}
	_, off := wall.Zone()
	_, prevOff := u.Add(-time.Second).In(loc).Zone()
	if prevOff >= off {
		return false
	}
	gapEnd := u.Add(time.Duration(off) * time.Second).UTC()
	for w := u.Add(time.Duration(prevOff) * time.Second).UTC(); w.Before(gapEnd); w = w.Add(time.Minute) {
		if cronTestMatchesWall(c, w) {
			return true
		}
	}
	return false
}

// cronTestMatchesWall matches the wall-clock fields of w against c's sets,
// independently of Next's month tables.
func cronTestMatchesWall(c *Cron, w time.Time) bool {
	bit := func(mask uint64, v int) bool { return mask&(1<<v) != 0 }
	dom, dow := bit(c.dom, w.Day()), bit(c.dow, int(w.Weekday()))
	day := dom || dow
	if c.domStar || c.dowStar {
		day = dom && dow
	}
	return day && bit(c.minute, w.Minute()) && bit(c.hour, w.Hour()) && bit(c.month, int(w.Month()))
}

func cronTestSameWall(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd && a.Hour() == b.Hour() && a.Minute() == b.Minute()
}

// cronTestRandomAfter picks a time in 2024–2043, half of the time in the
// day and a half before one of loc's transitions, so the window holds it.
func cronTestRandomAfter(rng *rand.Rand, loc *time.Location) time.Time {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	t := base.Add(time.Duration(rng.Int64N(int64(20 * 365 * 24 * time.Hour))))
	if rng.IntN(2) == 0 {
		if _, end := t.In(loc).ZoneBounds(); !end.IsZero() {
			t = end.Add(time.Duration(rng.Int64N(int64(37*time.Hour))) - 36*time.Hour)
		}
	}
	switch rng.IntN(3) {
	case 0:
		return t.Truncate(time.Minute)
	case 1:
		return t.Truncate(time.Second)
	}
	return t
}

func cronTestRandomExpr(rng *rand.Rand) string {
	fields := make([]string, 5)
	for i, f := range cronFieldSpecs {
		fields[i] = cronTestRandomField(rng, f, i)
	}
	return strings.Join(fields, " ")
}

func cronTestRandomField(rng *rand.Rand, f cronFieldSpec, index int) string {
	value := func() string {
		v := f.min + rng.IntN(f.max-f.min+1)
		if f.names != nil && v-f.min < len(f.names) && rng.IntN(3) == 0 {
			name := f.names[v-f.min]
			if rng.IntN(2) == 0 {
				name = strings.ToLower(name)
			}
			return name
		}
		return strconv.Itoa(v)
	}
	span := f.max - f.min + 1
	// Keep the small fields small and often starred so windows of two days
	// hold runs; hours near the transitions (0–3) come up often.
	star := []int{35, 45, 70, 75, 75}[index]
	switch r := rng.IntN(100); {
	case r < star:
		return "*"
	case index == 1 && r < star+15:
		return strconv.Itoa(rng.IntN(4))
	case r < star+8:
		return value()
	case r < star+14:
		lo := f.min + rng.IntN(span)
		hi := lo + rng.IntN(f.max-lo+1)
		return fmt.Sprintf("%d-%d", lo, hi)
	case r < star+20:
		return fmt.Sprintf("*/%d", 1+rng.IntN(span/2))
	case r < star+25:
		lo := f.min + rng.IntN(span)
		if rng.IntN(2) == 0 {
			return fmt.Sprintf("%d/%d", lo, 1+rng.IntN(span/2))
		}
		hi := lo + rng.IntN(f.max-lo+1)
		return fmt.Sprintf("%d-%d/%d", lo, hi, 1+rng.IntN(span/2))
	default:
		return value() + "," + value() + "," + value()
	}
}

func BenchmarkCronNext(b *testing.B) {
	benchmarks := []struct {
		name, expr, zone string
	}{
		{"EveryMinuteUTC", "* * * * *", "UTC"},
		{"QuartersNewYork", "*/15 * * * *", "America/New_York"},
		{"DailyNewYork", "30 2 * * *", "America/New_York"},
		{"WeekdaysBerlin", "0 22 * * MON-FRI", "Europe/Berlin"},
		{"MonthEndBerlin", "0 3 31 * *", "Europe/Berlin"},
		{"LeapDayUTC", "0 0 29 2 *", "UTC"},
		{"ImpossibleNewYork", "0 0 30 2 *", "America/New_York"},
	}
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			c, err := ParseCron(bm.expr)
			require.NoError(b, err)
			loc, err := time.LoadLocation(bm.zone)
			require.NoError(b, err)
			// Chain runs through ten years and start over, so every call
			// asks a realistic question.
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			after := start
			for b.Loop() {
				if after = c.Next(after, loc); after.IsZero() || after.Year() >= 2036 {
					after = start
				}
			}
		})
	}
}

func BenchmarkParseCron(b *testing.B) {
	for b.Loop() {
		if _, err := ParseCron("0,30 8-18/2 * JAN-NOV MON-FRI"); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseCron(f *testing.F) {
	for _, seed := range []string{"*/15 * * * *", "0 0 30 2 *", "5/15 1-3 */2 JAN-mar 7", "@weekly", "0,30 8-18/2 * * MON-FRI"} {
		f.Add(seed)
	}
	loc, err := time.LoadLocation("America/New_York")
	require.NoError(f, err)
	after := time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := ParseCron(expr)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "cron: "), err.Error())
			return
		}
		again, err := ParseCron(c.String())
		require.NoError(t, err)
		require.Equal(t, *c, *again)
		if next := c.Next(after, loc); !next.IsZero() {
			require.True(t, next.After(after))
			require.True(t, cronTestRunsAt(c, loc, next), "%q: %s", expr, next)
		} else {
			require.False(t, c.matchesSomeDay(), expr)
		}
	})
}
