package backupmgmt

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// cronSearchYears bounds Cron.Next. It is longer than the longest gap between
// two runs of an expression that matches at all: 29 February, eight years
// apart across 2100.
const cronSearchYears = 10

// Cron is a parsed 5-field cron expression: minute, hour, day of month,
// month, day of week. The zero value matches nothing; use ParseCron.
//
// Day of month and day of week follow Vixie cron: when both are restricted
// (neither is "*" or "*/1"), a day matches if either matches; when one is
// "*", the other alone decides. "*/2" counts as restricted.
type Cron struct {
	minute, hour, dom, month, dow uint64 // bit v set: value v matches
	domStar, dowStar              bool
	// dowDays[w] holds the days 1–31 that dow matches in a month whose 1st
	// falls on weekday w.
	dowDays [7]uint64
}

type cronFieldSpec struct {
	name     string
	min, max int
	// starMax is the top of "*": day of week accepts 7 for Sunday, but "*"
	// stops at 6.
	starMax int
	// names[i] names the value min+i.
	names []string
}

var cronFieldSpecs = [5]cronFieldSpec{
	{name: "minute", min: 0, max: 59, starMax: 59},
	{name: "hour", min: 0, max: 23, starMax: 23},
	{name: "day-of-month", min: 1, max: 31, starMax: 31},
	{name: "month", min: 1, max: 12, starMax: 12, names: []string{
		"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
	}},
	{name: "day-of-week", min: 0, max: 7, starMax: 6, names: []string{
		"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT",
	}},
}

// ParseCron parses a standard 5-field cron expression (minute hour
// day-of-month month day-of-week). Each field is a comma-separated list of
// "*", a value, a range "a-b", or a step "*/n", "a-b/n" or "a/n" (a to the
// field's maximum). Months take JAN–DEC and days of week SUN–SAT in any case;
// day of week takes 0–7, where 0 and 7 are Sunday. The macros @yearly
// (@annually), @monthly, @weekly, @daily (@midnight) and @hourly stand for
// their usual expressions.
//
// Errors name the field and the problem: "cron: hour: 24 out of range 0-23".
// An expression that parses but names no real date, such as "0 0 30 2 *",
// is accepted; its Next is the zero time, and ValidateSchedule refuses it.
func ParseCron(expr string) (*Cron, error) {
	text := strings.TrimSpace(expr)
	if text == "" {
		return nil, errors.New("cron: empty expression")
	}
	if strings.HasPrefix(text, "@") {
		expanded, ok := cronMacro(strings.ToLower(text))
		if !ok {
			return nil, fmt.Errorf("cron: unknown macro %q", text)
		}
		text = expanded
	}
	fields := strings.Fields(text)
	if len(fields) != 5 {
		return nil, fmt.Errorf("cron: want 5 fields, got %d", len(fields))
	}
	var (
		c     Cron
		masks [5]uint64
		stars [5]bool
	)
	for i, f := range fields {
		mask, star, err := cronParseField(f, cronFieldSpecs[i])
		if err != nil {
			return nil, fmt.Errorf("cron: %s: %w", cronFieldSpecs[i].name, err)
		}
		masks[i], stars[i] = mask, star
	}
	c.minute, c.hour, c.dom, c.month = masks[0], masks[1], masks[2], masks[3]
	c.dow = masks[4]
	if c.dow&(1<<7) != 0 {
		c.dow = c.dow&^(1<<7) | 1
	}
	c.domStar, c.dowStar = stars[2], stars[4]
	for first := range 7 {
		for d := 1; d <= 31; d++ {
			if c.dow&(1<<((first+d-1)%7)) != 0 {
				c.dowDays[first] |= 1 << d
			}
		}
	}
	return &c, nil
}

func cronMacro(name string) (string, bool) {
	switch name {
	case "@yearly", "@annually":
		return "0 0 1 1 *", true
	case "@monthly":
		return "0 0 1 * *", true
	case "@weekly":
		return "0 0 * * 0", true
	case "@daily", "@midnight":
		return "0 0 * * *", true
	case "@hourly":
		return "0 * * * *", true
	}
	return "", false
}

