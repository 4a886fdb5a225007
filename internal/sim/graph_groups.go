package sim

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/cutover/cutover/examples"
	"github.com/cutover/cutover/internal/migration"
)

// Object IDs of DefaultGraphGroups.
const (
	DefaultGroupContoso  = "3c6f1d2a-8b4e-4f71-9a0c-5d2e7b1f4a01"
	DefaultGroupFabrikam = "3c6f1d2a-8b4e-4f71-9a0c-5d2e7b1f4a02"
	DefaultGroupEveryone = "3c6f1d2a-8b4e-4f71-9a0c-5d2e7b1f4a03"
)

// demoUsers are the users of the demo's pilot file, examples/pilot-users.csv,
// read once.
var demoUsers = sync.OnceValue(func() []migration.Member {
	res, err := migration.ParseMembersCSV(examples.PilotUsersCSV)
	if err != nil {
		panic("sim: examples/pilot-users.csv does not parse: " + err.Error())
	}
	return res.Members
})

// DefaultGraphGroups are the simulated directory's groups unless the
// configuration names its own: the demo's pilot users
// (examples/pilot-users.csv) by their domain, and a group nesting both, so
// that a lead trying the simulated tenant has groups to find by name and
// import. Each call returns a map of its own.
func DefaultGraphGroups() map[string]GraphGroup {
	var contoso, fabrikam []string
	for _, m := range demoUsers() {
		if strings.HasSuffix(m.UPN, "@fabrikam.com") {
			fabrikam = append(fabrikam, m.UPN)
		} else {
			contoso = append(contoso, m.UPN)
		}
	}
	return map[string]GraphGroup{
		DefaultGroupContoso: {DisplayName: "SfB pilot: Contoso", Members: contoso,
			Description: "Skype for Business users of contoso.com in the Teams pilot"},
		DefaultGroupFabrikam: {DisplayName: "SfB pilot: Fabrikam", Members: fabrikam,
			Description: "Skype for Business users of fabrikam.com in the Teams pilot"},
		DefaultGroupEveryone: {DisplayName: "SfB pilot: everyone", Groups: []string{DefaultGroupContoso, DefaultGroupFabrikam},
			Description: "The whole Teams pilot: the Contoso and Fabrikam groups, nested"},
	}
}

// groupProperties are the group properties the simulator knows; a GET
// without $select answers them all.
var groupProperties = []string{"id", "displayName", "description", "mailEnabled", "mailNickname", "securityEnabled", "groupTypes", "createdDateTime"}

// errUnsupportedQuery is what Graph answers a query it does not serve, or
// one that needs the advanced query parameters without them
// (microsoftgraph/microsoft-graph-docs-contrib concepts/aad-advanced-queries.md).
const errUnsupportedQuery = "Unsupported Query."

