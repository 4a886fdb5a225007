package migration

import (
	"fmt"
	"strings"
	"time"
)

// Completion: what must still happen after Move-CsUser before a moved user
// works in Teams as they did on premises. Each moved user has completion
// items, chosen by what applies to them; each item is pending until it is
// done, failed with Microsoft's words and the fix, or handed to a person.
// Completion never moves a user again.

// ItemKind is a kind of completion item.
type ItemKind string

// The completion items.
const (
	// ItemMeetings: the user's meetings scheduled on premises are migrated
	// to Teams by Microsoft's Meeting Migration Service, which begins
	// "approximately 90 minutes after moving the user"
	// (MicrosoftDocs/OfficeDocs-SkypeForBusiness
	// Skype/SfbHybrid/hybrid/move-users-between-on-premises-and-cloud.md),
	// read with Get-CsMeetingMigrationStatus
	// (MicrosoftDocs/office-docs-powershell
	// teams/teams-ps/MicrosoftTeams/Get-CsMeetingMigrationStatus.md).
	ItemMeetings ItemKind = "meetings"
	// ItemVoice: a user enabled for Enterprise Voice on premises can call
	// in Teams: Enterprise Voice enabled online and their number seen in
	// Teams, read from Graph's teamsUserConfiguration
	// (microsoftgraph/microsoft-graph-docs-contrib
	// api-reference/v1.0/resources/teamsadministration-teamsuserconfiguration.md:
	// isEnterpriseVoiceEnabled, telephoneNumbers).
	ItemVoice ItemKind = "voice"
)

// Words names the item for a person.
func (k ItemKind) Words() string {
	switch k {
	case ItemMeetings:
		return "meetings migrated to Teams"
	case ItemVoice:
		return "Enterprise Voice and number in Teams"
	case ItemNumber:
		return "number moved to online management"
	}
	return string(k)
}

// ItemState is where a completion item stands.
type ItemState string

// The states of a completion item.
const (
	ItemPending ItemState = "pending" // cutover waits for Microsoft, or does the step
	ItemDone    ItemState = "done"    // done and seen done
	ItemFailed  ItemState = "failed"  // Microsoft says it failed: Message and Fix say what and what to do
	ItemPerson  ItemState = "person"  // handed to a person, who Fix names
)

// ItemStates are the states of a completion item.
var ItemStates = []ItemState{ItemPending, ItemDone, ItemFailed, ItemPerson}

// Words says the state for a person.
func (s ItemState) Words() string {
	switch s {
	case ItemPending:
		return "pending"
	case ItemDone:
		return "done"
	case ItemFailed:
		return "failed"
	case ItemPerson:
		return "waiting for a person"
	}
	return string(s)
}

// The steps of a meetings item (CompletionItem.Acted): a lead asked that
// Microsoft migrate the user's meetings again, and cutover asked it
// (Start-CsExMeetingMigration), which it does at most once per user since it
// sends the meeting invitations again.
const (
	MeetingsTriggerRequested = "trigger_requested"
	MeetingsTriggered        = "triggered"
)

// Retriggerable reports whether a lead may ask that Microsoft migrate the
// user's meetings again: the meetings item failed or was handed to a
// person, and no one asked before.
func (it CompletionItem) Retriggerable() bool {
	return it.Kind == ItemMeetings && (it.State == ItemFailed || it.State == ItemPerson) && it.Acted == ""
}

// Final reports whether the item needs no more of cutover.
func (s ItemState) Final() bool { return s != ItemPending }

