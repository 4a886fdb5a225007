package api

import (
	"context"
	"net/http"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
)

func (s *Server) groupPlan(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req app.PlanRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	if req.Preview {
		changesNothing(r)
		waves, end, err := s.app.PlanGroupPreview(r.Context(), id, req, s.now())
		if err != nil {
			s.error(w, r, err)
			return
		}
		a := planPreviewAnswer{Preview: true, Waves: waves}
		if end.Moves > 0 {
			a.EndsAround, a.WaveEnds, a.PaceSeconds, a.PaceMoves = &end.Last, end.Ends, end.Pace.Seconds(), end.Moves
		}
		writeJSON(w, http.StatusOK, a)
		return
	}
	waves, err := s.app.PlanGroup(r.Context(), actorOf(r), id, req, s.now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("pilot group planned", "group_id", id, "waves", len(waves))
	views, err := s.app.WaveViews(r.Context(), waves, s.now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, wavesAnswer{Waves: views})
}

func (s *Server) waveGet(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	wave, err := s.app.Wave(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	views, err := s.app.WaveViews(r.Context(), []migration.Wave{wave}, s.now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, views[0])
}

// waveMoves lists a wave's moves, optionally those in one state (?state=failed).
func (s *Server) waveMoves(w http.ResponseWriter, r *http.Request) {
	state := migration.MoveState(r.URL.Query().Get("state"))
	if state != "" && !state.Valid() {
		s.error(w, r, migration.Invalid("invalid_state", "state", "%q is not a move state (one of %v)", state, migration.MoveStates))
		return
	}
	waveList(s, w, r, func(ctx context.Context, id int64) (movesAnswer, error) {
		moves, err := s.app.WaveMoves(ctx, id, state)
		return movesAnswer{Moves: moves}, err
	})
}
