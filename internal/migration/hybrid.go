package migration

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
)

// HostingProvider is a hosting provider as Get-CsHostingProvider shows it;
// the property names are New-CsHostingProvider's parameters
// (MicrosoftDocs/office-docs-powershell skype/skype-ps/SkypeForBusiness/New-CsHostingProvider.md).
type HostingProvider struct {
	Identity                  string `json:"Identity"`
	ProxyFqdn                 string `json:"ProxyFqdn"`
	Enabled                   bool   `json:"Enabled"`
	EnabledSharedAddressSpace bool   `json:"EnabledSharedAddressSpace"`
	HostsOCSUsers             bool   `json:"HostsOCSUsers"`
	IsLocal                   bool   `json:"IsLocal"`
	VerificationLevel         string `json:"VerificationLevel"`
	AutodiscoverURL           string `json:"AutodiscoverUrl"`
}

// AccessEdge is the Access Edge configuration as Get-CsAccessEdgeConfiguration
// shows it (the property names of its published sample output:
// MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Skype/SfbServer/manage/federation-and-external-access/access-edge/manage-access-edge-configuration-for-your-organization.md).
type AccessEdge struct {
	AllowFederatedUsers    bool   `json:"AllowFederatedUsers"`
	AllowOutsideUsers      bool   `json:"AllowOutsideUsers"`
	EnablePartnerDiscovery bool   `json:"EnablePartnerDiscovery"`
	RoutingMethod          string `json:"RoutingMethod"` // UseDnsSrvRouting, or default routing
}

// OnPremises is the on-premises half of the hybrid configuration, read
// with the two Get- cmdlets (nothing is changed).
type OnPremises struct {
	HostingProviders []HostingProvider `json:"hosting_providers"`
	AccessEdge       AccessEdge        `json:"access_edge"`
}

// The commercial cloud's hosting provider, as the hybrid configuration page
// creates it (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Skype/SfbHybrid/hybrid/configure-federation-with-skype-for-business-online.md).
const (
	commercialAutodiscover = "https://webdir.online.lync.com/Autodiscover/AutodiscoverService.svc/root"
	newHostingProvider     = `New-CsHostingProvider -Identity Office365 -ProxyFqdn "%s" -Enabled $true -EnabledSharedAddressSpace $true -HostsOCSUsers $true -VerificationLevel UseSourceVerification -IsLocal $false`
	setAccessEdge          = `Set-CSAccessEdgeConfiguration -AllowOutsideUsers $True -AllowFederatedUsers $True -EnablePartnerDiscovery $True -UseDnsSrvRouting`
)

// Check names of the hybrid readiness that block moves when they fail.
const (
	CheckHostingProvider = "hosting_provider"
	CheckEdgeFederation  = "edge_federation"
)

