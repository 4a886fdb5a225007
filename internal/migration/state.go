package migration

// MoveState is where one user's move stands.
type MoveState string

// The states of a move. A move is created pending when its group is planned,
// queued when its wave starts, and ends moved, skipped, failed or cancelled
// (or, after a rollback, rolled_back or rollback_failed).
const (
	MoveStatePending        MoveState = "pending"
	MoveStateQueued         MoveState = "queued"
	MoveStatePreflight      MoveState = "preflight"
	MoveStateMoving         MoveState = "moving"
	MoveStateVerifying      MoveState = "verifying"
	MoveStateRetrying       MoveState = "retrying"
	MoveStateMoved          MoveState = "moved"
	MoveStateSkipped        MoveState = "skipped"
	MoveStateFailed         MoveState = "failed"
	MoveStateCancelled      MoveState = "cancelled"
	MoveStateRollingBack    MoveState = "rolling_back"
	MoveStateRolledBack     MoveState = "rolled_back"
	MoveStateRollbackFailed MoveState = "rollback_failed"
)

// MoveStates lists every move state, in the order a move passes through them.
var MoveStates = []MoveState{
	MoveStatePending, MoveStateQueued, MoveStatePreflight, MoveStateMoving, MoveStateVerifying,
	MoveStateRetrying, MoveStateMoved, MoveStateSkipped, MoveStateFailed, MoveStateCancelled,
	MoveStateRollingBack, MoveStateRolledBack, MoveStateRollbackFailed,
}

// moveTransitions is the state machine of a move: from → the states it may go
// to. The schema holds the same table (move_state_transitions) and refuses any
// other change; a test keeps the two equal.
var moveTransitions = map[MoveState][]MoveState{
	MoveStatePending:  {MoveStateQueued, MoveStateCancelled},
	MoveStateQueued:   {MoveStatePreflight, MoveStateCancelled},
	MoveStateRetrying: {MoveStatePreflight, MoveStateCancelled},
	// A user found online whose move call an earlier attempt made goes
	// straight to verifying.
	MoveStatePreflight: {MoveStateMoving, MoveStateSkipped, MoveStateFailed, MoveStateRetrying, MoveStateVerifying},
	// A move found in moving or verifying when its job starts was cut off (its
	// worker died): it starts again at pre-flight, which reads the homing first.
	MoveStateMoving:    {MoveStateVerifying, MoveStateFailed, MoveStateRetrying, MoveStatePreflight},
	MoveStateVerifying: {MoveStateMoved, MoveStateFailed, MoveStateRetrying, MoveStatePreflight},
	MoveStateFailed:    {MoveStateQueued},
	// A move cancelled by its wave's halt is queued again when a lead
	// resumes the wave; a user removed from a wave that has not started can
	// be added back.
	MoveStateCancelled:      {MoveStateQueued, MoveStatePending},
	MoveStateMoved:          {MoveStateRollingBack},
	MoveStateRollingBack:    {MoveStateRolledBack, MoveStateRollbackFailed},
	MoveStateRollbackFailed: {MoveStateRollingBack},
}

// CanMoveTo reports whether a move in state s may change to state to.
func (s MoveState) CanMoveTo(to MoveState) bool {
	for _, next := range moveTransitions[s] {
		if next == to {
			return true
		}
	}
	return false
}

// MoveStatesTo lists the states from which a move may change to state to.
func MoveStatesTo(to MoveState) []MoveState {
	var from []MoveState
	for _, s := range MoveStates {
		if s.CanMoveTo(to) {
			from = append(from, s)
		}
	}
	return from
}

// Active reports whether a move in this state still holds its user: a user
// has at most one active move across all groups.
func (s MoveState) Active() bool {
	switch s {
	case MoveStatePending, MoveStateQueued, MoveStatePreflight, MoveStateMoving,
		MoveStateVerifying, MoveStateRetrying, MoveStateRollingBack:
		return true
	}
	return false
}

// Done reports whether the move has reached an outcome for its wave: moved,
// skipped, failed or cancelled (or a rollback's outcome).
func (s MoveState) Done() bool {
	return s.Valid() && !s.Active()
}

// InFlight reports whether a worker is working the move now.
func (s MoveState) InFlight() bool {
	return s == MoveStatePreflight || s == MoveStateMoving || s == MoveStateVerifying
}

// Valid reports whether s is a known state.
func (s MoveState) Valid() bool {
	_, ok := moveTransitions[s]
	return ok || s == MoveStateSkipped || s == MoveStateCancelled || s == MoveStateRolledBack
}

// WaveState is where a wave stands.
type WaveState string

// The states of a wave. A wave is scheduled until its start time, then
// running until none of its moves is active (completed). A lead can pause a
// running wave (paused: moves in flight finish, none start) and resume it. A
// wave whose failures cross its threshold is halted (moves not started are
// cancelled); the group's later waves are blocked until a lead resumes or
// cancels the halted wave. A lead can cancel a wave that has not finished, and
// roll back one that has (rolling_back, then rolled_back).
const (
	WaveStateScheduled   WaveState = "scheduled"
	WaveStateBlocked     WaveState = "blocked"
	WaveStateRunning     WaveState = "running"
	WaveStatePaused      WaveState = "paused"
	WaveStateHalted      WaveState = "halted"
	WaveStateCompleted   WaveState = "completed"
	WaveStateCancelled   WaveState = "cancelled"
	WaveStateRollingBack WaveState = "rolling_back"
	WaveStateRolledBack  WaveState = "rolled_back"
)

// WaveStates lists every wave state.
var WaveStates = []WaveState{
	WaveStateScheduled, WaveStateBlocked, WaveStateRunning, WaveStatePaused, WaveStateHalted,
	WaveStateCompleted, WaveStateCancelled, WaveStateRollingBack, WaveStateRolledBack,
}

// Done reports whether the wave has finished.
func (s WaveState) Done() bool {
	return s == WaveStateCompleted || s == WaveStateCancelled || s == WaveStateRolledBack
}

// Started reports whether the wave is past its start: it may have moves in
// flight or moved users.
func (s WaveState) Started() bool {
	return s != WaveStateScheduled && s != WaveStateBlocked
}