// CompletionItem is one item of a moved user's completion.
type CompletionItem struct {
	MoveID int64     `json:"-"`
	Kind   ItemKind  `json:"kind"`
	State  ItemState `json:"state"`
	// Says is the item's state in a sentence a helpdesk agent reads out.
	Says string `json:"says"`
	// Evidence is what cutover last saw (Microsoft's own values).
	Evidence string `json:"evidence,omitempty"`
	// Message is Microsoft's message of a failure; Fix what to do, and who.
	Message string `json:"message,omitempty"`
	Fix     string `json:"fix,omitempty"`
	// CheckAt is when cutover looks next (pending items).
	CheckAt *time.Time `json:"check_at,omitempty"`
	// WaitsFor is the lead's decision the item waits on ("": none).
	WaitsFor WaitsFor `json:"waits_for,omitempty"`
	// Acted is the last step cutover took on the item (a lead's request of
	// it included), at ActedAt.
	Acted     string     `json:"-"`
	ActedAt   *time.Time `json:"-"`
	Checks    int        `json:"-"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// MeetingMigration is a user's meeting migration as
// Get-CsMeetingMigrationStatus -Identity shows it (its documented output:
// CorrelationId, CreateDate, FailedMeeting, InvitesUpdate, LastMessage,
// MigrationType, ModifiedDate, RetryCount, State, SucceededMeeting,
// TotalMeeting, UserId, UserPrincipalName; MicrosoftDocs/office-docs-powershell
// teams/teams-ps/MicrosoftTeams/Get-CsMeetingMigrationStatus.md).
type MeetingMigration struct {
	// State is Pending, InProgress, Failed or Succeeded (the cmdlet's -State
	// values).
	State            string    `json:"State"`
	TotalMeeting     int       `json:"TotalMeeting"`
	SucceededMeeting int       `json:"SucceededMeeting"`
	FailedMeeting    int       `json:"FailedMeeting"`
	RetryCount       int       `json:"RetryCount"`
	LastMessage      string    `json:"LastMessage"`
	MigrationType    string    `json:"MigrationType"`
	ModifiedDate     time.Time `json:"ModifiedDate"`
}

// The states of a meeting migration (Get-CsMeetingMigrationStatus -State).
const (
	MeetingsPending    = "Pending"
	MeetingsInProgress = "InProgress"
	MeetingsFailed     = "Failed"
	MeetingsSucceeded  = "Succeeded"
)

// Meeting Migration Service timing, from Microsoft's page on it
// (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Skype/SfbOnline/audio-conferencing-in-office-365/setting-up-the-meeting-migration-service-mms.md):
// "the queued request is deliberately not processed until at least 90
// minutes have passed by"; "it typically takes about 2 hours until the
// user's meetings are migrated"; on errors "it will periodically retry up
// to 9 times over the span of 24 hours".
const (
	MeetingsStartAfter = 90 * time.Minute
	MeetingsRetryFor   = 24 * time.Hour
	MeetingsRetries    = 9
	// MeetingsPoll is how often cutover looks at a migration under way.
	MeetingsPoll = 30 * time.Minute
)

// The remedies the same page gives for a failed migration: "For each
// affected user, run the Meeting Migration Tool", or "Have the users create
// new Skype meetings"; and Start-CsExMeetingMigration "manually trigger a
// meeting migration request for the specified user"
// (teams/teams-ps/MicrosoftTeams/Start-CsExMeetingMigration.md), which
// sends the updated invitations again, so it is a lead's decision.
const meetingsFix = "A migration lead triggers the migration again for the user (Start-CsExMeetingMigration; it sends the meeting invitations again), " +
	"or the user runs the Meeting Migration Tool, or recreates the meetings in Teams."

// MeetingsFixAgain is the fix of a migration that fails again after a
// lead's request (never sent twice): the remedies left.
const MeetingsFixAgain = "Microsoft was asked once already to migrate the meetings again (Start-CsExMeetingMigration, which sends the invitations again): " +
	"the user runs the Meeting Migration Tool, or recreates the meetings in Teams."

// ItemStep is what a look at an item found: its new state, what it says,
// and when to look next (pending).
type ItemStep struct {
	State    ItemState
	Says     string
	Evidence string
	Message  string
	Fix      string
	CheckAt  time.Time
	// WaitsFor is the lead's decision a step handed to a person waits on:
	// the decision reopens it.
	WaitsFor WaitsFor
}

// MeetingsTiming is when cutover looks at a moved user's meetings:
// Microsoft's timing (DefaultMeetingsTiming), or a shorter one against the
// simulated tenant, whose service keeps time faster.
type MeetingsTiming struct {
	// StartAfter is how long after the move the service begins;
	// RetryFor how long it retries a failure; Poll how often cutover
	// looks at a migration under way.
	StartAfter, RetryFor, Poll time.Duration
}

// DefaultMeetingsTiming is Microsoft's.
var DefaultMeetingsTiming = MeetingsTiming{StartAfter: MeetingsStartAfter, RetryFor: MeetingsRetryFor, Poll: MeetingsPoll}

// FirstCheck is when cutover first asks Microsoft about the meetings of a
// user moved at movedAt: when the service begins.
func (t MeetingsTiming) FirstCheck(movedAt time.Time) time.Time { return movedAt.Add(t.StartAfter) }

// DecideMeetings is DefaultMeetingsTiming.Decide.
func DecideMeetings(movedAt, now time.Time, mm MeetingMigration, found bool) ItemStep {
	return DefaultMeetingsTiming.Decide(movedAt, now, mm, found)
}

// Decide says what a look at a moved user's meeting migration means, the
// user moved at movedAt: mm is the migration Get-CsMeetingMigrationStatus
// showed (found false: it showed none, which Microsoft does not document;
// cutover waits as long as the service retries, then hands the user to a
// person). Before the service begins there is nothing to ask: the step
// says when to look.
func (t MeetingsTiming) Decide(movedAt, now time.Time, mm MeetingMigration, found bool) ItemStep {
	next := now.Add(t.Poll)
	retrying := now.Before(movedAt.Add(t.RetryFor))
	counts := fmt.Sprintf("%d of %d meetings migrated, %d failed", mm.SucceededMeeting, mm.TotalMeeting, mm.FailedMeeting)
	evidence := fmt.Sprintf("Get-CsMeetingMigrationStatus: State %s, %s, RetryCount %d", mm.State, counts, mm.RetryCount)
	switch {
	case now.Before(t.FirstCheck(movedAt)):
		return ItemStep{State: ItemPending, CheckAt: t.FirstCheck(movedAt),
			Says: "Microsoft begins migrating the user's meetings about 90 minutes after the move."}
	case !found && retrying:
		return ItemStep{State: ItemPending, CheckAt: next, Evidence: "Get-CsMeetingMigrationStatus: no migration for the user yet",
			Says: "Microsoft has not started migrating the user's meetings yet."}
	case !found:
		return ItemStep{State: ItemPerson, Evidence: "Get-CsMeetingMigrationStatus: no migration for the user 24 hours after the move",
			Says: "Microsoft did not migrate the user's meetings within 24 hours of the move.", Fix: meetingsFix}
	case mm.State == MeetingsSucceeded && mm.FailedMeeting == 0:
		return ItemStep{State: ItemDone, Evidence: evidence, Says: fmt.Sprintf("Meetings migrated to Teams (%d).", mm.SucceededMeeting)}
	case mm.State == MeetingsSucceeded:
		return ItemStep{State: ItemFailed, Evidence: evidence, Message: mm.LastMessage, Fix: meetingsFix,
			Says: fmt.Sprintf("Some meetings were not migrated: %s.", counts)}
	case mm.State == MeetingsFailed && retrying && mm.RetryCount < MeetingsRetries:
		return ItemStep{State: ItemPending, CheckAt: next, Evidence: evidence, Message: mm.LastMessage,
			Says: "Migrating the user's meetings failed; Microsoft retries on its own for 24 hours."}
	case mm.State == MeetingsFailed:
		return ItemStep{State: ItemFailed, Evidence: evidence, Message: mm.LastMessage, Fix: meetingsFix,
			Says: fmt.Sprintf("Microsoft could not migrate the user's meetings: %s.", counts)}
	}
	return ItemStep{State: ItemPending, CheckAt: next, Evidence: evidence,
		Says: "Microsoft is migrating the user's meetings (it usually takes about 2 hours)."}
}

// Completion is where a moved user's completion stands, as one word: a
// count of users puts each in exactly one, and a list filtered by it shows
// exactly the users counted.
type Completion string

// Where a user's completion stands.
const (
	CompletionNeeds   Completion = "needs"   // an item failed or was handed to a person
	CompletionPending Completion = "pending" // none needs someone, and one is pending
	CompletionDone    Completion = "done"    // every item is done
)

// CompletionOf says where a user's completion stands from their items
// ("" for none). sql/functions/completion.sql's cutover_completion_of is
// the same rule, for the counts and the lists.
func CompletionOf(items []CompletionItem) Completion {
	out := Completion("")
	for _, it := range items {
		switch {
		case it.State == ItemFailed || it.State == ItemPerson:
			return CompletionNeeds
		case it.State == ItemPending:
			out = CompletionPending
		case out == "":
			out = CompletionDone
		}
	}
	return out
}

// Words says where completion stands, for a person: "needing someone
// after the move".
func (c Completion) Words() string {
	switch c {
	case CompletionNeeds:
		return "needing someone after the move"
	case CompletionPending:
		return "with something still to come after the move"
	case CompletionDone:
		return "done after the move"
	}
	return string(c)
}

// Completions are where completion can stand, in the order a filter
// offers them.
var Completions = []Completion{CompletionNeeds, CompletionPending, CompletionDone}

// ParseCompletion reads a list's filter by completion.
func ParseCompletion(field, s string) (Completion, error) {
	switch c := Completion(s); c {
	case "", CompletionNeeds, CompletionPending, CompletionDone:
		return c, nil
	}
	return "", Invalid("invalid_"+field, field, "%q is not where completion stands (needs, pending or done)", s)
}

// CompletionSum counts a wave's moved users by where their completion
// stands.
type CompletionSum struct {
	Users   int `json:"users"`
	Done    int `json:"done"`
	Pending int `json:"pending"`
	Needs   int `json:"needs_someone"`
	// WaitRouting and WaitApproval count the users (among Needs) whose
	// items wait on a lead: the SBC's routing confirmed, the number moves
	// approved.
	WaitRouting  int `json:"waiting_routing"`
	WaitApproval int `json:"waiting_approval"`
	// Voice counts the users with a voice item (Enterprise Voice users).
	Voice int `json:"voice"`
	// Says is the sum in a sentence (Sentence), once it is summed.
	Says string `json:"says"`
}

// Add counts n more users whose completion stands at c.
func (s CompletionSum) Add(c Completion, n int) CompletionSum {
	s.Users += n
	switch c {
	case CompletionDone:
		s.Done += n
	case CompletionPending:
		s.Pending += n
	case CompletionNeeds:
		s.Needs += n
	}
	return s
}

// Said is the sum with its sentence.
func (s CompletionSum) Said() CompletionSum {
	s.Says = s.Sentence()
	return s
}

// Sentence says the sum in a sentence, or "" for none.
func (s CompletionSum) Sentence() string {
	if s.Users == 0 {
		return ""
	}
	out := fmt.Sprintf("After the move: %d done, %d pending, %d needing someone", s.Done, s.Pending, s.Needs)
	if w := s.Waiting(); w != "" {
		out += " (" + w + ")"
	}
	return out + "."
}

// Waiting says how many of those who need someone wait on a lead's
// decision, and which: "23 wait for a lead to confirm the SBC's routing"
// ("" for none).
func (s CompletionSum) Waiting() string {
	var leads []string
	if s.WaitRouting > 0 {
		leads = append(leads, fmt.Sprintf("%d wait for a lead to confirm the SBC's routing", s.WaitRouting))
	}
	if s.WaitApproval > 0 {
		leads = append(leads, fmt.Sprintf("%d for a lead to approve their number's move", s.WaitApproval))
	}
	return strings.Join(leads, "; ")
}

// ExplainCompletion adds a moved user's completion to what a helpdesk agent
// reads of them: what is left, who does it, and what the user should
// expect. Items that need someone come first: their words and fix are the
// next step.
func ExplainCompletion(e Explanation, items []CompletionItem) Explanation {
	words := func(keep func(ItemState) bool) string {
		var out []string
		for _, it := range items {
			if keep(it.State) {
				out = append(out, it.Kind.Words())
			}
		}
		return strings.Join(out, ", ")
	}
	switch CompletionOf(items) {
	case CompletionNeeds:
		e.Summary += " Needs someone after the move: " + words(func(s ItemState) bool { return s == ItemFailed || s == ItemPerson }) + "."
		for _, it := range items {
			if it.State == ItemFailed || it.State == ItemPerson {
				e.Next = strings.TrimSpace(it.Says + " " + it.Fix)
				break
			}
		}
	case CompletionPending:
		e.Summary += " Still to come after the move: " + words(func(s ItemState) bool { return s == ItemPending }) + "."
		for _, it := range items {
			if it.State == ItemPending {
				e.Next = "Nothing to do yet: " + it.Says + " cutover follows it, and says here when it is done or needs someone."
				break
			}
		}
	case CompletionDone:
		e.Summary += " Done after the move too: " + words(func(s ItemState) bool { return s == ItemDone }) + "."
	}
	for _, it := range items {
		if (it.Kind == ItemVoice || it.Kind == ItemNumber) && it.State != ItemDone {
			e.Expect = strings.TrimSpace(e.Expect + " Until their calling in Teams is complete, calls to their number may not reach them in Teams.")
			break
		}
	}
	return e
}

// TeamsVoice is what Teams shows of a user's calling: Graph's
// teamsUserConfiguration isEnterpriseVoiceEnabled and the telephoneNumbers
// assigned to them (each an assignedTelephoneNumber's telephoneNumber).
type TeamsVoice struct {
	EnterpriseVoice bool
	Numbers         []string
}

// VoiceTiming is how long cutover waits for Teams to show a moved user's
// number (it is synchronised from on premises) before handing the user to
// a person, and how often it looks meanwhile.
type VoiceTiming struct{ Wait, Poll time.Duration }

// DefaultVoiceTiming waits a day, looking every 15 minutes.
var DefaultVoiceTiming = VoiceTiming{Wait: 24 * time.Hour, Poll: 15 * time.Minute}

// The fix when Teams shows the user without Enterprise Voice: "If you are
// managing the user's phone number on-premises, you need to ensure that
// the user is Enterprise Voice enabled online by using the following
// command: Set-CsPhoneNumberAssignment -Identity "<User name>"
// -EnterpriseVoiceEnabled $true" (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Teams/direct-routing-enable-users.md); EV-enabled is not set by the move
// when the Phone System licence came after it
// (Teams/upgrade-to-teams-on-prem-pstn-considerations.md).
const voiceEnableFix = "A Teams administrator enables Enterprise Voice for the user online: " +
	"Set-CsPhoneNumberAssignment -Identity <user> -EnterpriseVoiceEnabled $true (the Teams Phone licence must be assigned)."

// The fix when a wave moved the user without Teams Phone
// (Move-CsUser -BypassEnterpriseVoiceCheck: MicrosoftDocs/office-docs-powershell
// skype/skype-ps/SkypeForBusiness/Move-CsUser.md).
const voiceBypassFix = "The user was moved without Teams Phone (-BypassEnterpriseVoiceCheck): assign the Teams Phone licence, " +
	"then enable Enterprise Voice online (Set-CsPhoneNumberAssignment -Identity <user> -EnterpriseVoiceEnabled $true) and give them their number."

// VoiceBypassed is the step of a voice item whose user a wave moved
// without Teams Phone: a person's work from the start.
var VoiceBypassed = ItemStep{State: ItemPerson, Fix: voiceBypassFix,
	Says: "The user had Enterprise Voice on premises and was moved without Teams Phone: they cannot make or take phone calls in Teams yet."}

// telephone is a LineURI's number: "tel:+14255550100;ext=100" is
// "+14255550100".
func telephone(lineURI string) string {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(lineURI)), "tel:")
	n, _, _ = strings.Cut(n, ";")
	return n
}

// VoiceLook is what cutover knows when it looks at a moved Enterprise
// Voice user's calling in Teams.
type VoiceLook struct {
	MovedAt, Now time.Time
	// LineURI is their on-premises LineURI (kept with the rollback record).
	LineURI string
	// Teams is what Teams shows (Found false: Graph does not know the user).
	Teams TeamsVoice
	Found bool
	// NumberMoving: the wave moves the number to online management and that
	// item is not done yet: the number may be absent from Teams for a
	// while, and its assignment online turns Enterprise Voice on, so the
	// calling is looked at once it is done.
	NumberMoving bool
	// RoutingConfirmed: a lead confirmed for the wave that the SBC sends
	// its users' incoming calls to Direct Routing.
	RoutingConfirmed bool
}

// The SBC's routing is outside Microsoft 365: "On the SBC, configure voice
// routing to enable incoming calls by sending calls to Direct Routing
// instead of to the on-premises Mediation Server", a step of the upgrade of
// an on-premises Enterprise Voice user to Direct Routing
// (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Teams/upgrade-to-teams-on-prem-pstn-considerations.md). A lead confirms
// it per wave.
const routingFix = "A migration lead confirms on the wave's page (Confirm SBC routing), or with cutover wave confirm-routing, " +
	"that the SBC sends the wave's numbers to Direct Routing instead of the on-premises Mediation Server."

// Decide says what a look at a moved Enterprise Voice user's calling in
// Teams means.
func (t VoiceTiming) Decide(l VoiceLook) ItemStep {
	v := l.Teams
	number := telephone(l.LineURI)
	seen := number == ""
	for _, n := range v.Numbers {
		seen = seen || strings.EqualFold(strings.TrimSpace(n), number)
	}
	evidence := fmt.Sprintf("teamsUserConfiguration: isEnterpriseVoiceEnabled %t, telephoneNumbers %v", v.EnterpriseVoice, v.Numbers)
	waiting := l.Now.Before(l.MovedAt.Add(t.Wait))
	switch {
	case !l.Found && waiting:
		return ItemStep{State: ItemPending, CheckAt: l.Now.Add(t.Poll), Says: "Microsoft Graph does not find the user yet; cutover looks again."}
	case !l.Found:
		return ItemStep{State: ItemPerson, Fix: "Check that Entra ID has the user under this UPN (the pre-flight's account check), then look again.",
			Says: "Microsoft Graph did not find the user a day after the move, so cutover could not read their calling in Teams."}
	case l.NumberMoving:
		return ItemStep{State: ItemPending, CheckAt: l.Now.Add(t.Poll), Evidence: evidence,
			Says: fmt.Sprintf("The user's number %s is being moved to online management; cutover checks their calling once it is assigned.", number)}
	case !v.EnterpriseVoice:
		return ItemStep{State: ItemPerson, Evidence: evidence, Fix: voiceEnableFix,
			Says: "Teams shows the user without Enterprise Voice: they cannot make or take phone calls in Teams."}
	case !seen && waiting:
		return ItemStep{State: ItemPending, CheckAt: l.Now.Add(t.Poll), Evidence: evidence,
			Says: fmt.Sprintf("Enterprise Voice is on in Teams; the user's number %s is not shown there yet (it is synchronised from on premises).", number)}
	case !seen:
		return ItemStep{State: ItemPerson, Evidence: evidence, Fix: "Check that the user's LineURI is synchronised from on premises (Get-CsPhoneNumberAssignment shows NumberSource OnPremises).",
			Says: fmt.Sprintf("Teams does not show the user's number %s a day after the move.", number)}
	case !l.RoutingConfirmed:
		return ItemStep{State: ItemPerson, Evidence: evidence, Fix: routingFix, WaitsFor: WaitsForRouting,
			Says: "Teams is ready for the user's calls; their incoming calls reach Teams once the SBC sends them to Direct Routing, which a migration lead confirms for the wave."}
	}
	says := "Enterprise Voice is on in Teams, and the SBC's routing is confirmed."
	if number != "" {
		says = fmt.Sprintf("Enterprise Voice is on in Teams, with the user's number %s, and the SBC's routing is confirmed.", number)
	}
	return ItemStep{State: ItemDone, Evidence: evidence, Says: says}
}
