package migration

// Next is what an attempt at a move (or a rollback) does after a failure.
type Next string

// What comes after a failure.
const (
	// NextRetry: the attempt counts; the move waits for its backoff and
	// tries again.
	NextRetry Next = "retry"
	// NextFail: the move (or rollback) fails for good with the failure's
	// code.
	NextFail Next = "fail"
	// NextHold: the deployment's fault (a sign-in that fails, Graph down):
	// every move waits until the workers' check passes; not counted.
	NextHold Next = "hold"
	// NextResume: not the user's fault (the shell's session broke): the
	// move goes on shortly from where it was; not counted.
	NextResume Next = "resume"
)

// SessionBreaksFree is how many broken shell sessions one run of a move
// may meet without counting an attempt; beyond that they count as the
// transient failures they are, so that a move cannot wait for ever.
const SessionBreaksFree = 3

// Decision is what comes after a failure, and the failure it was.
type Decision struct {
	Next    Next
	Failure Failure
	// NoAttemptsLeft says that a failure worth another attempt fails the
	// move because it was the last attempt.
	NoAttemptsLeft bool
}

// Decide says what an attempt does after failure f: attempt n (1-based) of
// max, with sessionBreaks broken sessions met already in this run without
// counting. It is the one rule the move and rollback workers follow.
func Decide(f Failure, n, max, sessionBreaks int) Decision {
	d := Decision{Failure: f}
	switch {
	case f.Deployment:
		d.Next = NextHold
	case f.Code == CodeSessionBroken && sessionBreaks < SessionBreaksFree:
		d.Next = NextResume
	case !f.Retries(n):
		d.Next = NextFail
	case n >= max:
		d.Next, d.NoAttemptsLeft = NextFail, true
	default:
		d.Next = NextRetry
	}
	return d
}
