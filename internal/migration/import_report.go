package migration

// What an import of a pilot group found.

// ImportReport says what an import found of its users in cutover's moves
// elsewhere, and what it kept.
type ImportReport struct {
	// Users is how many users were read; Kept how many are in the group.
	Users int `json:"users"`
	Kept  int `json:"kept"`
	// Busy are those being moved (or planned) in another group's wave;
	// InTeams those in Teams already by cutover's moves in another group.
	Busy    ImportConcern `json:"busy"`
	InTeams ImportConcern `json:"in_teams"`
	// LeftOut are the kinds left out (ImportBusy, ImportInTeams).
	LeftOut []string `json:"left_out"`
}

// ImportConcern is users an import found in cutover's moves elsewhere.
type ImportConcern struct {
	Users int `json:"users"`
	// Says names each (the first MaxProblems) and where they are.
	Says []string `json:"says"`
}
