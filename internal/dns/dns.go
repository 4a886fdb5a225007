// Package dns looks up the DNS records of a hybrid deployment's SIP
// domains (migration.SIPDomainRecords) with a DNS client library
// (github.com/miekg/dns), so that cutover can ask a given server: the
// organisation's, or the simulated tenant's on loopback.
package dns

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/cutover/cutover/internal/migration"
)

// Resolver asks one DNS server.
type Resolver struct {
	server string
	client *mdns.Client
}

// New returns a resolver asking server (host:port); "" asks the first
// nameserver of /etc/resolv.conf.
func New(server string) (*Resolver, error) {
	if server == "" {
		conf, err := mdns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(conf.Servers) == 0 {
			return nil, fmt.Errorf("no DNS server: set --dns-server (reading /etc/resolv.conf: %v)", err)
		}
		server = net.JoinHostPort(conf.Servers[0], conf.Port)
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	return &Resolver{server: server, client: &mdns.Client{Timeout: 5 * time.Second}}, nil
}

// Server is the server the resolver asks.
func (r *Resolver) Server() string { return r.server }

// SIPDomain looks up each of a SIP domain's hybrid records.
func (r *Resolver) SIPDomain(ctx context.Context, domain string) []migration.DNSName {
	out := make([]migration.DNSName, 0, len(migration.SIPDomainRecords))
	for _, rec := range migration.SIPDomainRecords {
		out = append(out, r.lookup(ctx, rec.Prefix+domain, rec.Type))
	}
	return out
}

func (r *Resolver) lookup(ctx context.Context, name, typ string) migration.DNSName {
	n := migration.DNSName{Name: name, Type: typ, Answers: []string{}}
	qtype := mdns.TypeSRV
	if typ == "CNAME" {
		qtype = mdns.TypeA // follows a CNAME: the answer holds it and its addresses
	}
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	m.RecursionDesired = true
	resp, _, err := r.client.ExchangeContext(ctx, m, r.server)
	if err != nil {
		n.Error = err.Error()
		return n
	}
	switch resp.Rcode {
	case mdns.RcodeSuccess, mdns.RcodeNameError:
	default:
		n.Error = mdns.RcodeToString[resp.Rcode]
		return n
	}
	for _, a := range resp.Answer {
		switch rr := a.(type) {
		case *mdns.SRV:
			n.Answers = append(n.Answers, fmt.Sprintf("%s:%d", strings.TrimSuffix(rr.Target, "."), rr.Port))
		case *mdns.CNAME:
			n.Type = "CNAME"
			n.Answers = append(n.Answers, strings.TrimSuffix(rr.Target, "."))
		case *mdns.A:
			if len(n.Answers) == 0 {
				n.Type = "A"
				n.Answers = append(n.Answers, rr.A.String())
			}
		}
	}
	return n
}
