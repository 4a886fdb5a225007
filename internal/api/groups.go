package api

import (
	"context"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// MoveStateUnplanned counts, in a group's progress, members not yet in a wave.
const MoveStateUnplanned migration.MoveState = "unplanned"

// WaveView is a wave with its progress.
type WaveView struct {
	migration.Wave
	Progress migration.Progress `json:"progress"`
}

// FailureView is how many moves failed with one error, and what it means.
type FailureView struct {
	migration.Failure
	Count int `json:"count"`
}

// GroupView is a pilot group with its waves, its progress and its failures
// by error code.
type GroupView struct {
	migration.Group
	StartedAt      *time.Time         `json:"started_at,omitempty"`
	FinishedAt     *time.Time         `json:"finished_at,omitempty"`
	Progress       migration.Progress `json:"progress"`
	Waves          []WaveView         `json:"waves"`
	Failures       []FailureView      `json:"failures"`
	IgnoredColumns []string           `json:"ignored_columns,omitempty"`
}

// groupCreateRequest is the JSON form of a new pilot group.
type groupCreateRequest struct {
	Name    string             `json:"name"`
	Members []migration.Member `json:"members"`
}

// groupCreate creates a pilot group from JSON, a CSV body (text/csv, name in
// ?name=) or a multipart upload (fields file and name).
func (s *Server) groupCreate(w http.ResponseWriter, r *http.Request) {
	g, ignored, err := s.readGroup(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	created, err := s.q.GroupCreate(r.Context(), g)
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
	view.IgnoredColumns = ignored
	w.Header().Set("Location", "/api/v1/groups/"+strconv.FormatInt(created.ID, 10))
	writeJSON(w, http.StatusCreated, view)
}

func (s *Server) readGroup(w http.ResponseWriter, r *http.Request) (store.NewGroup, []string, error) {
	g := store.NewGroup{Name: strings.TrimSpace(r.URL.Query().Get("name")), CreatedBy: "api"}
	var csvData []byte
	switch mt := mediaType(r); mt {
	case "application/json", "":
		var req groupCreateRequest
		if err := s.decodeJSON(w, r, &req); err != nil {
			return g, nil, err
		}
		members, err := migration.NormalizeMembers(req.Members)
		if err != nil {
			return g, nil, err
		}
		g.Name, g.Source, g.Members = strings.TrimSpace(req.Name), "json", members
		return g, nil, checkName(g.Name)
	case "text/csv", "application/csv", "text/plain":
		data, err := s.readBody(w, r)
		if err != nil {
			return g, nil, err
		}
		csvData = data
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		if err := r.ParseMultipartForm(s.maxBody); err != nil {
			return g, nil, s.bodyError(err)
		}
		defer r.MultipartForm.RemoveAll() //nolint:errcheck
		file, header, err := r.FormFile("file")
		if err != nil {
			return g, nil, migration.Invalid(migration.CodeInvalidCSV, "file", "the upload has no file field (curl -F file=@pilot.csv)")
		}
		csvData, err = io.ReadAll(file)
		file.Close()
		if err != nil {
			return g, nil, s.bodyError(err)
		}
		if name := strings.TrimSpace(r.PostFormValue("name")); name != "" {
			g.Name = name
		} else if g.Name == "" {
			g.Name = strings.TrimSuffix(path.Base(header.Filename), path.Ext(header.Filename))
		}
	default:
		return g, nil, migration.Errorf(migration.EUnsupported, "unsupported_media_type",
			"send JSON (application/json), CSV (text/csv) or a multipart upload with a file field, not %s", mt)
	}
	if err := checkName(g.Name); err != nil {
		return g, nil, err
	}
	res, err := migration.ParseMembersCSV(csvData)
	if err != nil {
		return g, nil, err
	}
	g.Source, g.Members = "csv", res.Members
	return g, res.IgnoredColumns, nil
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
	groups, err := s.q.GroupList(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	views := make([]GroupView, 0, len(groups))
	for _, g := range groups {
		v, err := s.groupView(r.Context(), g)
		if err != nil {
			s.error(w, r, err)
			return
		}
		views = append(views, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": views})
}

func (s *Server) groupGet(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	v, err := GroupStatus(r.Context(), s.q, id, s.now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) groupView(ctx context.Context, g migration.Group) (GroupView, error) {
	return groupView(ctx, s.q, g, s.now())
}

// GroupStatus returns a group with its waves, progress and failures.
func GroupStatus(ctx context.Context, q *store.Queries, groupID int64, now time.Time) (GroupView, error) {
	g, err := q.GroupGet(ctx, groupID)
	if err != nil {
		return GroupView{}, err
	}
	return groupView(ctx, q, g, now)
}

func groupView(ctx context.Context, q *store.Queries, g migration.Group, now time.Time) (GroupView, error) {
	waves, err := q.WaveList(ctx, g.ID)
	if err != nil {
		return GroupView{}, err
	}
	views, err := waveViews(ctx, q, waves, now)
	if err != nil {
		return GroupView{}, err
	}
	failures, err := q.FailureCounts(ctx, g.ID)
	if err != nil {
		return GroupView{}, err
	}
	v := GroupView{Group: g, Waves: views, Failures: make([]FailureView, 0, len(failures))}
	for _, f := range failures {
		v.Failures = append(v.Failures, FailureView{Failure: migration.FailureFor(f.Code), Count: f.Count})
	}
	counts := map[migration.MoveState]int{MoveStateUnplanned: g.Unplanned}
	allDone := g.Unplanned == 0 && len(waves) > 0
	retried := 0
	for _, w := range views {
		retried += w.Progress.Retried
		for state, n := range w.Progress.Counts {
			counts[state] += n
		}
		if w.StartedAt != nil && (v.StartedAt == nil || w.StartedAt.Before(*v.StartedAt)) {
			v.StartedAt = w.StartedAt
		}
		if !w.State.Done() {
			allDone = false
		} else if v.FinishedAt == nil || w.FinishedAt.After(*v.FinishedAt) {
			v.FinishedAt = w.FinishedAt
		}
	}
	if !allDone {
		v.FinishedAt = nil
	}
	v.Progress = migration.NewProgress(counts, v.StartedAt, v.FinishedAt, now)
	v.Progress.Retried = retried
	return v, nil
}

func waveViews(ctx context.Context, q *store.Queries, waves []migration.Wave, now time.Time) ([]WaveView, error) {
	ids := make([]int64, len(waves))
	for i, w := range waves {
		ids[i] = w.ID
	}
	tallies, err := q.WaveTallies(ctx, ids)
	if err != nil {
		return nil, err
	}
	views := make([]WaveView, len(waves))
	for i, w := range waves {
		views[i] = WaveView{Wave: w, Progress: migration.NewProgress(tallies[w.ID].Counts, w.StartedAt, w.FinishedAt, now)}
		views[i].Progress.Retried = tallies[w.ID].Retried
	}
	return views, nil
}
