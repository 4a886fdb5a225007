package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	core "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/admin"
	"github.com/microsoftgraph/msgraph-sdk-go/domains"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/organization"
	"github.com/microsoftgraph/msgraph-sdk-go/subscribedskus"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"golang.org/x/sync/errgroup"

	"github.com/cutover/cutover/internal/migration"
)

// userFields are the user properties cutover reads ($select).
var userFields = []string{"id", "userPrincipalName", "displayName", "accountEnabled", "onPremisesSyncEnabled",
	"onPremisesImmutableId", "usageLocation", "proxyAddresses", "assignedPlans"}

// Tenant implements migration.Directory: GET /organization, /domains and
// /subscribedSkus.
func (d *Directory) Tenant(ctx context.Context) (migration.Tenant, error) {
	var t migration.Tenant
	orgs, err := d.client.Organization().Get(ctx, &organization.OrganizationRequestBuilderGetRequestConfiguration{
		QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{
			Select: []string{"id", "displayName", "onPremisesSyncEnabled", "onPremisesLastSyncDateTime"},
		},
	})
	if err != nil {
		return t, wrap(err, "reading the organisation")
	}
	if orgs == nil || len(orgs.GetValue()) == 0 {
		return t, errors.New("microsoft graph: the organisation is missing from GET /organization")
	}
	org := orgs.GetValue()[0]
	t.ID, t.DisplayName = deref(org.GetId()), deref(org.GetDisplayName())
	t.SyncEnabled = deref(org.GetOnPremisesSyncEnabled())
	if ls := org.GetOnPremisesLastSyncDateTime(); ls != nil {
		at := ls.UTC()
		t.LastSync = &at
	}

	doms, err := d.client.Domains().Get(ctx, &domains.DomainsRequestBuilderGetRequestConfiguration{
		QueryParameters: &domains.DomainsRequestBuilderGetQueryParameters{Select: []string{"id", "isVerified", "supportedServices"}},
	})
	for page := 0; ; page++ {
		if err != nil {
			return t, wrap(err, "listing the domains")
		}
		for _, dm := range doms.GetValue() {
			t.Domains = append(t.Domains, migration.Domain{
				Name: deref(dm.GetId()), Verified: deref(dm.GetIsVerified()), Services: dm.GetSupportedServices(),
			})
		}
		next := deref(doms.GetOdataNextLink())
		if next == "" || page > 1000 {
			break
		}
		doms, err = d.client.Domains().WithUrl(next).Get(ctx, nil)
	}

	skus, err := d.client.SubscribedSkus().Get(ctx, &subscribedskus.SubscribedSkusRequestBuilderGetRequestConfiguration{
		QueryParameters: &subscribedskus.SubscribedSkusRequestBuilderGetQueryParameters{
			Select: []string{"skuId", "skuPartNumber", "prepaidUnits", "consumedUnits", "servicePlans"},
		},
	})
	for page := 0; ; page++ {
		if err != nil {
			return t, wrap(err, "listing the subscribed SKUs")
		}
		for _, s := range skus.GetValue() {
			sku := migration.SKU{PartNumber: deref(s.GetSkuPartNumber()), Consumed: int(deref(s.GetConsumedUnits()))}
			if id := s.GetSkuId(); id != nil {
				sku.ID = id.String()
			}
			if pu := s.GetPrepaidUnits(); pu != nil {
				sku.Enabled = int(deref(pu.GetEnabled()))
			}
			for _, p := range s.GetServicePlans() {
				plan := migration.SKUPlan{Name: deref(p.GetServicePlanName()), Status: deref(p.GetProvisioningStatus())}
				if id := p.GetServicePlanId(); id != nil {
					plan.ID = id.String()
				}
				sku.Plans = append(sku.Plans, plan)
			}
			t.SKUs = append(t.SKUs, sku)
		}
		next := deref(skus.GetOdataNextLink())
		if next == "" || page > 1000 {
			break
		}
		skus, err = d.client.SubscribedSkus().WithUrl(next).Get(ctx, nil)
	}
	return t, nil
}

