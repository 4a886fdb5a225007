package migration

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WaveSpec is one wave of a plan.
type WaveSpec struct {
	Name        string    `json:"name,omitempty"`
	Size        int       `json:"size"`
	StartAt     time.Time `json:"start_at"`
	MaxAttempts int       `json:"max_attempts,omitempty"`
	Concurrency int       `json:"concurrency,omitempty"`
	Controls    Controls  `json:"controls"`
}

// Plan defaults and limits.
const (
	DefaultMaxAttempts = 3
	DefaultConcurrency = 10
	MaxMaxAttempts     = 25
	MaxConcurrency     = 1000
	MaxWaves           = 1000
)

// CodeInvalidPlan is the code of every plan error.
const CodeInvalidPlan = "invalid_plan"

// Shorthand is the short form of a plan: a canary of Canary users, then waves
// of WaveSize users every Every, the first (the canary) at Start.
type Shorthand struct {
	Canary   int
	WaveSize int
	Every    time.Duration
	Start    time.Time
}

var shorthandRE = regexp.MustCompile(`^canary\s+([^\s,]+)\s*,?\s*then\s+waves\s+of\s+([^\s,]+)\s+every\s+([^\s,]+)\s*,?\s*starting\s+(.+)$`)

// ParseShorthand reads "canary N, then waves of M every D, starting at T".
// D is a duration (90s, 30m, 2h, 1d); T is an RFC 3339 time
// (2026-11-23T22:00:00Z), "now", or "in D". now is the time "now" means.
func ParseShorthand(s string, now time.Time) (Shorthand, error) {
	return ParseShorthandIn(s, now, time.UTC)
}

// ParseShorthandIn is ParseShorthand, reading a start time written without
// a zone ("at 2026-12-07 22:00") in loc.
func ParseShorthandIn(s string, now time.Time, loc *time.Location) (Shorthand, error) {
	const field = "shorthand"
	text := strings.Join(strings.Fields(strings.ToLower(s)), " ")
	m := shorthandRE.FindStringSubmatch(text)
	if m == nil {
		return Shorthand{}, Invalid(CodeInvalidPlan, field, "%q is not of the form \"canary N, then waves of M every D, starting at T\" (T: a time like 2026-11-23T22:00:00Z, \"now\" or \"in 10m\")", s)
	}
	var sh Shorthand
	var err error
	if sh.Canary, err = strconv.Atoi(m[1]); err != nil || sh.Canary < 1 {
		return Shorthand{}, Invalid(CodeInvalidPlan, field, "the canary size %q must be a whole number of at least 1", m[1])
	}
	if sh.WaveSize, err = strconv.Atoi(m[2]); err != nil || sh.WaveSize < 1 {
		return Shorthand{}, Invalid(CodeInvalidPlan, field, "the wave size %q must be a whole number of at least 1", m[2])
	}
	if sh.Every, err = ParseDuration(m[3]); err != nil || sh.Every <= 0 {
		return Shorthand{}, Invalid(CodeInvalidPlan, field, "the interval %q must be a positive duration like 90s, 30m, 2h or 1d", m[3])
	}
	start := strings.TrimSpace(m[4])
	switch {
	case start == "now":
		sh.Start = now
	case strings.HasPrefix(start, "in "):
		d, err := ParseDuration(strings.TrimPrefix(start, "in "))
		if err != nil || d < 0 {
			return Shorthand{}, Invalid(CodeInvalidPlan, field, "%q is not a duration like 90s, 30m, 2h or 1d", strings.TrimPrefix(start, "in "))
		}
		sh.Start = now.Add(d)
	case strings.HasPrefix(start, "at "):
		// The text was lower-cased; RFC 3339 wants an upper-case T and Z.
		t, ok := ParseTimeIn(strings.ToUpper(strings.TrimPrefix(start, "at ")), loc)
		if !ok {
			return Shorthand{}, Invalid(CodeInvalidPlan, field, "the start %q is not a time like 2026-11-23T22:00:00Z or 2026-11-23 22:00 (in the plan's time zone)", strings.TrimPrefix(start, "at "))
		}
		sh.Start = t
	default:
		return Shorthand{}, Invalid(CodeInvalidPlan, field, "the start %q must be \"at <time>\", \"now\" or \"in <duration>\"", start)
	}
	return sh, nil
}

