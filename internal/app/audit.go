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

// auditPhrases says each action in words, by the route a front end names it
// with and by the use case's own name.
var auditPhrases = map[string]phrase{
	"POST /api/v1/groups":                        {did: "imported pilot group %s", try: "import pilot group %s", what: "import a pilot group"},
	"group import":                               {did: "imported pilot group %s", try: "import pilot group %s", what: "import a pilot group"},
	"POST /api/v1/groups/{id}/plan":              {did: "planned %s", try: "plan %s"},
	"group plan":                                 {did: "planned %s", try: "plan %s"},
	"POST /api/v1/groups/{id}/preflight":         {did: "ran the dry run of %s", try: "run the dry run of %s"},
	"POST /api/v1/groups/{id}/pause":             {did: "paused every wave of %s", try: "pause every wave of %s"},
	"group pause":                                {did: "paused every wave of %s", try: "pause every wave of %s"},
	"POST /api/v1/groups/{id}/resume":            {did: "resumed the paused waves of %s", try: "resume the paused waves of %s"},
	"group resume":                               {did: "resumed the paused waves of %s", try: "resume the paused waves of %s"},
	"POST /api/v1/waves/{id}/preflight":          {did: "ran the dry run of %s", try: "run the dry run of %s"},
	"POST /api/v1/waves/{id}/pause":              {did: "paused %s", try: "pause %s"},
	"wave pause":                                 {did: "paused %s", try: "pause %s"},
	"POST /api/v1/waves/{id}/resume":             {did: "resumed %s", try: "resume %s"},
	"wave resume":                                {did: "resumed %s", try: "resume %s"},
	"POST /api/v1/waves/{id}/cancel":             {did: "cancelled %s", try: "cancel %s"},
	"wave cancel":                                {did: "cancelled %s", try: "cancel %s"},
	"POST /api/v1/waves/{id}/rollback":           {did: "rolled back %s", try: "roll back %s"},
	"wave roll back":                             {did: "rolled back %s", try: "roll back %s"},
	"POST /api/v1/waves/{id}/retry-failed":       {did: "retried the failed users of %s", try: "retry the failed users of %s"},
	"wave retry failed":                          {did: "retried the failed users of %s", try: "retry the failed users of %s"},
	"POST /api/v1/waves/{id}/reschedule":         {did: "rescheduled %s", try: "reschedule %s"},
	"wave reschedule":                            {did: "rescheduled %s", try: "reschedule %s"},
	"POST /api/v1/waves/{id}/members":            {did: "changed the users of %s", try: "change the users of %s"},
	"wave members":                               {did: "changed the users of %s", try: "change the users of %s"},
	"POST /api/v1/waves/{id}/override-readiness": {did: "started %s despite the readiness check", try: "start %s despite the readiness check"},
	"wave override readiness":                    {did: "started %s despite the readiness check", try: "start %s despite the readiness check"},
	"POST /api/v1/waves/{id}/users/retry":        {did: "retried chosen users of %s", try: "retry chosen users of %s"},
	"wave users retry":                           {did: "retried chosen users of %s", try: "retry chosen users of %s"},
	"POST /api/v1/waves/{id}/users/rollback":     {did: "rolled back chosen users of %s", try: "roll back chosen users of %s"},
	"wave users roll back":                       {did: "rolled back chosen users of %s", try: "roll back chosen users of %s"},
	"POST /api/v1/users/{identity}/retry":        {did: "moved %s again", try: "move %s again"},
	"user retry":                                 {did: "moved %s again", try: "move %s again"},
	"POST /api/v1/users/{identity}/rollback":     {did: "rolled %s back on premises", try: "roll %s back on premises"},
	"user roll back":                             {did: "rolled %s back on premises", try: "roll %s back on premises"},
	"POST /api/v1/readiness/check":               {did: "asked the workers to check readiness now", try: "ask for a readiness check"},
	"readiness check":                            {did: "asked the workers to check readiness now", try: "ask for a readiness check"},
	"PUT /api/v1/settings":                       {did: "changed the cap on moves in flight", try: "change the cap on moves in flight"},
	"settings max-in-flight":                     {did: "changed the cap on moves in flight", try: "change the cap on moves in flight"},
	"POST /api/v1/webhooks":                      {did: "added a webhook", try: "add a webhook"},
	"webhook add":                                {did: "added a webhook", try: "add a webhook"},
	"DELETE /api/v1/webhooks/{id}":               {did: "removed a webhook", try: "remove a webhook"},
	"webhook remove":                             {did: "removed a webhook", try: "remove a webhook"},
	"POST /api/v1/tokens":                        {did: "made an API token", try: "make an API token"},
	"token create":                               {did: "made an API token", try: "make an API token"},
	"DELETE /api/v1/tokens/{id}":                 {did: "revoked an API token", try: "revoke an API token"},
	"token revoke":                               {did: "revoked an API token", try: "revoke an API token"},
	"DELETE /api/v1/sessions/{id}":               {did: "ended someone's session", try: "end a session"},
	"session revoke":                             {did: "ended someone's session", try: "end a session"},
	"POST /api/v1/groups/{id}/users/leave-out":   {did: "left chosen users of %s out of its plan", try: "leave chosen users of %s out of its plan"},
	"group users leave out":                      {did: "left chosen users of %s out of its plan", try: "leave chosen users of %s out of its plan"},
	"POST /api/v1/groups/{id}/users/put-back":    {did: "put chosen users of %s back into its plan", try: "put chosen users of %s back into its plan"},
	"group users put back":                       {did: "put chosen users of %s back into its plan", try: "put chosen users of %s back into its plan"},
	"sign in":                                    {did: "signed in", try: "sign in"},
	"sign out":                                   {did: "signed out", try: "sign out"},
	"POST /ui/signin":                            {did: "signed in", try: "sign in"},
	"POST /ui/signout":                           {did: "signed out", try: "sign out"},
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
		w := p.what
		if w == "" {
			w = strings.Replace(p.try, "%s", objectKind(action), 1)
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
