// Package sim is the simulated tenant: an on-premises management shell with
// per-user homing state and a configurable, seeded mix of the failures real
// migrations meet. The demo, the tests and the benchmarks move users against
// it; a migration lead can rehearse a plan with it.
//
// Beside the shell (shell.go, served over HTTP by remote.go) it serves a
// simulated Microsoft Graph (graph*.go) and a simulated Entra ID sign-in
// (signin*.go, whose pages are the templates in web/). They speak only the
// messages Microsoft publishes (messages.go, entra_texts.go).
package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

// Kind is a way a simulated user's move goes.
type Kind string

// The kinds of simulated user.
const (
	KindOK                  Kind = "ok"
	KindAlreadyOnline       Kind = "already_online"
	KindNotFound            Kind = "not_found"
	KindLicenceMissing      Kind = "licence_missing"
	KindTenantNotEnabled    Kind = "tenant_not_enabled"
	KindLicenceProvisioning Kind = "licence_provisioning"
	KindTimeout             Kind = "timeout" // the call does not answer within the shell time-out
	// Rarer failures of the shell and the hosted migration service.
	KindOtherDomain   Kind = "other_domain"    // in a child domain: Move-CsUser finds the user only with -DomainController
	KindNotSyncedBack Kind = "not_synced_back" // moving back fails: attributes not synchronised (506)
	// Kinds only Microsoft Graph shows (the shell moves these users).
	KindDisabled        Kind = "disabled"          // account disabled in Entra ID
	KindNotSynced       Kind = "not_synced"        // cloud-only: not synchronised from AD
	KindNoUsageLocation Kind = "no_usage_location" // no usage location set
	KindSIPMismatch     Kind = "sip_mismatch"      // proxyAddresses hold another SIP address
	KindVoiceNoPhone    Kind = "voice_no_phone"    // Enterprise Voice on premises, no Teams Phone (MCOEV) licence
)

// Mix is the share of users (0 to 1) of each kind; the rest move cleanly.
type Mix map[Kind]float64

// DefaultMix is a plausible pilot group: mostly clean moves, a few users
// online already, a few permanent failures, some that need a retry or two.
var DefaultMix = Mix{
	KindAlreadyOnline:       0.05,
	KindNotFound:            0.02,
	KindLicenceMissing:      0.03,
	KindTenantNotEnabled:    0.01,
	KindLicenceProvisioning: 0.04,
	KindTimeout:             0.10,
	KindDisabled:            0.01,
	KindNotSynced:           0.01,
	KindNoUsageLocation:     0.01,
	KindSIPMismatch:         0.02,
	KindVoiceNoPhone:        0.02,
}

// Kinds returns every kind of simulated user.
func Kinds() []Kind {
	return append([]Kind{KindOK, KindOtherDomain, KindNotSyncedBack}, mixOrder...)
}

// mixOrder fixes the order in which Mix bands are laid out, so that a seed
// gives the same users the same kinds on every run.
var mixOrder = []Kind{KindAlreadyOnline, KindNotFound, KindLicenceMissing, KindTenantNotEnabled,
	KindLicenceProvisioning, KindTimeout, KindDisabled, KindNotSynced, KindNoUsageLocation,
	KindSIPMismatch, KindVoiceNoPhone}

// Behaviour is how one simulated user responds.
type Behaviour struct {
	Kind Kind
	// Failures is how many move calls fail before one succeeds, for the
	// transient kinds (licence_provisioning, timeout).
	Failures int
	// Lands makes a timed-out move call take effect all the same (the move
	// happened; only the answer was lost).
	Lands bool
	// Meetings is what the Meeting Migration Service makes of the user's
	// meetings once moved; "" draws it from the seed (MeetingsFromSeed).
	Meetings MeetingsFate
}

// ShellConfig configures a simulated shell.
type ShellConfig struct {
	// Seed picks each user's behaviour from the mix. Defaults to 1.
	Seed int64
	// Mix is the share of users of each kind. Defaults to DefaultMix; an
	// empty, non-nil Mix makes every move clean.
	Mix Mix
	// Latency is the mean time a call takes; each call takes between half
	// and one and a half times it. Defaults to 0.
	Latency time.Duration
	// MoveLatency is the mean time a move call (Move-CsUser) takes, which
	// on a real server is far longer than a read. Defaults to Latency.
	MoveLatency time.Duration
	// Target is the ProxyFqdn of the deployment's hosting provider: users
	// online already show it as their HostingProvider. Defaults to
	// migration.DefaultOnlineTarget.
	Target string
	// Meetings is the simulated Meeting Migration Service's timing.
	// Defaults to Microsoft's (SimMeetingsTiming).
	Meetings MeetingsTiming
	// DirectorySync is how long a change on premises (a LineURI cleared)
	// takes to reach Teams. Defaults to DefaultDirectorySync.
	DirectorySync time.Duration
}