// groups serves GET /groups (api-reference/v1.0/api/group-list.md) with the
// filter cutover sends, startswith(displayName,'…'), compared without
// regard to case; $select; $top (100 by default, 1 to 999); $orderby on
// displayName, which together with $filter needs the advanced query
// parameters (ConsistencyLevel: eventual and $count=true), as Graph's does;
// and @odata.count in an advanced query only (without the header Graph
// ignores $count=true). Any other filter is refused as Graph refuses a
// query it does not support. Without $orderby the groups come by object ID,
// an order of no meaning to a reader, as Graph's is.
func (g *Graph) groups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sel, bad := selectList(q, groupProperties, groupProperties)
	if bad != "" {
		g.writeError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.group'.", bad))
		return
	}
	advanced := strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") && strings.EqualFold(q.Get("$count"), "true")
	prefix, filtered, msg := parseStartsWith(q.Get("$filter"))
	if msg != "" {
		g.writeError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", msg)
		return
	}
	desc := false
	if o := strings.TrimSpace(q.Get("$orderby")); o != "" {
		field, dir, _ := strings.Cut(o, " ")
		dir = strings.ToLower(strings.TrimSpace(dir))
		if !strings.EqualFold(field, "displayName") || dir != "" && dir != "asc" && dir != "desc" || filtered && !advanced {
			g.writeError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", errUnsupportedQuery)
			return
		}
		desc = dir == "desc"
	}
	top, offset, ok := g.pageOf(w, r, q)
	if !ok {
		return
	}

	type found struct{ id, name string }
	var matches []found
	for id, grp := range g.cfg.Groups {
		name := cmp.Or(grp.DisplayName, id)
		if !filtered || hasPrefixFold(name, prefix) {
			matches = append(matches, found{id, name})
		}
	}
	slices.SortFunc(matches, func(a, b found) int {
		if q.Get("$orderby") == "" {
			return strings.Compare(a.id, b.id)
		}
		c := cmp.Or(strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)), strings.Compare(a.name, b.name))
		if desc {
			c = -c
		}
		return cmp.Or(c, strings.Compare(a.id, b.id))
	})
	end := min(offset+top, len(matches))
	page := []any{}
	for _, m := range matches[min(offset, end):end] {
		page = append(page, g.groupJSON(m.id, g.cfg.Groups[m.id], sel))
	}
	ctx := g.baseURL(r) + "/$metadata#groups"
	if q.Get("$select") != "" {
		ctx += "(" + strings.Join(sel, ",") + ")"
	}
	body := map[string]any{"@odata.context": ctx, "value": page}
	if advanced {
		body["@odata.count"] = len(matches)
	}
	if end < len(matches) {
		body["@odata.nextLink"] = nextLink(r, q, end)
	}
	writeJSONStatus(w, http.StatusOK, body)
}

// groupJSON is a group as Graph shows it, with the properties selected. A
// group without a description has null, as Graph's has.
func (g *Graph) groupJSON(id string, grp GraphGroup, sel []string) map[string]any {
	var description any
	if grp.Description != "" {
		description = grp.Description
	}
	name := cmp.Or(grp.DisplayName, id)
	all := map[string]any{
		"id": id, "displayName": name, "description": description, "mailEnabled": false,
		"mailNickname": nickname(name), "securityEnabled": true, "groupTypes": []string{},
		"createdDateTime": "2019-05-01T09:00:00Z",
	}
	out := map[string]any{}
	for _, s := range sel {
		out[s] = all[s]
	}
	return out
}

// nickname makes a mail nickname of a display name: its letters and digits.
func nickname(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return cmp.Or(b.String(), "group")
}

// parseStartsWith reads the one filter the simulator serves,
// startswith(displayName,'…') (function and property names in any case,
// spaces around the arguments, a quote in the value doubled). ok is false
// without a filter; msg is Graph's error for a filter it cannot serve.
func parseStartsWith(filter string) (prefix string, ok bool, msg string) {
	f := strings.TrimSpace(filter)
	if f == "" {
		return "", false, ""
	}
	const fn = "startswith("
	if len(f) < len(fn) || !strings.EqualFold(f[:len(fn)], fn) {
		return "", false, errUnsupportedQuery
	}
	prop, rest, found := strings.Cut(f[len(fn):], ",")
	prop = strings.TrimSpace(prop)
	if !found {
		return "", false, errUnsupportedQuery
	}
	if !strings.EqualFold(prop, "displayName") {
		return "", false, fmt.Sprintf("Unsupported or invalid query filter clause specified for property '%s' of resource 'Group'.", prop)
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, "'") {
		return "", false, errUnsupportedQuery
	}
	var b strings.Builder
	for i := 1; i < len(rest); i++ {
		if rest[i] != '\'' {
			b.WriteByte(rest[i])
			continue
		}
		if i+1 < len(rest) && rest[i+1] == '\'' { // a quote, doubled
			b.WriteByte('\'')
			i++
			continue
		}
		if strings.TrimSpace(rest[i+1:]) != ")" {
			return "", false, errUnsupportedQuery
		}
		return b.String(), true, ""
	}
	return "", false, errUnsupportedQuery // the string never ends
}

// hasPrefixFold reports whether s starts with prefix, letters compared
// without regard to case.
func hasPrefixFold(s, prefix string) bool {
	for _, p := range prefix {
		c, size := utf8.DecodeRuneInString(s)
		if size == 0 || !strings.EqualFold(string(c), string(p)) {
			return false
		}
		s = s[size:]
	}
	return true
}
