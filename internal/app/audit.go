package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/store"
)

// The audit log in sentences: what each entry did, or was refused, in
// words that name the group, wave or user.

// AuditView is an entry of the audit log with what it says.
type AuditView struct {
	store.AuditEntry
	// Says is the entry in a sentence, without who: "paused wave 1 of
	// Pilot: Finance", "tried to roll back wave 1 of Pilot: Finance;
	// refused: …".
	Says string `json:"says"`
	// OK says that the change was made.
	OK bool `json:"ok"`
}

// phrase is what an action did, and what trying it was, with %s for its
// object where it has one; what, if set, names the action in the log's
// filter (else try, of an object in general).
type phrase struct{ did, try, what string }

// AuditAction names a change in the audit log: one name for each, whoever
// asked for it (the API, the pages, the command line).
type AuditAction string

// The audit log's actions.
const (
	AuditGroupImport           AuditAction = "group import"
	AuditGroupPlan             AuditAction = "group plan"
	AuditGroupDryRun           AuditAction = "group dry run"
	AuditGroupPause            AuditAction = "group pause"
	AuditGroupResume           AuditAction = "group resume"
	AuditGroupUsersLeaveOut    AuditAction = "group users leave out"
	AuditGroupUsersPutBack     AuditAction = "group users put back"
	AuditWaveDryRun            AuditAction = "wave dry run"
	AuditWavePause             AuditAction = "wave pause"
	AuditWaveResume            AuditAction = "wave resume"
	AuditWaveCancel            AuditAction = "wave cancel"
	AuditWaveRollBack          AuditAction = "wave roll back"
	AuditWaveRetryFailed       AuditAction = "wave retry failed"
	AuditWaveReschedule        AuditAction = "wave reschedule"
	AuditWaveMembers           AuditAction = "wave members"
	AuditWaveOverrideReadiness AuditAction = "wave override readiness"
	AuditWaveConfirmRouting    AuditAction = "wave confirm routing"
	AuditWaveApproveNumbers    AuditAction = "wave approve numbers"
	AuditWaveUsersRetry        AuditAction = "wave users retry"
	AuditWaveUsersRollBack     AuditAction = "wave users roll back"
	AuditUserRetry             AuditAction = "user retry"
	AuditUserRollBack          AuditAction = "user roll back"
	AuditUserMigrateMeetings   AuditAction = "user migrate meetings"
	AuditReadinessCheck        AuditAction = "readiness check"
	AuditMaxInFlight           AuditAction = "settings max-in-flight"
	AuditWebhookAdd            AuditAction = "webhook add"
	AuditWebhookRemove         AuditAction = "webhook remove"
	AuditTokenCreate           AuditAction = "token create"
	AuditTokenRevoke           AuditAction = "token revoke"
	AuditSessionRevoke         AuditAction = "session revoke"
	AuditSignIn                AuditAction = "sign in"
	AuditSignOut               AuditAction = "sign out"
)

