package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/cutover/cutover/internal/sim"
)

func runSimulate(ctx context.Context, args []string, getenv Env, stdout, stderr io.Writer) error {
	f := newFlags("simulate", "simulate [flags]", getenv, stderr)
	var c common
	var sh shellFlags
	var listen string
	c.register(f)
	sh.register(f)
	f.str(&listen, "listen", "CUTOVER_SIM_LISTEN", "127.0.0.1:7070", "address the simulated tenant listens on")
	if err := f.parse(args, 0); err != nil {
		return err
	}
	log, err := c.logger(stderr)
	if err != nil {
		return err
	}
	shell := sim.NewShell(sim.ShellConfig{Seed: int64(sh.Seed), Latency: sh.Latency})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: shell.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "simulated tenant at http://%s; point workers at it with --shell sim+http://%s\n", ln.Addr(), ln.Addr())
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
