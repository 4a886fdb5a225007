package sim

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

// The simulated Graph's API, under /v1.0.

func (g *Graph) baseURL(r *http.Request) string { return "https://" + r.Host + "/v1.0" }

func (g *Graph) organization(w http.ResponseWriter, r *http.Request) {
	verified := []any{}
	for i, d := range g.cfg.Domains {
		if d.Verified {
			verified = append(verified, map[string]any{"name": d.Name, "type": "Managed", "isDefault": i == 0, "isInitial": false, "capabilities": strings.Join(d.Services, ", ")})
		}
	}
	org := map[string]any{
		"@odata.type":                "#microsoft.graph.organization",
		"id":                         g.cfg.TenantID,
		"displayName":                g.cfg.OrganizationName,
		"tenantType":                 "AAD",
		"countryLetterCode":          "US",
		"onPremisesSyncEnabled":      !g.cfg.SyncDisabled,
		"onPremisesLastSyncDateTime": nil,
		"verifiedDomains":            verified,
		"createdDateTime":            "2016-03-01T09:00:00Z",
	}
	if !g.cfg.SyncDisabled {
		org["onPremisesLastSyncDateTime"] = time.Now().Add(-g.cfg.LastSyncAge).UTC().Format(time.RFC3339)
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"@odata.context": g.baseURL(r) + "/$metadata#organization", "value": []any{org}})
}

func (g *Graph) domains(w http.ResponseWriter, r *http.Request) {
	out := []any{}
	for i, d := range g.cfg.Domains {
		svcs := d.Services
		if svcs == nil {
			svcs = []string{}
		}
		out = append(out, map[string]any{
			"id": d.Name, "authenticationType": "Managed", "isAdminManaged": true, "isDefault": i == 0,
			"isInitial": false, "isRoot": true, "isVerified": d.Verified, "supportedServices": svcs,
			"passwordValidityPeriodInDays": 2147483647, "passwordNotificationWindowInDays": 14,
			"state": nil,
		})
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"@odata.context": g.baseURL(r) + "/$metadata#domains", "value": out})
}

func (g *Graph) subscribedSkus(w http.ResponseWriter, r *http.Request) {
	out := []any{}
	g.mu.Lock()
	skus := g.cfg.SKUs
	g.mu.Unlock()
	for _, s := range skus {
		plans := []any{}
		for _, p := range s.Plans {
			plans = append(plans, map[string]any{"servicePlanId": p.ID, "servicePlanName": p.Name, "provisioningStatus": p.Status, "appliesTo": "User"})
		}
		out = append(out, map[string]any{
			"accountId": g.cfg.TenantID, "accountName": g.cfg.OrganizationName, "appliesTo": "User",
			"capabilityStatus": "Enabled", "consumedUnits": s.Consumed, "id": g.cfg.TenantID + "_" + s.ID,
			"skuId": s.ID, "skuPartNumber": s.PartNumber, "subscriptionIds": []string{g.stableGUID("subscription", s.ID)},
			"prepaidUnits": map[string]any{"enabled": s.Enabled, "suspended": 0, "warning": 0, "lockedOut": 0},
			"servicePlans": plans,
		})
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"@odata.context": g.baseURL(r) + "/$metadata#subscribedSkus", "value": out})
}

// userProperties are the user properties the simulator knows; a GET without
// $select returns defaultUserProperties only, as Graph does.
var (
	userProperties = []string{"id", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "accountEnabled", "onPremisesSyncEnabled",
		"onPremisesImmutableId", "usageLocation", "proxyAddresses", "assignedPlans"}
	defaultUserProperties = userProperties[:11]
)

// selectList reads $select (case-insensitive names) against the known
// properties; it returns the canonical names or the first unknown one.
func selectList(q url.Values, known, dflt []string) (names []string, unknown string) {
	raw := q.Get("$select")
	if raw == "" {
		return dflt, ""
	}
	for _, s := range strings.Split(raw, ",") {
		s = strings.TrimSpace(s)
		i := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(k, s) })
		if i < 0 {
			return nil, s
		}
		if !slices.Contains(names, known[i]) {
			names = append(names, known[i])
		}
	}
	return names, ""
}