// auditPhrases says each action in words.
var auditPhrases = map[AuditAction]phrase{
	AuditGroupImport:           {did: "imported pilot group %s", try: "import pilot group %s", what: "import a pilot group"},
	AuditGroupPlan:             {did: "planned %s", try: "plan %s"},
	AuditGroupDryRun:           {did: "ran the dry run of %s", try: "run the dry run of %s"},
	AuditGroupPause:            {did: "paused every wave of %s", try: "pause every wave of %s"},
	AuditGroupResume:           {did: "resumed the paused waves of %s", try: "resume the paused waves of %s"},
	AuditGroupUsersLeaveOut:    {did: "left chosen users of %s out of its plan", try: "leave chosen users of %s out of its plan"},
	AuditGroupUsersPutBack:     {did: "put chosen users of %s back into its plan", try: "put chosen users of %s back into its plan"},
	AuditWaveDryRun:            {did: "ran the dry run of %s", try: "run the dry run of %s"},
	AuditWavePause:             {did: "paused %s", try: "pause %s"},
	AuditWaveResume:            {did: "resumed %s", try: "resume %s"},
	AuditWaveCancel:            {did: "cancelled %s", try: "cancel %s"},
	AuditWaveRollBack:          {did: "rolled back %s", try: "roll back %s"},
	AuditWaveRetryFailed:       {did: "retried the failed users of %s", try: "retry the failed users of %s"},
	AuditWaveReschedule:        {did: "rescheduled %s", try: "reschedule %s"},
	AuditWaveMembers:           {did: "changed the users of %s", try: "change the users of %s"},
	AuditWaveOverrideReadiness: {did: "started %s despite the readiness check", try: "start %s despite the readiness check"},
	AuditWaveConfirmRouting:    {did: "confirmed that the SBC routes the numbers of %s to Direct Routing", try: "confirm the SBC's routing for %s"},
	AuditWaveApproveNumbers:    {did: "approved moving the numbers of %s to online management", try: "approve moving the numbers of %s"},
	AuditWaveUsersRetry:        {did: "retried chosen users of %s", try: "retry chosen users of %s"},
	AuditWaveUsersRollBack:     {did: "rolled back chosen users of %s", try: "roll back chosen users of %s"},
	AuditUserRetry:             {did: "moved %s again", try: "move %s again"},
	AuditUserRollBack:          {did: "rolled %s back on premises", try: "roll %s back on premises"},
	AuditUserMigrateMeetings:   {did: "asked that Microsoft migrate the meetings of %s again", try: "ask that Microsoft migrate the meetings of %s again"},
	AuditReadinessCheck:        {did: "asked the workers to check readiness now", try: "ask for a readiness check"},
	AuditMaxInFlight:           {did: "changed the cap on moves in flight", try: "change the cap on moves in flight"},
	AuditWebhookAdd:            {did: "added a webhook", try: "add a webhook"},
	AuditWebhookRemove:         {did: "removed a webhook", try: "remove a webhook"},
	AuditTokenCreate:           {did: "made an API token", try: "make an API token"},
	AuditTokenRevoke:           {did: "revoked an API token", try: "revoke an API token"},
	AuditSessionRevoke:         {did: "ended someone's session", try: "end a session"},
	AuditSignIn:                {did: "signed in", try: "sign in"},
	AuditSignOut:               {did: "signed out", try: "sign out"},
}

// legacyNames are the names the API wrote its entries under before every
// front end named an action alike (its routes, until 2026-12): the audit
// log is append-only, so its old entries are read through this, never
// rewritten. It does not grow.
var legacyNames = map[string]AuditAction{
	"POST /api/v1/groups":                        AuditGroupImport,
	"POST /api/v1/groups/{id}/plan":              AuditGroupPlan,
	"POST /api/v1/groups/{id}/preflight":         AuditGroupDryRun,
	"POST /api/v1/groups/{id}/pause":             AuditGroupPause,
	"POST /api/v1/groups/{id}/resume":            AuditGroupResume,
	"POST /api/v1/groups/{id}/users/leave-out":   AuditGroupUsersLeaveOut,
	"POST /api/v1/groups/{id}/users/put-back":    AuditGroupUsersPutBack,
	"POST /api/v1/waves/{id}/preflight":          AuditWaveDryRun,
	"POST /api/v1/waves/{id}/pause":              AuditWavePause,
	"POST /api/v1/waves/{id}/resume":             AuditWaveResume,
	"POST /api/v1/waves/{id}/cancel":             AuditWaveCancel,
	"POST /api/v1/waves/{id}/rollback":           AuditWaveRollBack,
	"POST /api/v1/waves/{id}/retry-failed":       AuditWaveRetryFailed,
	"POST /api/v1/waves/{id}/reschedule":         AuditWaveReschedule,
	"POST /api/v1/waves/{id}/members":            AuditWaveMembers,
	"POST /api/v1/waves/{id}/override-readiness": AuditWaveOverrideReadiness,
	"POST /api/v1/waves/{id}/users/retry":        AuditWaveUsersRetry,
	"POST /api/v1/waves/{id}/users/rollback":     AuditWaveUsersRollBack,
	"POST /api/v1/users/{identity}/retry":        AuditUserRetry,
	"POST /api/v1/users/{identity}/rollback":     AuditUserRollBack,
	"POST /api/v1/readiness/check":               AuditReadinessCheck,
	"PUT /api/v1/settings":                       AuditMaxInFlight,
	"POST /api/v1/webhooks":                      AuditWebhookAdd,
	"DELETE /api/v1/webhooks/{id}":               AuditWebhookRemove,
	"POST /api/v1/tokens":                        AuditTokenCreate,
	"DELETE /api/v1/tokens/{id}":                 AuditTokenRevoke,
	"DELETE /api/v1/sessions/{id}":               AuditSessionRevoke,
	"POST /ui/signin":                            AuditSignIn,
	"POST /ui/signout":                           AuditSignOut,
}