// OnPremReadiness checks the on-premises half of the seed's hybrid
// checklist: a hosting provider whose ProxyFqdn is the target, enabled, with
// shared SIP address space and hosting Skype for Business users, and an
// AutodiscoverUrl (without which Move-CsUser needs
// -HostedMigrationOverrideUrl: Move-CsUser.md); Access Edge federation with
// outside users allowed, DNS SRV routing and partner discovery. overrideURL
// is the configured -HostedMigrationOverrideUrl, if any.
func OnPremReadiness(o OnPremises, target, overrideURL string) []Check {
	target = MoveOnlineOptions{Target: target}.TargetOrDefault()
	create := fmt.Sprintf(newHostingProvider, target)
	if strings.EqualFold(target, DefaultOnlineTarget) {
		create += " -AutodiscoverUrl " + commercialAutodiscover
	}
	var checks []Check
	i := slices.IndexFunc(o.HostingProviders, func(p HostingProvider) bool { return strings.EqualFold(p.ProxyFqdn, target) })
	if i < 0 {
		var have []string
		for _, p := range o.HostingProviders {
			have = append(have, p.Identity+" ("+p.ProxyFqdn+")")
		}
		checks = append(checks, Check{Name: CheckHostingProvider, Status: CheckFail,
			Evidence: fmt.Sprintf("no hosting provider has ProxyFqdn %s (Get-CsHostingProvider: %s)", target, cmp.Or(strings.Join(have, ", "), "none")),
			Fix:      create})
	} else {
		p := o.HostingProviders[i]
		set := "Set-CsHostingProvider -Identity " + p.Identity
		switch {
		case !p.Enabled:
			checks = append(checks, Check{Name: CheckHostingProvider, Status: CheckFail,
				Evidence: p.Identity + " (" + p.ProxyFqdn + ") is not Enabled", Fix: set + " -Enabled $true"})
		case !p.EnabledSharedAddressSpace || !p.HostsOCSUsers:
			checks = append(checks, Check{Name: CheckHostingProvider, Status: CheckFail,
				Evidence: fmt.Sprintf("%s (%s): EnabledSharedAddressSpace %t, HostsOCSUsers %t: a split domain needs both True", p.Identity, p.ProxyFqdn, p.EnabledSharedAddressSpace, p.HostsOCSUsers),
				Fix:      set + " -EnabledSharedAddressSpace $true -HostsOCSUsers $true"})
		default:
			checks = append(checks, Check{Name: CheckHostingProvider, Status: CheckPass,
				Evidence: p.Identity + " (" + p.ProxyFqdn + ") is Enabled, with EnabledSharedAddressSpace and HostsOCSUsers"})
		}
		switch {
		case p.AutodiscoverURL != "":
			checks = append(checks, Check{Name: "autodiscover_url", Status: CheckPass, Evidence: p.Identity + " AutodiscoverUrl " + p.AutodiscoverURL})
		case overrideURL != "":
			checks = append(checks, Check{Name: "autodiscover_url", Status: CheckPass,
				Evidence: p.Identity + " has no AutodiscoverUrl; Move-CsUser is given -HostedMigrationOverrideUrl " + overrideURL})
		default:
			c := Check{Name: "autodiscover_url", Status: CheckWarn,
				Evidence: p.Identity + " has no AutodiscoverUrl, so Move-CsUser cannot find the hosted migration service without -HostedMigrationOverrideUrl",
				Fix:      "Set --hosted-migration-override-url (https://adminXX.online.lync.com/HostedMigration/hostedmigrationService.svc)"}
			if strings.EqualFold(target, DefaultOnlineTarget) {
				c.Fix = set + " -AutodiscoverUrl " + commercialAutodiscover
			}
			checks = append(checks, c)
		}
	}

	e := o.AccessEdge
	switch {
	case !e.AllowFederatedUsers || !e.AllowOutsideUsers:
		checks = append(checks, Check{Name: CheckEdgeFederation, Status: CheckFail,
			Evidence: fmt.Sprintf("Access Edge: AllowFederatedUsers %t, AllowOutsideUsers %t: on-premises and online users of a split domain cannot reach each other", e.AllowFederatedUsers, e.AllowOutsideUsers),
			Fix:      setAccessEdge})
	case e.RoutingMethod != "UseDnsSrvRouting":
		// Get-CsHostingProvider.md: "you cannot federate with a hosting
		// provider if your Edge Servers are configured to use default
		// routing rather than Domain Name System (DNS) server routing."
		checks = append(checks, Check{Name: CheckEdgeFederation, Status: CheckFail,
			Evidence: "Access Edge RoutingMethod is " + cmp.Or(e.RoutingMethod, "not set") + ": federation with a hosting provider needs DNS SRV routing",
			Fix:      setAccessEdge})
	case !e.EnablePartnerDiscovery:
		checks = append(checks, Check{Name: CheckEdgeFederation, Status: CheckWarn,
			Evidence: "Access Edge uses DNS SRV routing without partner discovery (EnablePartnerDiscovery False): closed federation must then be configured online too",
			Fix:      setAccessEdge})
	default:
		checks = append(checks, Check{Name: CheckEdgeFederation, Status: CheckPass,
			Evidence: "Access Edge: federated and outside users allowed, DNS SRV routing, partner discovery"})
	}
	return checks
}

