package migration

import (
	"fmt"
	"strings"
	"time"
)

// The number plan: after an Enterprise Voice user's move, their number is
// either left managed on premises or moved to online management, as the
// wave's lead chose when planning. Both are Direct Routing: "Microsoft
// recommends, but does not require, that you change the LineURI from
// on-premises to online when migrating users to Teams Direct Routing"
// (MicrosoftDocs/OfficeDocs-SkypeForBusiness Teams/direct-routing-enable-users.md).

// NumberPlan is where a wave's Enterprise Voice users' numbers are managed
// after their move.
type NumberPlan string

// The number plans.
const (
	// NumbersOnPremises leaves the number in on-premises Active Directory,
	// from which it keeps synchronising: "If you are managing the user's
	// phone number on-premises, you need to ensure that the user is
	// Enterprise Voice enabled online" (direct-routing-enable-users.md).
	// The default ("" reads as it).
	NumbersOnPremises NumberPlan = "on_premises"
	// NumbersOnline moves the number to online management after the move:
	// "If you want to manage the phone number online, clean the parameter
	// using on-premises Skype for Business Management Shell and synchronize
	// to Microsoft 365 before configuring the phone number using Teams
	// PowerShell" (direct-routing-enable-users.md), because "you can't use
	// Set-CsPhoneNumberAssignment to set the phone number" while it is
	// synchronised from on premises (MicrosoftDocs/office-docs-powershell
	// teams/teams-ps/MicrosoftTeams/Set-CsPhoneNumberAssignment.md, NOTES).
	// The user's calls are interrupted from the clearing to the
	// assignment, so it runs only in a wave whose lead approved it, in the
	// wave's maintenance window.
	NumbersOnline NumberPlan = "online"
)

// Or is the plan, NumbersOnPremises for none.
func (p NumberPlan) Or() NumberPlan {
	if p == "" {
		return NumbersOnPremises
	}
	return p
}

// Words says the plan for a person.
func (p NumberPlan) Words() string {
	if p.Or() == NumbersOnline {
		return "numbers moved to online management after the move (Direct Routing), once a lead approves, in the wave's window"
	}
	return "numbers stay managed on premises (Direct Routing)"
}

// ParseNumberPlan reads a plan's number_plan.
func ParseNumberPlan(field, s string) (NumberPlan, error) {
	switch p := NumberPlan(s); p {
	case "", NumbersOnPremises, NumbersOnline:
		return p, nil
	}
	return "", Invalid(CodeInvalidPlan, field, "%q is not a number plan (on_premises or online)", s)
}

// ItemNumber: an Enterprise Voice user's number moved to online management
// (a wave whose number plan is NumbersOnline).
const ItemNumber ItemKind = "number"

// WaitsFor is the lead's decision an item waits on, which reopens it.
type WaitsFor string

// What an item can wait on.
const (
	WaitsForNothing WaitsFor = ""
	// WaitsForRouting: the SBC's routing of the wave's numbers to Direct
	// Routing, outside Microsoft 365, confirmed by a lead per wave.
	WaitsForRouting WaitsFor = "routing"
	// WaitsForApproval: a lead's approval of the wave's number moves.
	WaitsForApproval WaitsFor = "approval"
)

// NumberAssignment is a telephone number's assignment as Graph shows it
// (GET /admin/teams/telephoneNumberManagement/numberAssignments, a
// numberAssignment: telephoneNumber, numberSource online or onPremises,
// numberType, assignmentTargetId, activationState;
// microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/resources/teamsadministration-numberassignment.md).
type NumberAssignment struct {
	TelephoneNumber    string `json:"telephoneNumber"`
	NumberSource       string `json:"numberSource"`
	NumberType         string `json:"numberType"`
	AssignmentTargetID string `json:"assignmentTargetId"`
	ActivationState    string `json:"activationState"`
}

