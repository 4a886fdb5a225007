// Package pwsh drives the Skype for Business Server management shell through
// PowerShell: the on-premises shell seam (migration.Shell) for a real
// server. It runs a script shipped inside the binary (shell.ps1) with
// -NoProfile -NonInteractive, sends it one JSON request on standard input and
// reads one JSON answer from standard output. Failures come back with the
// exception's type and message, which the error catalogue classifies exactly
// as it does the simulated shell's.
//
// Every call has a time-out; a cancelled or timed-out call kills the whole
// process tree. Standard error is kept (bounded) for the error message;
// credentials travel on standard input only and appear in no error or log.
package pwsh

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

//go:embed shell.ps1
var script []byte

// Config configures the driver. Zero values take the documented defaults.
type Config struct {
	// Executable is the PowerShell to run. Defaults to powershell.exe on
	// Windows and pwsh elsewhere.
	Executable string
	// PoolFQDN, if set, makes the script open a remote session to this
	// front-end pool instead of importing the SkypeForBusiness module.
	PoolFQDN string
	// DomainController, if set, is passed to Get-CsUser and Move-CsUser as
	// -DomainController: in a forest of several domains, Move-CsUser finds
	// users of another domain only so ("Cannot find user in Active
	// Directory with the following SIP URI": MicrosoftDocs/SupportArticles-docs
	// SkypeForBusiness/SkypeHybrid/hybrid-move-sfb-online/cannot-move-users-from-different-ad-domain.md).
	DomainController string
	// HostedMigrationOverrideURL is passed to Move-CsUser when set.
	HostedMigrationOverrideURL string
	// Credential, if set, gives the account the script runs Move-CsUser
	// (and the remote session) as. It is read for every call, so a secret
	// store can rotate it.
	Credential func(ctx context.Context) (user, password string, err error)
	// CallTimeout bounds one call. Defaults to 5 minutes.
	CallTimeout time.Duration
	// MaxOutput bounds what a call may write to standard output and to
	// standard error. Defaults to 1 MiB.
	MaxOutput int
	// Env is added to the shell process's environment (KEY=value), e.g. a
	// PSModulePath.
	Env []string
	// Sessions is how many long-lived PowerShell processes to keep, each
	// fed request after request, so that a call does not pay for loading
	// the module or opening the remote session (seconds). 0 runs a process
	// per call.
	Sessions int
	// SessionMaxAge retires a session after this long (remote sessions
	// expire). Defaults to 30 minutes.
	SessionMaxAge time.Duration
}

// Shell is a migration.Shell on PowerShell.
type Shell struct {
	cfg    Config
	script string // path of shell.ps1, written out at New
	pool   *sessionPool
}

var _ migration.Shell = (*Shell)(nil)

// New writes the script to a directory of its own and returns the driver.
// Close removes it.
func New(cfg Config) (*Shell, error) {
	if cfg.Executable == "" {
		cfg.Executable = "pwsh"
		if runtime.GOOS == "windows" {
			cfg.Executable = "powershell.exe"
		}
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 5 * time.Minute
	}
	if cfg.MaxOutput <= 0 {
		cfg.MaxOutput = 1 << 20
	}
	if cfg.SessionMaxAge <= 0 {
		cfg.SessionMaxAge = 30 * time.Minute
	}
	dir, err := os.MkdirTemp("", "cutover-pwsh-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "shell.ps1")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s := &Shell{cfg: cfg, script: path}
	if cfg.Sessions > 0 {
		s.pool = newSessionPool(s, cfg.Sessions)
	}
	return s, nil
}

// Close ends the sessions and removes the script written out by New.
func (s *Shell) Close() error {
	if s.pool != nil {
		s.pool.close()
	}
	return os.RemoveAll(filepath.Dir(s.script))
}

// command is the PowerShell process running the script.
func (s *Shell) command(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.cfg.Executable, "-NoProfile", "-NonInteractive", "-File", s.script)
	killTree(cmd)
	if len(s.cfg.Env) > 0 {
		cmd.Env = append(os.Environ(), s.cfg.Env...)
	}
	return cmd
}

// request is what the script reads.
type request struct {
	Op               string      `json:"op"`
	Identity         string      `json:"identity"`
	Target           string      `json:"target,omitempty"`
	Pool             string      `json:"pool,omitempty"`
	BypassEVCheck    bool        `json:"bypass_enterprise_voice_check,omitempty"`
	DomainController string      `json:"domain_controller,omitempty"`
	OverrideURL      string      `json:"override_url,omitempty"`
	PoolFQDN         string      `json:"pool_fqdn,omitempty"`
	PhoneNumber      string      `json:"phone_number,omitempty"`
	Credential       *credential `json:"credential,omitempty"`
}

