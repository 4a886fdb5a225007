package api

import (
	"context"
	"io"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
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
	Preview bool                   `json:"preview"`
	Name    string                 `json:"name"`
	Import  migration.ImportReport `json:"import"`
}

// multipartMemory is how much of an upload's file is held in memory; the
// rest waits on disk until it is imported.
const multipartMemory = 64 << 10

// groupInput is a new group as a request gives it.
type groupInput struct {
	req app.ImportRequest
	// done frees what the import read from (an upload's file).
	done []func()
}

func (in *groupInput) close() {
	for _, f := range in.done {
		f()
	}
}

// groupCreate creates a pilot group from JSON, a CSV body (text/csv, name in
// ?name=) or a multipart upload; ?preview=true (or "preview" in JSON or the
// form) checks it and keeps nothing.
func (s *Server) groupCreate(w http.ResponseWriter, r *http.Request) {
	var in groupInput
	defer in.close()
	err := s.readGroup(w, r, &in)
	auditSubject(r, strings.TrimSpace(in.req.Name))
	var done app.Imported
	if err == nil {
		if in.req.Preview {
			changesNothing(r)
		}
		done, err = s.app.Import(r.Context(), actorOf(r), in.req)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	if in.req.Preview {
		writeJSON(w, http.StatusOK, importPreviewAnswer{Preview: true, Name: strings.TrimSpace(in.req.Name), Import: done.Report})
		return
	}
	created := done.Group
	s.log.Info("pilot group created", "group_id", created.ID, "name", created.Name, "members", created.Members)
	view, err := s.groupView(r.Context(), created)
	if err != nil {
		s.error(w, r, err)
		return
	}
	view.IgnoredColumns, view.SkippedUsers, view.Import = done.IgnoredColumns, done.SkippedUsers, &done.Report
	w.Header().Set("Location", "/api/v1/groups/"+strconv.FormatInt(created.ID, 10))
	writeJSON(w, http.StatusCreated, view)
}

// readGroup reads a new group's request into in: its name, its members'
// source, and what to leave out. A CSV body is spooled to disk first, and
// an upload is read whole first (to disk, past multipartMemory, as its name
// may follow its file): the import then reads the file a record at a time.
func (s *Server) readGroup(w http.ResponseWriter, r *http.Request, in *groupInput) error {
	g := &in.req
	*g = app.ImportRequest{Name: r.URL.Query().Get("name"), LeaveOut: r.URL.Query()["leave_out"], Preview: r.URL.Query().Get("preview") == "true"}
	switch mt := mediaType(r); mt {
	case "application/json", "":
		var req groupCreateRequest
		if err := s.decodeJSON(w, r, &req); err != nil {
			return err
		}
		g.Name, g.Members, g.EntraGroupID = req.Name, req.Members, req.EntraGroupID
		g.LeaveOut, g.Preview = append(g.LeaveOut, req.LeaveOut...), g.Preview || req.Preview
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
		g.CSV = file
		return nil
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
		g.Preview = g.Preview || r.PostFormValue("preview") == "true"
		if name := strings.TrimSpace(r.PostFormValue("name")); name != "" {
			g.Name = name
		} else if strings.TrimSpace(g.Name) == "" {
			g.Name = strings.TrimSuffix(path.Base(header.Filename), path.Ext(header.Filename))
		}
		g.CSV = file
		return nil
	}
	return migration.Errorf(migration.EUnsupported, "unsupported_media_type",
		"send JSON (application/json), CSV (text/csv) or a multipart upload with a file field, not %s", mediaType(r))
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