// Calls counts the shell calls made for one user.
type Calls struct {
	GetUser    int `json:"get_user"`
	MoveOnline int `json:"move_online"`
	MoveToPool int `json:"move_to_pool"`
	// MeetingStatus counts Get-CsMeetingMigrationStatus.
	MeetingStatus int `json:"meeting_status"`
	// ClearLineURI counts Set-CsUser -LineURI $null; AssignNumber
	// Set-CsPhoneNumberAssignment.
	ClearLineURI int `json:"clear_line_uri"`
	AssignNumber int `json:"assign_number"`
	// StartMeetings counts Start-CsExMeetingMigration.
	StartMeetings int `json:"start_meetings"`
}

// Stats are totals over every simulated user.
type Stats struct {
	Calls       Calls `json:"calls"`
	MovesOnline int   `json:"moves_online"` // move calls that took effect
	InFlight    int   `json:"in_flight"`    // move calls running now
	MaxInFlight int   `json:"max_in_flight"`
	// MeanInFlight is the average number of move calls running, over the
	// time from the first move call to the start of the last: while work
	// remained.
	MeanInFlight float64    `json:"mean_in_flight"`
	FirstMoveAt  *time.Time `json:"first_move_at,omitempty"`
	LastMoveAt   *time.Time `json:"last_move_at,omitempty"` // when the last move call started
}

type simUser struct {
	b        Behaviour
	seen     time.Time // when the tenant first heard of the user
	listed   time.Time // when the directory was first asked about the user
	online   bool
	provider string                      // HostingProvider while online
	lastMove migration.MoveOnlineOptions // the options of the last move call
	pool     string
	failures int // failed move calls so far
	calls    Calls
	moves    int       // move calls that took effect
	movedAt  time.Time // when the last move online took effect
	// lineCleared is when the user's LineURI was cleared on premises;
	// assigned the number assigned to them online.
	lineCleared time.Time
	assigned    string
	clears      int // clearings that took effect
	// meetingsTriggered is when Start-CsExMeetingMigration last took
	// effect for the user, triggers how many times it did.
	meetingsTriggered time.Time
	triggers          int
}

// Shell is a simulated Skype for Business management shell. It is safe for
// concurrent use and deterministic under its seed: a user's behaviour depends
// only on the seed, the mix and the user.
type Shell struct {
	cfg ShellConfig
	// Freezer stops the shell answering (every call, the host check and
	// the reads of the configuration too) until it thaws.
	Freezer

	mu     sync.Mutex
	host   migration.HostFacts
	onPrem migration.OnPremises
	users  map[string]*simUser
	// byNumber finds a voice user by their number; assignedOnline by the
	// number assigned to them online.
	byNumber, assignedOnline map[string]string
	inFlight                 int
	stats                    Stats
	// The integral of inFlight over time, to the last change and to the
	// start of the last move call.
	busy, busyAtLastStart time.Duration
	changed               time.Time
	// sessionBreaks is how many of the next user calls fail as the remote
	// session breaking under them.
	sessionBreaks int
	// slow is how much longer every call for a user takes now (SlowDown).
	slow time.Duration
}

// SlowDown makes every call for a user (Get-CsUser, Move-CsUser) take d
// longer, as a server under strain does, while the reads that touch no
// user (the probes) answer as before. Zero ends it.
func (s *Shell) SlowDown(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow = d
}

var _ migration.Shell = (*Shell)(nil)

// BreakSessions makes the next n calls for a user (Get-CsUser, Move-CsUser)
// fail as a remote PowerShell session that broke under them
// (migration.ErrSessionBroken): a fault of the worker's host, not the
// user's.
func (s *Shell) BreakSessions(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessionBreaks = n
}

