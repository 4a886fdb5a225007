// Command fakepwsh stands in for PowerShell in the driver's tests. It speaks
// the script's protocol (a JSON request per line on standard input, a JSON
// answer per line on standard output) and answers from a state file that
// several processes may share:
//
//	FAKEPWSH_STATE  JSON: {"users": {"upn": {"kind": "...", "failures": n, "online": bool}}}
//	FAKEPWSH_LOG    a line per call is appended: "op identity" ("start" per process)
//	FAKEPWSH_STARTUP  a duration the process takes to start (module load)
//	FAKEPWSH_DELAY    a duration each call takes
//
// Kinds are the simulated tenant's (internal/sim), plus the ways a shell
// process goes wrong: hang, crash, garbage, huge, noanswer.
package main

import (
	"bufio"
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
	Kind     string `json:"kind"`
	Failures int    `json:"failures"`
	Online   bool   `json:"online"`
	Pool     string `json:"pool"`
	Moves    int    `json:"moves"`
}

type state struct {
	Users map[string]*user `json:"users"`
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
		var req struct {
			Op, Identity, Target, Pool string
		}
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
		answer(serve(req.Op, migration.NormalizeAddress(req.Identity), req.Pool))
	}
}

// serve carries out a request and returns the answer to give (nil: none).
func serve(op, id, pool string) any {
	f, st := lockState()
	defer unlockState(f, st)
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
		fmt.Fprintln(os.Stderr, "Unhandled exception: the process ran out of memory")
		os.Exit(3)
	case "noanswer":
		os.Exit(0)
	case "garbage":
		fmt.Println("WARNING: The names of some imported commands include unapproved verbs.")
		return nil
	case "huge":
		fmt.Println(strings.Repeat("x", 2<<20))
		return nil
	}
	kind := sim.Kind(u.Kind)
	fail := func(msg string) any {
		return map[string]any{"ok": false, "error": map[string]string{"type": "Microsoft.Rtc.Management.AD.ManagementException", "message": msg}}
	}
	switch op {
	case "get-user":
		if msg := sim.FailureMessage(kind, id, true); msg != "" {
			return fail(msg)
		}
		su := migration.ShellUser{Identity: id, SipAddress: "sip:" + id, HostingProvider: "SRV:", RegistrarPool: u.Pool,
			Policies: map[string]string{"ClientPolicy": "Standard"}}
		if u.Online || kind == sim.KindAlreadyOnline {
			su.HostingProvider, su.RegistrarPool = migration.OnlineHostingProvider, ""
		}
		return map[string]any{"ok": true, "user": su}
	case "move-online":
		msg := sim.FailureMessage(kind, id, false)
		if kind == sim.KindNotSyncedBack {
			msg = "" // only moves back fail
		}
		if msg != "" && (!kind.Transient() || u.Failures > 0) {
			if kind.Transient() {
				u.Failures--
			}
			return fail(msg)
		}
		if !u.Online {
			u.Online = true
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
