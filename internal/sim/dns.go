package sim

import (
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// DNS serves the DNS records of a simulated tenant's SIP domains on
// loopback (UDP), as a hybrid deployment publishes them while users remain
// on premises: _sipfederationtls._tcp and _sip._tls SRV records to the
// Access Edge, lyncdiscover and sip to on-premises addresses. A test may
// change any record, or point it to Microsoft.
type DNS struct {
	srv  *dns.Server
	addr string

	mu      sync.Mutex
	records map[string][]dns.RR // by lower-case FQDN
}

// DefaultSIPDomains are the SIP domains of a simulated tenant: its Graph's
// domains.
func DefaultSIPDomains() []string {
	out := make([]string, len(DefaultGraphDomains))
	for i, d := range DefaultGraphDomains {
		out[i] = d.Name
	}
	return out
}

// StartDNS serves the records of domains on 127.0.0.1:port (0: any port).
func StartDNS(port int, domains []string) (*DNS, error) {
	conn, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	d := &DNS{addr: conn.LocalAddr().String(), records: map[string][]dns.RR{}}
	for i, domain := range domains {
		edge := "sipfed." + domain
		d.set("_sipfederationtls._tcp."+domain, fmt.Sprintf("SRV 100 1 5061 %s.", edge))
		d.set("_sip._tls."+domain, fmt.Sprintf("SRV 100 1 443 sip.%s.", domain))
		d.set("lyncdiscover."+domain, fmt.Sprintf("A 192.0.2.%d", 10+2*i))
		d.set("sip."+domain, fmt.Sprintf("A 192.0.2.%d", 11+2*i))
		d.set(edge, fmt.Sprintf("A 192.0.2.%d", 100+i))
	}
	d.srv = &dns.Server{PacketConn: conn, Handler: dns.HandlerFunc(d.serve)}
	started := make(chan struct{})
	d.srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = d.srv.ActivateAndServe() }()
	<-started
	return d, nil
}

// Addr is the server's address (host:port).
func (d *DNS) Addr() string { return d.addr }

// Close stops the server.
func (d *DNS) Close() error { return d.srv.Shutdown() }

// Set replaces a name's records: each in zone-file form without the name
// ("SRV 100 1 5061 sipfed.online.lync.com.", "CNAME webdir.online.lync.com.",
// "A 192.0.2.1"); none removes the name.
func (d *DNS) Set(name string, records ...string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := strings.ToLower(dns.Fqdn(name))
	delete(d.records, key)
	for _, r := range records {
		if err := d.add(key, r); err != nil {
			return err
		}
	}
	return nil
}

func (d *DNS) set(name string, record string) {
	if err := d.Set(name, record); err != nil {
		panic(err) // the records above are the simulator's own
	}
}

func (d *DNS) add(key, record string) error {
	rr, err := dns.NewRR(key + " 3600 IN " + record)
	if err != nil {
		return fmt.Errorf("record %q: %w", record, err)
	}
	d.records[key] = append(d.records[key], rr)
	return nil
}

func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	d.mu.Lock()
	for _, q := range req.Question {
		name := strings.ToLower(q.Name)
		for hops := 0; hops < 8; hops++ {
			rrs, ok := d.records[name]
			if !ok {
				break
			}
			next := ""
			for _, rr := range rrs {
				switch {
				case rr.Header().Rrtype == q.Qtype:
					m.Answer = append(m.Answer, rr)
				case rr.Header().Rrtype == dns.TypeCNAME:
					m.Answer = append(m.Answer, rr)
					next = strings.ToLower(rr.(*dns.CNAME).Target)
				}
			}
			if next == "" {
				break
			}
			name = next
		}
		if len(m.Answer) == 0 {
			if _, ok := d.records[strings.ToLower(q.Name)]; !ok {
				m.Rcode = dns.RcodeNameError
			}
		}
	}
	d.mu.Unlock()
	_ = w.WriteMsg(m)
}
