package migration

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Window is a maintenance window: on the given days, from From to To (local
// time, minutes after midnight). A window whose To is not after its From runs
// past midnight and belongs to the day it starts on: "fri 22:00-05:00" ends
// on Saturday at 05:00.
type Window struct {
	Days [7]bool // indexed by time.Weekday
	From int     // minutes after midnight, 0..1439
	To   int     // minutes after midnight, 1..1440
	text string
}

// String returns the window as written, normalised ("mon-fri 22:00-05:00").
func (w Window) String() string { return w.text }

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseWindow reads a window: days, then a time range, as in
// "mon-fri 22:00-05:00", "sat,sun 00:00-24:00" or "daily 01:00-04:00".
func ParseWindow(s string) (Window, error) {
	fields := strings.Fields(strings.ToLower(s))
	if len(fields) != 2 {
		return Window{}, fmt.Errorf("%q is not a window like \"mon-fri 22:00-05:00\" (days, then a time range)", s)
	}
	var w Window
	if fields[0] == "daily" || fields[0] == "*" {
		for d := range w.Days {
			w.Days[d] = true
		}
	} else {
		for part := range strings.SplitSeq(fields[0], ",") {
			first, last, isRange := strings.Cut(part, "-")
			a, ok1 := dayNames[first]
			b, ok2 := dayNames[last]
			if !isRange {
				b, ok2 = a, ok1
			}
			if !ok1 || !ok2 {
				return Window{}, fmt.Errorf("%q: %q is not a day or a range of days (mon, tue, wed, thu, fri, sat, sun; mon-fri; daily)", s, part)
			}
			for d := a; ; d = (d + 1) % 7 {
				w.Days[d] = true
				if d == b {
					break
				}
			}
		}
	}
	from, to, ok := strings.Cut(fields[1], "-")
	var err error
	if !ok {
		return Window{}, fmt.Errorf("%q: %q is not a time range like 22:00-05:00", s, fields[1])
	}
	if w.From, err = parseClock(from); err != nil || w.From == 24*60 {
		return Window{}, fmt.Errorf("%q: the start %q is not a time of day like 22:00", s, from)
	}
	if w.To, err = parseClock(to); err != nil || w.To == 0 {
		if err == nil {
			w.To = 24 * 60 // "-00:00" is midnight at the end of the day
		} else {
			return Window{}, fmt.Errorf("%q: the end %q is not a time of day like 05:00", s, to)
		}
	}
	if w.From == w.To {
		return Window{}, fmt.Errorf("%q: the window is empty (it starts and ends at %s)", s, from)
	}
	w.text = fields[0] + " " + clock(w.From) + "-" + clock(w.To)
	return w, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("not a time of day")
	}
	return hh*60 + mm, nil
}

func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// Calendar is when a wave may start moves: inside one of its windows (always,
// without windows) and never on a blackout date, in its time zone.
type Calendar struct {
	Windows   []Window
	Location  *time.Location
	Blackouts []string // local dates, YYYY-MM-DD
}

// Always reports whether the calendar never closes.
func (c Calendar) Always() bool { return len(c.Windows) == 0 && len(c.Blackouts) == 0 }

// NewCalendar reads windows, a time zone (an IANA name; "" is UTC) and
// blackout dates (YYYY-MM-DD). The error names the field at fault.
func NewCalendar(windows []string, zone string, blackouts []string) (Calendar, error) {
	var c Calendar
	for i, s := range windows {
		w, err := ParseWindow(s)
		if err != nil {
			return Calendar{}, Invalid(CodeInvalidPlan, fmt.Sprintf("windows[%d]", i), "%v", err)
		}
		c.Windows = append(c.Windows, w)
	}
	if zone == "" {
		zone = "UTC"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || strings.EqualFold(zone, "local") {
		return Calendar{}, Invalid(CodeInvalidPlan, "time_zone", "%q is not a time zone name like Europe/London or America/New_York", zone)
	}
	c.Location = loc
	for i, d := range blackouts {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return Calendar{}, Invalid(CodeInvalidPlan, fmt.Sprintf("blackout_dates[%d]", i), "%q is not a date like 2026-12-24", d)
		}
		c.Blackouts = append(c.Blackouts, t.Format(time.DateOnly))
	}
	slices.Sort(c.Blackouts)
	c.Blackouts = slices.Compact(c.Blackouts)
	return c, nil
}

// WindowStrings returns the windows as written.
func (c Calendar) WindowStrings() []string {
	if len(c.Windows) == 0 {
		return nil
	}
	out := make([]string, len(c.Windows))
	for i, w := range c.Windows {
		out[i] = w.String()
	}
	return out
}

// Zone is the calendar's time zone name.
func (c Calendar) Zone() string {
	if c.Location == nil {
		return "UTC"
	}
	return c.Location.String()
}

func (c Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

func (c Calendar) blackedOut(t time.Time) bool {
	_, found := slices.BinarySearch(c.Blackouts, t.In(c.loc()).Format(time.DateOnly))
	return found
}

// Open reports whether moves may start at t.
func (c Calendar) Open(t time.Time) bool {
	next, ok := c.NextOpen(t)
	return ok && !next.After(t)
}

// NextOpen returns the first instant at or after t when moves may start; ok
// is false when there is none in the next year and a half.
func (c Calendar) NextOpen(t time.Time) (time.Time, bool) {
	loc := c.loc()
	t = t.In(loc)
	if len(c.Windows) == 0 {
		for i := 0; i < 550; i++ {
			if !c.blackedOut(t) {
				return t, true
			}
			t = nextMidnight(t)
		}
		return time.Time{}, false
	}
	y, m, d := t.Date()
	for day := -1; day < 550; day++ {
		date := time.Date(y, m, d+day, 0, 0, 0, 0, loc)
		best, found := time.Time{}, false
		for _, w := range c.Windows {
			if !w.Days[date.Weekday()] {
				continue
			}
			start := at(date, w.From)
			end := at(date, w.To)
			if w.To <= w.From {
				end = at(date.AddDate(0, 0, 1), w.To)
			}
			if !end.After(t) {
				continue
			}
			s := start
			if s.Before(t) {
				s = t
			}
			for s.Before(end) && c.blackedOut(s) {
				s = nextMidnight(s)
			}
			if s.Before(end) && (!found || s.Before(best)) {
				best, found = s, true
			}
		}
		if found {
			return best, true
		}
	}
	return time.Time{}, false
}

// at is the instant minutes after the local midnight that starts date.
func at(date time.Time, minutes int) time.Time {
	y, m, d := date.Date()
	return time.Date(y, m, d, minutes/60, minutes%60, 0, 0, date.Location())
}

func nextMidnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}