func userJSON(u migration.DirectoryUser, sel []string) map[string]any {
	local, _, _ := strings.Cut(u.UPN, "@")
	given, surname, _ := strings.Cut(displayName(local), " ")
	plans := []any{}
	for _, p := range u.Plans {
		plans = append(plans, map[string]any{
			"assignedDateTime": p.AssignedAt.UTC().Format(time.RFC3339), "capabilityStatus": p.Status,
			"service": p.Service, "servicePlanId": p.ID,
		})
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	all := map[string]any{
		"id": u.ID, "businessPhones": []string{}, "displayName": u.DisplayName, "givenName": given,
		"jobTitle": nil, "mail": u.UPN, "mobilePhone": nil, "officeLocation": nil, "preferredLanguage": nil,
		"surname": orNil(surname), "userPrincipalName": u.UPN, "accountEnabled": u.Enabled,
		"onPremisesSyncEnabled": nil, "onPremisesImmutableId": orNil(u.ImmutableID), "usageLocation": orNil(u.UsageLocation),
		"proxyAddresses": append([]string{}, u.ProxyAddresses...), "assignedPlans": plans,
	}
	if u.SyncEnabled {
		all["onPremisesSyncEnabled"] = true
	}
	out := map[string]any{"@odata.type": "#microsoft.graph.user", "id": u.ID}
	for _, s := range sel {
		out[s] = all[s]
	}
	return out
}

// directoryUser looks a user up by UPN or object ID, and remembers the ID.
func (g *Graph) directoryUser(idOrUPN string) (migration.DirectoryUser, bool) {
	upn := idOrUPN
	if !strings.Contains(idOrUPN, "@") {
		known, ok := g.upnOf(idOrUPN)
		if !ok {
			return migration.DirectoryUser{}, false
		}
		upn = known
	}
	u, ok := g.shell.DirectoryUser(upn)
	if !ok || !strings.Contains(idOrUPN, "@") && !strings.EqualFold(u.ID, idOrUPN) {
		return migration.DirectoryUser{}, false
	}
	g.mu.Lock()
	g.ids[strings.ToLower(u.ID)] = u.UPN
	g.mu.Unlock()
	return u, true
}

// upnOf finds the UPN of an object ID: one the simulated Graph has shown,
// or else one of a user the shell knows.
func (g *Graph) upnOf(id string) (string, bool) {
	id = strings.ToLower(id)
	g.mu.Lock()
	upn, ok := g.ids[id]
	g.mu.Unlock()
	if ok {
		return upn, true
	}
	g.shell.mu.Lock()
	defer g.shell.mu.Unlock()
	for upn := range g.shell.users {
		if g.shell.objectID(upn) == id {
			return upn, true
		}
	}
	return "", false
}

func (g *Graph) notFound(w http.ResponseWriter, r *http.Request, id string) {
	g.writeError(w, r, http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id))
}

func (g *Graph) user(w http.ResponseWriter, r *http.Request) {
	sel, bad := selectList(r.URL.Query(), userProperties, defaultUserProperties)
	if bad != "" {
		g.writeError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'.", bad))
		return
	}
	u, ok := g.pathUser(w, r)
	if !ok {
		return
	}
	body := userJSON(u, sel)
	body["@odata.context"] = g.baseURL(r) + "/$metadata#users(" + strings.Join(sel, ",") + ")/$entity"
	writeJSONStatus(w, http.StatusOK, body)
}

// pathUser is the user the request's path names ({id}: an object ID or a
// UPN), or, answered 404, none.
func (g *Graph) pathUser(w http.ResponseWriter, r *http.Request) (migration.DirectoryUser, bool) {
	id := r.PathValue("id")
	u, ok := g.directoryUser(id)
	if !ok {
		g.notFound(w, r, id)
	}
	return u, ok
}

// transitiveMemberOf answers a user's memberships: the directory roles the
// simulated tenant gives the account (GraphConfig.AccountRoles), as
// directoryRole objects (microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/api/user-list-transitivememberof.md and
// resources/directoryrole.md). The simulated users are in no group.
func (g *Graph) transitiveMemberOf(w http.ResponseWriter, r *http.Request) {
	u, ok := g.pathUser(w, r)
	if !ok {
		return
	}
	g.mu.Lock()
	roles := slices.Clone(g.cfg.AccountRoles[u.UPN])
	g.mu.Unlock()
	out := []any{}
	for _, role := range roles {
		out = append(out, map[string]any{
			"@odata.type": "#microsoft.graph.directoryRole", "id": g.stableGUID("role", role.TemplateID),
			"deletedDateTime": nil, "description": nil, "displayName": role.DisplayName, "roleTemplateId": role.TemplateID,
		})
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{"@odata.context": g.baseURL(r) + "/$metadata#directoryObjects", "value": out})
}

// dirObject is a member of a group.
type dirObject struct {
	typ  string // user, group, device, orgContact
	user migration.DirectoryUser
	id   string
	name string
}