// Users implements migration.Directory: the users are looked up by UPN in
// JSON batches of BatchSize (Concurrency batches in flight), and the result
// is keyed by the UPNs as given. Items Graph throttles (429) or cannot serve
// (503, 504) are batched again after their Retry-After, up to MaxRetries
// times; a whole batch throttled is retried by Kiota's retry handler.
func (d *Directory) Users(ctx context.Context, upns []string) (map[string]migration.DirectoryUser, error) {
	out := make(map[string]migration.DirectoryUser, len(upns))
	seen := make(map[string]bool, len(upns))
	var pending []string
	for _, upn := range upns {
		if upn = strings.TrimSpace(upn); upn != "" && !seen[upn] {
			seen[upn] = true
			pending = append(pending, upn)
		}
	}
	for round := 0; len(pending) > 0; round++ {
		results := make([]batchResult, (len(pending)+BatchSize-1)/BatchSize)
		eg, ectx := errgroup.WithContext(ctx)
		eg.SetLimit(d.concurrency)
		for i := range results {
			chunk := pending[i*BatchSize : min((i+1)*BatchSize, len(pending))]
			eg.Go(func() (err error) {
				results[i], err = d.usersBatch(ectx, chunk)
				return err
			})
		}
		if err := eg.Wait(); err != nil {
			return nil, err
		}
		var again []string
		var wait time.Duration
		var last *migration.DirectoryError
		for _, r := range results {
			for upn, u := range r.users {
				out[upn] = u
			}
			again = append(again, r.retry...)
			wait = max(wait, r.wait)
			if r.lastErr != nil {
				last = r.lastErr
			}
		}
		if len(again) == 0 {
			break
		}
		if round >= d.maxRetries {
			return nil, last
		}
		d.log.DebugContext(ctx, "retrying throttled batch items", "items", len(again), "after", wait, "round", round+1)
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		pending = again
	}
	return out, nil
}

// batchResult is what one batch of user look-ups gave.
type batchResult struct {
	users   map[string]migration.DirectoryUser
	retry   []string                  // UPNs to ask again
	wait    time.Duration             // the longest Retry-After among them
	lastErr *migration.DirectoryError // the answer of one of them
}

// usersBatch looks up to BatchSize users up in one $batch.
func (d *Directory) usersBatch(ctx context.Context, upns []string) (batchResult, error) {
	res := batchResult{users: make(map[string]migration.DirectoryUser, len(upns))}
	batch := core.NewBatchRequest(d.adapter)
	byItem := make(map[string]string, len(upns))
	conf := &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userFields},
	}
	for _, upn := range upns {
		info, err := d.client.Users().ByUserId(upn).ToGetRequestInformation(ctx, conf)
		if err != nil {
			return res, fmt.Errorf("microsoft graph: a request for %s: %w", upn, err)
		}
		item, err := batch.AddBatchRequestStep(*info)
		if err != nil {
			return res, fmt.Errorf("microsoft graph: batching %s: %w", upn, err)
		}
		byItem[deref(item.GetId())] = upn
	}
	resp, err := batch.Send(ctx, d.adapter)
	if err != nil {
		return res, wrap(err, "looking users up")
	}
	answered := make(map[string]bool, len(upns))
	for _, item := range resp.GetResponses() {
		upn, ok := byItem[deref(item.GetId())]
		if !ok || answered[upn] {
			continue
		}
		answered[upn] = true
		status := int(deref(item.GetStatus()))
		switch {
		case status >= 200 && status < 300:
			u, err := userFromBody(item.GetBody())
			if err != nil {
				return res, fmt.Errorf("microsoft graph: the answer for %s: %w", upn, err)
			}
			res.users[upn] = u
		case status == http.StatusNotFound:
			// Not in the directory: absent from the result.
		case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
			de := itemError(item)
			res.retry = append(res.retry, upn)
			res.wait = max(res.wait, de.RetryAfter, time.Second)
			res.lastErr = de
		default:
			return res, itemError(item)
		}
	}
	for _, upn := range upns {
		if !answered[upn] { // Graph left it out: ask again
			res.retry = append(res.retry, upn)
			res.wait = max(res.wait, time.Second)
		}
	}
	if res.lastErr == nil && len(res.retry) > 0 {
		res.lastErr = &migration.DirectoryError{Status: http.StatusBadGateway, Message: "the batch answer left some requests out"}
	}
	return res, nil
}

