// Command fakepwsh stands in for PowerShell in the driver's tests. It speaks
// the script's protocol (a JSON request per line on standard input, a JSON
// answer per line on standard output) and answers from a state file that
// several processes may share:
//
//	FAKEPWSH_STATE  JSON: {"users": {"upn": {"kind": "...", "failures": n, "online": bool, "meetings": {...}}}}
//	FAKEPWSH_LOG    a line per call is appended: "op identity" ("start" per process)
//	FAKEPWSH_STARTUP  a duration the process takes to start (module load)
//	FAKEPWSH_DELAY    a duration each call takes
//
// A check-host request answers the state's host facts (a module missing or
// too old, an old server build, a sign-in that fails); with a sign-in error
// set, every move call fails with it, as Move-CsUser signing in to Teams
// would.
//
// Kinds are the simulated tenant's (internal/sim), answered with the same
// published messages, plus the ways a shell process goes wrong: hang,
// crash, garbage, huge, noanswer, and broken (a remote session that broke:
// PowerShell's PSRemotingTransportException). A time-out is a call that
// does not answer: the driver's call time-out ends it. Each user records
// the Move-CsUser parameters of its last move call (params).
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
)

type user struct {
	Kind     string   `json:"kind"`
	Failures int      `json:"failures"`
	Online   bool     `json:"online"`
	Pool     string   `json:"pool"`
	Moves    int      `json:"moves"`
	Provider string   `json:"provider,omitempty"` // HostingProvider while online
	Voice    string   `json:"voice,omitempty"`    // the LineURI of an Enterprise Voice user
	Params   []string `json:"params,omitempty"`   // of the last Move-CsUser
	// Meetings is what Get-CsMeetingMigrationStatus shows (none when nil).
	Meetings *migration.MeetingMigration `json:"meetings,omitempty"`
	// Cleared counts Set-CsUser -LineURI $null; Assigned is the number
	// Set-CsPhoneNumberAssignment gave the user.
	Cleared  int    `json:"cleared,omitempty"`
	Assigned string `json:"assigned,omitempty"`
	// Triggered counts Start-CsExMeetingMigration.
	Triggered int `json:"triggered,omitempty"`
}

// request is what the driver sends (the fields the fake reads).
type request struct {
	Op, Identity, Target, Pool string
	Bypass                     bool   `json:"bypass_enterprise_voice_check"`
	DomainController           string `json:"domain_controller"`
	PhoneNumber                string `json:"phone_number"`
}

type state struct {
	Users map[string]*user `json:"users"`
	// Host is what check-host answers (sim.DefaultHost when absent). With
	// SignIn set, every move call fails with it.
	Host *migration.HostFacts `json:"host,omitempty"`
	// OnPremises is what hybrid-config answers (sim.DefaultOnPremises for
	// the default target when absent).
	OnPremises *migration.OnPremises `json:"on_premises,omitempty"`
}

func main() {
	logCall("start")
	if d, err := time.ParseDuration(os.Getenv("FAKEPWSH_STARTUP")); err == nil {
		time.Sleep(d) // what loading the SkypeForBusiness module costs
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		var req request
		if err := json.Unmarshal([]byte(line), &req); err != nil {
			answer(map[string]any{"ok": false, "error": map[string]string{"type": "System.ArgumentException", "message": err.Error()}})
			continue
		}
		logCall(req.Op + " " + req.Identity)
		if d, err := time.ParseDuration(os.Getenv("FAKEPWSH_DELAY")); err == nil {
			time.Sleep(d)
		}
		// The state is saved before the answer goes out: the driver may
		// kill this process as soon as it has its answer.
		answer(serve(req))
	}
}

