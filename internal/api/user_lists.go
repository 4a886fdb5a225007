package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
)

// Lists of users a lead can find and act on: a group's members by where
// they stand, a wave's users by their move in it; filtered by outcome,
// error code, wave and a search, paged, and as CSV exactly as filtered.

// userListRequest reads a list's filters from the query: outcome (any
// number), code, wave (a group's), q (the search), after and limit.
func userListRequest(r *http.Request, group bool) (app.UserListRequest, error) {
	var req app.UserListRequest
	id, err := pathID(r, "id")
	if err != nil {
		return req, err
	}
	if group {
		req.GroupID = id
	} else {
		req.WaveID = id
	}
	v := r.URL.Query()
	if req.Outcomes, err = app.ParseOutcomes("outcome", v["outcome"]); err != nil {
		return req, err
	}
	req.ErrorCode = migration.ErrorCode(strings.TrimSpace(v.Get("code")))
	if req.Completion, err = migration.ParseCompletion("completion", strings.TrimSpace(v.Get("completion"))); err != nil {
		return req, err
	}
	if dry := v.Get("dry"); dry != "" {
		if !group {
			return req, migration.Invalid("invalid_dry", "dry", "a wave's list has no dry run to filter by; use its group's")
		}
		req.DryRun = migration.CheckStatus(dry)
		if req.DryRun != migration.CheckPass && req.DryRun != migration.CheckWarn && req.DryRun != migration.CheckFail {
			return req, migration.Invalid("invalid_dry", "dry", "%q is not how a dry run comes out (pass, warn or fail)", dry)
		}
	}
	req.Search = strings.TrimSpace(v.Get("q"))
	number := func(name string, min int) (int, error) {
		s := v.Get(name)
		if s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < min {
			return 0, migration.Invalid("invalid_"+name, name, "%q is not a whole number of at least %d", s, min)
		}
		return n, nil
	}
	if req.After, err = number("after", 0); err != nil {
		return req, err
	}
	if req.Limit, err = number("limit", 1); err != nil {
		return req, err
	}
	if req.Limit > app.MaxUserPage {
		return req, migration.Invalid("invalid_limit", "limit", "%d is more than %d users a page", req.Limit, app.MaxUserPage)
	}
	if group {
		wave, err := number("wave", 1)
		if err != nil {
			return req, err
		}
		req.InWave = int64(wave)
	}
	return req, nil
}

func (s *Server) groupUsers(w http.ResponseWriter, r *http.Request) { s.userList(w, r, true) }
func (s *Server) waveUsers(w http.ResponseWriter, r *http.Request)  { s.userList(w, r, false) }

func (s *Server) userList(w http.ResponseWriter, r *http.Request, group bool) {
	req, err := userListRequest(r, group)
	if err != nil {
		s.error(w, r, err)
		return
	}
	page, err := s.app.UserList(r.Context(), req)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) groupUsersCSV(w http.ResponseWriter, r *http.Request) { s.userListCSV(w, r, true) }
func (s *Server) waveUsersCSV(w http.ResponseWriter, r *http.Request)  { s.userListCSV(w, r, false) }

// userListCSV answers every user the filters choose, as CSV: exactly the
// list's users, all its pages.
func (s *Server) userListCSV(w http.ResponseWriter, r *http.Request, group bool) {
	req, err := userListRequest(r, group)
	if err != nil {
		s.error(w, r, err)
		return
	}
	_, _, name, err := s.scope(r, group)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// Rows are written as they are read: a failure half way is logged and
	// cuts the file short, as a report's does.
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fileName(name)+"-users.csv"))
	if err := s.app.WriteUserList(r.Context(), w, req); err != nil {
		s.log.Error("user list CSV cut short", "path", r.URL.Path, "error", err)
	}
}

// searchAnswer is the users a search found.
type searchAnswer struct {
	Users []userMatch `json:"users"`
}

type userMatch struct {
	UPN         string `json:"upn"`
	SIP         string `json:"sip"`
	DisplayName string `json:"display_name"`
	GroupName   string `json:"group_name"`
}

// searchLimit is how many users a search answers at most.
const searchLimit = 50

// userSearch finds users by the start of their UPN or SIP address, or of
// the words of their name (?q=).
func (s *Server) userSearch(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		s.error(w, r, migration.Invalid("invalid_search", "q", "give the start of a name, a UPN or a SIP address"))
		return
	}
	found, err := s.app.UserSearch(r.Context(), q, searchLimit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	a := searchAnswer{Users: make([]userMatch, len(found))}
	for i, m := range found {
		a.Users[i] = userMatch(m)
	}
	writeJSON(w, http.StatusOK, a)
}

// usersRequest names users of a wave or group for an action on exactly
// them.
type usersRequest struct {
	Users []string `json:"users"`
}

// usersBody reads the wave or group in the path and the users the body
// names.
func (s *Server) usersBody(w http.ResponseWriter, r *http.Request) (int64, []string, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, nil, err
	}
	var req usersRequest
	err = s.decodeJSON(w, r, &req)
	return id, req.Users, err
}

func (s *Server) waveUsersRetry(w http.ResponseWriter, r *http.Request) {
	s.waveUsersAction(w, r, "chosen users retried", s.app.WaveUsersRetry)
}

func (s *Server) waveUsersRollback(w http.ResponseWriter, r *http.Request) {
	s.waveUsersAction(w, r, "chosen users rolled back", s.app.WaveUsersRollBack)
}

// waveUsersAction runs a lead's action on chosen users of a wave and
// answers with what it did.
func (s *Server) waveUsersAction(w http.ResponseWriter, r *http.Request, done string,
	action func(ctx context.Context, a app.Actor, req app.WaveUsersRequest) (app.UsersDone, error)) {
	id, users, err := s.usersBody(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	out, err := action(r.Context(), actorOf(r), app.WaveUsersRequest{WaveID: id, Users: users})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("wave's "+done, "wave_id", id, "users", len(users), "in_wave", out.Wave.ID)
	writeJSON(w, http.StatusAccepted, out)
}

func (s *Server) groupUsersLeaveOut(w http.ResponseWriter, r *http.Request) {
	s.groupUsersAction(w, r, false)
}
func (s *Server) groupUsersPutBack(w http.ResponseWriter, r *http.Request) {
	s.groupUsersAction(w, r, true)
}

// groupUsersAction leaves chosen members of a group out of its plan, or
// puts them back, and answers with what it did.
func (s *Server) groupUsersAction(w http.ResponseWriter, r *http.Request, back bool) {
	id, users, err := s.usersBody(w, r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	out, err := s.app.GroupUsersLeaveOut(r.Context(), actorOf(r), app.GroupUsersRequest{GroupID: id, Users: users}, back)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("group's members left out of or put back into its plan", "group_id", id, "users", out.Users, "back", back)
	writeJSON(w, http.StatusOK, out)
}
