package migration_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
)

var (
	planNow   = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	planStart = time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
)

func planErr(field string, contains ...string) wantError {
	return wantError{code: migration.CodeInvalidPlan, field: field, contains: append([]string{field + ": "}, contains...)}
}

// requirePlanError checks a plan error, which names a field and lists no
// details.
func requirePlanError(t *testing.T, err error, want wantError) {
	t.Helper()
	require.Error(t, err)
	var e *migration.Error
	require.True(t, errors.As(err, &e), "want a *migration.Error, got %T: %v", err, err)
	require.Equal(t, migration.EInvalid, e.Kind, e.Message)
	require.Equal(t, want.code, e.Code, e.Message)
	require.Equal(t, want.field, e.Field, e.Message)
	require.Zero(t, e.Line, e.Message)
	require.Empty(t, e.Details, e.Message)
	for _, c := range want.contains {
		require.Contains(t, e.Message, c)
	}
}

func TestParseShorthand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want migration.Shorthand
	}{
		{
			name: "starting at a time",
			in:   "canary 10, then waves of 50 every 2h, starting at 2026-11-23T22:00:00Z",
			want: migration.Shorthand{Canary: 10, WaveSize: 50, Every: 2 * time.Hour, Start: planStart},
		},
		{
			name: "starting at a time with an offset",
			in:   "canary 10, then waves of 50 every 2h, starting at 2026-11-23T23:00:00+01:00",
			want: migration.Shorthand{Canary: 10, WaveSize: 50, Every: 2 * time.Hour, Start: planStart},
		},
		{
			name: "starting now",
			in:   "canary 5, then waves of 100 every 30m, starting now",
			want: migration.Shorthand{Canary: 5, WaveSize: 100, Every: 30 * time.Minute, Start: planNow},
		},
		{
			name: "starting in 5m",
			in:   "canary 1, then waves of 2 every 90s, starting in 5m",
			want: migration.Shorthand{Canary: 1, WaveSize: 2, Every: 90 * time.Second, Start: planNow.Add(5 * time.Minute)},
		},
		{
			name: "starting in 0s",
			in:   "canary 1, then waves of 2 every 90s, starting in 0s",
			want: migration.Shorthand{Canary: 1, WaveSize: 2, Every: 90 * time.Second, Start: planNow},
		},
		{
			name: "days",
			in:   "canary 10, then waves of 50 every 1d, starting in 2d",
			want: migration.Shorthand{Canary: 10, WaveSize: 50, Every: 24 * time.Hour, Start: planNow.Add(48 * time.Hour)},
		},
		{
			name: "compound duration",
			in:   "canary 10, then waves of 50 every 1h30m, starting now",
			want: migration.Shorthand{Canary: 10, WaveSize: 50, Every: 90 * time.Minute, Start: planNow},
		},
		{
			name: "extra whitespace and upper case",
			in:   "  CANARY   10 ,\tTHEN Waves  OF 50\nEVERY 2H ,  Starting AT 2026-11-23t22:00:00z  ",
			want: migration.Shorthand{Canary: 10, WaveSize: 50, Every: 2 * time.Hour, Start: planStart},
		},
		{
			name: "no commas",
			in:   "canary 10 then waves of 50 every 2h starting now",
			want: migration.Shorthand{Canary: 10, WaveSize: 50, Every: 2 * time.Hour, Start: planNow},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sh, err := migration.ParseShorthand(tt.in, planNow)
			require.NoError(t, err)
			require.Equal(t, tt.want.Canary, sh.Canary)
			require.Equal(t, tt.want.WaveSize, sh.WaveSize)
			require.Equal(t, tt.want.Every, sh.Every)
			require.True(t, tt.want.Start.Equal(sh.Start), "start %s, want %s", sh.Start, tt.want.Start)
		})
	}
}