// The numberSource values (numberAssignment: "Online for phone numbers
// assigned in Microsoft 365 and OnPremises for phone numbers assigned in AD
// on-premises and synchronized into Microsoft 365", Get-CsPhoneNumberAssignment.md).
const (
	NumberSourceOnline     = "online"
	NumberSourceOnPremises = "onPremises"
)

// NumberAction is what a look at a number item has cutover do.
type NumberAction string

// The actions.
const (
	NumberNothing NumberAction = ""
	// NumberClear clears the LineURI on premises: Set-CsUser -Identity
	// <user> -LineUri $null (direct-routing-enable-users.md).
	NumberClear NumberAction = "clear"
	// NumberAssign assigns the number online: Set-CsPhoneNumberAssignment
	// -Identity <user> -PhoneNumber <number> -PhoneNumberType DirectRouting
	// (direct-routing-enable-users.md).
	NumberAssign NumberAction = "assign"
)

// NumberLook is what cutover knows when it looks at a user's number item.
type NumberLook struct {
	Now time.Time
	// LineURI is the user's LineURI on premises before the move (their
	// rollback record); OnPremLineURI what Get-CsUser shows now.
	LineURI, OnPremLineURI string
	// UserID is the user's object ID in Entra ID.
	UserID string
	// Assignment is the number's assignment in Teams (Assigned false:
	// Graph shows none).
	Assignment NumberAssignment
	Assigned   bool
	// Approved: a lead approved the wave's number moves. WindowOpen: the
	// wave's maintenance window is open now, or next opens at NextOpen.
	Approved   bool
	WindowOpen bool
	NextOpen   time.Time
	// ClearedAt is when cutover cleared the LineURI on premises (zero:
	// not yet).
	ClearedAt time.Time
}

// NumberTiming is how often cutover looks at a number's move, and how long
// it waits for directory synchronisation before handing it to a person.
type NumberTiming struct{ Poll, SyncWait time.Duration }

// DefaultNumberTiming looks every 5 minutes and waits 3 hours for
// synchronisation.
var DefaultNumberTiming = NumberTiming{Poll: 5 * time.Minute, SyncWait: 3 * time.Hour}

// The fix of a number's move that needs a person.
const numberApproveFix = "A migration lead approves the wave's number moves: on the wave's page (Approve number moves), or cutover wave approve-numbers."

