package sim

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

// What the simulated tenant shows of a moved user's completion: their
// calling in Teams (TeamsVoice, which the simulated Graph serves), and the
// simulated Meeting Migration Service: Get-CsMeetingMigrationStatus for a
// moved user, as Microsoft documents it
// (MicrosoftDocs/office-docs-powershell
// teams/teams-ps/MicrosoftTeams/Get-CsMeetingMigrationStatus.md: State is
// Pending, InProgress, Failed or Succeeded; MigrationType SfbToTeams…).
// Microsoft publishes no LastMessage text, so the simulated migrations that
// fail carry none.

// MeetingsFate is what the service makes of a moved user's meetings.
type MeetingsFate string

// The fates.
const (
	MeetingsFromSeed MeetingsFate = ""          // drawn from the seed: MeetingsFailShare fail
	MeetingsMigrate  MeetingsFate = "migrate"   // every meeting migrated
	MeetingsFail     MeetingsFate = "fail"      // the migration fails, and keeps failing as the service retries
	MeetingsNoRecord MeetingsFate = "no_record" // the service never shows a migration for the user
)

// MeetingsFailShare is the share of moved users whose meeting migration
// fails, under the seed.
const MeetingsFailShare = 0.1

// MeetingsTiming is the simulated service's clock: the migration shows
// Pending from the move, InProgress after StartAfter, and ends after Takes
// more; a failure is retried every RetryEvery.
type MeetingsTiming struct {
	StartAfter, Takes, RetryEvery time.Duration
}

// MicrosoftMeetingsTiming is Microsoft's: the service starts 90 minutes
// after the move and "typically takes about 2 hours"; it retries "up to 9
// times over the span of 24 hours" (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Skype/SfbOnline/audio-conferencing-in-office-365/setting-up-the-meeting-migration-service-mms.md).
var MicrosoftMeetingsTiming = MeetingsTiming{StartAfter: migration.MeetingsStartAfter, Takes: 2 * time.Hour,
	RetryEvery: migration.MeetingsRetryFor / migration.MeetingsRetries}

func (t MeetingsTiming) orDefault() MeetingsTiming {
	if t == (MeetingsTiming{}) {
		return MicrosoftMeetingsTiming
	}
	return t
}

// MeetingMigration answers Get-CsMeetingMigrationStatus -Identity for a
// user: nothing for a user never moved online (or one whose fate is
// MeetingsNoRecord).
func (s *Shell) MeetingMigration(ctx context.Context, identity string) (migration.MeetingMigration, bool, error) {
	u, err := s.call(ctx, identity, func(c *Calls) *int { return &c.MeetingStatus }, 3000)
	if err != nil {
		return migration.MeetingMigration{}, false, err
	}
	defer s.mu.Unlock()
	id := migration.NormalizeAddress(identity)
	fate := u.b.Meetings
	if fate == MeetingsFromSeed {
		fate = MeetingsMigrate
		if s.unit(id, "meetings") < MeetingsFailShare {
			fate = MeetingsFail
		}
	}
	from := u.movedAt
	if !u.meetingsTriggered.IsZero() {
		// Asked again (Start-CsExMeetingMigration): the new migration
		// succeeds.
		from, fate = u.meetingsTriggered, MeetingsMigrate
	}
	if from.IsZero() || fate == MeetingsNoRecord {
		return migration.MeetingMigration{}, false, nil
	}
	t := s.cfg.Meetings.orDefault()
	total := 1 + int(s.unit(id, "meeting count")*8)
	mm := migration.MeetingMigration{MigrationType: "SfbToTeams", TotalMeeting: total, ModifiedDate: from, State: migration.MeetingsPending}
	since := time.Since(from)
	switch {
	case since < t.StartAfter:
	case since < t.StartAfter+t.Takes:
		mm.State, mm.ModifiedDate = migration.MeetingsInProgress, from.Add(t.StartAfter)
	case fate == MeetingsFail:
		retries := min(int((since-t.StartAfter-t.Takes)/max(t.RetryEvery, time.Nanosecond)), migration.MeetingsRetries)
		mm.State, mm.FailedMeeting, mm.RetryCount = migration.MeetingsFailed, total, retries
		mm.ModifiedDate = from.Add(t.StartAfter + t.Takes + time.Duration(retries)*t.RetryEvery)
	default:
		mm.State, mm.SucceededMeeting, mm.ModifiedDate = migration.MeetingsSucceeded, total, from.Add(t.StartAfter+t.Takes)
	}
	return mm, true, nil
}

// StartMeetingMigration implements migration.CompletionShell:
// Start-CsExMeetingMigration for a moved user, whose meetings the
// simulated service then migrates afresh.
func (s *Shell) StartMeetingMigration(ctx context.Context, identity string) error {
	u, err := s.call(ctx, identity, func(c *Calls) *int { return &c.StartMeetings }, 7000)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	u.meetingsTriggered = time.Now()
	u.triggers++
	return nil
}

// MeetingsTriggered reports how many of a user's requests that their
// meetings be migrated again took effect.
func (s *Shell) MeetingsTriggered(identity string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user(identity).triggers
}

// VoiceOffShare is the share of moved Enterprise Voice users whom Teams
// shows without Enterprise Voice, under the seed: Microsoft documents that
// the move sets it only when the Phone System licence was assigned before
// the move (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Teams/upgrade-to-teams-on-prem-pstn-considerations.md).
const VoiceOffShare = 0.2

// TeamsVoice is what the simulated Teams shows of a user's calling: for a
// user enabled for Enterprise Voice on premises and moved online with
// Teams Phone, Enterprise Voice on (but for VoiceOffShare of them) and
// their on-premises number, which keeps synchronising from on premises.
func (s *Shell) TeamsVoice(identity string) migration.TeamsVoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := migration.NormalizeAddress(identity)
	u := s.user(id)
	if !u.online || !s.voice(id, u) || u.lastMove.BypassEnterpriseVoiceCheck {
		return migration.TeamsVoice{}
	}
	v := migration.TeamsVoice{EnterpriseVoice: s.unit(id, "voice online") >= VoiceOffShare || u.assigned != ""}
	n := s.numberOf(id)
	if holder, _ := s.numberHolder(n); holder == id {
		v.Numbers = []string{n}
	}
	return v
}
