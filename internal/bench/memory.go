package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/store"
)

var sqlMemoryWaveCompleted = statement("memory_wave_completed")

// memory: the peak resident memory of a cutover serve process working a
// wave, for each size; the largest against the smallest.
func (b *bencher) memory(ctx context.Context, sz Sizes) (Figure, error) {
	exe, err := os.Executable()
	if err != nil {
		return Figure{}, err
	}
	var peaks []float64
	for i, n := range sz.RSS {
		peak, err := b.serveWave(ctx, exe, n, fmt.Sprintf("cutover serve: a wave of %d users [%d/%d]", n, i+1, len(sz.RSS)))
		if err != nil {
			return Figure{}, err
		}
		b.p.note("%d users: peak RSS %.1f MB", n, peak)
		peaks = append(peaks, peak)
	}
	first, last := peaks[0], peaks[len(peaks)-1]
	ratio := last / first
	return Figure{Name: fmt.Sprintf("server peak RSS, %d-user wave", sz.RSS[len(sz.RSS)-1]), Baseline: fmt.Sprintf("%d-user wave", sz.RSS[0]),
		Base: first, Value: last, Unit: "MB", Ratio: ratio, Goal: "< 200 MB and ≤ 1.5×", Met: last < 200 && ratio <= 1.5,
		Notes: "cutover serve (API and 50 workers; retries after 50 ms) importing, planning and moving the whole wave, on the simulated shell of cutover simulate (its usual failure mix, instant) in a process of its own; VmHWM from /proc"}, nil
}

// serveWave runs cutover serve as a process of its own, moves a wave of n
// users through it, and returns its peak resident memory in MB; phase
// names it in the progress.
func (b *bencher) serveWave(ctx context.Context, exe string, n int, phase string) (float64, error) {
	pool, url, done, err := b.fresh(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	b.p.startPhase("%s", phase)
	defer b.p.endPhase()
	_, token, err := store.New(pool).TokenCreate(ctx, "bench", auth.RoleLead, "cutover bench")
	if err != nil {
		return 0, err
	}
	if _, err := store.New(pool).SettingsSetMaxInFlight(ctx, 50, "bench"); err != nil {
		return 0, err
	}
	// The simulated tenant keeps a record of every user it has seen (27.5
	// MB of heap for 100,000): it runs in a process of its own, as a real
	// shell is elsewhere, so that only the server is measured.
	shell, stopShell, err := startSimulator(ctx, exe)
	if err != nil {
		return 0, err
	}
	defer stopShell()
	addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(20000))
	cmd := exec.CommandContext(ctx, exe, "serve", "--database-url", url, "--listen", addr, "--shell", shell,
		"--workers", "50", "--retry-base", "50ms", "--retry-max", "1s", "--log-level", "error")
	cmd.Stdout, cmd.Stderr = io.Discard, b.stderr
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	srv := "http://" + addr
	if err := waitFor(ctx, 50*time.Millisecond, func() (bool, error) {
		res, err := http.Get(srv + "/healthz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil, nil
	}); err != nil {
		return 0, err
	}
	waveID, err := importAndPlan(ctx, srv, token, n, 50)
	if err != nil {
		return 0, err
	}
	b.p.step("imported and planned")
	if err := waitFor(ctx, 200*time.Millisecond, func() (bool, error) {
		c, err := count(ctx, pool, sqlMemoryWaveCompleted, waveID)
		if err == nil && c != 1 {
			err = b.movesDone(ctx, pool, waveID, n)
		}
		return c == 1, err
	}); err != nil {
		return 0, err
	}
	return peakRSS(cmd.Process.Pid)
}

// startSimulator runs "cutover simulate" (the shell alone, instant, with
// its usual failure mix) and returns the --shell that reaches it, and how to
// stop it.
func startSimulator(ctx context.Context, exe string) (string, func(), error) {
	cmd := exec.CommandContext(ctx, exe, "simulate", "--listen", "127.0.0.1:0", "--graph-listen", "off", "--dns-listen", "off",
		"--sim-latency", "0", "--log-level", "error")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	// "Simulated shell at http://ADDR: point workers at it with --shell sim+http://ADDR"
	line, err := bufio.NewReader(out).ReadString('\n')
	_, shell, found := strings.Cut(strings.TrimSpace(line), "--shell ")
	if err != nil || !found {
		stop()
		if err == nil {
			err = fmt.Errorf("it printed %q", line)
		}
		return "", nil, fmt.Errorf("cutover simulate did not say where it listens: %w", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return shell, stop, nil
}

// peakRSS reads a process's peak resident memory (VmHWM), in MB.
func peakRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak memory needs /proc (Linux): %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
