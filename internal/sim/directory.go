package sim

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/cutover/cutover/internal/migration"
)

// HomedOnline reports whether a simulated user is homed online now.
func (s *Shell) HomedOnline(identity string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user(identity).online
}

// DirectoryUser is a simulated user as Entra ID shows them, consistent with
// the shell: a user the shell cannot find is not in the directory either
// (ok is false); a user the shell refuses for want of a licence has no
// Teams or Skype for Business Online plan; a user whose licence is still
// provisioning had it assigned when the directory was first asked about them;
// an Enterprise Voice user holds Teams Phone (MCOEV), unless KindVoiceNoPhone.
func (s *Shell) DirectoryUser(identity string) (u migration.DirectoryUser, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := migration.NormalizeAddress(identity)
	su := s.user(id)
	if su.b.Kind == KindNotFound {
		return u, false
	}
	local, domain, _ := strings.Cut(id, "@")
	u = migration.DirectoryUser{
		ID:             s.objectID(id),
		UPN:            id,
		DisplayName:    displayName(local),
		Enabled:        su.b.Kind != KindDisabled,
		SyncEnabled:    su.b.Kind != KindNotSynced,
		UsageLocation:  []string{"US", "GB", "DE", "FR", "NL"}[int(s.unit(id, "country")*5)],
		ProxyAddresses: []string{"SMTP:" + id, "SIP:" + id},
	}
	if u.SyncEnabled {
		u.ImmutableID = base64.StdEncoding.EncodeToString([]byte(s.objectID(id))[:16])
	}
	if su.b.Kind == KindNoUsageLocation {
		u.UsageLocation = ""
	}
	if su.b.Kind == KindSIPMismatch {
		u.ProxyAddresses[1] = "SIP:" + local + ".old@" + domain
	}
	if su.listed.IsZero() {
		su.listed = time.Now()
	}
	if su.b.Kind != KindLicenceMissing {
		assigned := su.seen.Add(-400 * 24 * time.Hour)
		if su.b.Kind == KindLicenceProvisioning {
			assigned = su.listed
		}
		u.Plans = []migration.AssignedPlan{
			{ID: migration.PlanTeams1, Service: "TeamspaceAPI", Status: "Enabled", AssignedAt: assigned},
			{ID: migration.PlanMCOStandard, Service: "MicrosoftCommunicationsOnline", Status: "Enabled", AssignedAt: assigned},
		}
		if s.voice(id, su) && su.b.Kind != KindVoiceNoPhone {
			u.Plans = append(u.Plans, migration.AssignedPlan{ID: migration.PlanMCOEV, Service: "MicrosoftCommunicationsOnline", Status: "Enabled", AssignedAt: assigned})
		}
	}
	return u, true
}

// objectID is a user's stable directory object ID (a GUID) under the seed.
func (s *Shell) objectID(id string) string {
	a, b := s.unit(id, "oid-a"), s.unit(id, "oid-b")
	x, y := uint64(a*(1<<53)), uint64(b*(1<<53))
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", x>>21, (x>>5)&0xffff, y&0xfff, (y>>12)&0xfff, (x^y)&0xffffffffffff)
}

// displayName makes "Alice Chen" of "alice.chen".
func displayName(local string) string {
	parts := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	for i, p := range parts {
		r := []rune(p)
		r[0] = unicode.ToUpper(r[0])
		parts[i] = string(r)
	}
	return strings.Join(parts, " ")
}