// Decide says what a look at a user's number item means and what cutover
// does now. Every action is taken only when what Microsoft shows now calls
// for it: the LineURI is cleared only while Get-CsUser still shows it, the
// number assigned only while Teams shows it assigned to nobody, so that a
// crash or a call whose answer was lost never repeats a step.
func (t NumberTiming) Decide(l NumberLook) (ItemStep, NumberAction) {
	number := telephone(l.LineURI)
	onPrem := telephone(l.OnPremLineURI)
	evidence := fmt.Sprintf("Get-CsUser: LineURI %q; numberAssignment: %s", l.OnPremLineURI, l.Assignment.words(l.Assigned))
	next := l.Now.Add(t.Poll)
	pending := func(says string) (ItemStep, NumberAction) {
		return ItemStep{State: ItemPending, CheckAt: next, Evidence: evidence, Says: says}, NumberNothing
	}
	ours := l.Assigned && strings.EqualFold(l.Assignment.AssignmentTargetID, l.UserID)
	switch {
	case number == "":
		return ItemStep{State: ItemDone, Evidence: evidence, Says: "The user had no number on premises: there is no number to move."}, NumberNothing
	case ours && l.Assignment.NumberSource == NumberSourceOnline:
		return ItemStep{State: ItemDone, Evidence: evidence,
			Says: fmt.Sprintf("The user's number %s is managed online and assigned to them in Teams.", number)}, NumberNothing
	case l.Assigned && !ours:
		return ItemStep{State: ItemPerson, Evidence: evidence,
			Fix:  "A Teams administrator decides who keeps the number (Get-CsPhoneNumberAssignment -TelephoneNumber shows its assignment).",
			Says: fmt.Sprintf("Teams shows the number %s assigned to someone else: cutover does not move it.", number)}, NumberNothing
	case onPrem != "" && onPrem != number:
		return ItemStep{State: ItemPerson, Evidence: evidence,
			Fix:  "A migration lead decides which number the user keeps, and moves it by hand.",
			Says: fmt.Sprintf("The user's LineURI on premises is now %s, not the %s they had at the move: cutover does not move it.", onPrem, number)}, NumberNothing
	case !l.Approved:
		// Nothing is done without the lead's approval: neither the
		// clearing nor an assignment (a number cleared by someone else may
		// have been released on purpose).
		return ItemStep{State: ItemPerson, Evidence: evidence, Fix: numberApproveFix, WaitsFor: WaitsForApproval,
			Says: fmt.Sprintf("Moving the number %s to online management waits for a migration lead's approval: the user cannot take calls from its clearing on premises to its assignment online.", number)}, NumberNothing
	case onPrem == number && !l.WindowOpen:
		step, _ := pending(fmt.Sprintf("Approved: cutover moves the number %s to online management in the wave's next window, %s.", number, l.NextOpen.UTC().Format(time.RFC3339)))
		step.CheckAt = l.NextOpen
		return step, NumberNothing
	case onPrem == number:
		return ItemStep{State: ItemPending, CheckAt: next, Evidence: evidence,
			Says: fmt.Sprintf("cutover clears the number %s on premises (Set-CsUser -LineUri $null); Teams gets the change at the next directory synchronisation.", number)}, NumberClear
	case l.Assigned && l.Assignment.NumberSource == NumberSourceOnPremises:
		if !l.ClearedAt.IsZero() && l.Now.Sub(l.ClearedAt) > t.SyncWait {
			return ItemStep{State: ItemPerson, Evidence: evidence,
				Fix:  "Check that directory synchronisation to Microsoft 365 runs, then look again; the number must leave Teams before it can be assigned online.",
				Says: fmt.Sprintf("The number %s was cleared on premises, but Teams still shows it synchronised from on premises: the user cannot take calls.", number)}, NumberNothing
		}
		return pending(fmt.Sprintf("The number %s is cleared on premises; Teams shows it until the next directory synchronisation, then cutover assigns it online.", number))
	}
	// Cleared on premises and gone from Teams: assign it online.
	return ItemStep{State: ItemPending, CheckAt: next, Evidence: evidence,
		Says: fmt.Sprintf("cutover assigns the number %s to the user online (Set-CsPhoneNumberAssignment -PhoneNumberType DirectRouting).", number)}, NumberAssign
}

// words says the assignment as Graph showed it.
func (a NumberAssignment) words(assigned bool) string {
	if !assigned {
		return "none"
	}
	return fmt.Sprintf("numberSource %s, numberType %s, assignmentTargetId %s, activationState %s", a.NumberSource, a.NumberType, a.AssignmentTargetID, a.ActivationState)
}

// Telephone is a LineURI's number: "tel:+14255550100;ext=100" is
// "+14255550100".
func Telephone(lineURI string) string { return telephone(lineURI) }

// VoiceSays says a wave's number plan and a lead's decisions on its voice,
// for its page: "Numbers stay managed on premises (Direct Routing). The
// SBC's routing to Direct Routing: not confirmed yet."
func (w Wave) VoiceSays() string {
	out := strings.ToUpper(w.NumberPlan.Words()[:1]) + w.NumberPlan.Words()[1:] + "."
	if w.NumberPlan.Or() == NumbersOnline {
		if w.NumbersApprovedAt != nil {
			out += fmt.Sprintf(" Number moves approved by %s.", w.NumbersApprovedBy)
		} else {
			out += " Number moves not approved yet."
		}
	}
	if w.RoutingConfirmedAt != nil {
		return out + fmt.Sprintf(" The SBC's routing to Direct Routing confirmed by %s.", w.RoutingConfirmedBy)
	}
	return out + " The SBC's routing to Direct Routing: not confirmed yet."
}