// serve carries out a request and returns the answer to give (nil: none).
func serve(req request) any {
	op, id, pool := req.Op, migration.NormalizeAddress(req.Identity), req.Pool
	f, st := lockState()
	defer unlockState(f, st)
	host := sim.DefaultHost
	if st.Host != nil {
		host = *st.Host
	}
	switch op {
	case "check-host":
		return map[string]any{"ok": true, "host": host}
	case "voice-users":
		users := []migration.ShellUser{}
		for upn, u := range st.Users {
			if u.Voice != "" {
				users = append(users, migration.ShellUser{Identity: upn, SipAddress: "sip:" + upn, EnterpriseVoiceEnabled: true, LineURI: u.Voice})
			}
		}
		return map[string]any{"ok": true, "users": users}
	case "hybrid-config":
		o := sim.DefaultOnPremises("")
		if st.OnPremises != nil {
			o = *st.OnPremises
		}
		return map[string]any{"ok": true, "on_premises": o}
	}
	if host.SignIn != "" && (op == "move-online" || op == "move-to-pool") {
		return map[string]any{"ok": false, "error": map[string]string{"type": "Microsoft.Rtc.Management.AD.ManagementException", "message": host.SignIn}}
	}
	u := st.Users[id]
	if u == nil {
		u = &user{Kind: string(sim.KindOK)}
		st.Users[id] = u
	}
	if u.Pool == "" {
		_, domain, _ := strings.Cut(id, "@")
		u.Pool = "pool01." + domain
	}
	switch u.Kind {
	case "hang":
		// A child that outlives nobody: the driver must kill the tree.
		child := exec.Command("sleep", "300")
		_ = child.Start()
		if p := os.Getenv("FAKEPWSH_CHILD"); p != "" && child.Process != nil {
			_ = os.WriteFile(p, []byte(fmt.Sprint(child.Process.Pid)), 0o600)
		}
		unlockState(f, st)
		time.Sleep(time.Hour)
	case "crash":
		fmt.Print(`{"ok": tr`)
		fmt.Fprintln(os.Stderr, "fakepwsh: crashed on purpose")
		os.Exit(3)
	case "noanswer":
		os.Exit(0)
	case "garbage":
		fmt.Println("<not an answer>")
		return nil
	case "broken":
		return map[string]any{"ok": false, "error": map[string]string{"type": "System.Management.Automation.Remoting.PSRemotingTransportException", "message": ""}}
	case "huge":
		fmt.Println(strings.Repeat("x", 2<<20))
		return nil
	}
	kind := sim.Kind(u.Kind)
	fail := func(msg string) any {
		return map[string]any{"ok": false, "error": map[string]string{"type": "Microsoft.Rtc.Management.AD.ManagementException", "message": msg}}
	}
	switch op {
	case "meeting-migration":
		return map[string]any{"ok": true, "meetings": u.Meetings}
	case "start-meeting-migration":
		u.Triggered++
		return map[string]any{"ok": true}
	case "clear-line-uri":
		if msg := sim.FailureMessage(kind, id, true); msg != "" {
			return fail(msg)
		}
		u.Voice = ""
		u.Cleared++
		return map[string]any{"ok": true}
	case "assign-number":
		u.Assigned = req.PhoneNumber
		return map[string]any{"ok": true}
	case "get-user":
		if msg := sim.FailureMessage(kind, id, true); msg != "" {
			return fail(msg)
		}
		su := migration.ShellUser{Identity: id, SipAddress: "sip:" + id, HostingProvider: "SRV:", RegistrarPool: u.Pool,
			EnterpriseVoiceEnabled: u.Voice != "", LineURI: u.Voice, Policies: map[string]string{"ClientPolicy": "Standard"}}
		if u.Online || kind == sim.KindAlreadyOnline {
			su.HostingProvider, su.RegistrarPool = cmp.Or(u.Provider, migration.DefaultOnlineTarget), ""
		}
		return map[string]any{"ok": true, "user": su}
	case "move-online":
		u.Params = []string{"-Identity", req.Identity, "-Target", req.Target}
		if req.Bypass {
			u.Params = append(u.Params, "-BypassEnterpriseVoiceCheck")
		}
		if req.DomainController != "" {
			u.Params = append(u.Params, "-DomainController", req.DomainController)
		}
		failing := kind != sim.KindNotSyncedBack && kind != sim.KindOK && kind != sim.KindAlreadyOnline && // only moves back fail 506
			!(kind == sim.KindOtherDomain && req.DomainController != "") && // found with -DomainController
			(!kind.Transient() || u.Failures > 0)
		if kind.Transient() && failing {
			u.Failures--
		}
		if failing && kind == sim.KindTimeout {
			unlockState(f, st)
			time.Sleep(time.Hour) // no answer: the driver's time-out ends the call
		}
		if msg := sim.FailureMessage(kind, id, false); failing && msg != "" {
			return fail(msg)
		}
		if !u.Online {
			u.Online, u.Provider = true, req.Target
			u.Moves++
		}
		return map[string]any{"ok": true}
	case "move-to-pool":
		if kind == sim.KindNotFound || kind == sim.KindNotSyncedBack {
			return fail(sim.FailureMessage(kind, id, false))
		}
		u.Online, u.Pool = false, pool
		return map[string]any{"ok": true}
	}
	return fail("unknown operation '" + op + "'")
}

func answer(v any) {
	if v == nil {
		return
	}
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func logCall(line string) {
	p := os.Getenv("FAKEPWSH_LOG")
	if p == "" {
		return
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(line + "\n")
}

// lockState opens and locks the state file (several fake shells may run at
// once) and reads it.
func lockState() (*os.File, *state) {
	st := &state{Users: map[string]*user{}}
	p := os.Getenv("FAKEPWSH_STATE")
	if p == "" {
		return nil, st
	}
	f, err := os.OpenFile(p+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
	if raw, err := os.ReadFile(p); err == nil {
		_ = json.Unmarshal(raw, st)
	}
	if st.Users == nil {
		st.Users = map[string]*user{}
	}
	return f, st
}

// unlockState saves the state (written whole, then renamed into place, so
// that a process killed meanwhile leaves the old state) and unlocks it.
func unlockState(f *os.File, st *state) {
	if f == nil {
		return
	}
	b, _ := json.Marshal(st)
	p := os.Getenv("FAKEPWSH_STATE")
	tmp := fmt.Sprintf("%s.%d", p, os.Getpid())
	if os.WriteFile(tmp, b, 0o600) == nil {
		_ = os.Rename(tmp, p)
	}
	_ = f.Close() // releases the lock
}
