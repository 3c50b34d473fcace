package backupmgmt

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-dev/custos/store"
)

// MinScheduleInterval is the shortest interval an interval schedule may
// have: the scheduler watches deadlines, not seconds.
const MinScheduleInterval = time.Minute

// ValidateSchedule reports what keeps s from driving the dead-man's switch,
// as a *store.ValidationError whose Fields are "schedule.kind",
// "schedule.cron", "schedule.timezone" and "schedule.interval_seconds".
//
// A cron schedule needs an expression that ParseCron accepts and that names
// a real date (not "0 0 30 2 *"), and a time zone that time.LoadLocation
// knows; an empty zone means UTC, and "Local" is refused because it would
// depend on the host. An interval schedule needs a whole number of seconds,
// at least MinScheduleInterval. A field the kind does not use must be empty,
// so a stored schedule says exactly what runs.
//
// Zone names are read from the host's time zone database; a program that
// cannot rely on one should import time/tzdata.
func ValidateSchedule(s store.Schedule) error {
	_, _, err := scheduleCompile(s, nil)
	return err
}

// NextRun returns the next expected start of a job on schedule s strictly
// after after, in UTC, and whether there is one: cron schedules follow
// Cron.Next in the schedule's zone (see there for daylight-saving time),
// interval schedules expect a run one interval after after, and manual
// schedules expect none. The error is ValidateSchedule's.
func NextRun(s store.Schedule, after time.Time) (time.Time, bool, error) {
	c, loc, err := scheduleCompile(s, nil)
	if err != nil {
		return time.Time{}, false, err
	}
	next, ok := scheduleNext(s, c, loc, after)
	return next, ok, nil
}

// NextDue returns the deadline the scheduler watches for a job on schedule
// s: the next expected start after after, plus grace, in UTC truncated to
// microseconds (store.NormalizeTime). It is nil when no run is expected,
// as for manual schedules, which are never missed.
//
// after is the start the job last answered for: its last run, or its
// creation. When a deadline passes, pass the missed expected start (not the
// deadline) to find the next one, so no run is skipped.
//
// Errors are *store.ValidationError: ValidateSchedule's fields, and
// "grace_seconds" when grace is negative or not whole seconds.
func NextDue(s store.Schedule, grace time.Duration, after time.Time) (*time.Time, error) {
	fields := make(map[string]string)
	switch {
	case grace < 0:
		fields["grace_seconds"] = "must not be negative"
	case grace%time.Second != 0:
		fields["grace_seconds"] = "must be whole seconds"
	}
	c, loc, err := scheduleCompile(s, fields)
	if err != nil {
		return nil, err
	}
	next, ok := scheduleNext(s, c, loc, after)
	if !ok {
		return nil, nil
	}
	due := store.NormalizeTime(next.Add(grace))
	return &due, nil
}

// scheduleNext is NextRun for a schedule scheduleCompile accepted.
func scheduleNext(s store.Schedule, c *Cron, loc *time.Location, after time.Time) (time.Time, bool) {
	switch s.Kind {
	case store.ScheduleCron:
		next := c.Next(after, loc)
		return next, !next.IsZero()
	case store.ScheduleInterval:
		return after.Add(s.Interval).UTC(), true
	}
	return time.Time{}, false
}

// scheduleCompile checks s, adding to fields (which may hold errors already),
// and returns the parsed expression and zone of a cron schedule.
func scheduleCompile(s store.Schedule, fields map[string]string) (*Cron, *time.Location, error) {
	if fields == nil {
		fields = make(map[string]string)
	}
	var (
		c   *Cron
		loc *time.Location
	)
	unused := "must be empty for a " + string(s.Kind) + " schedule"
	if s.Kind == store.ScheduleInterval {
		unused = "must be empty for an interval schedule"
	}
	switch s.Kind {
	case store.ScheduleCron:
		if strings.TrimSpace(s.Cron) == "" {
			fields["schedule.cron"] = "required"
		} else if parsed, err := ParseCron(s.Cron); err != nil {
			fields["schedule.cron"] = strings.TrimPrefix(err.Error(), "cron: ")
		} else if !parsed.matchesSomeDay() {
			fields["schedule.cron"] = "never matches a date"
		} else {
			c = parsed
		}
		if zone, problem := scheduleLoadZone(s.Timezone); problem != "" {
			fields["schedule.timezone"] = problem
		} else {
			loc = zone
		}
		if s.Interval != 0 {
			fields["schedule.interval_seconds"] = unused
		}
	case store.ScheduleInterval:
		switch {
		case s.Interval == 0:
			fields["schedule.interval_seconds"] = "required"
		case s.Interval < 0:
			fields["schedule.interval_seconds"] = "must be positive"
		case s.Interval%time.Second != 0:
			fields["schedule.interval_seconds"] = "must be whole seconds"
		case s.Interval < MinScheduleInterval:
			fields["schedule.interval_seconds"] = "must be at least 60 seconds"
		}
		if s.Cron != "" {
			fields["schedule.cron"] = unused
		}
		if s.Timezone != "" {
			fields["schedule.timezone"] = unused
		}
	case store.ScheduleManual:
		if s.Cron != "" {
			fields["schedule.cron"] = unused
		}
		if s.Timezone != "" {
			fields["schedule.timezone"] = unused
		}
		if s.Interval != 0 {
			fields["schedule.interval_seconds"] = unused
		}
	case "":
		fields["schedule.kind"] = "required"
	default:
		fields["schedule.kind"] = "must be one of cron, interval, manual"
	}
	if len(fields) > 0 {
		return nil, nil, &store.ValidationError{Fields: fields}
	}
	return c, loc, nil
}

// scheduleZones caches loaded zones by name: time.LoadLocation reads the
// zone database on every call, and the scheduler asks for the same few zones
// on every tick. Only names that loaded are kept, so it stays as small as
// the database.
var scheduleZones sync.Map // string → *time.Location

// scheduleLoadZone returns the zone called name, or what is wrong with
// the name.
func scheduleLoadZone(name string) (*time.Location, string) {
	switch name {
	case "":
		return time.UTC, ""
	case "Local":
		return nil, "must be an IANA zone name, not Local"
	}
	if loc, ok := scheduleZones.Load(name); ok {
		return loc.(*time.Location), ""
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, "unknown time zone " + strconv.Quote(name)
	}
	scheduleZones.Store(name, loc)
	return loc, ""
}
