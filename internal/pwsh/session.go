package pwsh

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

// session is a long-lived PowerShell process running the script, answering
// request after request on its standard input and output.
type session struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan lineOrErr // the answers, read by a goroutine of its own
	stderr  *limitedBuffer
	started time.Time
}

type lineOrErr struct {
	line []byte
	err  error
}

// sessionPool keeps up to size sessions; a call takes an idle one, or starts
// one while there are fewer than size, or waits.
type sessionPool struct {
	shell *Shell
	idle  chan *session
	slots chan struct{} // a token per live session
	mu    sync.Mutex
	live  map[*session]bool
}

func newSessionPool(s *Shell, size int) *sessionPool {
	return &sessionPool{shell: s, idle: make(chan *session, size), slots: make(chan struct{}, size), live: map[*session]bool{}}
}

// start runs a new session. Its process lives until the pool ends it, not
// until the call that started it ends.
func (p *sessionPool) start() (*session, error) {
	cmd := p.shell.command(context.Background())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	ss := &session{cmd: cmd, stdin: stdin, lines: make(chan lineOrErr, 1), stderr: &limitedBuffer{max: 4096}, started: time.Now()}
	cmd.Stderr = ss.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start PowerShell: %w", err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), p.shell.cfg.MaxOutput)
		for sc.Scan() {
			if len(sc.Bytes()) == 0 {
				continue
			}
			ss.lines <- lineOrErr{line: append([]byte(nil), sc.Bytes()...)}
		}
		err := sc.Err()
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("%w: its answer is larger than %d bytes", ErrProtocol, p.shell.cfg.MaxOutput)
		} else {
			err = fmt.Errorf("%w: PowerShell %s without an answer", ErrProtocol, exitOf(cmd))
		}
		ss.lines <- lineOrErr{err: err}
		close(ss.lines)
	}()
	p.mu.Lock()
	p.live[ss] = true
	p.mu.Unlock()
	return ss, nil
}

func exitOf(cmd *exec.Cmd) string {
	if err := cmd.Wait(); err != nil {
		return err.Error()
	}
	return "exited"
}

// get returns an idle session, or a new one if there is room, or waits.
func (p *sessionPool) get(ctx context.Context) (*session, error) {
	for {
		select { // an idle session first
		case ss := <-p.idle:
			if time.Since(ss.started) < p.shell.cfg.SessionMaxAge {
				return ss, nil
			}
			p.end(ss)
			continue
		default:
		}
		select {
		case ss := <-p.idle:
			if time.Since(ss.started) < p.shell.cfg.SessionMaxAge {
				return ss, nil
			}
			p.end(ss) // retired: remote sessions expire
		case p.slots <- struct{}{}:
			ss, err := p.start()
			if err != nil {
				<-p.slots
				return nil, err
			}
			return ss, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// end kills a session's process tree and frees its slot.
func (p *sessionPool) end(ss *session) {
	p.mu.Lock()
	live := p.live[ss]
	delete(p.live, ss)
	p.mu.Unlock()
	if !live {
		return
	}
	_ = ss.stdin.Close()
	_ = ss.cmd.Cancel()
	<-p.slots
}

// call sends a request line to a session and reads its answer. A session
// that times out, dies or answers out of protocol is ended (its whole
// process tree killed), never reused.
func (p *sessionPool) call(ctx context.Context, req request, line []byte) (answer, error) {
	ss, err := p.get(ctx)
	if err != nil {
		return answer{}, fmt.Errorf("management shell call %s %s: waiting for a session: %w", req.Op, req.Identity, err)
	}
	if _, err := ss.stdin.Write(append(line, '\n')); err != nil {
		p.end(ss)
		return answer{}, fmt.Errorf("%w: PowerShell stopped reading requests (%v)%s", ErrProtocol, err, stderrNote(ss.stderr))
	}
	select {
	case <-ctx.Done():
		p.end(ss)
		return answer{}, fmt.Errorf("management shell call %s %s: %w", req.Op, req.Identity, ctx.Err())
	case r, ok := <-ss.lines:
		if !ok || r.err != nil {
			p.end(ss)
			if !ok {
				r.err = fmt.Errorf("%w: PowerShell exited", ErrProtocol)
			}
			return answer{}, fmt.Errorf("%w%s", r.err, stderrNote(ss.stderr))
		}
		a, err := parseAnswer(r.line, "")
		if errors.Is(err, migration.ErrSessionBroken) {
			p.end(ss) // a broken session answers no more
			return a, err
		}
		if errors.Is(err, ErrProtocol) {
			// Out of protocol: say how the process ended, if it did.
			select {
			case r := <-ss.lines:
				if r.err != nil {
					err = fmt.Errorf("%w (%s)", err, strings.TrimPrefix(r.err.Error(), ErrProtocol.Error()+": "))
				}
			case <-time.After(200 * time.Millisecond):
			}
			p.end(ss)
			err = fmt.Errorf("%w%s", err, stderrNote(ss.stderr))
		} else {
			p.idle <- ss
		}
		return a, err
	}
}

// close ends every session.
func (p *sessionPool) close() {
	p.mu.Lock()
	all := make([]*session, 0, len(p.live))
	for ss := range p.live {
		all = append(all, ss)
	}
	p.mu.Unlock()
	for _, ss := range all {
		p.end(ss)
	}
}