// transitive lists a group's transitive members, each once, nested groups
// included (as members) and followed.
func (g *Graph) transitive(groupID string) ([]dirObject, bool) {
	if _, ok := g.cfg.Groups[groupID]; !ok {
		return nil, false
	}
	var out []dirObject
	seen := map[string]bool{groupID: true}
	var walk func(id string)
	walk = func(id string) {
		grp := g.cfg.Groups[id]
		for _, upn := range grp.Members {
			u, ok := g.directoryUser(upn)
			if !ok || seen["u:"+u.ID] {
				continue
			}
			seen["u:"+u.ID] = true
			out = append(out, dirObject{typ: "user", user: u, id: u.ID})
		}
		for _, d := range grp.Devices {
			if oid := g.stableGUID("device", d); !seen[oid] {
				seen[oid] = true
				out = append(out, dirObject{typ: "device", id: oid, name: d})
			}
		}
		for _, c := range grp.Contacts {
			if oid := g.stableGUID("contact", c); !seen[oid] {
				seen[oid] = true
				out = append(out, dirObject{typ: "orgContact", id: oid, name: c})
			}
		}
		for _, sub := range grp.Groups {
			nested, ok := g.cfg.Groups[sub]
			if !ok || seen[sub] {
				continue
			}
			seen[sub] = true
			name := nested.DisplayName
			if name == "" {
				name = sub
			}
			out = append(out, dirObject{typ: "group", id: sub, name: name})
			walk(sub)
		}
	}
	walk(groupID)
	return out, true
}

