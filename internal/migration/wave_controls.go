package migration

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"time"
)

// Threshold is a wave's failure gate: crossing it halts the wave. A wave
// halts once at least MinSample of its moves have ended and either Count of
// them failed permanently (when set) or the permanent failures reach Percent
// of the moves started (when set). Started, not ended: a permanent failure
// ends a move in seconds while a good move takes minutes, so early in a wave
// the ended moves are mostly failures.
type Threshold struct {
	Percent   float64 `json:"percent,omitempty"`
	Count     int     `json:"count,omitempty"`
	MinSample int     `json:"min_sample,omitempty"`
}

// DefaultMinSample is the sample a threshold waits for when none is given.
const DefaultMinSample = 20

// Set reports whether the threshold can halt a wave.
func (t Threshold) Set() bool { return t.Percent > 0 || t.Count > 0 }

// Check returns the threshold with its default sample, or an error naming
// the field at fault (prefix is the field's path, e.g. "waves[1].").
func (t Threshold) Check(prefix string) (Threshold, error) {
	switch {
	case t.Percent < 0 || t.Percent > 100 || math.IsNaN(t.Percent):
		return t, Invalid(CodeInvalidPlan, prefix+"failure_threshold.percent", "must be between 0 and 100 (got %g)", t.Percent)
	case t.Count < 0:
		return t, Invalid(CodeInvalidPlan, prefix+"failure_threshold.count", "must be at least 1 (got %d)", t.Count)
	case t.MinSample < 0:
		return t, Invalid(CodeInvalidPlan, prefix+"failure_threshold.min_sample", "must be at least 1 (got %d)", t.MinSample)
	case t.MinSample > 0 && !t.Set():
		return t, Invalid(CodeInvalidPlan, prefix+"failure_threshold", "min_sample needs a percent or a count")
	}
	if t.Set() && t.MinSample == 0 {
		t.MinSample = DefaultMinSample
	}
	return t, nil
}

// Crossed reports whether failed permanent failures, with ended moves
// ended of started, cross the threshold, and says how in words.
func (t Threshold) Crossed(failed, ended, started int) (bool, string) {
	if !t.Set() || ended < t.MinSample || ended == 0 {
		return false, ""
	}
	if t.Count > 0 && failed >= t.Count {
		return true, fmt.Sprintf("%d permanent failures had reached the threshold of %d", failed, t.Count)
	}
	started = max(started, ended)
	rate := 100 * float64(failed) / float64(started)
	if t.Percent > 0 && rate >= t.Percent {
		return true, fmt.Sprintf("%d of the %d moves started had failed for good (%.1f%%), over the threshold of %g%%", failed, started, rate, t.Percent)
	}
	return false, ""
}

// Controls are how a wave runs beyond its size and start: its failure gate,
// what a halt does, and its maintenance windows.
type Controls struct {
	Threshold      Threshold `json:"failure_threshold"`
	RollbackOnHalt bool      `json:"rollback_on_halt"`
	Windows        []string  `json:"windows"`
	TimeZone       string    `json:"time_zone"`
	BlackoutDates  []string  `json:"blackout_dates"`
	// BypassEnterpriseVoiceCheck moves Enterprise Voice users without a
	// Teams Phone licence, with Move-CsUser -BypassEnterpriseVoiceCheck:
	// "If you want to move such a user to Office 365 but do not want to
	// configure them for Phone System, specify this switch"
	// (MicrosoftDocs/office-docs-powershell skype/skype-ps/SkypeForBusiness/Move-CsUser.md).
	BypassEnterpriseVoiceCheck bool `json:"bypass_enterprise_voice_check"`
	// NumberPlan is where the wave's Enterprise Voice users' numbers are
	// managed after their move ("": on premises).
	NumberPlan NumberPlan `json:"number_plan,omitempty"`
}

// IsZero reports whether no control is set.
func (c Controls) IsZero() bool {
	return c.Threshold == Threshold{} && !c.RollbackOnHalt && len(c.Windows) == 0 && c.TimeZone == "" && len(c.BlackoutDates) == 0 &&
		!c.BypassEnterpriseVoiceCheck && c.NumberPlan == ""
}

// Check validates the controls and returns them normalised (default sample,
// windows as written by ParseWindow, sorted dates). prefix is the fields' path.
func (c Controls) Check(prefix string) (Controls, error) {
	var err error
	if c.NumberPlan, err = ParseNumberPlan(prefix+"number_plan", string(c.NumberPlan)); err != nil {
		return c, err
	}
	if c.Threshold, err = c.Threshold.Check(prefix); err != nil {
		return c, err
	}
	if c.RollbackOnHalt && !c.Threshold.Set() {
		return c, Invalid(CodeInvalidPlan, prefix+"rollback_on_halt", "needs a failure_threshold (a percent or a count) that can halt the wave")
	}
	cal, err := NewCalendar(c.Windows, c.TimeZone, c.BlackoutDates)
	if err != nil {
		if e, ok := err.(*Error); ok && prefix != "" {
			e.Field = prefix + e.Field
			e.Message = prefix + e.Message
		}
		return c, err
	}
	c.Windows, c.BlackoutDates = cal.WindowStrings(), cal.Blackouts
	if c.TimeZone != "" {
		c.TimeZone = cal.Zone()
	}
	return c, nil
}

