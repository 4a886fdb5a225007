package api

import (
	"context"
	"net/http"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
)

func (s *Server) userGet(w http.ResponseWriter, r *http.Request) {
	st, err := s.app.LookUp(r.Context(), r.PathValue("identity"), s.now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) userRetry(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "retried", s.app.UserRetry)
}

// userRollback moves a moved user back on premises.
func (s *Server) userRollback(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "rollback requested", s.app.UserRollBack)
}

// userMigrateMeetings asks that Microsoft migrate a moved user's meetings
// again (once).
func (s *Server) userMigrateMeetings(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "meetings to be migrated again", s.app.UserMigrateMeetings)
}

// userAction runs a lead's action on one user and answers with their status.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, done string,
	action func(ctx context.Context, a app.Actor, identity string) (migration.Move, error)) {
	identity := r.PathValue("identity")
	m, err := action(r.Context(), actorOf(r), identity)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("user "+done, "upn", m.UPN, "move_id", m.ID)
	st, err := s.app.LookUp(r.Context(), identity, s.now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}
