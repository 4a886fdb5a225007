package migration

import (
	"context"
	"fmt"
	"time"
)

// Directory is what cutover asks of Microsoft Graph (Entra ID and Teams).
// The Graph package implements it with msgraph-sdk-go; nothing else imports
// the SDK.
//
// Errors Graph answered with are *DirectoryError; throttling is retried
// inside the implementation (honouring Retry-After) before it gives up.
type Directory interface {
	// Tenant reads the organisation's directory synchronisation, its
	// domains and its subscribed SKUs.
	Tenant(ctx context.Context) (Tenant, error)
	// Users looks users up by UPN, many at once. The result is keyed by the
	// UPNs as passed; users Graph does not know are absent from it.
	Users(ctx context.Context, upns []string) (map[string]DirectoryUser, error)
	// GroupUsers lists the users among a group's transitive members: nested
	// groups are followed; devices, contacts and other objects are skipped.
	// Errors: a *DirectoryError with Status 404 if there is no such group.
	GroupUsers(ctx context.Context, groupID string) ([]DirectoryUser, error)
	// FindGroups lists the groups whose display name starts with name,
	// compared without regard to case as Graph compares, at most
	// MaxFoundGroups of them, by display name: a lead picks the pilot
	// group by the name people know it by, not by its object ID.
	FindGroups(ctx context.Context, name string) ([]DirectoryGroup, error)
	// TeamsAccountType reads a user's Teams account type
	// (/admin/teams/userConfigurations/{id}: accountType), which is
	// AccountTypeOnPrem until the user is homed online.
	TeamsAccountType(ctx context.Context, userID string) (string, error)
	// TeamsVoice reads what Teams shows of a user's calling
	// (/admin/teams/userConfigurations/{id}: isEnterpriseVoiceEnabled,
	// telephoneNumbers), for a moved user's completion.
	TeamsVoice(ctx context.Context, userID string) (TeamsVoice, error)
	// NumberAssignment reads a telephone number's assignment in Teams
	// (/admin/teams/telephoneNumberManagement/numberAssignments filtered by
	// telephoneNumber); found is false when Teams shows none.
	NumberAssignment(ctx context.Context, number string) (a NumberAssignment, found bool, err error)
	// AccountRoles lists the directory roles an account is a member of,
	// directly or through groups (for AccountChecks).
	AccountRoles(ctx context.Context, upn string) ([]DirectoryRole, error)
}

// Teams account types: Graph's teamsUserConfiguration accountType, whose
// values are user, resourceAccount, guest, sfbOnPremUser, unknown,
// unknownFutureValue and ineligibleUser
// (microsoftgraph/microsoft-graph-docs-contrib
// api-reference/v1.0/resources/teamsadministration-teamsuserconfiguration.md).
// A move is done when Teams shows AccountTypeUser.
const (
	AccountTypeUser   = "user"
	AccountTypeOnPrem = "sfbOnPremUser"
	// AccountTypeIneligible is an evolvable enum member: Graph names it
	// only to a request with "Prefer: include-unknown-enum-members", and
	// answers AccountTypeUnknownFuture (the sentinel) to one without.
	AccountTypeIneligible    = "ineligibleUser"
	AccountTypeUnknownFuture = "unknownFutureValue"
)

// AccountTypeMeaning says what a Teams account type means for a user being
// moved, in the words of Get-CsOnlineUser -AccountType
// (MicrosoftDocs/office-docs-powershell teams/teams-ps/teams/Get-CsOnlineUser.md).
func AccountTypeMeaning(accountType string) string {
	switch accountType {
	case AccountTypeUser:
		return "a Teams user account: the move is done"
	case AccountTypeOnPrem:
		return "a user hosted on premises: Teams has not taken the move in yet"
	case AccountTypeIneligible:
		return "a user that does not have a valid Teams license"
	case "resourceAccount":
		return "an app endpoint or resource account, not a user"
	case "guest":
		return "a guest account, not a user of the tenant"
	case "unknown", "":
		return "a user type that is not known"
	case AccountTypeUnknownFuture:
		return "a value Graph names only to a request that asks for new enum values (Prefer: include-unknown-enum-members)"
	}
	return "an account type cutover does not know"
}