// Calendar returns the controls' maintenance calendar. Stored controls were
// checked when they were written; a calendar that no longer reads (a time
// zone gone from the system's database) is always open.
func (c Controls) Calendar() Calendar {
	cal, err := NewCalendar(c.Windows, c.TimeZone, c.BlackoutDates)
	if err != nil {
		return Calendar{}
	}
	return cal
}

// Adaptive concurrency: a wave's limit on moves in flight backs off when the
// service pushes back and creeps up again when it stops.

// LimitDecrease is the limit after a move failed by throttling or a time-out:
// half, at least 1.
func LimitDecrease(limit int) int { return max(1, limit/2) }

// LimitIncrease is the limit and the count of successes toward the next step
// after a move that went well: one more once a whole limit's worth of moves
// has gone well since the last change (additive increase), up to ceiling.
func LimitIncrease(limit, successes, ceiling int) (int, int) {
	successes++
	if limit >= ceiling {
		return ceiling, 0
	}
	if successes >= limit {
		return limit + 1, 0
	}
	return limit, successes
}

// Words says the controls in a line for a person ("halt at 10% failed
// after 20 users; moves only in mon-fri 22:00-05:00 (Europe/London)"), ""
// for none.
func (c Controls) Words() string {
	var parts []string
	if t := c.Threshold; t.Set() {
		var at []string
		if t.Percent > 0 {
			at = append(at, fmt.Sprintf("%g%% failed", t.Percent))
		}
		if t.Count > 0 {
			at = append(at, fmt.Sprintf("%d failed users", t.Count))
		}
		parts = append(parts, fmt.Sprintf("halt a wave at %s, after at least %d users", strings.Join(at, " or "), cmp.Or(t.MinSample, DefaultMinSample)))
	}
	if c.RollbackOnHalt {
		parts = append(parts, "roll a halted wave's moved users back")
	}
	if len(c.Windows) > 0 {
		tz := cmp.Or(c.TimeZone, "UTC")
		parts = append(parts, fmt.Sprintf("moves only in %s (%s)", strings.Join(c.Windows, ", "), tz))
	}
	if len(c.BlackoutDates) > 0 {
		parts = append(parts, "none on "+strings.Join(c.BlackoutDates, ", "))
	}
	if c.BypassEnterpriseVoiceCheck {
		parts = append(parts, "Enterprise Voice users moved without a Teams Phone licence (-BypassEnterpriseVoiceCheck)")
	}
	if c.NumberPlan == NumbersOnline {
		parts = append(parts, c.NumberPlan.Words())
	}
	return strings.Join(parts, "; ")
}

// What says that the service pushes back, as a wave's adaptive limit reads
// it: a share of the attempts that ended lately, not one user's time-out. A
// user whose own calls time out is that user's failure; many users at once
// are the service's.
const (
	// OverloadWindowSize is how many of the latest attempt ends are read.
	OverloadWindowSize = 20
	// OverloadWindowAge is how old an end may be and still be read.
	OverloadWindowAge = 2 * time.Minute
	// OverloadMin is how many of them must say overloaded (time-outs,
	// throttling), and OverloadShare what share of them at least.
	OverloadMin   = 3
	OverloadShare = 0.35
)

// OverloadWindow is the latest attempt ends of one wave, each overloaded
// or not, as one process saw them.
type OverloadWindow struct {
	ends []overloadEnd
	next int
}

type overloadEnd struct {
	at       time.Time
	overload bool
}

// Add records an attempt that ended at at, overloaded or not.
func (w *OverloadWindow) Add(at time.Time, overload bool) {
	e := overloadEnd{at: at, overload: overload}
	if len(w.ends) < OverloadWindowSize {
		w.ends = append(w.ends, e)
		return
	}
	w.ends[w.next] = e
	w.next = (w.next + 1) % OverloadWindowSize
}

// Struggling reports whether the attempts that ended lately say the
// service pushes back: at least OverloadMin of those within
// OverloadWindowAge of now were overloaded, and at least OverloadShare of
// them, counted over half a window at least (so that the first few ends of
// a wave, a handful of them time-outs, do not pass for a trend).
func (w *OverloadWindow) Struggling(now time.Time) bool {
	ended, overloaded := 0, 0
	for _, e := range w.ends {
		if now.Sub(e.at) > OverloadWindowAge {
			continue
		}
		ended++
		if e.overload {
			overloaded++
		}
	}
	return overloaded >= OverloadMin && float64(overloaded) >= OverloadShare*float64(max(ended, OverloadWindowSize/2))
}

// Reset forgets the ends read so far: after the limit falls on them, only
// ends that come after may lower it again.
func (w *OverloadWindow) Reset() {
	w.ends, w.next = w.ends[:0], 0
}

// Last is when the latest attempt it holds ended.
func (w *OverloadWindow) Last() time.Time {
	var last time.Time
	for _, e := range w.ends {
		if e.at.After(last) {
			last = e.at
		}
	}
	return last
}
