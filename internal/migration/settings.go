package migration

import "time"

// Settings are the deployment's settings, shared by every process.
type Settings struct {
	// MaxInFlight caps the moves in flight across every wave and worker.
	MaxInFlight int       `json:"max_in_flight"`
	UpdatedAt   time.Time `json:"updated_at"`
	UpdatedBy   string    `json:"updated_by"`
	// PublicURL is where leads reach the pages ("" if not set): links in
	// notifications start with it.
	PublicURL string `json:"public_url"`
	// Simulated says which of the shell and Graph are the simulated
	// tenant's.
	Simulated Simulated `json:"simulated"`
}

// Simulated says whether the on-premises shell and Microsoft Graph are the
// simulated tenant's: nothing then reaches Microsoft.
type Simulated struct {
	Shell bool `json:"shell"`
	Graph bool `json:"graph"`
}

// Any reports whether anything is simulated.
func (s Simulated) Any() bool { return s.Shell || s.Graph }

// Says is what the pages and the command line tell a lead or a helpdesk
// agent about a simulated tenant ("" when nothing is simulated).
func (s Simulated) Says() string {
	switch {
	case s.Shell && s.Graph:
		return "The on-premises shell and Microsoft Graph are simulated: nothing here reaches Microsoft, and no user is moved."
	case s.Shell:
		return "The on-premises shell is simulated: no user is moved."
	case s.Graph:
		return "Microsoft Graph is simulated: the checks in Entra ID and Teams are not Microsoft's answers."
	}
	return ""
}