func TestParseShorthandErrors(t *testing.T) {
	t.Parallel()
	const form = "canary N, then waves of M every D, starting at T"
	tests := []struct {
		name string
		in   string
		// contains are fragments of the message naming the bad part.
		contains []string
	}{
		{"zero canary", "canary 0, then waves of 50 every 2h, starting now", []string{`canary size "0"`, "at least 1"}},
		{"negative canary", "canary -5, then waves of 50 every 2h, starting now", []string{`canary size "-5"`}},
		{"non-numeric canary", "canary ten, then waves of 50 every 2h, starting now", []string{`canary size "ten"`}},
		{"fractional canary", "canary 1.5, then waves of 50 every 2h, starting now", []string{`canary size "1.5"`}},
		{"zero wave size", "canary 10, then waves of 0 every 2h, starting now", []string{`wave size "0"`}},
		{"negative wave size", "canary 10, then waves of -50 every 2h, starting now", []string{`wave size "-50"`}},
		{"non-numeric wave size", "canary 10, then waves of many every 2h, starting now", []string{`wave size "many"`}},
		{"bad duration unit", "canary 10, then waves of 50 every 2x, starting now", []string{`interval "2x"`}},
		{"duration without unit", "canary 10, then waves of 50 every 10, starting now", []string{`interval "10"`}},
		{"zero duration", "canary 10, then waves of 50 every 0s, starting now", []string{`interval "0s"`, "positive"}},
		{"negative duration", "canary 10, then waves of 50 every -2h, starting now", []string{`interval "-2h"`}},
		{"negative days", "canary 10, then waves of 50 every -1d, starting now", []string{`interval "-1d"`}},
		{"days overflowing a duration", "canary 10, then waves of 50 every 213504d, starting now", []string{`interval "213504d"`}},
		{"fractional days", "canary 10, then waves of 50 every 1.5d, starting now", []string{`interval "1.5d"`}},
		{"bad start time", "canary 10, then waves of 50 every 2h, starting at 2026-13-45 22:00", []string{`start "2026-13-45 22:00"`, "2026-11-23T22:00:00Z"}},
		{"start at a word", "canary 10, then waves of 50 every 2h, starting at tomorrow", []string{`"tomorrow"`}},
		{"start in a bad duration", "canary 10, then waves of 50 every 2h, starting in a while", []string{`"a while"`, "not a duration"}},
		{"start in a negative duration", "canary 10, then waves of 50 every 2h, starting in -5m", []string{`"-5m"`}},
		{"start neither at, in nor now", "canary 10, then waves of 50 every 2h, starting soon", []string{`start "soon"`, `"at <time>"`}},
		{"missing canary", "waves of 50 every 2h, starting now", []string{`"waves of 50 every 2h, starting now"`, form}},
		{"missing waves", "canary 10, starting now", []string{`"canary 10, starting now"`, form}},
		{"missing interval", "canary 10, then waves of 50, starting now", []string{form}},
		{"missing start", "canary 10, then waves of 50 every 2h", []string{form}},
		{"missing start value", "canary 10, then waves of 50 every 2h, starting", []string{form}},
		{"empty", "", []string{form}},
		{"trailing words after the interval", "canary 10, then waves of 50 every 2 hours, starting now", []string{form}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := migration.ParseShorthand(tt.in, planNow)
			requirePlanError(t, err, planErr("shorthand", tt.contains...))
		})
	}
}

