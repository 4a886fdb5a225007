package migration

import "time"

// AuditEntry is one change someone made, or tried to.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Outcome string    `json:"outcome"`
	// Detail is the use case's own name of what it did (for a change made
	// through the API), or why a change was refused, in words.
	Detail string `json:"detail,omitempty"`
	// The wave and group the change was to (a wave's is its group's too),
	// and the user it was about.
	WaveID    *int64 `json:"wave_id,omitempty"`
	GroupID   *int64 `json:"group_id,omitempty"`
	Subject   string `json:"subject,omitempty"`
	GroupName string `json:"group_name,omitempty"`
	WaveName  string `json:"wave_name,omitempty"`
}

// AuditFilter chooses entries of the audit log.
type AuditFilter struct {
	// Before is the entry to page on from (0: the newest); Limit how many.
	Before int64
	Limit  int
	// Actor, Actions (any of them), GroupID, and the time from Since until
	// Until keep the entries that match; each is off when empty or zero.
	Actor        string
	Actions      []string
	GroupID      int64
	Since, Until *time.Time
}