type credential struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// answer is what the script writes.
type answer struct {
	OK   bool                 `json:"ok"`
	User *migration.ShellUser `json:"user"`
	Host *migration.HostFacts `json:"host"`
	// Users is voice-users' answer.
	Users []migration.ShellUser `json:"users"`
	// OnPrem is hybrid-config's answer.
	OnPrem *migration.OnPremises `json:"on_premises"`
	// Meetings is meeting-migration's answer (nil: none shown).
	Meetings *migration.MeetingMigration `json:"meetings"`
	Error    *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// Error is a failure the shell reported: the exception's type and message.
type Error struct {
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Message + " (" + e.Type + ")" }

// Unwrap says what the exception's type tells: a
// PSRemotingTransportException is a broken remote session
// (migration.ErrSessionBroken).
func (e *Error) Unwrap() error {
	if e.Type == "System.Management.Automation.Remoting.PSRemotingTransportException" {
		return migration.ErrSessionBroken
	}
	return nil
}

// ErrProtocol marks answers the script should never give: none, malformed,
// too large. Such calls are classified as unknown errors.
var ErrProtocol = errors.New("the management shell gave no valid answer")

// GetUser implements migration.Shell with Get-CsUser.
func (s *Shell) GetUser(ctx context.Context, identity string) (migration.ShellUser, error) {
	a, err := s.call(ctx, request{Op: "get-user", Identity: identity})
	if err != nil {
		return migration.ShellUser{}, err
	}
	if a.User == nil {
		return migration.ShellUser{}, fmt.Errorf("%w: Get-CsUser answered without a user", ErrProtocol)
	}
	return *a.User, nil
}

// MoveOnline implements migration.Shell with Move-CsUser -Target ProxyFqdn
// (and -BypassEnterpriseVoiceCheck when asked).
func (s *Shell) MoveOnline(ctx context.Context, identity string, opts migration.MoveOnlineOptions) error {
	_, err := s.call(ctx, request{Op: "move-online", Identity: identity, Target: opts.TargetOrDefault(), BypassEVCheck: opts.BypassEnterpriseVoiceCheck})
	return err
}

// CheckHost implements migration.Shell: the script's check-host, read-only.
func (s *Shell) CheckHost(ctx context.Context) (migration.HostFacts, error) {
	a, err := s.call(ctx, request{Op: "check-host"})
	if err != nil {
		return migration.HostFacts{}, err
	}
	if a.Host == nil {
		return migration.HostFacts{}, fmt.Errorf("%w: check-host answered without the host's facts", ErrProtocol)
	}
	f := *a.Host
	f.SignInMode = migration.SignInSession
	if s.cfg.Credential != nil {
		f.SignInMode = migration.SignInCredential
		if user, _, err := s.cfg.Credential(ctx); err == nil {
			f.Account = user // the account Move-CsUser -Credential signs in as
		}
	}
	return f, nil
}

// VoiceUsers implements migration.Shell with the script's voice-users
// (Get-CsUser -Filter {EnterpriseVoiceEnabled -eq $True}), matched to
// members by UPN or SIP address.
func (s *Shell) VoiceUsers(ctx context.Context, members []migration.Member) (map[string]migration.ShellUser, error) {
	a, err := s.call(ctx, request{Op: "voice-users"})
	if err != nil {
		return nil, err
	}
	byAddress := make(map[string]migration.ShellUser, len(a.Users))
	for _, u := range a.Users {
		byAddress[migration.NormalizeAddress(u.Identity)] = u
		byAddress[migration.NormalizeAddress(u.SipAddress)] = u
	}
	out := map[string]migration.ShellUser{}
	for _, m := range members {
		if u, ok := byAddress[migration.NormalizeAddress(m.UPN)]; ok {
			out[m.UPN] = u
		} else if u, ok := byAddress[migration.NormalizeAddress(m.SIP)]; ok {
			out[m.UPN] = u
		}
	}
	return out, nil
}

// MeetingMigration implements migration.CompletionShell with the script's
// meeting-migration: Get-CsMeetingMigrationStatus -Identity, signed in to
// Teams with the shell's credential.
func (s *Shell) MeetingMigration(ctx context.Context, identity string) (migration.MeetingMigration, bool, error) {
	a, err := s.call(ctx, request{Op: "meeting-migration", Identity: identity})
	if err != nil || a.Meetings == nil {
		return migration.MeetingMigration{}, false, err
	}
	return *a.Meetings, true, nil
}

// StartMeetingMigration implements migration.CompletionShell with the
// script's start-meeting-migration: Start-CsExMeetingMigration -Identity
// -TargetMeetingType Teams, signed in to Teams.
func (s *Shell) StartMeetingMigration(ctx context.Context, identity string) error {
	_, err := s.call(ctx, request{Op: "start-meeting-migration", Identity: identity})
	return err
}

// ClearLineURI implements migration.CompletionShell with the script's
// clear-line-uri: Set-CsUser -Identity -LineURI $null, on premises.
func (s *Shell) ClearLineURI(ctx context.Context, identity string) error {
	_, err := s.call(ctx, request{Op: "clear-line-uri", Identity: identity})
	return err
}

// AssignNumber implements migration.CompletionShell with the script's
// assign-number: Set-CsPhoneNumberAssignment -Identity -PhoneNumber
// -PhoneNumberType DirectRouting, signed in to Teams.
func (s *Shell) AssignNumber(ctx context.Context, identity, number string) error {
	_, err := s.call(ctx, request{Op: "assign-number", Identity: identity, PhoneNumber: number})
	return err
}

// OnPremises implements migration.Shell with the script's hybrid-config:
// Get-CsHostingProvider and Get-CsAccessEdgeConfiguration.
func (s *Shell) OnPremises(ctx context.Context) (migration.OnPremises, error) {
	a, err := s.call(ctx, request{Op: "hybrid-config"})
	if err != nil {
		return migration.OnPremises{}, err
	}
	if a.OnPrem == nil {
		return migration.OnPremises{}, fmt.Errorf("%w: hybrid-config answered without the configuration", ErrProtocol)
	}
	return *a.OnPrem, nil
}

// MoveToPool implements migration.Shell with Move-CsUser -Target pool.
func (s *Shell) MoveToPool(ctx context.Context, identity, pool string) error {
	_, err := s.call(ctx, request{Op: "move-to-pool", Identity: identity, Pool: pool})
	return err
}

// call sends one request to the script: to a session if there are any,
// else to a process of its own.
func (s *Shell) call(ctx context.Context, req request) (answer, error) {
	req.OverrideURL, req.PoolFQDN, req.DomainController = s.cfg.HostedMigrationOverrideURL, s.cfg.PoolFQDN, s.cfg.DomainController
	if s.cfg.Credential != nil {
		user, password, err := s.cfg.Credential(ctx)
		if err != nil {
			return answer{}, fmt.Errorf("management shell credential: %w", err)
		}
		req.Credential = &credential{User: user, Password: password}
	}
	line, err := json.Marshal(req)
	if err != nil {
		return answer{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	if s.pool != nil {
		return s.pool.call(ctx, req, line)
	}

	cmd := s.command(ctx)
	cmd.Stdin = bytes.NewReader(append(line, '\n'))
	stdout := &limitedBuffer{max: s.cfg.MaxOutput}
	stderr := &limitedBuffer{max: 4096}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return answer{}, fmt.Errorf("management shell call %s %s: %w", req.Op, req.Identity, ctx.Err())
	}
	if stdout.overflow {
		return answer{}, fmt.Errorf("%w: its answer is larger than %d bytes", ErrProtocol, s.cfg.MaxOutput)
	}
	out := bytes.TrimSpace(stdout.Bytes())
	if len(out) == 0 {
		why := "exited"
		if runErr != nil {
			why = runErr.Error()
		}
		return answer{}, fmt.Errorf("%w: PowerShell %s without an answer%s", ErrProtocol, why, stderrNote(stderr))
	}
	if i := bytes.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:] // the answer is the last line
	}
	exit := ""
	if runErr != nil {
		exit = "; PowerShell " + runErr.Error()
	}
	return parseAnswer(out, exit+stderrNote(stderr))
}

// parseAnswer reads the script's answer line; note is added to protocol
// errors (how the process ended, its standard error).
func parseAnswer(out []byte, note string) (answer, error) {
	var a answer
	if err := json.Unmarshal(out, &a); err != nil {
		return answer{}, fmt.Errorf("%w: the answer is not JSON (%.120q)%s", ErrProtocol, out, note)
	}
	if !a.OK {
		if a.Error == nil {
			return answer{}, fmt.Errorf("%w: a failure without an error", ErrProtocol)
		}
		return answer{}, &Error{Type: a.Error.Type, Message: a.Error.Message}
	}
	return a, nil
}

func stderrNote(b *limitedBuffer) string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return ""
	}
	return "; standard error: " + s
}

// limitedBuffer keeps at most max bytes and notes whether more came. (It
// holds its buffer rather than embedding it: an embedded bytes.Buffer's
// ReadFrom would let io.Copy write past the limit.)
type limitedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.overflow = true
		b.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *limitedBuffer) Bytes() []byte  { return b.buf.Bytes() }
func (b *limitedBuffer) String() string { return b.buf.String() }

var _ io.Writer = (*limitedBuffer)(nil)
