package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
)

// maxGroupName is the longest name worth looking for: an Entra ID group's
// display name has at most 256 characters (the displayName of
// msgraph-sdk-go's models/group.go).
const maxGroupName = 256

// entraGroups lists the Entra ID groups whose display name starts with
// ?name= (spaces around it trimmed), the first migration.MaxFoundGroups by
// name, so that a lead can import a pilot group by the name people know it
// by and not only by its object ID. Graph's answer may lag a group made or
// renamed in the last minutes (see graph.Directory.FindGroups).
func (s *Server) entraGroups(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	switch {
	case name == "":
		s.error(w, r, migration.Invalid("invalid_name", "name", "give the start of the group's name (?name=Pilot)"))
		return
	case utf8.RuneCountInString(name) > maxGroupName:
		s.error(w, r, migration.Invalid("invalid_name", "name", "the name is longer than %d characters, the most a group's name has", maxGroupName))
		return
	}
	if s.dir == nil {
		s.error(w, r, app.ErrNoDirectory)
		return
	}
	found, err := s.dir.FindGroups(r.Context(), name)
	if err != nil {
		s.error(w, r, err)
		return
	}
	answer := entraGroupsAnswer{Groups: make([]entraGroup, 0, len(found))}
	for _, g := range found {
		answer.Groups = append(answer.Groups, entraGroup{ID: g.ID, DisplayName: g.DisplayName, Description: g.Description})
	}
	writeJSON(w, http.StatusOK, answer)
}
