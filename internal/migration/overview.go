package migration

import "time"

// PeriodOutcomes counts the moves that ended moved, failed and rolled back
// in one period.
type PeriodOutcomes struct {
	Start      time.Time
	Moved      int
	Failed     int
	RolledBack int
}