// NewShell returns a simulated shell.
func NewShell(cfg ShellConfig) *Shell {
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix
	}
	cfg.Target = migration.MoveOnlineOptions{Target: cfg.Target}.TargetOrDefault()
	s := &Shell{cfg: cfg, users: map[string]*simUser{}, byNumber: map[string]string{}, assignedOnline: map[string]string{}, host: DefaultHost, onPrem: DefaultOnPremises(cfg.Target)}
	s.users[MigrationAccount] = &simUser{b: Behaviour{Kind: KindOK}, provider: cfg.Target, pool: "pool01.contoso.com", seen: time.Now()} // the migration account: a clean, synchronised account
	return s
}

// DefaultOnPremises is a hybrid deployment configured as Microsoft's hybrid
// page configures it (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Skype/SfbHybrid/hybrid/configure-federation-with-skype-for-business-online.md),
// for the hosting provider whose ProxyFqdn is target.
func DefaultOnPremises(target string) migration.OnPremises {
	target = migration.MoveOnlineOptions{Target: target}.TargetOrDefault()
	p := migration.HostingProvider{Identity: "Office365", ProxyFqdn: target, Enabled: true, EnabledSharedAddressSpace: true,
		HostsOCSUsers: true, VerificationLevel: "UseSourceVerification"}
	if target == migration.DefaultOnlineTarget {
		p.AutodiscoverURL = "https://webdir.online.lync.com/Autodiscover/AutodiscoverService.svc/root"
	}
	return migration.OnPremises{HostingProviders: []migration.HostingProvider{p},
		AccessEdge: migration.AccessEdge{AllowFederatedUsers: true, AllowOutsideUsers: true, EnablePartnerDiscovery: true, RoutingMethod: "UseDnsSrvRouting"}}
}

// VoiceUsers implements migration.Shell: the members the simulator makes
// Enterprise Voice users (three in ten, and every KindVoiceNoPhone).
func (s *Shell) VoiceUsers(ctx context.Context, members []migration.Member) (map[string]migration.ShellUser, error) {
	if err := s.Freezer.wait(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]migration.ShellUser{}
	for _, m := range members {
		id := migration.NormalizeAddress(m.UPN)
		if u := s.user(id); u.b.Kind != KindNotFound && s.voice(id, u) {
			out[m.UPN] = migration.ShellUser{Identity: id, SipAddress: "sip:" + migration.NormalizeAddress(m.SIP),
				EnterpriseVoiceEnabled: true, LineURI: s.lineURI(id)}
			s.numberOf(id)
		}
	}
	return out, ctx.Err()
}

// lineURI is an Enterprise Voice user's number.
func (s *Shell) lineURI(id string) string {
	return fmt.Sprintf("tel:+1425555%04d", int(s.unit(id, "line")*10000))
}

// SetOnPremises changes the simulated on-premises hybrid configuration.
func (s *Shell) SetOnPremises(o migration.OnPremises) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onPrem = o
}