// itemJSON is a batch item's body as JSON. The SDK keeps a batch item's
// body as a map of the parse node's raw values (strings as *string), and
// drops numbers on the way; nothing cutover reads is a number.
func itemJSON(body core.RequestBody) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	return json.Marshal(map[string]any(body))
}

// userFromBody reads a user from a batch item's body with the SDK's model.
func userFromBody(body core.RequestBody) (migration.DirectoryUser, error) {
	raw, err := itemJSON(body)
	if err != nil || len(raw) == 0 {
		return migration.DirectoryUser{}, fmt.Errorf("no user in the answer (%v)", err)
	}
	node, err := jsonserialization.NewJsonParseNode(raw)
	if err != nil {
		return migration.DirectoryUser{}, err
	}
	v, err := node.GetObjectValue(models.CreateUserFromDiscriminatorValue)
	if err != nil {
		return migration.DirectoryUser{}, err
	}
	u, ok := v.(models.Userable)
	if !ok || u == nil {
		return migration.DirectoryUser{}, errors.New("the answer is not a user")
	}
	return toDirectoryUser(u), nil
}

// itemError reads a failed batch item as a *migration.DirectoryError,
// through the SDK's OData error model, nil-safely.
func itemError(item core.BatchItem) *migration.DirectoryError {
	de := &migration.DirectoryError{Status: int(deref(item.GetStatus()))}
	for k, v := range item.GetHeaders() {
		if strings.EqualFold(k, "Retry-After") {
			de.RetryAfter = parseRetryAfter(v)
		}
	}
	raw, err := itemJSON(item.GetBody())
	if err != nil || len(raw) == 0 {
		return de
	}
	node, err := jsonserialization.NewJsonParseNode(raw)
	if err != nil {
		return de
	}
	v, err := node.GetObjectValue(odataerrors.CreateODataErrorFromDiscriminatorValue)
	if oe, ok := v.(*odataerrors.ODataError); err == nil && ok && oe != nil {
		de.Code, de.Message = odataParts(oe)
	}
	return de
}

// toDirectoryUser reads the SDK's user.
func toDirectoryUser(u models.Userable) migration.DirectoryUser {
	du := migration.DirectoryUser{
		ID:             deref(u.GetId()),
		UPN:            deref(u.GetUserPrincipalName()),
		DisplayName:    deref(u.GetDisplayName()),
		Enabled:        deref(u.GetAccountEnabled()),
		SyncEnabled:    deref(u.GetOnPremisesSyncEnabled()),
		ImmutableID:    deref(u.GetOnPremisesImmutableId()),
		UsageLocation:  deref(u.GetUsageLocation()),
		ProxyAddresses: u.GetProxyAddresses(),
	}
	for _, p := range u.GetAssignedPlans() {
		if p == nil {
			continue
		}
		ap := migration.AssignedPlan{Service: deref(p.GetService()), Status: deref(p.GetCapabilityStatus())}
		if id := p.GetServicePlanId(); id != nil {
			ap.ID = id.String()
		}
		if at := p.GetAssignedDateTime(); at != nil {
			ap.AssignedAt = at.UTC()
		}
		du.Plans = append(du.Plans, ap)
	}
	return du
}