// actionOf is the action an entry's name stands for, old names included.
func actionOf(name string) (AuditAction, bool) {
	if a, ok := legacyNames[name]; ok {
		return a, true
	}
	_, ok := auditPhrases[AuditAction(name)]
	return AuditAction(name), ok
}

// AuditActions are the actions the audit log's filter offers, by the words
// a person picks them by: each is every name an action is recorded under,
// old names included.
var AuditActions = []struct {
	Words   string
	Actions []string
}{}

func init() {
	byWords := map[string][]string{}
	var order []string
	names := map[AuditAction][]string{}
	for action := range auditPhrases {
		names[action] = append(names[action], string(action))
	}
	for old, action := range legacyNames {
		names[action] = append(names[action], old)
	}
	for action, p := range auditPhrases {
		w := p.what
		if w == "" {
			w = strings.Replace(p.try, "%s", objectKind(action), 1)
		}
		if _, ok := byWords[w]; !ok {
			order = append(order, w)
		}
		byWords[w] = append(byWords[w], names[action]...)
	}
	slices.Sort(order)
	for _, w := range order {
		slices.Sort(byWords[w])
		AuditActions = append(AuditActions, struct {
			Words   string
			Actions []string
		}{Words: w, Actions: byWords[w]})
	}
}

// objectKind names what an action is to, in general: "a wave".
func objectKind(action AuditAction) string {
	kind, _, _ := strings.Cut(string(action), " ")
	switch kind {
	case "wave":
		return "a wave"
	case "group":
		return "a group"
	case "user":
		return "a user"
	}
	return "it"
}

// auditSays says an entry in a sentence, without who.
func auditSays(e store.AuditEntry) (string, bool) {
	ok := e.Outcome == "ok"
	action, known := actionOf(e.Action)
	p := auditPhrases[action]
	if !known {
		p = phrase{did: e.Action + " " + e.Target, try: e.Action + " " + e.Target}
	}
	object := ""
	switch {
	case e.WaveName != "":
		object = e.WaveName + " of " + e.GroupName
	case e.GroupName != "":
		object = e.GroupName
	case e.Subject != "":
		object = e.Subject
	}
	fill := func(s string) string {
		if strings.Contains(s, "%s") {
			return fmt.Sprintf(s, objectOr(object))
		}
		if object != "" && action != AuditSignIn {
			return s + " (" + object + ")"
		}
		return s
	}
	if ok {
		return fill(p.did), true
	}
	says := "tried to " + fill(p.try) + "; " + e.Outcome
	if e.Detail != "" {
		says += ": " + e.Detail
	}
	return says, false
}

// TryWords says in words what trying an action is ("pause this wave"),
// of an object named so: for a refusal.
func TryWords(action AuditAction, object string) string {
	p, ok := auditPhrases[action]
	if !ok {
		return "make this change"
	}
	if strings.Contains(p.try, "%s") {
		return fmt.Sprintf(p.try, object)
	}
	return p.try
}

func objectOr(object string) string {
	if object == "" {
		return "it"
	}
	return object
}

// AuditLog returns the entries f chooses, newest first, each in a sentence.
func (s *Service) AuditLog(ctx context.Context, f store.AuditFilter) ([]AuditView, error) {
	entries, err := s.q().AuditList(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]AuditView, len(entries))
	for i, e := range entries {
		out[i].AuditEntry = e
		out[i].Says, out[i].OK = auditSays(e)
	}
	return out, nil
}

// AuditActors returns everyone in the audit log.
func (s *Service) AuditActors(ctx context.Context) ([]string, error) { return s.q().AuditActors(ctx) }
