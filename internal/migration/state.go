package migration

import (
	"slices"
	"strings"
)

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

// Ended reports whether the move has ended as a wave's failure threshold
// counts it: moved, skipped, failed, or rolled back (or rolling back).
func (s MoveState) Ended() bool {
	switch s {
	case MoveStateMoved, MoveStateSkipped, MoveStateFailed,
		MoveStateRollingBack, MoveStateRolledBack, MoveStateRollbackFailed:
		return true
	}
	return false
}

// HasJob reports whether a River move job runs a move in this state: from
// queued until it is moved, skipped or failed.
func (s MoveState) HasJob() bool {
	switch s {
	case MoveStateQueued, MoveStatePreflight, MoveStateMoving, MoveStateVerifying, MoveStateRetrying:
		return true
	}
	return false
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

// Words names the state for a person: "rolling back", "completed".
func (s WaveState) Words() string { return strings.ReplaceAll(string(s), "_", " ") }

// Words names the state for a person: "rollback failed".
func (s MoveState) Words() string { return strings.ReplaceAll(string(s), "_", " ") }

// Started reports whether the wave is past its start: it may have moves in
// flight or moved users.
func (s WaveState) Started() bool {
	return s != WaveStateScheduled && s != WaveStateBlocked
}

// WaveChange is one change of a wave's state: the states it starts from,
// the state it leads to, the event that records it, and in words what it
// does (for the error when a wave is not in a state it starts from).
type WaveChange struct {
	From  []WaveState
	To    WaveState
	Event string
	Words string
}

// The changes of a wave. Together they are the wave's state machine: the
// schema holds the same table (wave_state_transitions) and refuses any
// other change; a test keeps the two equal.
var (
	// WaveStart: a scheduled wave starts at its time.
	WaveStart = WaveChange{From: []WaveState{WaveStateScheduled}, To: WaveStateRunning, Event: WaveEventStarted, Words: "started"}
	// WavePause: a lead pauses a wave; moves in flight finish.
	WavePause = WaveChange{From: []WaveState{WaveStateRunning, WaveStateScheduled}, To: WaveStatePaused, Event: WaveEventPaused, Words: "paused"}
	// WaveResume: a lead resumes a paused wave that had started.
	WaveResume = WaveChange{From: []WaveState{WaveStatePaused}, To: WaveStateRunning, Event: WaveEventResumed, Words: "resumed"}
	// WaveResumeScheduled: a lead resumes a wave paused before its start.
	WaveResumeScheduled = WaveChange{From: []WaveState{WaveStatePaused}, To: WaveStateScheduled, Event: WaveEventResumed, Words: "resumed"}
	// WaveResumeHalted: a lead resumes a halted wave; its cancelled moves
	// are queued again.
	WaveResumeHalted = WaveChange{From: []WaveState{WaveStateHalted}, To: WaveStateRunning, Event: WaveEventResumed, Words: "resumed"}
	// WaveHalt: failures crossed the wave's threshold.
	WaveHalt = WaveChange{From: []WaveState{WaveStateRunning}, To: WaveStateHalted, Event: WaveEventHalted, Words: "halted"}
	// WaveBlock: an earlier wave of the group halted.
	WaveBlock = WaveChange{From: []WaveState{WaveStateScheduled}, To: WaveStateBlocked, Event: WaveEventBlocked, Words: "blocked"}
	// WaveUnblock: the halted wave was resumed or cancelled, or a lead
	// let this one start all the same.
	WaveUnblock = WaveChange{From: []WaveState{WaveStateBlocked}, To: WaveStateScheduled, Event: WaveEventUnblocked, Words: "unblocked"}
	// WaveCancel: a lead cancels a wave that has not finished.
	WaveCancel = WaveChange{From: []WaveState{WaveStateScheduled, WaveStateBlocked, WaveStateRunning, WaveStatePaused, WaveStateHalted},
		To: WaveStateCancelled, Event: WaveEventCancelled, Words: "cancelled"}
	// WaveComplete: none of a running wave's moves is active any more.
	WaveComplete = WaveChange{From: []WaveState{WaveStateRunning}, To: WaveStateCompleted, Event: WaveEventCompleted, Words: "completed"}
	// WaveReopen: a lead retries a failed user of a completed wave, which
	// runs until that move ends.
	WaveReopen = WaveChange{From: []WaveState{WaveStateCompleted}, To: WaveStateRunning, Event: WaveEventReopened, Words: "reopened"}
	// RetryIn are the states of a wave in which a failed move can be
	// retried on its own, as a new run of the move; in others its wave's
	// failed users are retried as a new wave.
	RetryIn = []WaveState{WaveStateRunning, WaveStateCompleted, WaveStatePaused}
	// WaveRollBack: a lead (or a halt, with rollback on halt) rolls back a
	// wave's moved users.
	WaveRollBack = WaveChange{From: []WaveState{WaveStateCompleted, WaveStateHalted, WaveStateCancelled, WaveStateRolledBack},
		To: WaveStateRollingBack, Event: WaveEventRollingBack, Words: "rolled back"}
	// WaveRolledBack: the wave's last rollback ended.
	WaveRolledBack = WaveChange{From: []WaveState{WaveStateRollingBack}, To: WaveStateRolledBack, Event: WaveEventRolledBack, Words: "marked rolled back"}
)

// WaveChanges lists every change of a wave.
var WaveChanges = []WaveChange{WaveStart, WavePause, WaveResume, WaveResumeScheduled, WaveResumeHalted, WaveHalt,
	WaveBlock, WaveUnblock, WaveCancel, WaveComplete, WaveReopen, WaveRollBack, WaveRolledBack}

// CanMoveTo reports whether a wave in state s may change to state to.
func (s WaveState) CanMoveTo(to WaveState) bool {
	for _, c := range WaveChanges {
		if c.To == to && c.Starts(s) {
			return true
		}
	}
	return false
}

// Starts reports whether the change may start from state s.
func (c WaveChange) Starts(s WaveState) bool { return slices.Contains(c.From, s) }