// GroupUsers implements migration.Directory: GET
// /groups/{id}/transitiveMembers/microsoft.graph.user, every page. Disabled
// accounts are included.
func (d *Directory) GroupUsers(ctx context.Context, groupID string) ([]migration.DirectoryUser, error) {
	if strings.TrimSpace(groupID) == "" {
		return nil, errors.New("microsoft graph: no group ID")
	}
	top := d.pageSize
	members := d.client.Groups().ByGroupId(groupID).TransitiveMembers().GraphUser()
	page, err := members.Get(ctx, &groups.ItemTransitiveMembersGraphUserRequestBuilderGetRequestConfiguration{
		QueryParameters: &groups.ItemTransitiveMembersGraphUserRequestBuilderGetQueryParameters{Select: userFields, Top: &top},
	})
	var out []migration.DirectoryUser
	seen := map[string]bool{}
	err = everyPage(page, err, "the members of group "+groupID,
		func(next string) (models.UserCollectionResponseable, error) {
			return members.WithUrl(next).Get(ctx, nil)
		},
		func(page models.UserCollectionResponseable) {
			for _, u := range page.GetValue() {
				if u == nil {
					continue
				}
				du := toDirectoryUser(u)
				if !seen[du.ID] {
					seen[du.ID] = true
					out = append(out, du)
				}
			}
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// everyPage reads a collection's pages from the first (page, err) on, each
// by its next link (absolute, keeping $select and $top) through next, and
// hands each to each. what names the collection in errors.
func everyPage[P interface{ GetOdataNextLink() *string }](page P, err error, what string, next func(string) (P, error), each func(P)) error {
	links := map[string]bool{}
	for {
		if err != nil {
			return wrap(err, "listing "+what)
		}
		each(page)
		link := deref(page.GetOdataNextLink())
		if link == "" {
			return nil
		}
		if links[link] {
			return fmt.Errorf("microsoft graph: %s: a next page link repeats", what)
		}
		links[link] = true
		page, err = next(link)
	}
}

// groupFields are the group properties FindGroups reads ($select): the
// three a lead picks a group by, not the dozen Graph sends by default.
var groupFields = []string{"id", "displayName", "description"}

// FindGroups implements migration.Directory with one request:
//
//	GET /groups?$count=true&$filter=startswith(displayName,'…')&$orderby=displayName&$select=id,displayName,description&$top=20
//	ConsistencyLevel: eventual
//
// Graph sorts only in an advanced query when the request also filters:
// "Using $filter and $orderby together is supported only with advanced
// queries", which need the ConsistencyLevel: eventual header and
// $count=true (microsoftgraph/microsoft-graph-docs-contrib
// concepts/aad-advanced-queries.md; group-list.md, example 4, is this very
// request). So both are sent, rather than sorting in Go: Go could sort only
// the 20 groups Graph happened to answer first, not find the first 20 by
// name. The price is eventual consistency: "This request might have
// replication delays for groups that were recently created, updated, or
// deleted" (api-reference/v1.0/api/group-list.md); a group made a minute ago
// may be missing from the list, and its object ID still imports it.
//
// A group's displayName "supports $filter (… startsWith …) … and $orderby"
// (the SDK's models/group.go, from Graph's metadata). The docs do not say
// outright that startswith ignores case; concepts/filter-query-parameter.md
// finds "users with the name Mary" with startswith(displayName,'mary'). A
// single quote in the name is doubled, as an OData string literal needs
// (concepts/query-parameters.md, "Escaping single quotes"); the SDK
// percent-encodes the query's values. Throttling is retried by Kiota's
// retry handler, as for every whole request.
func (d *Directory) FindGroups(ctx context.Context, name string) ([]migration.DirectoryGroup, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("microsoft graph: no group name to look for")
	}
	filter := "startswith(displayName,'" + strings.ReplaceAll(name, "'", "''") + "')"
	top, count := int32(migration.MaxFoundGroups), true
	headers := abs.NewRequestHeaders()
	headers.Add("ConsistencyLevel", "eventual")
	page, err := d.client.Groups().Get(ctx, &groups.GroupsRequestBuilderGetRequestConfiguration{
		Headers: headers,
		QueryParameters: &groups.GroupsRequestBuilderGetQueryParameters{
			Count: &count, Filter: &filter, Orderby: []string{"displayName"}, Select: groupFields, Top: &top,
		},
	})
	if err != nil {
		return nil, wrap(err, fmt.Sprintf("finding the groups whose name starts with %q", name))
	}
	out := []migration.DirectoryGroup{}
	if page == nil { // no content
		return out, nil
	}
	for _, g := range page.GetValue() {
		if g == nil || deref(g.GetId()) == "" {
			continue
		}
		out = append(out, migration.DirectoryGroup{ID: deref(g.GetId()), DisplayName: deref(g.GetDisplayName()), Description: deref(g.GetDescription())})
		if len(out) == migration.MaxFoundGroups { // the most this method promises, whatever the page holds
			break
		}
	}
	return out, nil
}

// TeamsAccountType implements migration.Directory: GET
// /admin/teams/userConfigurations/{id}, accountType.
//
// accountType is an evolvable enum: "Use the `Prefer:
// include-unknown-enum-members` request header to get the following value
// from this enum evolvable enum: `ineligibleUser`"
// (microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/resources/teamsadministration-teamsuserconfiguration.md);
// without it Graph answers unknownFutureValue for such a user. The header
// is sent, so that a user without a valid Teams licence is named so.
func (d *Directory) TeamsAccountType(ctx context.Context, userID string) (string, error) {
	if strings.TrimSpace(userID) == "" {
		return "", errors.New("microsoft graph: no user ID")
	}
	headers := abs.NewRequestHeaders()
	headers.Add("Prefer", "include-unknown-enum-members")
	conf, err := d.client.Admin().Teams().UserConfigurations().ByTeamsUserConfigurationId(userID).Get(ctx,
		&admin.TeamsUserConfigurationsTeamsUserConfigurationItemRequestBuilderGetRequestConfiguration{
			Headers: headers,
			QueryParameters: &admin.TeamsUserConfigurationsTeamsUserConfigurationItemRequestBuilderGetQueryParameters{
				Select: []string{"id", "accountType"},
			},
		})
	if err != nil {
		return "", wrap(err, "reading the Teams configuration of "+userID)
	}
	at := conf.GetAccountType()
	if at == nil {
		// Absent, or a value this SDK does not know (it parses those as nil).
		return "", fmt.Errorf("microsoft graph: the Teams configuration of %s has no account type this client knows", userID)
	}
	return at.String(), nil
}

// TeamsVoice implements migration.Directory: GET
// /admin/teams/userConfigurations/{id}, isEnterpriseVoiceEnabled and
// telephoneNumbers (each an assignedTelephoneNumber: telephoneNumber,
// assignmentCategory; microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/resources/teamsadministration-teamsuserconfiguration.md).
func (d *Directory) TeamsVoice(ctx context.Context, userID string) (migration.TeamsVoice, error) {
	if strings.TrimSpace(userID) == "" {
		return migration.TeamsVoice{}, errors.New("microsoft graph: no user ID")
	}
	conf, err := d.client.Admin().Teams().UserConfigurations().ByTeamsUserConfigurationId(userID).Get(ctx,
		&admin.TeamsUserConfigurationsTeamsUserConfigurationItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &admin.TeamsUserConfigurationsTeamsUserConfigurationItemRequestBuilderGetQueryParameters{
				Select: []string{"id", "isEnterpriseVoiceEnabled", "telephoneNumbers"},
			},
		})
	if err != nil {
		return migration.TeamsVoice{}, wrap(err, "reading the Teams calling of "+userID)
	}
	v := migration.TeamsVoice{EnterpriseVoice: deref(conf.GetIsEnterpriseVoiceEnabled())}
	for _, n := range conf.GetTelephoneNumbers() {
		if n != nil && n.GetTelephoneNumber() != nil {
			v.Numbers = append(v.Numbers, *n.GetTelephoneNumber())
		}
	}
	return v, nil
}

// NumberAssignment implements migration.Directory: GET
// /admin/teams/telephoneNumberManagement/numberAssignments?$filter=telephoneNumber
// eq '<number>' ("All fields from the number assignments can be filtered
// except id and city"; permission TeamsTelephoneNumber.Read.All;
// microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/api/teamsadministration-telephonenumbermanagementroot-list-numberassignments.md),
// the first assignment to someone it lists (a number listed with no
// assignmentTargetId, assignmentStatus unassigned, is assigned to nobody).
func (d *Directory) NumberAssignment(ctx context.Context, number string) (migration.NumberAssignment, bool, error) {
	number = strings.TrimSpace(number)
	if number == "" || strings.ContainsAny(number, "'\\") {
		return migration.NumberAssignment{}, false, fmt.Errorf("microsoft graph: %q is not a telephone number", number)
	}
	filter := "telephoneNumber eq '" + number + "'"
	res, err := d.client.Admin().Teams().TelephoneNumberManagement().NumberAssignments().Get(ctx,
		&admin.TeamsTelephoneNumberManagementNumberAssignmentsRequestBuilderGetRequestConfiguration{
			QueryParameters: &admin.TeamsTelephoneNumberManagementNumberAssignmentsRequestBuilderGetQueryParameters{Filter: &filter},
		})
	if err != nil {
		return migration.NumberAssignment{}, false, wrap(err, "reading the assignment of "+number)
	}
	for _, a := range res.GetValue() {
		if a == nil || deref(a.GetAssignmentTargetId()) == "" {
			continue
		}
		out := migration.NumberAssignment{TelephoneNumber: deref(a.GetTelephoneNumber()), AssignmentTargetID: deref(a.GetAssignmentTargetId())}
		if v := a.GetNumberSource(); v != nil {
			out.NumberSource = v.String()
		}
		if v := a.GetNumberType(); v != nil {
			out.NumberType = v.String()
		}
		if v := a.GetActivationState(); v != nil {
			out.ActivationState = v.String()
		}
		return out, true, nil
	}
	return migration.NumberAssignment{}, false, nil
}

// AccountRoles implements migration.Directory: GET
// /users/{upn}/transitiveMemberOf, every page, keeping the directory roles
// ("Get groups, directory roles, and administrative units that the user is
// a member of through either direct or transitive membership":
// microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/api/user-list-transitivememberof.md). It is not cast
// to microsoft.graph.directoryRole: a cast is an advanced query, which
// needs ConsistencyLevel: eventual and $count (the same page). An app that
// may list the memberships but not read roles gets them with "limited
// information", their roleTemplateId null (api-reference/includes/limited-info.md).
func (d *Directory) AccountRoles(ctx context.Context, upn string) ([]migration.DirectoryRole, error) {
	if strings.TrimSpace(upn) == "" {
		return nil, errors.New("microsoft graph: no account")
	}
	top := int32(999) // "The default and maximum page sizes are 100 and 999 objects"
	of := d.client.Users().ByUserId(upn).TransitiveMemberOf()
	page, err := of.Get(ctx, &users.ItemTransitiveMemberOfRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemTransitiveMemberOfRequestBuilderGetQueryParameters{Top: &top},
	})
	roles := []migration.DirectoryRole{}
	err = everyPage(page, err, "the memberships of "+upn,
		func(next string) (models.DirectoryObjectCollectionResponseable, error) {
			return of.WithUrl(next).Get(ctx, nil)
		},
		func(page models.DirectoryObjectCollectionResponseable) {
			for _, o := range page.GetValue() {
				if r, ok := o.(models.DirectoryRoleable); ok {
					roles = append(roles, migration.DirectoryRole{TemplateID: deref(r.GetRoleTemplateId()), DisplayName: deref(r.GetDisplayName())})
				}
			}
		})
	if err != nil {
		return nil, err
	}
	return roles, nil
}
