package migration

import (
	"fmt"
	"time"
)

// Group is a pilot group: a named set of users to move.
type Group struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Source    string    `json:"source"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Members   int       `json:"members"`
	Unplanned int       `json:"unplanned"`
	// LeftOut counts the members in no wave a lead left out of the plan.
	LeftOut int `json:"left_out"`
}

// Wave is an ordered slice of a group, moved from its start time on.
type Wave struct {
	ID          int64      `json:"id"`
	GroupID     int64      `json:"group_id"`
	Number      int        `json:"number"`
	Name        string     `json:"name"`
	State       WaveState  `json:"state"`
	Size        int        `json:"size"`
	StartAt     time.Time  `json:"start_at"`
	MaxAttempts int        `json:"max_attempts"`
	Concurrency int        `json:"concurrency"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	// StateReason says why the wave is paused, halted or blocked, or
	// why it waits; StateReasonCode says it for the code ("" or
	// ReasonReadiness).
	StateReason     string `json:"state_reason,omitempty"`
	StateReasonCode string `json:"-"`
	// ConcurrencyLimit is the adaptive limit on moves in flight now: at
	// most Concurrency, lower while the service pushes back.
	ConcurrencyLimit int `json:"concurrency_limit"`
	Controls
	// RetryOf is the wave whose failed users this wave retries.
	RetryOf *int64 `json:"retry_of,omitempty"`
	// GateOverride lets the wave start although an earlier wave is halted.
	GateOverride bool `json:"gate_override,omitempty"`
	// ReadinessOverride lets the wave start although a hybrid readiness
	// check that blocks moves fails.
	ReadinessOverride bool `json:"readiness_override,omitempty"`
	// NumbersApprovedAt is when a lead approved the wave's number moves
	// (NumbersOnline), and by whom; RoutingConfirmedAt when a lead
	// confirmed that the SBC sends its numbers to Direct Routing.
	NumbersApprovedAt  *time.Time `json:"numbers_approved_at,omitempty"`
	NumbersApprovedBy  string     `json:"numbers_approved_by,omitempty"`
	RoutingConfirmedAt *time.Time `json:"routing_confirmed_at,omitempty"`
	RoutingConfirmedBy string     `json:"routing_confirmed_by,omitempty"`
	ThresholdSince     *time.Time `json:"-"`
	ScheduleRev        int        `json:"-"`
	LimitSuccesses     int        `json:"-"` // good moves since the adaptive limit last changed
}

// Unstarted reports whether the wave has moved no one yet and has not
// ended: its users and its start time may still change.
func (w Wave) Unstarted() bool { return w.StartedAt == nil && !w.State.Done() }

// ReasonReadiness is the code of a scheduled wave's reason when it waits,
// past its start time, for a hybrid readiness check that blocks moves.
const ReasonReadiness = "readiness"

// HeldByReadiness reports whether the wave waits, past its start time, for
// a hybrid readiness check that blocks moves (a lead may start it anyway).
func (w Wave) HeldByReadiness() bool {
	return w.State == WaveStateScheduled && !w.ReadinessOverride && w.StateReasonCode == ReasonReadiness
}

// Move is one user in one wave.
type Move struct {
	ID            int64      `json:"id"`
	WaveID        int64      `json:"wave_id"`
	WaveName      string     `json:"wave_name"`
	WaveStartAt   time.Time  `json:"wave_start_at"`
	GroupID       int64      `json:"group_id"`
	GroupName     string     `json:"group_name"`
	UPN           string     `json:"upn"`
	SIP           string     `json:"sip"`
	DisplayName   string     `json:"display_name"`
	State         MoveState  `json:"state"`
	Run           int        `json:"run"`
	Attempts      int        `json:"attempts"`
	MaxAttempts   int        `json:"max_attempts"`
	ErrorCode     ErrorCode  `json:"error_code,omitempty"`
	ErrorMessage  string     `json:"error_message,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	MoveIssuedAt  *time.Time `json:"move_issued_at,omitempty"`
	StartedAt     *time.Time `json:"started_at,omitempty"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
	UpdatedAt     time.Time  `json:"updated_at"`
	// SupersededBy is the later move of the same member of the group (a
	// retry wave, another wave the user was added to) that stands in for
	// this one: the group counts the user by that one.
	SupersededBy *int64 `json:"superseded_by,omitempty"`
	MemberID     int64  `json:"-"`
	// Stranded is how long the move spent on worker processes that died
	// with it in flight: the wait for Teams after the move call does not
	// count it.
	Stranded time.Duration `json:"-"`
}

