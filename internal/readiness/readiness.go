// Package readiness runs cutover's checks against Microsoft Graph on demand:
// the tenant's readiness, and a dry run of the per-user checks for a whole
// group or wave before it starts, storing each user's result.
package readiness

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// TenantReadiness is the tenant's readiness: every check and the worst outcome.
type TenantReadiness struct {
	Status    migration.CheckStatus `json:"status"`
	CheckedAt time.Time             `json:"checked_at"`
	Tenant    string                `json:"tenant"`
	Checks    []migration.Check     `json:"checks"`
}

// Tenant checks the tenant for the SIP domains and users of every pilot group.
func Tenant(ctx context.Context, q *store.Queries, dir migration.Directory, now time.Time, maxSyncAge time.Duration) (TenantReadiness, error) {
	tctx, cancel := context.WithTimeout(ctx, tenantWait)
	t, err := dir.Tenant(tctx)
	cancel()
	if err != nil {
		return TenantReadiness{}, err
	}
	domains, err := q.SIPDomains(ctx)
	if err != nil {
		return TenantReadiness{}, err
	}
	toMove, err := q.UsersToMove(ctx)
	if err != nil {
		return TenantReadiness{}, err
	}
	checks := migration.TenantReadiness(t, domains, toMove, now, maxSyncAge)
	return TenantReadiness{Status: migration.Worst(checks), CheckedAt: now, Tenant: t.DisplayName, Checks: checks}, nil
}

// UserResult is one user's outcome in a dry run: the checks that did not
// pass (all of them pass otherwise).
type UserResult struct {
	UPN    string                `json:"upn"`
	Status migration.CheckStatus `json:"status"`
	Checks []migration.Check     `json:"checks"`
}

// Report is the outcome of a dry run over many users.
type Report struct {
	CheckedAt time.Time                `json:"checked_at"`
	Checked   int                      `json:"checked"`
	Passed    int                      `json:"passed"`
	Warned    int                      `json:"warned"`
	Failed    int                      `json:"failed"`
	ByCode    []migration.FailureCount `json:"by_code"`
	Users     []UserResult             `json:"users"` // those with a warning or a failure
	// Voice lists the members enabled for Enterprise Voice on premises,
	// with their numbers: a workstream of their own. VoiceUnread counts the
	// members whose voice settings no worker has read yet.
	Voice       []VoiceUser `json:"voice_users"`
	VoiceUnread int         `json:"voice_unread"`
}

// VoiceUser is an Enterprise Voice user of a dry run.
type VoiceUser struct {
	UPN        string `json:"upn"`
	LineURI    string `json:"line_uri"`
	TeamsPhone bool   `json:"teams_phone"` // holds the Teams Phone (MCOEV) plan
}