func (g *Graph) transitiveMembers(w http.ResponseWriter, r *http.Request) {
	gid := r.PathValue("id")
	q := r.URL.Query()
	cast := ""
	if c := r.PathValue("cast"); c != "" {
		switch strings.TrimPrefix(strings.TrimPrefix(c, "microsoft."), "graph.") {
		case "user", "group", "device", "orgContact":
			cast = strings.TrimPrefix(strings.TrimPrefix(c, "microsoft."), "graph.")
		default:
			g.writeError(w, r, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", c))
			return
		}
	}
	sel, bad := selectList(q, userProperties, defaultUserProperties)
	if bad != "" && cast == "user" {
		g.writeError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.user'.", bad))
		return
	}
	top, offset, ok := g.pageOf(w, r, q)
	if !ok {
		return
	}
	members, ok := g.transitive(gid)
	if !ok {
		g.notFound(w, r, gid)
		return
	}
	if cast != "" {
		members = slices.DeleteFunc(members, func(o dirObject) bool { return o.typ != cast })
	}
	end := min(offset+top, len(members))
	page := []any{}
	for _, o := range members[min(offset, end):end] {
		switch o.typ {
		case "user":
			if sel == nil {
				sel = defaultUserProperties
			}
			page = append(page, userJSON(o.user, sel))
		case "group":
			page = append(page, map[string]any{"@odata.type": "#microsoft.graph.group", "id": o.id, "displayName": o.name, "securityEnabled": true, "mailEnabled": false})
		case "device":
			page = append(page, map[string]any{"@odata.type": "#microsoft.graph.device", "id": o.id, "displayName": o.name, "deviceId": g.stableGUID("deviceId", o.name), "accountEnabled": true, "operatingSystem": "Windows"})
		case "orgContact":
			page = append(page, map[string]any{"@odata.type": "#microsoft.graph.orgContact", "id": o.id, "displayName": o.name, "mail": o.name, "proxyAddresses": []string{"SMTP:" + o.name}})
		}
	}
	ctx := g.baseURL(r) + "/$metadata#directoryObjects"
	if cast == "user" {
		ctx = g.baseURL(r) + "/$metadata#users"
		if q.Get("$select") != "" {
			ctx += "(" + strings.Join(sel, ",") + ")"
		}
	}
	body := map[string]any{"@odata.context": ctx, "value": page}
	if end < len(members) {
		body["@odata.nextLink"] = nextLink(r, q, end)
	}
	writeJSONStatus(w, http.StatusOK, body)
}

func (g *Graph) userConfiguration(w http.ResponseWriter, r *http.Request) {
	u, ok := g.pathUser(w, r)
	if !ok {
		return
	}
	accountType := migration.AccountTypeOnPrem
	now := time.Now()
	if g.shell.HomedOnline(u.UPN) {
		g.mu.Lock()
		since, seen := g.onlineSince[u.UPN]
		if !seen {
			since = now
			// A user online from the start was provisioned long ago.
			if g.shell.BehaviourOf(u.UPN).Kind == KindAlreadyOnline && g.shell.MovesFor(u.UPN) == 0 {
				since = now.Add(-365 * 24 * time.Hour)
			}
			g.onlineSince[u.UPN] = since
		}
		g.mu.Unlock()
		if now.Sub(since) >= g.cfg.ProvisioningDelay {
			accountType = cmp.Or(g.cfg.AccountTypes[u.UPN], migration.AccountTypeUser)
		}
		// "Use the `Prefer: include-unknown-enum-members` request header to
		// get the following value from this enum evolvable enum:
		// `ineligibleUser`" (microsoftgraph/microsoft-graph-docs-contrib
		// api-reference/v1.0/resources/teamsadministration-teamsuserconfiguration.md);
		// "By default, unknown members are not returned" (concepts/best-practices-concept.md):
		// without it, the sentinel unknownFutureValue.
		if accountType == migration.AccountTypeIneligible && !preferUnknownEnums(r) {
			accountType = migration.AccountTypeUnknownFuture
		}
	} else {
		g.mu.Lock()
		delete(g.onlineSince, u.UPN)
		g.mu.Unlock()
	}
	voice := g.shell.TeamsVoice(u.UPN)
	numbers := []map[string]string{}
	for _, n := range voice.Numbers {
		// An assignedTelephoneNumber (teamsadministration-assignedtelephonenumber.md).
		numbers = append(numbers, map[string]string{"telephoneNumber": n, "assignmentCategory": "primary"})
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{
		"@odata.context":           g.baseURL(r) + "/$metadata#admin/teams/userConfigurations/$entity",
		"@odata.type":              "#microsoft.graph.teamsAdministration.teamsUserConfiguration",
		"id":                       u.ID,
		"tenantId":                 g.cfg.TenantID,
		"userPrincipalName":        u.UPN,
		"accountType":              accountType,
		"isEnterpriseVoiceEnabled": voice.EnterpriseVoice,
		"telephoneNumbers":         numbers,
		"featureTypes":             []string{"Teams", "AudioConferencing"},
		"createdDateTime":          "2020-01-01T00:00:00Z",
		"modifiedDateTime":         now.UTC().Format(time.RFC3339),
	})
}

// numberAssignments answers the list of number assignments filtered by one
// telephone number, the only filter cutover sends ($filter=telephoneNumber
// eq '+14255550100': microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/api/teamsadministration-telephonenumbermanagementroot-list-numberassignments.md,
// example 4), each a numberAssignment
// (resources/teamsadministration-numberassignment.md).
func (g *Graph) numberAssignments(w http.ResponseWriter, r *http.Request) {
	number, ok := strings.CutPrefix(r.URL.Query().Get("$filter"), "telephoneNumber eq '")
	number, closed := strings.CutSuffix(number, "'")
	if !ok || !closed || number == "" {
		g.writeError(w, r, http.StatusBadRequest, "BadRequest", "The simulated tenant answers only $filter=telephoneNumber eq '<number>'.")
		return
	}
	out := []any{}
	a, found := g.shell.NumberAssignment(number, func(upn string) string {
		u, _ := g.directoryUser(upn)
		return u.ID
	})
	if found {
		out = append(out, map[string]any{
			"@odata.type": "#microsoft.graph.teamsAdministration.numberAssignment", "id": g.stableGUID("number", number),
			"telephoneNumber": a.TelephoneNumber, "numberType": a.NumberType, "activationState": a.ActivationState,
			"assignmentTargetId": a.AssignmentTargetID, "assignmentCategory": "primary", "assignmentStatus": "userAssigned",
			"numberSource": a.NumberSource, "capabilities": []string{"userAssignment"},
		})
	}
	writeJSONStatus(w, http.StatusOK, map[string]any{
		"@odata.context": g.baseURL(r) + "/$metadata#admin/teams/telephoneNumberManagement/numberAssignments", "value": out})
}

// pageOf reads a list's page from $top and $skiptoken (the offset the last
// page's next link carries), answering Graph's error for a bad one.
func (g *Graph) pageOf(w http.ResponseWriter, r *http.Request, q url.Values) (top, offset int, ok bool) {
	top = g.cfg.PageSize
	if t := q.Get("$top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 999 {
			g.writeError(w, r, http.StatusBadRequest, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", t))
			return 0, 0, false
		}
		top = n
	}
	if tok := q.Get("$skiptoken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || n < 0 {
			g.writeError(w, r, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			return 0, 0, false
		}
		offset = n
	}
	return top, offset, true
}

// nextLink is the absolute link to the page from offset end on, keeping the
// query but the skip token.
func nextLink(r *http.Request, q url.Values, end int) string {
	next := url.Values{}
	for k, v := range q {
		if k != "$skiptoken" {
			next[k] = v
		}
	}
	next.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte("offset:"+strconv.Itoa(end))))
	return "https://" + r.Host + r.URL.EscapedPath() + "?" + strings.ReplaceAll(next.Encode(), "%24", "$")
}

// preferUnknownEnums reports whether a request asks for the members of
// evolvable enums added after their sentinel (Prefer:
// include-unknown-enum-members).
func preferUnknownEnums(r *http.Request) bool {
	for _, p := range r.Header.Values("Prefer") {
		for _, v := range strings.Split(p, ",") {
			if strings.EqualFold(strings.TrimSpace(v), "include-unknown-enum-members") {
				return true
			}
		}
	}
	return false
}
