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
// object where it has one.
type phrase struct{ did, try string }

// auditPhrases says each action in words, by the route a front end names it
// with and by the use case's own name.
var auditPhrases = map[string]phrase{
	"POST /api/v1/groups":                        {"imported pilot group %s", "import pilot group %s"},
	"group import":                               {"imported pilot group %s", "import pilot group %s"},
	"POST /api/v1/groups/{id}/plan":              {"planned %s", "plan %s"},
	"group plan":                                 {"planned %s", "plan %s"},
	"POST /api/v1/groups/{id}/preflight":         {"ran the dry run of %s", "run the dry run of %s"},
	"POST /api/v1/groups/{id}/pause":             {"paused every wave of %s", "pause every wave of %s"},
	"group pause":                                {"paused every wave of %s", "pause every wave of %s"},
	"POST /api/v1/groups/{id}/resume":            {"resumed the paused waves of %s", "resume the paused waves of %s"},
	"group resume":                               {"resumed the paused waves of %s", "resume the paused waves of %s"},
	"POST /api/v1/waves/{id}/preflight":          {"ran the dry run of %s", "run the dry run of %s"},
	"POST /api/v1/waves/{id}/pause":              {"paused %s", "pause %s"},
	"wave pause":                                 {"paused %s", "pause %s"},
	"POST /api/v1/waves/{id}/resume":             {"resumed %s", "resume %s"},
	"wave resume":                                {"resumed %s", "resume %s"},
	"POST /api/v1/waves/{id}/cancel":             {"cancelled %s", "cancel %s"},
	"wave cancel":                                {"cancelled %s", "cancel %s"},
	"POST /api/v1/waves/{id}/rollback":           {"rolled back %s", "roll back %s"},
	"wave roll back":                             {"rolled back %s", "roll back %s"},
	"POST /api/v1/waves/{id}/retry-failed":       {"retried the failed users of %s", "retry the failed users of %s"},
	"wave retry failed":                          {"retried the failed users of %s", "retry the failed users of %s"},
	"POST /api/v1/waves/{id}/reschedule":         {"rescheduled %s", "reschedule %s"},
	"wave reschedule":                            {"rescheduled %s", "reschedule %s"},
	"POST /api/v1/waves/{id}/members":            {"changed the users of %s", "change the users of %s"},
	"wave members":                               {"changed the users of %s", "change the users of %s"},
	"POST /api/v1/waves/{id}/override-readiness": {"started %s despite the readiness check", "start %s despite the readiness check"},
	"wave override readiness":                    {"started %s despite the readiness check", "start %s despite the readiness check"},
	"POST /api/v1/waves/{id}/users/retry":        {"retried chosen users of %s", "retry chosen users of %s"},
	"wave users retry":                           {"retried chosen users of %s", "retry chosen users of %s"},
	"POST /api/v1/waves/{id}/users/rollback":     {"rolled back chosen users of %s", "roll back chosen users of %s"},
	"wave users roll back":                       {"rolled back chosen users of %s", "roll back chosen users of %s"},
	"POST /api/v1/users/{identity}/retry":        {"moved %s again", "move %s again"},
	"user retry":                                 {"moved %s again", "move %s again"},
	"POST /api/v1/users/{identity}/rollback":     {"rolled %s back on premises", "roll %s back on premises"},
	"user roll back":                             {"rolled %s back on premises", "roll %s back on premises"},
	"POST /api/v1/readiness/check":               {"asked the workers to check readiness now", "ask for a readiness check"},
	"readiness check":                            {"asked the workers to check readiness now", "ask for a readiness check"},
	"PUT /api/v1/settings":                       {"changed the cap on moves in flight", "change the cap on moves in flight"},
	"settings max-in-flight":                     {"changed the cap on moves in flight", "change the cap on moves in flight"},
	"POST /api/v1/webhooks":                      {"added a webhook", "add a webhook"},
	"webhook add":                                {"added a webhook", "add a webhook"},
	"DELETE /api/v1/webhooks/{id}":               {"removed a webhook", "remove a webhook"},
	"webhook remove":                             {"removed a webhook", "remove a webhook"},
	"POST /api/v1/tokens":                        {"made an API token", "make an API token"},
	"token create":                               {"made an API token", "make an API token"},
	"DELETE /api/v1/tokens/{id}":                 {"revoked an API token", "revoke an API token"},
	"token revoke":                               {"revoked an API token", "revoke an API token"},
	"DELETE /api/v1/sessions/{id}":               {"ended someone's session", "end a session"},
	"session revoke":                             {"ended someone's session", "end a session"},
	"sign in":                                    {"signed in", "sign in"},
	"sign out":                                   {"signed out", "sign out"},
	"POST /ui/signin":                            {"signed in", "sign in"},
	"POST /ui/signout":                           {"signed out", "sign out"},
}

// AuditActions are the actions the audit log's filter offers, by the words
// a person picks them by: each is every name an action is recorded under.
var AuditActions = []struct {
	Words   string
	Actions []string
}{}

func init() {
	byWords := map[string][]string{}
	var order []string
	for action, p := range auditPhrases {
		w := p.try
		if strings.Contains(w, "%s") {
			w = fmt.Sprintf(w, objectKind(action))
		}
		if _, ok := byWords[w]; !ok {
			order = append(order, w)
		}
		byWords[w] = append(byWords[w], action)
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
func objectKind(action string) string {
	switch {
	case strings.Contains(action, "/waves/") || strings.HasPrefix(action, "wave "):
		return "a wave"
	case strings.Contains(action, "/groups") || strings.HasPrefix(action, "group "):
		return "a group"
	case strings.Contains(action, "/users/") || strings.HasPrefix(action, "user "):
		return "a user"
	}
	return "it"
}

// auditSays says an entry in a sentence, without who.
func auditSays(e store.AuditEntry) (string, bool) {
	ok := e.Outcome == "ok"
	p, known := auditPhrases[e.Action]
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
		if object != "" && e.Action != "sign in" && e.Action != "POST /ui/signin" {
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
func TryWords(action, object string) string {
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