func TestShorthandWaves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sh     migration.Shorthand
		users  int
		sizes  []int
		starts []time.Duration // after sh.Start
	}{
		{
			name:  "last wave smaller",
			sh:    migration.Shorthand{Canary: 10, WaveSize: 50, Every: 2 * time.Hour, Start: planStart},
			users: 100, sizes: []int{10, 50, 40}, starts: []time.Duration{0, 2 * time.Hour, 4 * time.Hour},
		},
		{
			name:  "waves fill exactly",
			sh:    migration.Shorthand{Canary: 10, WaveSize: 45, Every: 24 * time.Hour, Start: planStart},
			users: 100, sizes: []int{10, 45, 45}, starts: []time.Duration{0, 24 * time.Hour, 48 * time.Hour},
		},
		{
			name:  "one user after the canary",
			sh:    migration.Shorthand{Canary: 10, WaveSize: 50, Every: time.Minute, Start: planStart},
			users: 11, sizes: []int{10, 1}, starts: []time.Duration{0, time.Minute},
		},
		{
			name:  "canary is everyone",
			sh:    migration.Shorthand{Canary: 25, WaveSize: 50, Every: time.Hour, Start: planStart},
			users: 25, sizes: []int{25}, starts: []time.Duration{0},
		},
		{
			name:  "waves of one",
			sh:    migration.Shorthand{Canary: 1, WaveSize: 1, Every: 90 * time.Second, Start: planStart},
			users: 4, sizes: []int{1, 1, 1, 1}, starts: []time.Duration{0, 90 * time.Second, 180 * time.Second, 270 * time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			waves, err := tt.sh.Waves(tt.users, 1, 4, 7)
			require.NoError(t, err)
			require.Len(t, waves, len(tt.sizes))
			sum := 0
			for i, w := range waves {
				require.Equal(t, tt.sizes[i], w.Size, "size of wave %d", i)
				require.True(t, tt.sh.Start.Add(tt.starts[i]).Equal(w.StartAt), "wave %d starts %s", i, w.StartAt)
				require.Equal(t, 4, w.MaxAttempts)
				require.Equal(t, 7, w.Concurrency)
				want := fmt.Sprintf("wave %d", i)
				if i == 0 {
					want = "canary"
				}
				require.Equal(t, want, w.Name)
				sum += w.Size
			}
			require.Equal(t, tt.users, sum, "the waves hold every user")

			// Every shorthand plan passes CheckWaves, which fills the defaults.
			checked, err := migration.CheckWaves(waves, tt.users, 1)
			require.NoError(t, err)
			require.Len(t, checked, len(waves))
		})
	}
}

func TestShorthandWavesDefaults(t *testing.T) {
	t.Parallel()
	sh := migration.Shorthand{Canary: 2, WaveSize: 3, Every: time.Hour, Start: planStart}
	waves, err := sh.Waves(5, 1, 0, 0)
	require.NoError(t, err)
	checked, err := migration.CheckWaves(waves, 5, 3)
	require.NoError(t, err)
	require.Equal(t, []migration.WaveSpec{
		{Name: "canary", Size: 2, StartAt: planStart, MaxAttempts: migration.DefaultMaxAttempts, Concurrency: migration.DefaultConcurrency},
		{Name: "wave 1", Size: 3, StartAt: planStart.Add(time.Hour), MaxAttempts: migration.DefaultMaxAttempts, Concurrency: migration.DefaultConcurrency},
	}, checked)
}

func TestShorthandWavesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sh       migration.Shorthand
		users    int
		contains []string
	}{
		{"canary larger than users", migration.Shorthand{Canary: 11, WaveSize: 5, Every: time.Hour, Start: planStart}, 10, []string{"canary of 11", "10 users"}},
		{"no users", migration.Shorthand{Canary: 1, WaveSize: 5, Every: time.Hour, Start: planStart}, 0, []string{"canary of 1"}},
		{"too many waves", migration.Shorthand{Canary: 1, WaveSize: 1, Every: time.Minute, Start: planStart}, migration.MaxWaves + 1, []string{fmt.Sprintf("%d waves", migration.MaxWaves+1), fmt.Sprint(migration.MaxWaves)}},
		{"too many waves of ten", migration.Shorthand{Canary: 10, WaveSize: 10, Every: time.Minute, Start: planStart}, 10*migration.MaxWaves + 1, []string{"more than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			waves, err := tt.sh.Waves(tt.users, 1, 3, 10)
			requirePlanError(t, err, planErr("shorthand", tt.contains...))
			require.Nil(t, waves)
		})
	}
}

func TestShorthandWavesAtMaxWaves(t *testing.T) {
	t.Parallel()
	sh := migration.Shorthand{Canary: 1, WaveSize: 1, Every: time.Minute, Start: planStart}
	waves, err := sh.Waves(migration.MaxWaves, 1, 3, 10)
	require.NoError(t, err)
	require.Len(t, waves, migration.MaxWaves)
	last := waves[len(waves)-1]
	require.Equal(t, fmt.Sprintf("wave %d", migration.MaxWaves-1), last.Name)
	require.True(t, planStart.Add(time.Duration(migration.MaxWaves-1)*time.Minute).Equal(last.StartAt))
}