// Tenant is what Graph says of the organisation.
type Tenant struct {
	ID          string     `json:"id"`
	DisplayName string     `json:"display_name"`
	SyncEnabled bool       `json:"sync_enabled"`
	LastSync    *time.Time `json:"last_sync,omitempty"`
	Domains     []Domain   `json:"domains"`
	SKUs        []SKU      `json:"skus"`
}

// Domain is a domain added to the tenant.
type Domain struct {
	Name     string   `json:"name"`
	Verified bool     `json:"verified"`
	Services []string `json:"services"` // supportedServices, e.g. OfficeCommunicationsOnline
}

// SKU is a subscribed licence product.
type SKU struct {
	ID         string    `json:"id"`
	PartNumber string    `json:"part_number"` // e.g. ENTERPRISEPACK
	Enabled    int       `json:"enabled"`     // prepaid units enabled
	Consumed   int       `json:"consumed"`
	Plans      []SKUPlan `json:"plans"`
}

// SKUPlan is a service plan of a SKU.
type SKUPlan struct {
	ID     string `json:"id"`
	Name   string `json:"name"`   // servicePlanName, e.g. TEAMS1, MCOSTANDARD
	Status string `json:"status"` // provisioningStatus, e.g. Success
}

// MaxFoundGroups is how many groups FindGroups answers at most: enough to
// pick from, few enough to read; a longer name narrows the list.
const MaxFoundGroups = 20

// DirectoryGroup is an Entra ID group as a lead picks it from a list.
// Description is empty when the group has none.
type DirectoryGroup struct {
	ID          string
	DisplayName string
	Description string
}

// DirectoryUser is a user as Entra ID shows them.
type DirectoryUser struct {
	ID             string         `json:"id"`
	UPN            string         `json:"upn"`
	DisplayName    string         `json:"display_name"`
	Enabled        bool           `json:"enabled"`
	SyncEnabled    bool           `json:"sync_enabled"` // onPremisesSyncEnabled
	ImmutableID    string         `json:"immutable_id"` // onPremisesImmutableId
	UsageLocation  string         `json:"usage_location"`
	ProxyAddresses []string       `json:"proxy_addresses"`
	Plans          []AssignedPlan `json:"plans"`
}

// AssignedPlan is a service plan assigned to a user.
type AssignedPlan struct {
	ID         string    `json:"id"`      // servicePlanId
	Service    string    `json:"service"` // e.g. TeamspaceAPI, MicrosoftCommunicationsOnline
	Status     string    `json:"status"`  // capabilityStatus, e.g. Enabled
	AssignedAt time.Time `json:"assigned_at"`
}

// Service plans cutover needs, by their IDs and names
// (MicrosoftDocs/entra-docs docs/identity/users/licensing-service-plan-reference.md).
const (
	PlanTeams1       = "57ff2da0-773e-42df-b2af-ffb7a2317929" // Microsoft Teams (TEAMS1)
	PlanMCOStandard  = "0feaeb32-d00e-4d66-bd5a-43b5b83db82c" // Skype for Business Online (Plan 2) (MCOSTANDARD)
	PlanMCOEV        = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7" // Microsoft 365 Phone System, i.e. Teams Phone (MCOEV)
	PlanNameTeams1   = "TEAMS1"
	PlanNameMCOStd   = "MCOSTANDARD"
	ServiceSfBOnline = "OfficeCommunicationsOnline" // the domain service a SIP domain needs
)

// DirectoryError is an error Microsoft Graph answered with. Message may be
// empty: Graph does not always say.
type DirectoryError struct {
	Status     int
	Code       string // the OData error code, e.g. Request_ResourceNotFound
	Message    string
	RetryAfter time.Duration
	// TimedOut says that Graph did not answer within the time the caller
	// gave it (Status is 0).
	TimedOut bool
}

func (e *DirectoryError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	if e.Code != "" {
		return fmt.Sprintf("Microsoft Graph (%d) %s: %s", e.Status, e.Code, msg)
	}
	return fmt.Sprintf("Microsoft Graph (%d): %s", e.Status, msg)
}
