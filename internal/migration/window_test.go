package migration_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

func TestParseWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		days     []time.Weekday
		err      string
	}{
		{in: "mon-fri 22:00-05:00", want: "mon-fri 22:00-05:00", days: []time.Weekday{1, 2, 3, 4, 5}},
		{in: "  SAT,Sun   00:00-24:00 ", want: "sat,sun 00:00-24:00", days: []time.Weekday{0, 6}},
		{in: "daily 01:00-04:30", want: "daily 01:00-04:30", days: []time.Weekday{0, 1, 2, 3, 4, 5, 6}},
		{in: "fri-mon 20:00-00:00", want: "fri-mon 20:00-24:00", days: []time.Weekday{5, 6, 0, 1}},
		{in: "wed 9:30-10:00", want: "wed 09:30-10:00", days: []time.Weekday{3}},
		{in: "weekdays 22:00-05:00", err: `"weekdays" is not a day`},
		{in: "mon-fri", err: "days, then a time range"},
		{in: "mon 22:00", err: "not a time range"},
		{in: "mon 25:00-05:00", err: "the start"},
		{in: "mon 22:00-05:7", err: "the end"},
		{in: "mon 22:00-22:00", err: "empty"},
		{in: "mon 24:00-05:00", err: "the start"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			w, err := migration.ParseWindow(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, w.String())
			var days []time.Weekday
			for d := time.Sunday; d <= time.Saturday; d++ {
				if w.Days[d] {
					days = append(days, d)
				}
			}
			require.ElementsMatch(t, tt.days, days)
		})
	}
}

func TestCalendarNextOpen(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, london)
		require.NoError(t, err)
		return v
	}
	weeknights := []string{"mon-fri 22:00-05:00"}
	tests := []struct {
		name      string
		windows   []string
		blackouts []string
		now       string
		want      string // "" when none opens
	}{
		{"before the window", weeknights, nil, "2026-11-23 21:00", "2026-11-23 22:00"}, // a Monday
		{"at the opening", weeknights, nil, "2026-11-23 22:00", "2026-11-23 22:00"},
		{"inside, after midnight", weeknights, nil, "2026-11-24 04:59", "2026-11-24 04:59"},
		{"at the close", weeknights, nil, "2026-11-24 05:00", "2026-11-24 22:00"},
		{"friday night runs into saturday", weeknights, nil, "2026-11-28 03:00", "2026-11-28 03:00"},
		{"saturday night is closed", weeknights, nil, "2026-11-28 22:30", "2026-11-30 22:00"},
		{"blackout on the opening date", weeknights, []string{"2026-11-23"}, "2026-11-23 21:00", "2026-11-24 00:00"},
		{"blackout on both dates of a night", weeknights, []string{"2026-12-24", "2026-12-25"}, "2026-12-24 12:00", "2026-12-26 00:00"}, // friday night runs on
		{"no windows, blackout", nil, []string{"2026-12-25"}, "2026-12-25 10:00", "2026-12-26 00:00"},
		{"no windows", nil, nil, "2026-12-25 10:00", "2026-12-25 10:00"},
		{"two windows, the earlier wins", []string{"sat 10:00-12:00", "mon-fri 22:00-05:00"}, nil, "2026-11-28 06:00", "2026-11-28 10:00"},
		{"clocks go forward", []string{"sun 00:30-03:00"}, nil, "2027-03-28 00:00", "2027-03-28 00:30"},
		{"all blacked out", []string{"mon 01:00-02:00"}, []string{"2026-11-30"}, "2026-11-29 12:00", "2026-12-07 01:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cal, err := migration.NewCalendar(tt.windows, "Europe/London", tt.blackouts)
			require.NoError(t, err)
			next, ok := cal.NextOpen(at(tt.now))
			require.True(t, ok)
			require.Equal(t, at(tt.want), next, "got %s", next)
			require.Equal(t, tt.now == tt.want, cal.Open(at(tt.now)))
		})
	}
}

func TestCalendarErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		windows   []string
		zone      string
		blackouts []string
		field     string
	}{
		{"bad window", []string{"mon-fri 22:00-05:00", "someday 1-2"}, "", nil, "windows[1]"},
		{"bad zone", nil, "Mars/Olympus", nil, "time_zone"},
		{"local is not a zone", nil, "Local", nil, "time_zone"},
		{"bad date", nil, "UTC", []string{"2026-12-24", "24/12/2026"}, "blackout_dates[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := migration.NewCalendar(tt.windows, tt.zone, tt.blackouts)
			require.Equal(t, migration.EInvalid, migration.ErrorKind(err))
			var e *migration.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tt.field, e.Field)
		})
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		th                     migration.Threshold
		failed, ended, started int
		crossed                bool
	}{
		{"unset never halts", migration.Threshold{}, 50, 50, 50, false},
		{"under the sample", migration.Threshold{Percent: 10, MinSample: 20}, 10, 19, 40, false},
		{"at the sample, over the rate", migration.Threshold{Percent: 10, MinSample: 20}, 2, 20, 20, true},
		{"at the sample, under the rate", migration.Threshold{Percent: 10, MinSample: 20}, 1, 20, 20, false},
		{"quick failures among many started", migration.Threshold{Percent: 35, MinSample: 20}, 9, 20, 60, false},
		{"the rate counts moves started", migration.Threshold{Percent: 10, MinSample: 20}, 6, 20, 50, true},
		{"count reached", migration.Threshold{Count: 3, MinSample: 1}, 3, 100, 100, true},
		{"count not reached", migration.Threshold{Count: 3, MinSample: 1}, 2, 3, 10, false},
		{"either", migration.Threshold{Percent: 50, Count: 5, MinSample: 4}, 2, 4, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			crossed, why := tt.th.Crossed(tt.failed, tt.ended, tt.started)
			require.Equal(t, tt.crossed, crossed)
			require.Equal(t, crossed, why != "")
		})
	}
}

func TestAdaptiveLimit(t *testing.T) {
	t.Parallel()
	// Halving, never below 1.
	for _, tt := range []struct{ in, want int }{{10, 5}, {5, 2}, {2, 1}, {1, 1}} {
		require.Equal(t, tt.want, migration.LimitDecrease(tt.in))
	}
	// One more per limit's worth of successes, up to the ceiling.
	limit, successes := 2, 0
	var steps []int
	for range 12 {
		limit, successes = migration.LimitIncrease(limit, successes, 5)
		steps = append(steps, limit)
	}
	require.Equal(t, []int{2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5}, steps)
}