func TestCheckWaves(t *testing.T) {
	t.Parallel()
	at := func(h int) time.Time { return planStart.Add(time.Duration(h) * time.Hour) }
	tests := []struct {
		name        string
		specs       []migration.WaveSpec
		users       int
		firstNumber int
		want        []migration.WaveSpec
	}{
		{
			name:  "defaults filled and names numbered",
			specs: []migration.WaveSpec{{Size: 5, StartAt: at(0)}, {Size: 10, StartAt: at(2)}},
			users: 15, firstNumber: 1,
			want: []migration.WaveSpec{
				{Name: "wave 1", Size: 5, StartAt: at(0), MaxAttempts: 3, Concurrency: 10},
				{Name: "wave 2", Size: 10, StartAt: at(2), MaxAttempts: 3, Concurrency: 10},
			},
		},
		{
			name:  "numbered from the first number",
			specs: []migration.WaveSpec{{Size: 1, StartAt: at(0)}, {Name: "  ", Size: 1, StartAt: at(0)}, {Name: " finance ", Size: 1, StartAt: at(1)}, {Size: 1, StartAt: at(1)}},
			users: 10, firstNumber: 4,
			want: []migration.WaveSpec{
				{Name: "wave 4", Size: 1, StartAt: at(0), MaxAttempts: 3, Concurrency: 10},
				{Name: "wave 5", Size: 1, StartAt: at(0), MaxAttempts: 3, Concurrency: 10},
				{Name: "finance", Size: 1, StartAt: at(1), MaxAttempts: 3, Concurrency: 10},
				{Name: "wave 7", Size: 1, StartAt: at(1), MaxAttempts: 3, Concurrency: 10},
			},
		},
		{
			name:  "limits accepted",
			specs: []migration.WaveSpec{{Name: strings.Repeat("n", 100), Size: 3, StartAt: at(0), MaxAttempts: migration.MaxMaxAttempts, Concurrency: migration.MaxConcurrency}, {Size: 2, StartAt: at(1), MaxAttempts: 1, Concurrency: 1}},
			users: 5, firstNumber: 1,
			want: []migration.WaveSpec{
				{Name: strings.Repeat("n", 100), Size: 3, StartAt: at(0), MaxAttempts: 25, Concurrency: 1000},
				{Name: "wave 2", Size: 2, StartAt: at(1), MaxAttempts: 1, Concurrency: 1},
			},
		},
		{
			name:  "fewer users than left",
			specs: []migration.WaveSpec{{Size: 3, StartAt: at(0)}},
			users: 100, firstNumber: 1,
			want: []migration.WaveSpec{{Name: "wave 1", Size: 3, StartAt: at(0), MaxAttempts: 3, Concurrency: 10}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := append([]migration.WaveSpec(nil), tt.specs...)
			got, err := migration.CheckWaves(tt.specs, tt.users, tt.firstNumber)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			require.Equal(t, in, tt.specs, "the specs given are left alone")
		})
	}
}

