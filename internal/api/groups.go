package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
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
	// Preview reads and checks the group and says what it found, keeping
	// nothing; LeaveOut leaves out the users in cutover's moves elsewhere
	// of these kinds (busy, in_teams).
	Preview  bool     `json:"preview"`
	LeaveOut []string `json:"leave_out"`
}

// importPreviewAnswer is what an import's preview found, nothing kept.
type importPreviewAnswer struct {
	Preview bool               `json:"preview"`
	Name    string             `json:"name"`
	Import  store.ImportReport `json:"import"`
}

// importNotes is what an import reports besides the group: CSV columns it
// did not read, directory users it left out.
type importNotes struct {
	ignoredColumns []string
	skippedUsers   []preflight.Skipped
}

// multipartMemory is how much of an upload's file is held in memory; the
// rest waits on disk until it is imported.
const multipartMemory = 64 << 10

// groupInput is a new group as a request gives it.
type groupInput struct {
	group store.NewGroup
	notes importNotes
	// preview asks what the import would find, keeping nothing.
	preview bool
	// done frees what the import read from (an upload's file).
	done []func()
}

func (in *groupInput) close() {
	for _, f := range in.done {
		f()
	}
}

// groupCreate creates a pilot group from JSON, a CSV body (text/csv, name in
// ?name=) or a multipart upload (fields file and name). A CSV is read a
// record at a time into the group's members, never held whole.
func (s *Server) groupCreate(w http.ResponseWriter, r *http.Request) {
	var in groupInput
	defer in.close()
	err := s.readGroup(w, r, &in)
	auditSubject(r, in.group.Name)
	if err == nil && in.preview {
		changesNothing(r)
		report, err := s.app.GroupImportPreview(r.Context(), in.group)
		if err != nil {
			s.error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, importPreviewAnswer{Preview: true, Name: in.group.Name, Import: report})
		return
	}
	var created migration.Group
	var report store.ImportReport
	if err == nil {
		created, report, err = s.app.GroupImport(r.Context(), actorOf(r), in.group)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("pilot group created", "group_id", created.ID, "name", created.Name, "members", created.Members, "source", in.group.Source)
	view, err := s.groupView(r.Context(), created)
	if err != nil {
		s.error(w, r, err)
		return
	}
	view.IgnoredColumns, view.SkippedUsers, view.Import = in.notes.ignoredColumns, in.notes.skippedUsers, &report
	w.Header().Set("Location", "/api/v1/groups/"+strconv.FormatInt(created.ID, 10))
	writeJSON(w, http.StatusCreated, view)
}

// readGroup reads a new group into in: its name and source, and its members
// as a stream for the import to read. A CSV body is spooled to disk first,
// and an upload is read whole first (to disk, past multipartMemory, as its
// name may follow its file): the import then reads the file a record at a
// time.
func (s *Server) readGroup(w http.ResponseWriter, r *http.Request, in *groupInput) error {
	g := &in.group
	*g = store.NewGroup{Name: strings.TrimSpace(r.URL.Query().Get("name")), CreatedBy: actor(r), LeaveOut: r.URL.Query()["leave_out"]}
	in.preview = r.URL.Query().Get("preview") == "true"
	var csvData io.Reader
	switch mt := mediaType(r); mt {
	case "application/json", "":
		var req groupCreateRequest
		if err := s.decodeJSON(w, r, &req); err != nil {
			return err
		}
		g.Name, g.Source = strings.TrimSpace(req.Name), "json"
		g.LeaveOut, in.preview = append(g.LeaveOut, req.LeaveOut...), in.preview || req.Preview
		if err := checkName(g.Name); err != nil {
			return err
		}
		if req.EntraGroupID != "" {
			if len(req.Members) > 0 {
				return migration.Invalid("invalid_group", "entra_group_id", "give either members or entra_group_id, not both")
			}
			if s.dir == nil {
				return errNoDirectory
			}
			members, skipped, err := preflight.GroupMembers(r.Context(), s.dir, req.EntraGroupID)
			if de, ok := errors.AsType[*migration.DirectoryError](err); ok && de.Status == http.StatusNotFound {
				return migration.Invalid("entra_group_not_found", "entra_group_id", "Entra ID has no group %q", req.EntraGroupID)
			}
			if err != nil {
				return err
			}
			if len(members) == 0 {
				return migration.Invalid("invalid_members", "entra_group_id", "group %q has no enabled users (%d disabled)", req.EntraGroupID, len(skipped))
			}
			req.Members, g.Source, in.notes.skippedUsers = members, "entra", skipped
		}
		g.Stream = migration.CheckMembers(req.Members)
		return nil
	case "text/csv", "application/csv", "text/plain":
		// To disk first, as an upload's file is: the import's transaction
		// is not held open while a slow client sends.
		file, err := spool(http.MaxBytesReader(w, r.Body, s.maxBody))
		if file != nil {
			in.done = append(in.done, func() { _ = file.Close(); _ = os.Remove(file.Name()) })
		}
		if err != nil {
			return s.bodyError(err)
		}
		if err := checkName(g.Name); err != nil {
			return err
		}
		csvData = file
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		if err := r.ParseMultipartForm(multipartMemory); err != nil {
			return s.bodyError(err)
		}
		in.done = append(in.done, func() { _ = r.MultipartForm.RemoveAll() })
		file, header, err := r.FormFile("file")
		if err != nil {
			return migration.Invalid(migration.CodeInvalidCSV, "file", "the upload has no file field (curl -F file=@pilot.csv)")
		}
		in.done = append([]func(){func() { _ = file.Close() }}, in.done...) // before its removal
		g.LeaveOut = append(g.LeaveOut, r.MultipartForm.Value["leave_out"]...)
		in.preview = in.preview || r.PostFormValue("preview") == "true"
		if name := strings.TrimSpace(r.PostFormValue("name")); name != "" {
			g.Name = name
		} else if g.Name == "" {
			g.Name = strings.TrimSuffix(path.Base(header.Filename), path.Ext(header.Filename))
		}
		if err := checkName(g.Name); err != nil {
			return err
		}
		csvData = file
	default:
		return migration.Errorf(migration.EUnsupported, "unsupported_media_type",
			"send JSON (application/json), CSV (text/csv) or a multipart upload with a file field, not %s", mt)
	}
	members, err := migration.ReadMembersCSV(csvData)
	if err != nil {
		return err
	}
	g.Source, g.Stream, in.notes.ignoredColumns = "csv", members, members.IgnoredColumns()
	return nil
}

// spool copies a request body to a temporary file and returns it, read
// from its start. The caller removes it, also when err is set.
func spool(body io.Reader) (*os.File, error) {
	f, err := os.CreateTemp("", "cutover-import-*.csv")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, body); err != nil {
		return f, err
	}
	_, err = f.Seek(0, io.SeekStart)
	return f, err
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

func (s *Server) groupPause(w http.ResponseWriter, r *http.Request) {
	s.groupAction(w, r, "paused", s.app.GroupPause)
}

func (s *Server) groupResume(w http.ResponseWriter, r *http.Request) {
	s.groupAction(w, r, "resumed", s.app.GroupResume)
}

// groupAction runs a lead's action on every wave of a group at once and
// answers with the group.
func (s *Server) groupAction(w http.ResponseWriter, r *http.Request, done string,
	action func(ctx context.Context, a app.Actor, id int64) (int, error)) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	n, err := action(r.Context(), actorOf(r), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("group "+done, "group_id", id, "waves", n)
	v, err := s.app.GroupStatus(r.Context(), id, s.now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
