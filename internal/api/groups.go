package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/preflight"
	"github.com/cutover/cutover/internal/store"
)

// groupCreateRequest is the JSON form of a new pilot group: its members
// listed, or read from an Entra ID group.
type groupCreateRequest struct {
	Name         string             `json:"name"`
	Members      []migration.Member `json:"members"`
	EntraGroupID string             `json:"entra_group_id"`
}

// importNotes is what an import reports besides the group: CSV columns it
// did not read, directory users it left out.
type importNotes struct {
	ignoredColumns []string
	skippedUsers   []preflight.Skipped
}

// groupCreate creates a pilot group from JSON, a CSV body (text/csv, name in
// ?name=) or a multipart upload (fields file and name).
func (s *Server) groupCreate(w http.ResponseWriter, r *http.Request) {
	g, notes, err := s.readGroup(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	created, err := s.app.GroupImport(r.Context(), actorOf(r), g)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("pilot group created", "group_id", created.ID, "name", created.Name, "members", created.Members, "source", g.Source)
	view, err := s.groupView(r.Context(), created)
	if err != nil {
		s.error(w, r, err)
		return
	}
	view.IgnoredColumns, view.SkippedUsers = notes.ignoredColumns, notes.skippedUsers
	w.Header().Set("Location", "/api/v1/groups/"+strconv.FormatInt(created.ID, 10))
	writeJSON(w, http.StatusCreated, view)
}

func (s *Server) readGroup(w http.ResponseWriter, r *http.Request) (store.NewGroup, importNotes, error) {
	var notes importNotes
	g := store.NewGroup{Name: strings.TrimSpace(r.URL.Query().Get("name")), CreatedBy: actor(r)}
	var csvData []byte
	switch mt := mediaType(r); mt {
	case "application/json", "":
		var req groupCreateRequest
		if err := s.decodeJSON(w, r, &req); err != nil {
			return g, notes, err
		}
		g.Name, g.Source = strings.TrimSpace(req.Name), "json"
		if err := checkName(g.Name); err != nil {
			return g, notes, err
		}
		if req.EntraGroupID != "" {
			if len(req.Members) > 0 {
				return g, notes, migration.Invalid("invalid_group", "entra_group_id", "give either members or entra_group_id, not both")
			}
			if s.dir == nil {
				return g, notes, errNoDirectory
			}
			members, skipped, err := preflight.GroupMembers(r.Context(), s.dir, req.EntraGroupID)
			if de, ok := errors.AsType[*migration.DirectoryError](err); ok && de.Status == http.StatusNotFound {
				return g, notes, migration.Invalid("entra_group_not_found", "entra_group_id", "Entra ID has no group %q", req.EntraGroupID)
			}
			if err != nil {
				return g, notes, err
			}
			if len(members) == 0 {
				return g, notes, migration.Invalid("invalid_members", "entra_group_id", "group %q has no enabled users (%d disabled)", req.EntraGroupID, len(skipped))
			}
			req.Members, g.Source, notes.skippedUsers = members, "entra", skipped
		}
		members, err := migration.NormalizeMembers(req.Members)
		if err != nil {
			return g, notes, err
		}
		g.Members = members
		return g, notes, nil
	case "text/csv", "application/csv", "text/plain":
		data, err := s.readBody(w, r)
		if err != nil {
			return g, notes, err
		}
		csvData = data
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		if err := r.ParseMultipartForm(s.maxBody); err != nil {
			return g, notes, s.bodyError(err)
		}
		defer r.MultipartForm.RemoveAll() //nolint:errcheck
		file, header, err := r.FormFile("file")
		if err != nil {
			return g, notes, migration.Invalid(migration.CodeInvalidCSV, "file", "the upload has no file field (curl -F file=@pilot.csv)")
		}
		csvData, err = io.ReadAll(file)
		file.Close()
		if err != nil {
			return g, notes, s.bodyError(err)
		}
		if name := strings.TrimSpace(r.PostFormValue("name")); name != "" {
			g.Name = name
		} else if g.Name == "" {
			g.Name = strings.TrimSuffix(path.Base(header.Filename), path.Ext(header.Filename))
		}
	default:
		return g, notes, migration.Errorf(migration.EUnsupported, "unsupported_media_type",
			"send JSON (application/json), CSV (text/csv) or a multipart upload with a file field, not %s", mt)
	}
	if err := checkName(g.Name); err != nil {
		return g, notes, err
	}
	res, err := migration.ParseMembersCSV(csvData)
	if err != nil {
		return g, notes, err
	}
	g.Source, g.Members, notes.ignoredColumns = "csv", res.Members, res.IgnoredColumns
	return g, notes, nil
}

func checkName(name string) error {
	switch {
	case name == "":
		return migration.Invalid("invalid_group", "name", "the group needs a name (JSON: \"name\"; CSV: ?name=...)")
	case utf8.RuneCountInString(name) > 200:
		return migration.Invalid("invalid_group", "name", "the name is longer than 200 characters")
	}
	return nil
}

func (s *Server) groupList(w http.ResponseWriter, r *http.Request) {
	groups, err := s.app.Groups(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	views := make([]app.GroupView, 0, len(groups))
	for _, g := range groups {
		v, err := s.groupView(r.Context(), g)
		if err != nil {
			s.error(w, r, err)
			return
		}
		views = append(views, v)
	}
	writeJSON(w, http.StatusOK, groupsAnswer{Groups: views})
}

func (s *Server) groupGet(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	v, err := s.app.GroupStatus(r.Context(), id, s.now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) groupView(ctx context.Context, g migration.Group) (app.GroupView, error) {
	return s.app.GroupViewOf(ctx, g, s.now())
}