// ParseTimeIn reads a time written as RFC 3339 (2026-11-23T22:00:00Z), or
// without a zone (2026-11-23 22:00, 2026-11-23T22:00:05), which it reads in
// loc.
func ParseTimeIn(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ParseStart reads a start time as every front end takes it: "now" (now),
// an RFC 3339 time, or a date and time without a zone, read in loc (as
// ParseTimeIn). ok is false when s is none of these.
func ParseStart(s string, now time.Time, loc *time.Location) (t time.Time, ok bool) {
	if s == "now" {
		return now, true
	}
	return ParseTimeIn(s, loc)
}

// ParseDuration reads a Go duration (90s, 1h30m) or a number of days (2d).
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		const day = int64(24 * time.Hour)
		if err != nil || n > math.MaxInt64/int(day) || n < math.MinInt64/int(day) {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// Waves splits users into the shorthand's waves: the canary, then waves of
// WaveSize (the last one smaller) every Every. Canary larger than users is
// an error; a canary equal to users makes a single wave. next is the number
// the canary will have in its group: a group's first plan names its waves
// "canary", "wave 1", "wave 2"...; a later plan goes on from its number.
func (sh Shorthand) Waves(users, next, maxAttempts, concurrency int) ([]WaveSpec, error) {
	if sh.Canary > users {
		return nil, Invalid(CodeInvalidPlan, "shorthand", "the canary of %d is larger than the %d users left to plan", sh.Canary, users)
	}
	canary := "canary"
	if next > 1 {
		canary = fmt.Sprintf("canary %d", next)
	}
	waves := []WaveSpec{{Name: canary, Size: sh.Canary, StartAt: sh.Start, MaxAttempts: maxAttempts, Concurrency: concurrency}}
	for left, i := users-sh.Canary, 1; left > 0; i++ {
		size := min(sh.WaveSize, left)
		waves = append(waves, WaveSpec{
			Name: fmt.Sprintf("wave %d", next-1+i), Size: size, StartAt: sh.Start.Add(time.Duration(i) * sh.Every),
			MaxAttempts: maxAttempts, Concurrency: concurrency,
		})
		left -= size
	}
	if len(waves) > MaxWaves {
		return nil, Invalid(CodeInvalidPlan, "shorthand", "the plan makes %d waves, more than %d; make the waves larger", len(waves), MaxWaves)
	}
	return waves, nil
}

// CheckWaves validates and completes explicit wave specs for a group with
// users members left to plan: every size at least 1 and together no more than
// users, start times set, attempts and concurrency within limits (defaults
// filled in). Waves are named "wave N" unless named; numbering starts after
// the first existing wave number.
func CheckWaves(specs []WaveSpec, users, firstNumber int) ([]WaveSpec, error) {
	if len(specs) == 0 {
		return nil, Invalid(CodeInvalidPlan, "waves", "the plan has no waves")
	}
	if len(specs) > MaxWaves {
		return nil, Invalid(CodeInvalidPlan, "waves", "the plan has %d waves, more than %d", len(specs), MaxWaves)
	}
	out := make([]WaveSpec, len(specs))
	total := 0
	for i, w := range specs {
		f := func(name string) string { return fmt.Sprintf("waves[%d].%s", i, name) }
		if w.Size < 1 {
			return nil, Invalid(CodeInvalidPlan, f("size"), "must be at least 1 (got %d)", w.Size)
		}
		total += w.Size
		if total > users {
			return nil, Invalid(CodeInvalidPlan, f("size"), "the waves up to this one hold %d users, but only %d are left to plan", total, users)
		}
		if w.StartAt.IsZero() {
			return nil, Invalid(CodeInvalidPlan, f("start_at"), "is required (an RFC 3339 time like 2026-11-23T22:00:00Z)")
		}
		if w.MaxAttempts == 0 {
			w.MaxAttempts = DefaultMaxAttempts
		}
		if w.MaxAttempts < 1 || w.MaxAttempts > MaxMaxAttempts {
			return nil, Invalid(CodeInvalidPlan, f("max_attempts"), "must be between 1 and %d (got %d)", MaxMaxAttempts, w.MaxAttempts)
		}
		if w.Concurrency == 0 {
			w.Concurrency = DefaultConcurrency
		}
		if w.Concurrency < 1 || w.Concurrency > MaxConcurrency {
			return nil, Invalid(CodeInvalidPlan, f("concurrency"), "must be between 1 and %d (got %d)", MaxConcurrency, w.Concurrency)
		}
		c, err := w.Controls.Check(fmt.Sprintf("waves[%d].", i))
		if err != nil {
			return nil, err
		}
		w.Controls = c
		w.Name = strings.TrimSpace(w.Name)
		if w.Name == "" {
			w.Name = fmt.Sprintf("wave %d", firstNumber+i)
		}
		if utf8.RuneCountInString(w.Name) > 100 {
			return nil, Invalid(CodeInvalidPlan, f("name"), "is longer than 100 characters")
		}
		if i > 0 && w.StartAt.Before(out[i-1].StartAt) {
			return nil, Invalid(CodeInvalidPlan, f("start_at"), "starts before the wave before it (%s)", out[i-1].StartAt.Format(time.RFC3339))
		}
		out[i] = w
	}
	return out, nil
}
