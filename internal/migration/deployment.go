package migration

import "time"

// ReadinessSection is one section of the deployment's hybrid readiness as a
// worker last checked it.
type ReadinessSection struct {
	Section   string    `json:"section"`
	Checks    []Check   `json:"checks"`
	CheckedAt time.Time `json:"checked_at"`
	CheckedBy string    `json:"checked_by"`
}

// WorkerHost is a worker process's last check of its host.
type WorkerHost struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	Ready     bool      `json:"ready"`
	Facts     HostFacts `json:"facts"`
	Checks    []Check   `json:"checks"`
	CheckedAt time.Time `json:"checked_at"`
}

// Hold is a condition of the whole deployment that stops every move start.
type Hold struct {
	Code     ErrorCode `json:"code"`
	Reason   string    `json:"reason"`
	Evidence string    `json:"evidence"`
	Since    time.Time `json:"since"`
	SetBy    string    `json:"set_by"`
}
