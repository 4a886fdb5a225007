package migration

import (
	"net/url"
	"slices"
	"strings"
)

// cutover moves users of Microsoft 365's commercial cloud: the Move-CsUser
// target, the hosted migration service and the service plans it knows are
// that cloud's. The other clouds are refused rather than half-served.

// nationalGraphHosts are Microsoft Graph's root endpoints of the national
// clouds, by host: "Microsoft Graph for US Government L4 (GCC High) |
// https://graph.microsoft.us", "Microsoft Graph for US Government L5 (DOD) |
// https://dod-graph.microsoft.us", "Microsoft Graph China operated by
// 21Vianet | https://microsoftgraph.chinacloudapi.cn"
// (microsoftgraph/microsoft-graph-docs-contrib concepts/deployments.md).
var nationalGraphHosts = map[string]string{
	"graph.microsoft.us":              "US Government L4 (GCC High)",
	"dod-graph.microsoft.us":          "US Government L5 (DOD)",
	"microsoftgraph.chinacloudapi.cn": "China operated by 21Vianet",
}

// NationalCloud names the national cloud whose Graph a URL is, if it is one.
func NationalCloud(graphURL string) (string, bool) {
	u, err := url.Parse(graphURL)
	if err != nil {
		return "", false
	}
	cloud, ok := nationalGraphHosts[strings.ToLower(u.Hostname())]
	return cloud, ok
}

// governmentTeamsPlans are the Teams service plans of the US government
// clouds: TEAMS_GOV (GCC), TEAMS_GCCHIGH, TEAMS_AR_GCCHIGH, TEAMS_DOD and
// TEAMS_AR_DOD, beside the commercial TEAMS1 (MicrosoftDocs/azure-docs
// articles/communication-services/quickstarts/eligible-teams-licenses.md).
// A GCC tenant answers at Graph's commercial endpoint, with these plans.
var governmentTeamsPlans = []string{"TEAMS_GOV", "TEAMS_GCCHIGH", "TEAMS_AR_GCCHIGH", "TEAMS_DOD", "TEAMS_AR_DOD"}

// CloudCheck checks that the tenant is of the commercial cloud: one that
// subscribes to government Teams plans is refused, as cutover knows neither
// their service plan IDs for Skype for Business Online (Microsoft publishes
// them nowhere cutover could find) nor those clouds' move targets.
func CloudCheck(t Tenant) Check {
	c := Check{Name: "cloud"}
	for _, s := range t.SKUs {
		for _, p := range s.Plans {
			if slices.Contains(governmentTeamsPlans, p.Name) {
				f := FailureFor(CodeCloudNotSupported)
				c.Status, c.Code, c.Fix = CheckFail, f.Code, f.Fix
				c.Evidence = "the tenant subscribes to " + s.PartNumber + ", whose plan " + p.Name + " is a US government cloud's Teams plan"
				return c
			}
		}
	}
	c.Status, c.Evidence = CheckPass, "no government cloud plan among the tenant's subscriptions: the commercial cloud"
	return c
}
