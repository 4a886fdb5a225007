package api

import (
	"context"
	"net/http"
	"time"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
)

// A lead's actions on a wave. Each answers with the wave as it is after.

func (s *Server) wavePause(w http.ResponseWriter, r *http.Request) {
	s.waveAction(w, r, "paused", s.app.WavePause)
}

func (s *Server) waveResume(w http.ResponseWriter, r *http.Request) {
	s.waveAction(w, r, "resumed", s.app.WaveResume)
}

func (s *Server) waveCancel(w http.ResponseWriter, r *http.Request) {
	s.waveAction(w, r, "cancelled", s.app.WaveCancel)
}

func (s *Server) waveOverrideReadiness(w http.ResponseWriter, r *http.Request) {
	s.waveAction(w, r, "hybrid readiness overridden", s.app.WaveOverrideReadiness)
}

func (s *Server) waveConfirmRouting(w http.ResponseWriter, r *http.Request) {
	s.waveAction(w, r, "SBC routing confirmed", s.app.WaveConfirmRouting)
}

func (s *Server) waveApproveNumbers(w http.ResponseWriter, r *http.Request) {
	s.waveAction(w, r, "number moves approved", s.app.WaveApproveNumbers)
}

func (s *Server) waveRollback(w http.ResponseWriter, r *http.Request) {
	s.waveAction(w, r, "rollback requested", s.app.WaveRollBack)
}

// startRequest is the body of a reschedule, or of a retry of a wave's
// failed users (optional there: now).
type startRequest struct {
	StartAt string `json:"start_at"`
}

func (req startRequest) at(now time.Time, required bool) (time.Time, error) {
	switch req.StartAt {
	case "":
		if required {
			return time.Time{}, migration.Invalid("invalid_start", "start_at", "is required (an RFC 3339 time like 2026-11-23T22:00:00Z, or \"now\")")
		}
		return now, nil
	}
	t, ok := migration.ParseStart(req.StartAt, now, time.UTC)
	if !ok {
		return time.Time{}, migration.Invalid("invalid_start", "start_at", "%q is not an RFC 3339 time like 2026-11-23T22:00:00Z (or \"now\")", req.StartAt)
	}
	return t, nil
}

func (s *Server) waveReschedule(w http.ResponseWriter, r *http.Request) {
	var req startRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	at, err := req.at(s.now(), true)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.waveAction(w, r, "rescheduled", func(ctx context.Context, a app.Actor, id int64) (migration.Wave, error) {
		return s.app.WaveReschedule(ctx, a, app.WaveScheduleRequest{WaveID: id, StartAt: at})
	})
}

// waveRetryFailed plans the wave's failed users into a new wave and answers
// with the new wave.
func (s *Server) waveRetryFailed(w http.ResponseWriter, r *http.Request) {
	var req startRequest
	if err := s.decodeOptionalJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	at, err := req.at(s.now(), false)
	if err != nil {
		s.error(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	retry, err := s.app.WaveRetryFailed(r.Context(), actorOf(r), app.WaveScheduleRequest{WaveID: id, StartAt: at})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("failed users planned into a new wave", "wave_id", id, "new_wave_id", retry.ID, "users", retry.Size)
	s.writeWave(w, r, retry, http.StatusCreated)
}

// membersRequest adds users (UPN or SIP address) to a wave and removes users
// from it.
type membersRequest struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

func (s *Server) waveMembers(w http.ResponseWriter, r *http.Request) {
	var req membersRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	if len(req.Add)+len(req.Remove) == 0 {
		s.error(w, r, migration.Invalid("invalid_members", "add", "give users to add or to remove"))
		return
	}
	s.waveAction(w, r, "members changed", func(ctx context.Context, a app.Actor, id int64) (migration.Wave, error) {
		return s.app.WaveMembers(ctx, a, app.WaveMembersRequest{WaveID: id, Add: req.Add, Remove: req.Remove})
	})
}

// waveAction runs a lead's action on a wave and answers with the wave.
func (s *Server) waveAction(w http.ResponseWriter, r *http.Request, done string,
	action func(ctx context.Context, a app.Actor, id int64) (migration.Wave, error)) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	wave, err := action(r.Context(), actorOf(r), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("wave "+done, "wave_id", id, "wave", wave.Name, "state", wave.State)
	if wave, err = s.app.Wave(r.Context(), id); err != nil {
		s.error(w, r, err)
		return
	}
	s.writeWave(w, r, wave, http.StatusOK)
}

func (s *Server) writeWave(w http.ResponseWriter, r *http.Request, wave migration.Wave, status int) {
	views, err := s.app.WaveViews(r.Context(), []migration.Wave{wave}, s.now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, status, views[0])
}

// waveEvents is a wave's timeline.
func (s *Server) waveEvents(w http.ResponseWriter, r *http.Request) {
	waveList(s, w, r, func(ctx context.Context, id int64) (eventsAnswer, error) {
		events, err := s.app.WaveTimeline(ctx, id)
		return eventsAnswer{Events: events}, err
	})
}

// waveNotifications lists the webhook deliveries of a wave's events.
func (s *Server) waveNotifications(w http.ResponseWriter, r *http.Request) {
	waveList(s, w, r, func(ctx context.Context, id int64) (deliveriesAnswer, error) {
		ds, err := s.app.WaveNotifications(ctx, id)
		return deliveriesAnswer{Deliveries: ds}, err
	})
}

// waveList answers what list finds for the wave in the path, once it is
// known to exist.
func waveList[T any](s *Server, w http.ResponseWriter, r *http.Request, list func(context.Context, int64) (T, error)) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	if _, err := s.app.Wave(r.Context(), id); err != nil {
		s.error(w, r, err)
		return
	}
	v, err := list(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// Deployment settings.

func (s *Server) settingsGet(w http.ResponseWriter, r *http.Request) {
	st, _, err := s.app.Settings(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

type settingsRequest struct {
	MaxInFlight *int `json:"max_in_flight"`
}

func (s *Server) settingsPut(w http.ResponseWriter, r *http.Request) {
	var req settingsRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	if req.MaxInFlight == nil {
		s.error(w, r, migration.Invalid("invalid_settings", "max_in_flight", "is required"))
		return
	}
	st, err := s.app.SetMaxInFlight(r.Context(), actorOf(r), *req.MaxInFlight)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("settings changed", "max_in_flight", st.MaxInFlight)
	writeJSON(w, http.StatusOK, st)
}

// Webhooks.

type webhookRequest struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Format string `json:"format"`
}

func (s *Server) webhookCreate(w http.ResponseWriter, r *http.Request) {
	var req webhookRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.error(w, r, err)
		return
	}
	h, err := s.app.WebhookAdd(r.Context(), actorOf(r), app.WebhookRequest{Name: req.Name, URL: req.URL, Format: req.Format})
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("webhook added", "webhook_id", h.ID, "name", h.Name, "host", h.Host, "format", h.Format)
	writeJSON(w, http.StatusCreated, h)
}

func (s *Server) webhookList(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.app.Webhooks(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if hooks == nil {
		hooks = []migration.Webhook{}
	}
	writeJSON(w, http.StatusOK, webhooksAnswer{Webhooks: hooks})
}

func (s *Server) webhookDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.app.WebhookRemove(r.Context(), actorOf(r), id); err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("webhook deleted", "webhook_id", id)
	w.WriteHeader(http.StatusNoContent)
}
