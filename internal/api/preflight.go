package api

import (
	"net/http"

	"github.com/cutover/cutover/internal/app"
)

func (s *Server) tenantReadiness(w http.ResponseWriter, r *http.Request) {
	if s.dir == nil {
		s.error(w, r, app.ErrNoDirectory)
		return
	}
	res, err := s.app.TenantReadiness(r.Context(), s.dir, s.now(), s.checks.MaxSyncAge)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// groupPreflight runs the per-user checks for every member of a group: a dry
// run before its waves start.
func (s *Server) groupPreflight(w http.ResponseWriter, r *http.Request) {
	s.memberPreflight(w, r, func(id int64) (int64, int64, error) {
		_, err := s.app.Group(r.Context(), id)
		return id, 0, err
	})
}

// wavePreflight runs the per-user checks for the members of one wave.
func (s *Server) wavePreflight(w http.ResponseWriter, r *http.Request) {
	s.memberPreflight(w, r, func(id int64) (int64, int64, error) {
		wave, err := s.app.Wave(r.Context(), id)
		return wave.GroupID, id, err
	})
}

func (s *Server) memberPreflight(w http.ResponseWriter, r *http.Request, scope func(id int64) (groupID, waveID int64, err error)) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	groupID, waveID, err := scope(id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if s.dir == nil {
		s.error(w, r, app.ErrNoDirectory)
		return
	}
	members, err := s.app.Members(r.Context(), groupID, waveID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	report, err := s.app.DryRun(r.Context(), s.dir, members, s.now(), s.checks.LicenceSettle)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.log.Info("pre-flight dry run", "group_id", groupID, "wave_id", waveID, "checked", report.Checked, "failed", report.Failed)
	writeJSON(w, http.StatusOK, report)
}

// readiness is the deployment's whole readiness report: worker hosts,
// tenant, on premises, DNS, and what holds moves now.
func (s *Server) readiness(w http.ResponseWriter, r *http.Request) {
	res, err := s.app.DeploymentReadiness(r.Context(), s.dir, s.now(), s.checks.MaxSyncAge)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// readinessCheck asks every worker to check its host and the hybrid
// configuration now (each does within its recheck interval, 15 seconds by
// default), and answers the report as it stands.
func (s *Server) readinessCheck(w http.ResponseWriter, r *http.Request) {
	at, err := s.app.ReadinessRequest(r.Context(), actorOf(r))
	if err != nil {
		s.error(w, r, err)
		return
	}
	res, err := s.app.DeploymentReadiness(r.Context(), s.dir, s.now(), s.checks.MaxSyncAge)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, readinessCheckAnswer{RequestedAt: at, Readiness: res})
}