// Members runs the per-user checks for members (in batches through the
// directory), stores each member's result and reports them.
func Members(ctx context.Context, q *store.Queries, dir migration.Directory, members []store.GroupMember, now time.Time, licenceSettle time.Duration) (Report, error) {
	r := Report{CheckedAt: now, Users: []UserResult{}, ByCode: []migration.FailureCount{}, Voice: []VoiceUser{}}
	if len(members) == 0 {
		return r, nil
	}
	t, err := dir.Tenant(ctx)
	if err != nil {
		return r, err
	}
	upns := make([]string, len(members))
	for i, m := range members {
		upns[i] = m.UPN
	}
	found, err := dir.Users(ctx, upns)
	if err != nil {
		return r, err
	}
	counts := map[migration.ErrorCode]int{}
	ids := make([]int64, len(members))
	results := make([][]migration.Check, len(members))
	for i, m := range members {
		var du *migration.DirectoryUser
		if u, ok := found[m.UPN]; ok {
			du = &u
		}
		checks := migration.UserPreflight(du, m.Member, t, now, licenceSettle)
		switch {
		case m.Voice == nil:
			r.VoiceUnread++
		case du != nil && m.Voice.EnterpriseVoiceEnabled:
			// Without the wave's bypass: the dry run says what a move would meet.
			if c := migration.VoiceCheck(du, *m.Voice, false); c != nil {
				checks = append(checks, *c)
				r.Voice = append(r.Voice, VoiceUser{UPN: m.UPN, LineURI: m.Voice.LineURI, TeamsPhone: c.Status == migration.CheckPass})
			}
		}
		ids[i], results[i] = m.ID, checks
		r.Checked++
		res := UserResult{UPN: m.UPN, Status: migration.Worst(checks)}
		switch res.Status {
		case migration.CheckPass:
			r.Passed++
			continue
		case migration.CheckWarn:
			r.Warned++
		case migration.CheckFail:
			r.Failed++
		}
		for _, c := range checks {
			if c.Status != migration.CheckPass {
				res.Checks = append(res.Checks, c)
			}
			if c.Status == migration.CheckFail {
				counts[c.Code]++
				break // the move would stop at the first failure
			}
		}
		r.Users = append(r.Users, res)
	}
	if err := q.PreflightSaveMany(ctx, ids, results, now); err != nil {
		return r, err
	}
	for code, n := range counts {
		r.ByCode = append(r.ByCode, migration.FailureCount{Failure: migration.FailureFor(code), Count: n})
	}
	slices.SortFunc(r.ByCode, func(a, b migration.FailureCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return r, nil
}

// Skipped is a directory user left out of an import, and why.
type Skipped struct {
	UPN    string `json:"upn"`
	Reason string `json:"reason"`
}

// GroupMembers reads an Entra ID group's users (nested groups followed) as
// pilot group members: the SIP address from proxyAddresses (else the UPN),
// disabled accounts left out and reported.
func GroupMembers(ctx context.Context, dir migration.Directory, groupID string) ([]migration.Member, []Skipped, error) {
	users, err := dir.GroupUsers(ctx, groupID)
	if err != nil {
		return nil, nil, err
	}
	var members []migration.Member
	skipped := []Skipped{}
	for _, u := range users {
		if !u.Enabled {
			skipped = append(skipped, Skipped{UPN: u.UPN, Reason: "account disabled"})
			continue
		}
		m := migration.Member{UPN: u.UPN, DisplayName: u.DisplayName}
		for _, p := range u.ProxyAddresses {
			if prefix, addr, ok := strings.Cut(p, ":"); ok && strings.EqualFold(prefix, "sip") {
				m.SIP = addr
				break
			}
		}
		members = append(members, m)
	}
	return members, skipped, nil
}

// Section is one part of the deployment's readiness report.
type Section struct {
	Name      string                `json:"name"`
	Title     string                `json:"title"`
	Status    migration.CheckStatus `json:"status"`
	CheckedAt *time.Time            `json:"checked_at,omitempty"`
	CheckedBy string                `json:"checked_by,omitempty"`
	Checks    []migration.Check     `json:"checks"`
}

// Deployment is the whole readiness report: every worker host, the worker
// processes alive and lost, the tenant, the on-premises configuration and
// DNS, and what holds moves now.
type Deployment struct {
	Status    migration.CheckStatus `json:"status"`
	Holds     []store.Hold          `json:"holds"`
	Hosts     []store.WorkerHost    `json:"hosts"`
	Processes []store.WorkerProcess `json:"processes"`
	Sections  []Section             `json:"sections"`
}

// processesLostWithin is how recently a worker process found dead is
// reported.
const processesLostWithin = 24 * time.Hour

// hostsSeenWithin is how recently a worker host must have checked in to be
// reported.
const hostsSeenWithin = 15 * time.Minute

// tenantWait bounds the look at the tenant of a readiness report, so that a
// Graph that does not answer leaves the report shown, saying so.
const tenantWait = 10 * time.Second

// DeploymentReadiness reports the deployment's readiness from what the
// workers last recorded, with the tenant read from Graph now (dir may be
// nil), unless the workers hold moves because Graph does not answer.
func DeploymentReadiness(ctx context.Context, q *store.Queries, dir migration.Directory, now time.Time, maxSyncAge time.Duration) (Deployment, error) {
	d := Deployment{Status: migration.CheckPass, Holds: []store.Hold{}, Hosts: []store.WorkerHost{}, Processes: []store.WorkerProcess{}, Sections: []Section{}}
	var err error
	if d.Holds, err = q.Holds(ctx); err != nil {
		return d, err
	}
	if d.Hosts, err = q.HostList(ctx, now.Add(-hostsSeenWithin)); err != nil {
		return d, err
	}
	var hostChecks []migration.Check
	for _, h := range d.Hosts {
		for _, c := range h.Checks {
			c.Name = h.Host + " (" + h.ID + "): " + c.Name
			hostChecks = append(hostChecks, c)
		}
	}
	if d.Processes, err = q.Processes(ctx, now.Add(-processesLostWithin)); err != nil {
		return d, err
	}
	for _, p := range d.Processes {
		if p.EndedAt != nil && p.Lost {
			hostChecks = append(hostChecks, migration.Check{Name: p.Host + " (" + p.ID + "): process", Status: migration.CheckWarn,
				Evidence: "lost at " + p.EndedAt.UTC().Format("2006-01-02 15:04:05 UTC") + ": " + p.EndReason + "; its slots were freed and its moves handed to live workers",
				Fix:      "Nothing for the moves. Find out why the process died (killed, host lost, cut off from the database) and start it again."})
		}
	}
	if len(d.Hosts) == 0 {
		hostChecks = append(hostChecks, migration.Check{Name: "worker_hosts", Status: migration.CheckWarn,
			Evidence: "no worker host has checked in within " + hostsSeenWithin.String(), Fix: "Start a worker (cutover serve --role workers) on the Skype for Business Server host."})
	}
	d.Sections = append(d.Sections, Section{Name: "hosts", Title: "Worker hosts", Checks: hostChecks})
	graphHold := slices.IndexFunc(d.Holds, func(h store.Hold) bool { return h.Code == migration.CodeGraphUnavailable })
	switch {
	case dir != nil && graphHold >= 0:
		// The workers found Graph not answering: the report says so at
		// once, rather than waiting on Graph itself.
		h := d.Holds[graphHold]
		d.Sections = append(d.Sections, Section{Name: "tenant", Title: "Tenant", CheckedAt: &now, Checks: []migration.Check{{
			Name: "graph", Status: migration.CheckFail, Code: h.Code, Evidence: h.Reason + " (" + h.Evidence + ")",
			Fix: migration.FailureFor(h.Code).Fix}}})
	case dir != nil:
		t, err := Tenant(ctx, q, dir, now, maxSyncAge)
		switch de, ok := errors.AsType[*migration.DirectoryError](err); {
		case ok:
			// Graph down or refusing cutover: the report still shows, and
			// says so (the workers hold moves for it).
			f := migration.Classify(de)
			d.Sections = append(d.Sections, Section{Name: "tenant", Title: "Tenant", CheckedAt: &now, Checks: []migration.Check{{
				Name: "graph", Status: migration.CheckFail, Code: f.Code, Evidence: de.Error(), Fix: f.Fix}}})
		case err != nil:
			return d, err
		default:
			d.Sections = append(d.Sections, Section{Name: "tenant", Title: "Tenant (" + t.Tenant + ")", CheckedAt: &t.CheckedAt, Checks: t.Checks})
		}
	default:
		d.Sections = append(d.Sections, Section{Name: "tenant", Title: "Tenant", Checks: []migration.Check{{Name: "graph", Status: migration.CheckWarn,
			Evidence: "cutover has no Microsoft Graph connection", Fix: "Set CUTOVER_GRAPH and the app registration's credentials."}}})
	}
	stored, err := q.ReadinessList(ctx)
	if err != nil {
		return d, err
	}
	titles := map[string]string{migration.SectionAccount: "Migration account", migration.SectionOnPremises: "On premises", migration.SectionDNS: "DNS"}
	for _, name := range []string{migration.SectionAccount, migration.SectionOnPremises, migration.SectionDNS} {
		s := Section{Name: name, Title: titles[name]}
		i := slices.IndexFunc(stored, func(r store.ReadinessSection) bool { return r.Section == name })
		if i < 0 {
			s.Checks = []migration.Check{{Name: name, Status: migration.CheckWarn, Evidence: "not checked yet",
				Fix: "A ready worker host checks it; for DNS, give the workers --dns-server."}}
		} else {
			s.Checks, s.CheckedAt, s.CheckedBy = stored[i].Checks, &stored[i].CheckedAt, stored[i].CheckedBy
		}
		d.Sections = append(d.Sections, s)
	}
	var all []migration.Check
	for i := range d.Sections {
		d.Sections[i].Status = migration.Worst(d.Sections[i].Checks)
		all = append(all, d.Sections[i].Checks...)
	}
	d.Status = migration.Worst(all)
	if len(d.Holds) > 0 {
		d.Status = migration.CheckFail
	}
	return d, nil
}