func TestCheckWavesErrors(t *testing.T) {
	t.Parallel()
	at := func(h int) time.Time { return planStart.Add(time.Duration(h) * time.Hour) }
	ok := migration.WaveSpec{Size: 1, StartAt: at(0)}
	tests := []struct {
		name  string
		specs []migration.WaveSpec
		users int
		want  wantError
	}{
		{"no waves", nil, 10, planErr("waves", "no waves")},
		{"too many waves", make([]migration.WaveSpec, migration.MaxWaves+1), 5000, planErr("waves", fmt.Sprintf("%d waves", migration.MaxWaves+1))},
		{"zero size", []migration.WaveSpec{ok, {Size: 0, StartAt: at(1)}}, 10, planErr("waves[1].size", "at least 1 (got 0)")},
		{"negative size", []migration.WaveSpec{{Size: -3, StartAt: at(1)}}, 10, planErr("waves[0].size", "got -3")},
		{"total over users", []migration.WaveSpec{{Size: 4, StartAt: at(0)}, {Size: 4, StartAt: at(1)}, {Size: 3, StartAt: at(2)}}, 10, planErr("waves[2].size", "hold 11 users", "only 10")},
		{"no start", []migration.WaveSpec{{Size: 1}}, 10, planErr("waves[0].start_at", "required")},
		{"no start on the second", []migration.WaveSpec{ok, {Size: 1}}, 10, planErr("waves[1].start_at", "required")},
		{"negative attempts", []migration.WaveSpec{ok, ok, {Size: 1, StartAt: at(0), MaxAttempts: -1}}, 10, planErr("waves[2].max_attempts", "between 1 and 25 (got -1)")},
		{"too many attempts", []migration.WaveSpec{ok, ok, {Size: 1, StartAt: at(0), MaxAttempts: 26}}, 10, planErr("waves[2].max_attempts", "got 26")},
		{"negative concurrency", []migration.WaveSpec{{Size: 1, StartAt: at(0), Concurrency: -1}}, 10, planErr("waves[0].concurrency", "between 1 and 1000 (got -1)")},
		{"too much concurrency", []migration.WaveSpec{{Size: 1, StartAt: at(0), Concurrency: 1001}}, 10, planErr("waves[0].concurrency", "got 1001")},
		{"name too long", []migration.WaveSpec{ok, {Name: strings.Repeat("n", 101), Size: 1, StartAt: at(0)}}, 10, planErr("waves[1].name", "longer than 100")},
		{"start going backwards", []migration.WaveSpec{{Size: 1, StartAt: at(0)}, {Size: 1, StartAt: at(2)}, {Size: 1, StartAt: at(1)}}, 10, planErr("waves[2].start_at", "before the wave before it", at(2).Format(time.RFC3339))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := migration.CheckWaves(tt.specs, tt.users, 1)
			requirePlanError(t, err, tt.want)
			require.Nil(t, got)
		})
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1d", want: 24 * time.Hour},
		{in: "14d", want: 14 * 24 * time.Hour},
		{in: "-1d", want: -24 * time.Hour},
		{in: "106751d", want: 106751 * 24 * time.Hour},
		// Too many days for a time.Duration: an error, like time.ParseDuration
		// gives for "9999999999h", not a wrapped-around value.
		{in: "106752d", wantErr: true},
		{in: "213504d", wantErr: true},
		{in: "d", wantErr: true},
		{in: "xd", wantErr: true},
		{in: "2", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := migration.ParseDuration(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// A later plan of a group names its waves on from the waves it has.
func TestShorthandWavesNamesLaterPlan(t *testing.T) {
	t.Parallel()
	sh := migration.Shorthand{Canary: 1, WaveSize: 2, Every: time.Hour, Start: planStart}
	waves, err := sh.Waves(5, 4, 3, 10)
	require.NoError(t, err)
	var names []string
	for _, w := range waves {
		names = append(names, w.Name)
	}
	require.Equal(t, []string{"canary 4", "wave 4", "wave 5"}, names)
}

// TestParseShorthandInZone: a start written without a zone is in the plan's
// time zone; one with a zone keeps it.
func TestParseShorthandInZone(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ start, want string }{
		{"at 2026-07-01 22:00", "2026-07-01T21:00:00Z"}, // British Summer Time
		{"at 2026-12-07T22:00", "2026-12-07T22:00:00Z"},
		{"at 2026-12-07 22:00:30", "2026-12-07T22:00:30Z"},
		{"at 2026-12-07T22:00:00+01:00", "2026-12-07T21:00:00Z"},
	} {
		sh, err := migration.ParseShorthandIn("canary 1, then waves of 2 every 1h, starting "+tt.start, now, london)
		require.NoError(t, err, tt.start)
		require.Equal(t, tt.want, sh.Start.UTC().Format(time.RFC3339), tt.start)
	}
}