// OnPremises implements migration.Shell.
func (s *Shell) OnPremises(ctx context.Context) (migration.OnPremises, error) {
	if err := s.Freezer.wait(ctx); err != nil {
		return migration.OnPremises{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.onPrem, ctx.Err()
}

// DefaultHost is a simulated worker host that passes every readiness check:
// Windows PowerShell 5.1, MicrosoftTeams 6.2.1, Skype for Business Server
// 2019 CU6, TLS 1.2, a dedicated account.
var DefaultHost = migration.HostFacts{PSEdition: "Desktop", PSVersion: "5.1.17763.6054", TeamsModule: "6.2.1",
	ServerProduct: "Skype for Business Server 2019", ServerBuild: "7.0.2046.385", TLS12: true, SignInMode: migration.SignInCredential,
	Account: MigrationAccount}

// MigrationAccount is the account the simulated host's Move-CsUser signs
// in with: a .onmicrosoft.com account, which needs no override URL, and a
// Teams Administrator in the simulated Graph (DefaultAccountRoles).
const MigrationAccount = "cutover.mover@contoso.onmicrosoft.com"

// SetHost changes what the simulated host reports of itself. With SignIn
// set, every move call fails with it (as Move-CsUser signing in to Teams
// would), while Get-CsUser, which stays on premises, works.
func (s *Shell) SetHost(f migration.HostFacts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.host = f
}

// CheckHost implements migration.Shell.
func (s *Shell) CheckHost(ctx context.Context) (migration.HostFacts, error) {
	if err := s.Freezer.wait(ctx); err != nil {
		return migration.HostFacts{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host, ctx.Err()
}

// SetBehaviour fixes how a user behaves, overriding the mix. A user made
// KindAlreadyOnline is homed online; otherwise the homing does not change.
func (s *Shell) SetBehaviour(identity string, b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(identity)
	u.b = b
	u.online = u.online || b.Kind == KindAlreadyOnline // a change of behaviour leaves the homing alone
}

// BehaviourOf returns how a user behaves.
func (s *Shell) BehaviourOf(identity string) Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user(identity).b
}

// CallsFor returns the calls made for a user.
func (s *Shell) CallsFor(identity string) Calls {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user(identity).calls
}

// MovesFor returns how many move calls took effect for a user: more than one
// means the user was moved twice.
func (s *Shell) MovesFor(identity string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user(identity).moves
}

// Stats returns totals over every user.
func (s *Shell) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.InFlight = s.inFlight
	if st.FirstMoveAt != nil && st.LastMoveAt.After(*st.FirstMoveAt) {
		st.MeanInFlight = float64(s.busyAtLastStart) / float64(st.LastMoveAt.Sub(*st.FirstMoveAt))
	}
	return st
}

// user returns the simulated user, made from the seed on first sight. s.mu is held.
func (s *Shell) user(identity string) *simUser {
	id := migration.NormalizeAddress(identity)
	u, ok := s.users[id]
	if !ok {
		b := s.behaviourFromMix(id)
		_, domain, _ := strings.Cut(id, "@")
		u = &simUser{b: b, online: b.Kind == KindAlreadyOnline, provider: s.cfg.Target, pool: "pool01." + domain, seen: time.Now()}
		s.users[id] = u
	}
	return u
}

func (s *Shell) behaviourFromMix(id string) Behaviour {
	r := s.unit(id, "kind")
	for _, k := range mixOrder {
		if r < s.cfg.Mix[k] {
			b := Behaviour{Kind: k}
			switch k {
			case KindLicenceProvisioning, KindTimeout:
				b.Failures = 1 + int(s.unit(id, "failures")*2) // 1 or 2
				b.Lands = k == KindTimeout && s.unit(id, "lands") < 0.5
			}
			return b
		}
		r -= s.cfg.Mix[k]
	}
	return Behaviour{Kind: KindOK}
}

// voice reports whether a user is enabled for Enterprise Voice on premises:
// three users in ten, and every KindVoiceNoPhone user.
func (s *Shell) voice(id string, u *simUser) bool {
	return u.b.Kind == KindVoiceNoPhone || s.unit(id, "voice") < 0.3
}

// unit returns a number in [0, 1) from the seed, a user and a purpose.
func (s *Shell) unit(id, purpose string) float64 { return draw(s.cfg.Seed, id, purpose) }

// draw returns a number in [0, 1) that depends only on the seed and the
// parts: the simulator's one source of chance, so that a seed replays.
func draw(seed int64, parts ...string) float64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d", seed)
	for _, p := range parts {
		_, _ = h.Write([]byte{0})
		_, _ = io.WriteString(h, p)
	}
	// FNV barely moves its high bits when only the last bytes differ: mix
	// them (the splitmix64 finaliser) before taking the top 53.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / float64(1<<53)
}

// wait sleeps for a call's latency, or until ctx is done.
func (s *Shell) wait(ctx context.Context, id string, call int, latency time.Duration) error {
	if latency <= 0 {
		return ctx.Err()
	}
	d := time.Duration(float64(latency) * (0.5 + s.unit(id, fmt.Sprint("latency", call))))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// call counts a call for a user (counter picks which), waits for its latency
// and returns the user with s.mu held; on an error (ctx done) it is not held.
func (s *Shell) call(ctx context.Context, identity string, counter func(*Calls) *int, salt int) (*simUser, error) {
	if err := s.Freezer.wait(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.sessionBreaks > 0 {
		s.sessionBreaks--
		s.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", identity, migration.ErrSessionBroken)
	}
	u := s.user(identity)
	*counter(&u.calls)++
	*counter(&s.stats.Calls)++
	n := *counter(&u.calls)
	slow := s.slow
	s.mu.Unlock()
	if slow > 0 {
		t := time.NewTimer(slow)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	latency := s.cfg.Latency
	if salt == moveSalt && s.cfg.MoveLatency > 0 {
		latency = s.cfg.MoveLatency
	}
	if err := s.wait(ctx, identity, salt+n, latency); err != nil {
		return nil, err
	}
	s.mu.Lock()
	return u, nil
}

// GetUser reads a simulated user, like Get-CsUser.
func (s *Shell) GetUser(ctx context.Context, identity string) (migration.ShellUser, error) {
	u, err := s.call(ctx, identity, func(c *Calls) *int { return &c.GetUser }, 0)
	if err != nil {
		return migration.ShellUser{}, err
	}
	defer s.mu.Unlock()
	if u.b.Kind == KindNotFound {
		return migration.ShellUser{}, FailureError(u.b.Kind, identity, true)
	}
	id := migration.NormalizeAddress(identity)
	su := migration.ShellUser{
		Identity:               id,
		SipAddress:             "sip:" + id,
		HostingProvider:        "SRV:",
		RegistrarPool:          u.pool,
		EnterpriseVoiceEnabled: s.voice(id, u),
		Policies:               map[string]string{"ConferencingPolicy": "Default", "ClientPolicy": "Standard"},
	}
	if su.EnterpriseVoiceEnabled && u.lineCleared.IsZero() {
		su.LineURI = s.lineURI(id)
		s.numberOf(id)
	}
	if u.online {
		su.HostingProvider, su.RegistrarPool = u.provider, ""
	}
	return su, nil
}

// MoveOptionsFor returns the options of the last move call for a user (what
// Move-CsUser was given).
func (s *Shell) MoveOptionsFor(identity string) migration.MoveOnlineOptions {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user(identity).lastMove
}

// MoveOnline moves a simulated user online, like Move-CsUser -Target
// ProxyFqdn, failing as the user's behaviour says.
func (s *Shell) MoveOnline(ctx context.Context, identity string, opts migration.MoveOnlineOptions) error {
	s.mu.Lock()
	now := s.account(+1)
	if s.stats.FirstMoveAt == nil {
		s.stats.FirstMoveAt = &now
	}
	s.stats.LastMoveAt, s.busyAtLastStart = &now, s.busy
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.inFlight)
	s.mu.Unlock()
	u, err := s.call(ctx, identity, func(c *Calls) *int { return &c.MoveOnline }, moveSalt)
	if err != nil {
		s.mu.Lock()
		s.account(-1)
		s.mu.Unlock()
		return err
	}
	defer s.mu.Unlock()
	s.account(-1)
	u.lastMove = opts
	if s.host.SignIn != "" {
		return errors.New(s.host.SignIn)
	}
	switch u.b.Kind {
	case KindNotFound, KindLicenceMissing, KindTenantNotEnabled, KindOtherDomain:
		return FailureError(u.b.Kind, identity, false)
	}
	// A licence provisioning while Graph was asked (the directory shows it
	// assigned then) is provisioned once the pre-flight lets the move
	// through; without Graph, the shell's 507 is the only sign.
	provisioned := u.b.Kind == KindLicenceProvisioning && !u.listed.IsZero()
	if u.b.Kind.Transient() && u.failures < u.b.Failures && !provisioned {
		u.failures++
		if u.b.Kind == KindTimeout && u.b.Lands && !u.online {
			s.land(u, opts.TargetOrDefault())
		}
		return FailureError(u.b.Kind, identity, false)
	}
	if !u.online {
		s.land(u, opts.TargetOrDefault())
	}
	return nil
}

// moveSalt marks move calls' latency draws (and gives them MoveLatency).
const moveSalt = 1000

// account changes the count of move calls running by delta, adding the time
// since the last change to the integral first. s.mu is held.
func (s *Shell) account(delta int) time.Time {
	now := time.Now()
	if !s.changed.IsZero() {
		s.busy += time.Duration(s.inFlight) * now.Sub(s.changed)
	}
	s.changed = now
	s.inFlight += delta
	return now
}

func (s *Shell) land(u *simUser, provider string) {
	u.online, u.provider, u.movedAt = true, provider, time.Now()
	u.moves++
	s.stats.MovesOnline++
}

// MoveToPool moves a simulated user back on premises, like Move-CsUser
// -Target pool.
func (s *Shell) MoveToPool(ctx context.Context, identity, pool string) error {
	u, err := s.call(ctx, identity, func(c *Calls) *int { return &c.MoveToPool }, 2000)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.host.SignIn != "" {
		return errors.New(s.host.SignIn)
	}
	if u.b.Kind == KindNotFound || u.b.Kind == KindNotSyncedBack {
		return FailureError(u.b.Kind, identity, false)
	}
	u.online, u.pool = false, pool
	return nil
}
