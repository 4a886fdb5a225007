package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/cutover/cutover/internal/sim"
)

// The simulated tenant's app registration, which "cutover simulate" accepts
// and prints for worker processes to use.
const (
	simClientID     = "cutover-simulator"
	simClientSecret = "simulated-secret"
)

func runSimulate(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("simulate", "simulate [flags]", getenv, stderr)
	var c common
	var sh shellFlags
	var listen, graphListen, caFile, dnsListen string
	c.register(f)
	sh.register(f, "sim")
	f.str(&listen, "listen", "CUTOVER_SIM_LISTEN", "127.0.0.1:7070", "address the simulated shell listens on")
	f.str(&graphListen, "graph-listen", "CUTOVER_SIM_GRAPH_LISTEN", "127.0.0.1:7071", `address the simulated Microsoft Graph listens on (HTTPS; "off" for none)`)
	f.str(&dnsListen, "dns-listen", "CUTOVER_SIM_DNS_LISTEN", "127.0.0.1:7053", `address (UDP, loopback) the simulated SIP domains' DNS listens on ("off" for none)`)
	f.str(&caFile, "graph-ca-out", "CUTOVER_SIM_GRAPH_CA_OUT", "cutover-sim-graph.pem", "file to write the simulated Graph's certificate to, for workers to trust")
	if err := f.parse(args, 0); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	shell := sim.NewShell(sh.simConfig())
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: shell.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Simulated shell at http://%s: point workers at it with --shell sim+http://%s\n", ln.Addr(), ln.Addr())
	if graphListen != "off" {
		g, err := sim.NewGraph(shell, sim.GraphConfig{ClientID: simClientID, ClientSecret: simClientSecret, ProvisioningDelay: 2 * time.Second})
		if err != nil {
			return err
		}
		if err := g.StartOn(graphListen); err != nil {
			return fmt.Errorf("simulated Graph: %w", err)
		}
		defer g.Close()
		if err := os.WriteFile(caFile, g.CertificatePEM(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Simulated Microsoft Graph at %s: point cutover at it with\n  --graph %s --graph-authority %s/ --graph-tenant %s --graph-client-id %s --graph-client-secret %s --graph-ca-file %s\n",
			g.GraphURL(), g.GraphURL(), g.URL(), g.TenantID(), simClientID, simClientSecret, caFile)
	}
	if dnsListen != "off" {
		_, port, err := net.SplitHostPort(dnsListen)
		if err != nil {
			return fmt.Errorf("dns-listen %q: %w", dnsListen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return fmt.Errorf("dns-listen %q: the port is not a number", dnsListen)
		}
		d, err := sim.StartDNS(p, sim.DefaultSIPDomains())
		if err != nil {
			return fmt.Errorf("simulated DNS: %w", err)
		}
		defer d.Close()
		fmt.Fprintf(stdout, "Simulated DNS of %v at %s (UDP): point workers at it with --dns-server %s\n", sim.DefaultSIPDomains(), d.Addr(), d.Addr())
	}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.WithoutCancel(ctx))
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("simulated tenant stopped", "stats", shell.Stats())
	return nil
}