// cronParseField parses one field into a bit set. star reports a field that
// is "*" or "*/1", which the day-of-month/day-of-week rule treats as
// unrestricted.
func cronParseField(text string, f cronFieldSpec) (mask uint64, star bool, err error) {
	star = text == "*" || text == "*/1"
	for elem := range strings.SplitSeq(text, ",") {
		if elem == "" {
			return 0, false, fmt.Errorf("empty list element in %q", text)
		}
		rangeText, stepText, hasStep := strings.Cut(elem, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || !cronDigits(stepText) {
				return 0, false, fmt.Errorf("step %q in %q is not a number", stepText, elem)
			}
			if n == 0 {
				return 0, false, fmt.Errorf("zero step in %q", elem)
			}
			step = min(n, 64) // past the field's span any step means one value
		}
		var lo, hi int
		switch loText, hiText, isRange := strings.Cut(rangeText, "-"); {
		case rangeText == "*":
			lo, hi = f.min, f.starMax
		case isRange && (loText == "" || hiText == ""):
			return 0, false, fmt.Errorf("malformed range %q", rangeText)
		case isRange:
			if lo, err = cronParseValue(loText, f); err != nil {
				return 0, false, err
			}
			if hi, err = cronParseValue(hiText, f); err != nil {
				return 0, false, err
			}
			if lo > hi {
				return 0, false, fmt.Errorf("range %s is reversed", rangeText)
			}
		default:
			if lo, err = cronParseValue(rangeText, f); err != nil {
				return 0, false, err
			}
			hi = lo
			if hasStep {
				hi = max(f.starMax, lo) // "7/2" is Sunday
			}
		}
		for v := lo; v <= hi; v += step {
			mask |= 1 << v
		}
	}
	return mask, star, nil
}

func cronParseValue(text string, f cronFieldSpec) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(text, name) {
			return f.min + i, nil
		}
	}
	if !cronDigits(text) {
		if f.names != nil {
			return 0, fmt.Errorf("%q is not a number or a name", text)
		}
		return 0, fmt.Errorf("%q is not a number", text)
	}
	v, err := strconv.Atoi(text)
	if err != nil || v < f.min || v > f.max {
		return 0, fmt.Errorf("%s out of range %d-%d", text, f.min, f.max)
	}
	return v, nil
}

func cronDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// String returns the normalized expression: macros expanded, names and
// Sunday-as-7 turned into numbers, sets written as "*", "*/n", "a-b/n",
// ranges and lists. ParseCron(c.String()) matches the same times as c.
func (c *Cron) String() string {
	const allMinutes, allHours, allMonths = 1<<60 - 1, 1<<24 - 1, 1<<13 - 2
	return strings.Join([]string{
		cronFormatField(c.minute, 0, 59, c.minute == allMinutes),
		cronFormatField(c.hour, 0, 23, c.hour == allHours),
		cronFormatField(c.dom, 1, 31, c.domStar),
		cronFormatField(c.month, 1, 12, c.month == allMonths),
		cronFormatField(c.dow, 0, 6, c.dowStar),
	}, " ")
}

