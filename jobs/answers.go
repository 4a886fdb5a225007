package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/migration"
)

// sideWatch is what a worker process knows of whether one side of
// Microsoft's (the shell, Graph) answers: the latest start of a call it
// answered, and whether the last probe of it (a read that touches no user)
// went unanswered. A call that did not answer is the user's own only if the
// side answered a call sent after it started: another user's, or a probe
// made for the purpose. An answer to a call sent earlier proves nothing of
// later ones: a side that stops answering still finishes what it had
// begun.
type sideWatch struct {
	side    migration.Side
	probe   func(context.Context) error // a read that touches no user
	probes  string                      // what the probe reads, in words
	timeout time.Duration               // of one probe

	mu       sync.Mutex
	answered time.Time     // the latest start of a call the side answered
	down     bool          // the last probe went unanswered, and nothing sent since has been answered
	downAt   time.Time     // the start of the read that found it down
	probing  chan struct{} // closed when the probe running ends; nil if none runs
	probedAt time.Time     // when the probe running (or the last) started
	lastOK   bool          // the last probe's result
	lastErr  error         // and its error, if any
}

func newSideWatch(side migration.Side, probes string, timeout time.Duration, probe func(context.Context) error) *sideWatch {
	return &sideWatch{side: side, probe: probe, probes: probes, timeout: timeout}
}

// heard notes that the side answered a call sent at sent (with anything: a
// user's error is an answer).
func (s *sideWatch) heard(sent time.Time) {
	s.mu.Lock()
	if sent.After(s.answered) {
		s.answered = sent
	}
	if !sent.Before(s.downAt) {
		s.down = false
	}
	s.mu.Unlock()
}

// missed notes that the side did not answer a probe-like read of the
// readiness check (the host check, the tenant's organization) sent at sent:
// it is down until it answers a call sent since.
func (s *sideWatch) missed(sent time.Time) {
	s.mu.Lock()
	if !sent.Before(s.answered) {
		s.down, s.downAt = true, sent
		s.lastOK, s.lastErr = false, errUnanswered{probes: s.probes, after: s.timeout, err: context.DeadlineExceeded}
	}
	s.mu.Unlock()
}

// isDown reports whether the side went unanswered at its last probe and has
// answered nothing since.
func (s *sideWatch) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// answersSince reports whether the side answered anything sent at or after
// at: a call, or a probe. It probes when it must (one probe
// at a time in the process; callers wait for it), and returns the probe's
// error when the side did not answer it. A side already found down is not
// probed again here: the readiness loop probes it.
func (s *sideWatch) answersSince(ctx context.Context, at time.Time) error {
	for {
		s.mu.Lock()
		switch {
		case !s.answered.Before(at):
			s.mu.Unlock()
			return nil
		case s.down:
			err := s.lastErr
			s.mu.Unlock()
			return err
		case s.probing == nil && !s.probedAt.Before(at):
			ok, err := s.lastOK, s.lastErr
			s.mu.Unlock()
			if ok {
				return nil
			}
			return err
		case s.probing != nil:
			ch := s.probing
			s.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		// Probe now.
		ch := make(chan struct{})
		s.probing, s.probedAt = ch, time.Now()
		s.mu.Unlock()
		err := s.check(ctx)
		s.mu.Lock()
		s.probing = nil
		close(ch)
		s.mu.Unlock()
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		continue
	}
}

// check probes the side once, under the probe's time-out, and records what
// it found: nil if it answered.
func (s *sideWatch) check(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, s.timeout)
	err := s.probe(pctx)
	cancel()
	if err != nil && ctx.Err() == nil && noAnswer(err) {
		err = errUnanswered{probes: s.probes, after: s.timeout, err: err}
	} else {
		err = nil // an answer, even an error, is an answer
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() != nil {
		return ctx.Err() // stopped, not probed
	}
	s.lastOK, s.lastErr = err == nil, err
	switch {
	case err == nil:
		if s.probedAt.After(s.answered) {
			s.answered = s.probedAt
		}
		if !s.probedAt.Before(s.downAt) {
			s.down = false
		}
	case s.answered.Before(s.probedAt):
		s.down, s.downAt = true, s.probedAt
	}
	return err
}

// errUnanswered is a probe of a side that did not answer.
type errUnanswered struct {
	probes string
	after  time.Duration
	err    error
}

func (e errUnanswered) Error() string {
	return "nor did a probe (" + e.probes + ") " + unansweredIn(e.after, e.err)
}

// unansweredIn says that a call did not answer: within its time-out, or
// (unreachable) why.
func unansweredIn(within time.Duration, err error) string {
	de, _ := errors.AsType[*migration.DirectoryError](err)
	if errors.Is(err, context.DeadlineExceeded) || de != nil && de.TimedOut {
		return "within " + within.String()
	}
	return "(" + err.Error() + ")"
}
func (e errUnanswered) Unwrap() error { return e.err }

// noAnswer reports whether a call's error says the side did not answer (as
// opposed to answering with an error): a time-out, or a failure to reach
// it (Graph's status 0).
func noAnswer(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, migration.ErrUnreachable) {
		return true
	}
	if de, ok := errors.AsType[*migration.DirectoryError](err); ok {
		return de.Status == 0
	}
	return false
}

// sideError marks the error of a call of a side that did not answer: the
// attempt asks whether the side answers before it counts it.
type sideError struct {
	side   migration.Side
	what   string        // the call, in words ("Move-CsUser for ann@contoso.com")
	within time.Duration // its time-out
	sent   time.Time     // when the call was made
	at     time.Time     // when it gave up
	err    error
}

func (e sideError) Error() string { return e.what + " did not answer " + unansweredIn(e.within, e.err) }
func (e sideError) Unwrap() error { return e.err }

// notCounted is the timeline's line for an attempt stopped by a side that
// does not answer.
func notCounted(prefix string, se sideError) migration.MoveEvent {
	what := "the management shell answers"
	if se.side == migration.SideGraph {
		what = "Microsoft Graph answers"
	}
	return migration.MoveEvent{ErrorCode: se.side.Code(),
		Message: prefix + "not counted: " + string(se.side.Code()) + ": " + truncate(se.err.Error(), 300) +
			"; moves wait until " + what + " a probe again, and this one goes on from where it was"}
}