// MoveEvent is one entry in a move's timeline.
type MoveEvent struct {
	At        time.Time `json:"at"`
	State     MoveState `json:"state"`
	Attempt   int       `json:"attempt,omitempty"`
	ErrorCode ErrorCode `json:"error_code,omitempty"`
	Message   string    `json:"message"`
	Actor     string    `json:"actor"`
}

// RollbackRecord is a user's on-premises state, captured before the move, that
// a rollback restores.
type RollbackRecord struct {
	MoveID                 int64             `json:"move_id"`
	SipAddress             string            `json:"sip_address"`
	RegistrarPool          string            `json:"registrar_pool"`
	HostingProvider        string            `json:"hosting_provider"`
	EnterpriseVoiceEnabled bool              `json:"enterprise_voice_enabled"`
	LineURI                string            `json:"line_uri"`
	Policies               map[string]string `json:"policies"`
	CapturedAt             time.Time         `json:"captured_at"`
}

// VoiceWords says the record's voice settings for a person: "Enterprise
// Voice on, line URI tel:+14255550100" or "Enterprise Voice off, no line
// URI".
func (r RollbackRecord) VoiceWords() string {
	voice, line := "off", "no line URI"
	if r.EnterpriseVoiceEnabled {
		voice = "on"
	}
	if r.LineURI != "" {
		line = "line URI " + r.LineURI
	}
	return "Enterprise Voice " + voice + ", " + line
}

// Progress is how far a wave (or a group) has come. Each of its users is
// counted once: a wave's by their move in it, a group's by where each
// member stands.
type Progress struct {
	Total  int               `json:"total"`
	Counts map[MoveState]int `json:"counts"`
	// Outcomes count the users by outcome, each once: what a person reads.
	Outcomes Tally `json:"outcomes"`
	// Says is the outcomes in a sentence (Tally.Headline).
	Says string `json:"says"`
	// Superseded counts, by outcome, the users of a wave whose move a later
	// move of theirs in the group stands in for (a retry wave's).
	Superseded Tally `json:"superseded,omitempty"`
	// Done counts the users no wave will move any more: in Teams, failed,
	// rolled back or cancelled. Done is not success: Outcomes say which.
	Done            int        `json:"done"`
	InFlight        int        `json:"in_flight"`
	Retried         int        `json:"retried"` // moves that needed more than one attempt
	Percent         float64    `json:"percent_done"`
	FailureRate     float64    `json:"failure_rate"`
	EstimatedFinish *time.Time `json:"estimated_finish,omitempty"`
}