func cronFormatField(mask uint64, lo, hi int, star bool) string {
	if star {
		return "*"
	}
	var vals []int
	for m := mask; m != 0; m &= m - 1 {
		vals = append(vals, bits.TrailingZeros64(m))
	}
	if len(vals) >= 3 {
		step := vals[1] - vals[0]
		even := true
		for i := 2; i < len(vals); i++ {
			if vals[i]-vals[i-1] != step {
				even = false
				break
			}
		}
		last := vals[len(vals)-1]
		switch {
		case even && step == 1:
			return fmt.Sprintf("%d-%d", vals[0], last)
		case even && vals[0] == lo && last+step > hi:
			return fmt.Sprintf("*/%d", step)
		case even:
			return fmt.Sprintf("%d-%d/%d", vals[0], last, step)
		}
	}
	var b strings.Builder
	for i := 0; i < len(vals); {
		j := i
		for j+1 < len(vals) && vals[j+1] == vals[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j-i >= 2 {
			fmt.Fprintf(&b, "%d-%d", vals[i], vals[j])
			i = j + 1
		} else {
			b.WriteString(strconv.Itoa(vals[i]))
			i++
		}
	}
	return b.String()
}

// Next returns the first time strictly after after at which c runs, read in
// the wall clock of loc (nil means UTC), as a UTC time. It returns the zero
// time when c does not run within ten years, which only happens for
// expressions that name no real date, such as "0 0 30 2 *".
//
// Daylight-saving transitions follow cronie, with the hour field deciding
// which kind of job c is:
//
//   - A job pinned to some hours (the hour field is not every hour) runs at
//     each matching wall time once. A wall time skipped by a spring-forward
//     gap (02:30 when clocks jump from 02:00 to 03:00) runs once, at the
//     first instant after the jump (03:00), however many matching times the
//     gap swallowed. A wall time repeated by a fall-back overlap (01:30 when
//     clocks go from 02:00 back to 01:00) runs only at its first occurrence.
//   - A job that runs every hour (hour field "*") follows real hours instead:
//     times in a gap do not exist and are skipped, and times in an overlap run
//     at both occurrences, so "0 * * * *" runs once in every real hour and
//     "*/15 * * * *" keeps its 15-minute pace through both transitions.
//
// Cronie also treats a job whose minute field starts with "*" as an hourly
// one; here only the hour field decides, so "*/15 2 * * *" still runs once,
// at 03:00, on the day 02:00–03:00 is skipped. A watchdog that expects a
// run the tool may skip raises a false alarm, which is better than missing
// a real one.
func (c *Cron) Next(after time.Time, loc *time.Location) time.Time {
	if c.minute == 0 || c.hour == 0 || c.month == 0 || c.dom|c.dow == 0 {
		return time.Time{} // the zero Cron
	}
	if loc == nil {
		loc = time.UTC
	}
	hourly := c.hour == 1<<24-1
	from := after.Unix() + 1 // the first whole second strictly after after
	limit := from + cronSearchYears*366*24*3600
	// Within one zone period the offset is fixed, so wall time and instant
	// move together; walk the periods in order and search each one's wall
	// clock. This needs no guess about which instant time.Date picks for a
	// wall time that happens twice or never.
	for from < limit {
		t := time.Unix(from, 0).In(loc)
		_, offset := t.Zone()
		startTime, endTime := t.ZoneBounds()
		off := int64(offset)
		end := limit
		if !endTime.IsZero() && endTime.Unix() < limit {
			end = endTime.Unix()
		}
		if end <= from {
			// On the last UTC day of a leap year served by the zone's TZ
			// rule, ZoneBounds reports an end before t (golang/go#81583).
			// No zone's rule changes the offset that day, so step through it
			// an hour at a time.
			end = min(from+3600, limit)
		}
		wallFrom := from + off
		if !startTime.IsZero() && !hourly {
			start := startTime.Unix()
			_, prevOffset := time.Unix(start-1, 0).In(loc).Zone()
			prev := int64(prevOffset)
			switch {
			case prev < off && start >= from:
				// Spring forward: wall times [start+prev, start+off) never
				// happen; any of them that c names runs at the jump.
				if _, ok := c.nextWall(cronCeilMinute(start+prev), start+off); ok {
					return time.Unix(start, 0).UTC()
				}
			case prev > off:
				// Fall back: wall times before start+prev already happened
				// in the previous period.
				wallFrom = max(wallFrom, start+prev)
			}
		}
		if w, ok := c.nextWall(cronCeilMinute(wallFrom), end+off); ok {
			return time.Unix(w-off, 0).UTC()
		}
		from = end
	}
	return time.Time{}
}

// cronCeilMinute rounds wall seconds up to a whole minute.
func cronCeilMinute(sec int64) int64 {
	r := sec % 60
	if r < 0 {
		r += 60
	}
	if r == 0 {
		return sec
	}
	return sec + 60 - r
}

// nextWall returns the first wall-clock minute in [from, limit) that c
// matches. Wall-clock times are seconds of the local calendar counted as if
// it were UTC; from is a whole minute. It jumps field by field, so a search
// over years costs a step per month, not per minute.
func (c *Cron) nextWall(from, limit int64) (int64, bool) {
	if from >= limit {
		return 0, false
	}
	t := time.Unix(from, 0).UTC()
	year, month, day := t.Date()
	hour, minute := t.Hour(), t.Minute()
	days, daysFor := uint64(0), -1 // days holds the matching days of month daysFor
	nextMonth := func() {
		month, day, hour, minute = month+1, 1, 0, 0
		if month > time.December {
			year, month = year+1, time.January
		}
	}
	for {
		if cronWall(year, month, day, hour, minute) >= limit {
			return 0, false
		}
		if c.month&(1<<month) == 0 {
			m := cronNextBit(c.month, int(month))
			if m < 0 {
				year, m = year+1, cronNextBit(c.month, 1)
			}
			month, day, hour, minute = time.Month(m), 1, 0, 0
			continue
		}
		if ym := year*12 + int(month); daysFor != ym {
			days, daysFor = c.monthDays(year, month), ym
		}
		if days&(1<<day) == 0 {
			d := cronNextBit(days, day)
			if d < 0 {
				nextMonth()
				continue
			}
			day, hour, minute = d, 0, 0
		}
		if c.hour&(1<<hour) == 0 {
			h := cronNextBit(c.hour, hour)
			if h < 0 {
				if day++; days>>day == 0 {
					nextMonth()
				} else {
					hour, minute = 0, 0
				}
				continue
			}
			hour, minute = h, 0
		}
		m := cronNextBit(c.minute, minute)
		if m < 0 {
			switch {
			case hour < 23:
				hour, minute = hour+1, 0
			case days>>(day+1) != 0:
				day, hour, minute = day+1, 0, 0
			default:
				nextMonth()
			}
			continue
		}
		w := cronWall(year, month, day, hour, m)
		return w, w < limit
	}
}

// monthDays returns the days of the month that c matches, as bits 1–31.
func (c *Cron) monthDays(year int, month time.Month) uint64 {
	first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	n := first.AddDate(0, 1, -1).Day()
	inMonth := uint64(1)<<(n+1) - 2
	dom := c.dom & inMonth
	dow := c.dowDays[first.Weekday()] & inMonth
	if c.domStar || c.dowStar {
		return dom & dow
	}
	return dom | dow
}

// matchesSomeDay reports whether c names a day that exists in some year.
func (c *Cron) matchesSomeDay() bool {
	if !c.dowStar {
		return c.dow != 0 // every month has every weekday
	}
	const (
		upTo29 = 1<<30 - 2
		upTo30 = 1<<31 - 2
	)
	for m := time.January; m <= time.December; m++ {
		if c.month&(1<<m) == 0 {
			continue
		}
		var inMonth uint64 = 1<<32 - 2
		switch m {
		case time.February:
			inMonth = upTo29
		case time.April, time.June, time.September, time.November:
			inMonth = upTo30
		}
		if c.dom&inMonth != 0 {
			return true
		}
	}
	return false
}

// cronNextBit returns the lowest set bit of mask at or above i, or -1.
func cronNextBit(mask uint64, i int) int {
	if i >= 64 {
		return -1
	}
	m := mask >> i << i
	if m == 0 {
		return -1
	}
	return bits.TrailingZeros64(m)
}

func cronWall(year int, month time.Month, day, hour, minute int) int64 {
	return time.Date(year, month, day, hour, minute, 0, 0, time.UTC).Unix()
}
