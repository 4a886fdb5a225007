package migration

import "time"

// The kinds of a wave's events, each declared here once: its timeline, the
// pages, the webhooks and the metrics speak of these.
const (
	// Changes of the wave's state (the event is written with the change).
	WaveEventStarted     = "started" // notified
	WaveEventPaused      = "paused"
	WaveEventResumed     = "resumed"
	WaveEventHalted      = "halted" // notified
	WaveEventBlocked     = "blocked"
	WaveEventUnblocked   = "unblocked"
	WaveEventCancelled   = "cancelled"
	WaveEventCompleted   = "completed" // notified
	WaveEventReopened    = "reopened"
	WaveEventRollingBack = "rolling_back"
	WaveEventRolledBack  = "rolled_back" // notified

	// What happened to the wave while it ran, or before it started.
	WaveEventWaiting      = "waiting_for_window"
	WaveEventLimitLowered = "concurrency_lowered"
	WaveEventLimitRaised  = "concurrency_raised"
	WaveEventRescheduled  = "rescheduled"
	WaveEventMembers      = "members_changed"
	WaveEventRetryPlanned = "retry_planned"
	// A lead's decisions on the wave's voice: the SBC's routing confirmed,
	// the number moves approved.
	WaveEventRoutingConfirmed = "routing_confirmed"
	WaveEventNumbersApproved  = "numbers_approved"

	// The deployment's holds: every running wave hears of a hold and of
	// its release.
	WaveEventHeld     = "held"          // notified
	WaveEventReleased = "hold_released" // moves start again

	// Worker processes. WaveEventWorkerLost: a worker process died with
	// moves of the wave in flight, which went to live workers; the
	// heartbeat that buries it writes it (cutover_heartbeat, in SQL).
	// WaveEventDatabaseLost: a worker process could not reach the database
	// for a while; its moves waited.
	WaveEventWorkerLost   = "worker_lost"
	WaveEventDatabaseLost = "database_lost"
)

// notifiedEvents are the wave events webhooks hear of.
var notifiedEvents = map[string]bool{
	WaveEventStarted:    true,
	WaveEventHalted:     true,
	WaveEventCompleted:  true,
	WaveEventRolledBack: true,
	WaveEventHeld:       true,
}

// Notified reports whether webhooks hear of wave events of kind.
func Notified(kind string) bool { return notifiedEvents[kind] }

// WaveEvent is one entry in a wave's timeline.
type WaveEvent struct {
	ID      int64     `json:"-"`
	WaveID  int64     `json:"-"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Actor   string    `json:"actor"`
}
