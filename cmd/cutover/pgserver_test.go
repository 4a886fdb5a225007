package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// pgServer is a PostgreSQL server of a test's own, in a data directory of
// its own: a test can crash and restart it without touching the server the
// other tests share.
type pgServer struct {
	t     *testing.T
	bin   string // the server's binaries
	data  string
	log   string
	port  int
	owner *user.User // the account the server runs as when the test runs as root
}

// startPgServer initialises and starts a private server with the PostgreSQL
// binaries of this machine (pg_config --bindir, or the newest under
// /usr/lib/postgresql). It skips the test, saying why, when there are none:
// Postgres then runs in a container, which the test cannot restart.
func startPgServer(t *testing.T) *pgServer {
	t.Helper()
	bin := pgBinDir()
	if bin == "" {
		t.Skip("no PostgreSQL server binaries on this machine (pg_ctl): the restart scenario needs a server of its own")
	}
	dir, err := os.MkdirTemp("", "cutover-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &pgServer{t: t, bin: bin, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "server.log"), port: freePort(t)}
	if os.Geteuid() == 0 {
		// The server refuses to run as root: it runs as the account the
		// packaged server runs as.
		if s.owner, err = user.Lookup("postgres"); err != nil {
			t.Skipf("running as root and no postgres account to run a private server as: %v", err)
		}
		uid, _ := strconv.Atoi(s.owner.Uid)
		gid, _ := strconv.Atoi(s.owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = s.ctl("stop", "-m", "immediate")
		_ = os.RemoveAll(dir)
	})
	if out, err := s.run("initdb", "-D", s.data, "-A", "trust", "-U", "cutover", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", s.port, s.data)
	if err := s.ctl("start", "-o", opts); err != nil {
		t.Fatalf("start: %v", err)
	}
	return s
}

// URL is the URL of a database on the server.
func (s *pgServer) URL(database string) string {
	return fmt.Sprintf("postgres://cutover@127.0.0.1:%d/%s?sslmode=disable", s.port, database)
}

// Crash stops the server at once, as a power cut or a kill -9 of the
// postmaster would (no checkpoint: it recovers from the WAL), and starts it
// again.
func (s *pgServer) Crash() {
	s.t.Helper()
	if err := s.ctl("restart", "-m", "immediate"); err != nil {
		s.t.Fatalf("restart: %v", err)
	}
}

// ctl runs pg_ctl on the server's data directory, waiting for it to finish.
func (s *pgServer) ctl(args ...string) error {
	out, err := s.run("pg_ctl", append([]string{"-D", s.data, "-l", s.log, "-w", "-t", "60"}, args...)...)
	if err != nil {
		log, _ := os.ReadFile(s.log)
		return fmt.Errorf("pg_ctl %s: %w\n%s\nserver log:\n%s", strings.Join(args, " "), err, out, log)
	}
	return nil
}

// run runs one of the server's programs, as the server's account if there is
// one.
func (s *pgServer) run(program string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, program)
	var cmd *exec.Cmd
	if s.owner != nil {
		cmd = exec.Command("runuser", append([]string{"-u", s.owner.Username, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// pgBinDir finds the PostgreSQL server's binaries, or returns "".
func pgBinDir() string {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[j]))))
		return vi > vj
	})
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[0])
}

// freePort returns a TCP port free on the loopback interface now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
