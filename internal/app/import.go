package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/readiness"
	"github.com/cutover/cutover/internal/store"
)

// ImportRequest is a pilot group to import, whichever front end read it:
// its name, and its members from exactly one of a CSV file (read a record
// at a time), a list, or an Entra ID group (read through Microsoft Graph).
type ImportRequest struct {
	Name string
	// LeaveOut leaves out users who stand in cutover's moves in other
	// groups (store.ImportBusy, store.ImportInTeams).
	LeaveOut []string
	// Preview reads and checks the group as the import would, and keeps
	// nothing.
	Preview      bool
	CSV          io.Reader
	Members      []migration.Member
	EntraGroupID string
}

// Imported is what an import did, or would do (a preview: Group is zero).
type Imported struct {
	Group  migration.Group    `json:"group"`
	Report store.ImportReport `json:"report"`
	// IgnoredColumns are the CSV's columns cutover does not read.
	IgnoredColumns []string `json:"ignored_columns,omitempty"`
	// SkippedUsers are the Entra ID group's users left out (disabled).
	SkippedUsers []readiness.Skipped `json:"skipped_users,omitempty"`
}

// ErrNoDirectory answers what needs Microsoft Graph (an import from Entra
// ID, a dry run, the tenant's readiness) when cutover has no connection.
var ErrNoDirectory = migration.Errorf(migration.EUnavailable, "graph_not_configured",
	"cutover has no Microsoft Graph connection: set CUTOVER_GRAPH and the app registration's credentials")

// Import imports a pilot group (GroupImport), or previews it
// (GroupImportPreview), from req. Every problem with the request is an
// EInvalid error naming the field, or the line of the CSV.
func (s *Service) Import(ctx context.Context, a Actor, req ImportRequest) (Imported, error) {
	var out Imported
	g := store.NewGroup{Name: strings.TrimSpace(req.Name), CreatedBy: a.Name, LeaveOut: req.LeaveOut}
	if err := checkGroupName(g.Name); err != nil {
		return out, err
	}
	given := 0
	for _, set := range []bool{req.CSV != nil, len(req.Members) > 0, req.EntraGroupID != ""} {
		if set {
			given++
		}
	}
	switch {
	case given > 1 && req.EntraGroupID != "":
		return out, migration.Invalid("invalid_group", "entra_group_id", "give either members or entra_group_id, not both")
	case given > 1:
		return out, migration.Invalid("invalid_group", "members", "give either a CSV file or members, not both")
	case req.CSV != nil:
		members, err := migration.ReadMembersCSV(req.CSV)
		if err != nil {
			return out, err
		}
		g.Source, g.Stream, out.IgnoredColumns = "csv", members, members.IgnoredColumns()
	case req.EntraGroupID != "":
		if s.dir == nil {
			return out, ErrNoDirectory
		}
		members, skipped, err := readiness.GroupMembers(ctx, s.dir, req.EntraGroupID)
		if de, ok := errors.AsType[*migration.DirectoryError](err); ok && de.Status == http.StatusNotFound {
			return out, migration.Invalid("entra_group_not_found", "entra_group_id", "Entra ID has no group %q", req.EntraGroupID)
		}
		if err != nil {
			return out, err
		}
		if len(members) == 0 {
			return out, migration.Invalid("invalid_members", "entra_group_id", "group %q has no enabled users (%d disabled)", req.EntraGroupID, len(skipped))
		}
		g.Source, g.Stream, out.SkippedUsers = "entra", migration.CheckMembers(members), skipped
	default:
		g.Source, g.Stream = "json", migration.CheckMembers(req.Members)
	}
	var err error
	if req.Preview {
		out.Report, err = s.GroupImportPreview(ctx, g)
		return out, err
	}
	out.Group, out.Report, err = s.GroupImport(ctx, a, g)
	return out, err
}

// checkGroupName checks a new group's name.
func checkGroupName(name string) error {
	switch {
	case name == "":
		return migration.Invalid("invalid_group", "name", "the group needs a name (JSON: \"name\"; CSV: ?name=...)")
	case utf8.RuneCountInString(name) > 200:
		return migration.Invalid("invalid_group", "name", "the name is longer than 200 characters")
	}
	return nil
}