// DNSName is what DNS answered for one name: the targets of its SRV records
// (with their ports) or of its CNAME, or its addresses; none if it does not
// exist.
type DNSName struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"` // SRV, or CNAME/A
	Answers []string `json:"answers"`
	Error   string   `json:"error,omitempty"` // a failed look-up (not "no such name")
}

// The DNS records of a SIP domain in a hybrid deployment
// (MicrosoftDocs/OfficeDocs-SkypeForBusiness
// Skype/SfbHybrid/hybrid/decommission-manage-dns-entries.md lists them;
// plan-hybrid-connectivity.md: "all Skype for Business external DNS records
// should point to the on-premises infrastructure" while users remain there).
var SIPDomainRecords = []struct{ Prefix, Type string }{
	{"_sipfederationtls._tcp.", "SRV"},
	{"_sip._tls.", "SRV"},
	{"lyncdiscover.", "CNAME"},
	{"sip.", "CNAME"},
}

// microsoftSuffixes are the hosts of Microsoft's clouds that a SIP domain's
// records point to once every user is online
// (decommission-manage-dns-entries.md; MicrosoftDocs/microsoft-365-docs
// microsoft-365/enterprise/dns-records-for-office-365-gcc-high.md and
// dns-records-for-office-365-dod.md).
var microsoftSuffixes = []string{".online.lync.com", ".online.gov.skypeforbusiness.us", ".online.dod.skypeforbusiness.us", ".online.partner.lync.cn"}

// pointsToMicrosoft reports whether a DNS answer names a host of Microsoft's.
func pointsToMicrosoft(answer string) bool {
	host, _, _ := strings.Cut(strings.ToLower(answer), ":") // an SRV answer is target:port
	host = strings.TrimSuffix(host, ".")
	return slices.ContainsFunc(microsoftSuffixes, func(s string) bool { return strings.HasSuffix(host, s) })
}

// DNSReadiness checks a SIP domain's records while users remain on
// premises: _sipfederationtls._tcp must exist (federation between the two
// halves of the split domain depends on it), and none may point to
// Microsoft yet. names are the look-ups of SIPDomainRecords for domain.
func DNSReadiness(domain string, names []DNSName) []Check {
	var checks []Check
	for _, n := range names {
		c := Check{Name: "dns " + n.Name}
		switch {
		case n.Error != "":
			c.Status, c.Evidence = CheckWarn, n.Type+" look-up failed: "+n.Error
			c.Fix = "Check that the DNS server cutover asks (--dns-server) answers for " + domain + "."
		case len(n.Answers) == 0 && strings.HasPrefix(n.Name, "_sipfederationtls._tcp."):
			c.Status, c.Evidence = CheckFail, "no SRV record: federated traffic for the split domain cannot be routed"
			c.Fix = fmt.Sprintf("Publish _sipfederationtls._tcp.%s SRV 100 1 5061 <Access Edge external FQDN>.", domain)
		case len(n.Answers) == 0:
			c.Status, c.Evidence = CheckWarn, "no "+n.Type+" record"
			c.Fix = "Publish " + n.Name + " pointing to the on-premises deployment, as Skype for Business Server's DNS requirements say."
		case slices.ContainsFunc(n.Answers, pointsToMicrosoft):
			c.Status = CheckFail
			c.Evidence = n.Type + " " + strings.Join(n.Answers, ", ") + ": points to Microsoft while users remain on premises"
			c.Fix = "Point " + n.Name + " back to the on-premises deployment; move it to Microsoft only once no user remains on premises."
		default:
			c.Status, c.Evidence = CheckPass, n.Type+" "+strings.Join(n.Answers, ", ")+" (on premises)"
		}
		checks = append(checks, c)
	}
	return checks
}

// DNSResolver looks up a SIP domain's hybrid records (SIPDomainRecords).
type DNSResolver interface {
	SIPDomain(ctx context.Context, domain string) []DNSName
}

// Sections of the deployment's hybrid readiness beyond its hosts and tenant.
const (
	SectionOnPremises = "on_premises"
	SectionDNS        = "dns"
)
