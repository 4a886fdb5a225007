package sim

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

// A moved user's number moved to online management, simulated: the number
// is cleared on premises (Set-CsUser -LineUri $null), leaves Teams at the
// next directory synchronisation (ShellConfig.DirectorySync after the
// clearing), and is then assigned online (Set-CsPhoneNumberAssignment),
// which turns Enterprise Voice on ("When you assign a phone number, the
// EnterpriseVoiceEnabled flag is automatically set to True":
// MicrosoftDocs/office-docs-powershell
// teams/teams-ps/MicrosoftTeams/Set-CsPhoneNumberAssignment.md). Microsoft
// publishes no message for an assignment refused while the number is
// still synchronised from on premises, so the simulator's refusal says it
// in its own words, as the simulator's.

// DefaultDirectorySync is the simulated directory synchronisation's delay.
const DefaultDirectorySync = 30 * time.Minute

func (s *Shell) directorySync() time.Duration {
	if s.cfg.DirectorySync > 0 {
		return s.cfg.DirectorySync
	}
	return DefaultDirectorySync
}

// ClearLineURI implements migration.CompletionShell: Set-CsUser -Identity
// -LineURI $null on premises.
func (s *Shell) ClearLineURI(ctx context.Context, identity string) error {
	u, err := s.call(ctx, identity, func(c *Calls) *int { return &c.ClearLineURI }, 5000)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	if u.b.Kind == KindNotFound {
		return FailureError(u.b.Kind, identity, true)
	}
	if u.lineCleared.IsZero() {
		u.lineCleared = time.Now()
	}
	u.clears++
	return nil
}

// AssignNumber implements migration.CompletionShell:
// Set-CsPhoneNumberAssignment -Identity -PhoneNumber -PhoneNumberType
// DirectRouting.
func (s *Shell) AssignNumber(ctx context.Context, identity, number string) error {
	u, err := s.call(ctx, identity, func(c *Calls) *int { return &c.AssignNumber }, 6000)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	id := migration.NormalizeAddress(identity)
	if holder, source := s.numberHolder(number); holder != "" && (holder != id || source == migration.NumberSourceOnPremises) {
		return fmt.Errorf("simulated Teams: the number %s is assigned (%s) and cannot be assigned to %s", number, source, identity)
	}
	u.assigned = number
	s.assignedOnline[number] = id
	return nil
}

// numberOf is the number a voice user's LineURI gives, remembered so that
// the number can be looked up. s.mu is held.
func (s *Shell) numberOf(id string) string {
	n := migration.Telephone(s.lineURI(id))
	s.byNumber[n] = id
	return n
}

// numberHolder says who Teams shows a number assigned to, and from where:
// online once assigned there; from on premises while the user's LineURI
// holds it, or was cleared less than a directory synchronisation ago.
// s.mu is held.
func (s *Shell) numberHolder(number string) (id, source string) {
	if uid, ok := s.assignedOnline[number]; ok {
		return uid, migration.NumberSourceOnline
	}
	id, ok := s.byNumber[number]
	if !ok {
		return "", ""
	}
	u := s.user(id)
	if !s.voice(id, u) || u.assigned != "" || (!u.lineCleared.IsZero() && time.Since(u.lineCleared) >= s.directorySync()) {
		return "", ""
	}
	return id, migration.NumberSourceOnPremises
}

// NumberAssignment is what the simulated Teams shows of a number's
// assignment (Graph's numberAssignment), with the user's ID as Graph's
// directory gives it (idOf, called without the shell's lock held).
func (s *Shell) NumberAssignment(number string, idOf func(upn string) string) (migration.NumberAssignment, bool) {
	s.mu.Lock()
	id, source := s.numberHolder(strings.TrimSpace(number))
	s.mu.Unlock() // idOf asks the directory, which asks the shell
	if id == "" {
		return migration.NumberAssignment{}, false
	}
	return migration.NumberAssignment{TelephoneNumber: number, NumberSource: source, NumberType: "directRouting",
		AssignmentTargetID: idOf(id), ActivationState: "activated"}, true
}

// LineCleared reports how many clearings of a user's LineURI on premises
// took effect (a call cancelled before it answered took none), and whether
// their number is assigned online.
func (s *Shell) LineCleared(identity string) (clears int, assigned bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(identity)
	return u.clears, u.assigned != ""
}