// NewProgress sums move counts by state. With the time the work started (and,
// if it has, finished) it estimates the finish from the throughput so far.
func NewProgress(counts map[MoveState]int, startedAt, finishedAt *time.Time, now time.Time) Progress {
	p := Progress{Counts: map[MoveState]int{}, Outcomes: TallyOf(counts)}
	p.Says = p.Outcomes.Headline()
	for s, n := range counts {
		if n == 0 {
			continue
		}
		p.Counts[s] = n
		p.Total += n
		if s.Done() {
			p.Done += n
		}
		if s.InFlight() {
			p.InFlight += n
		}
	}
	if p.Total > 0 {
		p.Percent = round1(100 * float64(p.Done) / float64(p.Total))
	}
	if p.Done > 0 {
		p.FailureRate = round1(100 * float64(p.Counts[MoveStateFailed]) / float64(p.Done))
	}
	switch {
	case finishedAt != nil:
		p.EstimatedFinish = finishedAt
	case startedAt != nil && p.Done > 0 && p.Done < p.Total:
		elapsed := now.Sub(*startedAt)
		eta := now.Add(time.Duration(float64(elapsed) * float64(p.Total-p.Done) / float64(p.Done))).Truncate(time.Second)
		p.EstimatedFinish = &eta
	}
	return p
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// Explanation is the helpdesk's plain-language answer for one user.
type Explanation struct {
	Summary string `json:"summary"`
	Expect  string `json:"expect"`
	Next    string `json:"next"`
}

// What a user can expect of a move, as Microsoft says it now.
const (
	// MicrosoftDocs/office-docs-powershell skype/skype-ps/SkypeForBusiness/Move-CsUser.md:
	// "their meetings from on-premises are automatically converted to Teams
	// meetings"; contacts "become available in Teams after the move is
	// complete and the user logs on to Teams. To ensure these contacts are
	// migrated to Teams, the migrated user must sign in to Teams within 30
	// days".
	// MicrosoftDocs/OfficeDocs-SkypeForBusiness
	// Skype/SfbHybrid/hybrid/move-users-between-on-premises-and-cloud.md:
	// "Migration of meetings happens asynchronously and begins approximately
	// 90 minutes after moving the user." ... "Any content that was uploaded
	// in advance of the meeting isn't moved."
	// MicrosoftDocs/OfficeDocs-SkypeForBusiness
	// Skype/SfbHybrid/hybrid/move-users-from-on-premises-to-teams.md:
	// "Unified Contact Store should be disabled on the on-prem SfB account
	// for the contact to be moved to Teams."
	ExpectMoved = "The user signs in to Teams, now their only client. " +
		"Their meetings scheduled on premises become Teams meetings, but not at once: Microsoft begins migrating them about 90 minutes after the move, " +
		"and content uploaded to a meeting in advance is not moved (upload it again). " +
		"Their Skype for Business contacts arrive in Teams only if they sign in to Teams within 30 days of the move (ask them to sign in soon), " +
		"and only if the Unified Contact Store was not in use for their on-premises account."
	// The same page: "As of November 10, 2023, moving users from Teams to
	// On-Premises will no longer migrate their contacts."
	// MicrosoftDocs/OfficeDocs-SkypeForBusiness
	// Skype/SfbOnline/audio-conferencing-in-office-365/setting-up-the-meeting-migration-service-mms.md:
	// "The meeting migration service can't be used if ... The user is being
	// migrated from the cloud to Skype for Business Server on-premises."
	// A rollback is Move-CsUser back (RollbackWorker) and nothing else: a
	// number cleared on premises and assigned online (number.go) stays so;
	// MicrosoftDocs/office-docs-powershell documents
	// teams/teams-ps/MicrosoftTeams/Remove-CsPhoneNumberAssignment.md and
	// skype/skype-ps/SkypeForBusiness/Set-CsUser.md (-LineURI) for undoing it.
	ExpectMovedBack = "Moving back on premises brings no contacts from Teams (Microsoft stopped migrating them on 10 November 2023): " +
		"contacts the user has in Teams must be added again in Skype for Business. " +
		"Nor are meetings moved back: Microsoft's Meeting Migration Service does not run for a move back on premises, " +
		"so meetings already migrated to Teams stay Teams meetings, and any the user needs in Skype for Business must be scheduled again there. " +
		"Nor is a number that cutover moved to online management (a wave whose numbers move online) given back: " +
		"a Teams administrator removes it online (Remove-CsPhoneNumberAssignment) and sets it on premises again (Set-CsUser -LineURI)."
)

// Explain says where a move stands in words a helpdesk agent can read out.
func Explain(m Move, now time.Time) Explanation {
	when := func(t time.Time) string { return whenAt(t, now) }
	f := FailureFor(m.ErrorCode)
	switch m.State {
	case MoveStatePending:
		return Explanation{
			Summary: fmt.Sprintf("Scheduled: %s of %s starts %s.", m.WaveName, m.GroupName, when(m.WaveStartAt)),
			Expect:  "Nothing changes for the user until then; Skype for Business keeps working as today.",
			Next:    "Nothing to do. Ask the user to sign out of Skype for Business before the wave starts if they can.",
		}
	case MoveStateQueued, MoveStatePreflight, MoveStateMoving, MoveStateVerifying:
		return Explanation{
			Summary: fmt.Sprintf("Being moved now (%s, %s).", m.WaveName, m.State),
			Expect:  "The user may be signed out of Skype for Business for a few minutes; they then sign in to Teams.",
			Next:    "Wait for the move to finish, then look again.",
		}
	case MoveStateRetrying:
		next := "shortly"
		if m.NextAttemptAt != nil {
			next = when(*m.NextAttemptAt)
		}
		return Explanation{
			Summary: fmt.Sprintf("Attempt %d of %d failed (%s); cutover tries again %s.", m.Attempts, m.MaxAttempts, m.ErrorCode, next),
			Expect:  "The user is still on premises and can keep using Skype for Business.",
			Next:    f.Fix,
		}
	case MoveStateMoved:
		return Explanation{
			Summary: fmt.Sprintf("Moved online %s.", when(*orNow(m.FinishedAt, now))),
			Expect:  ExpectMoved,
			Next:    "Nothing to do.",
		}
	case MoveStateSkipped:
		return Explanation{
			Summary: "Not moved: the user was already homed online.",
			Expect:  "Nothing changes for the user.",
			Next:    "Nothing to do.",
		}
	case MoveStateFailed:
		return Explanation{
			Summary: fmt.Sprintf("The move failed: %s", f.Explanation),
			Expect:  "The user is still on premises and can keep using Skype for Business.",
			Next:    f.Fix + " A migration lead can retry the user.",
		}
	case MoveStateCancelled:
		return Explanation{
			Summary: "The move was cancelled before it started.",
			Expect:  "The user is still on premises.",
			Next:    "Ask the migration lead whether the user will be planned again.",
		}
	case MoveStateRollingBack:
		return Explanation{
			Summary: "Being moved back on premises (a rollback a migration lead asked for).",
			Expect:  ExpectMovedBack,
			Next:    "Tell the user; look again in a few minutes.",
		}
	case MoveStateRolledBack:
		return Explanation{
			Summary: fmt.Sprintf("Moved back on premises %s.", when(*orNow(m.FinishedAt, now))),
			Expect:  "The user signs in to Skype for Business again. " + ExpectMovedBack,
			Next:    "Nothing to do, unless the user misses a contact or a meeting.",
		}
	case MoveStateRollbackFailed:
		return Explanation{
			Summary: fmt.Sprintf("The move back on premises failed: %s", f.Explanation),
			Expect:  "The user is still homed online, in Teams.",
			Next:    f.Fix + " A migration lead can ask for the rollback again.",
		}
	}
	return Explanation{Summary: string(m.State)}
}

// whenAt says when t is, seen at now: "at Mon 7 Dec 05:43 UTC", and for a
// time to come how long until it.
func whenAt(t, now time.Time) string {
	if t.After(now) {
		return "at " + t.Format("Mon 2 Jan 15:04 MST") + fmt.Sprintf(" (in %s)", t.Sub(now).Round(time.Minute))
	}
	return "at " + t.Format("Mon 2 Jan 15:04 MST")
}

func orNow(t *time.Time, now time.Time) *time.Time {
	if t == nil {
		return &now
	}
	return t
}
