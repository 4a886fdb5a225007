package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/migration"
)

// Reports: a CSV line per user, and failures counted by error code (JSON, or
// CSV with ?format=csv).

func (s *Server) waveReport(w http.ResponseWriter, r *http.Request)   { s.report(w, r, false) }
func (s *Server) groupReport(w http.ResponseWriter, r *http.Request)  { s.report(w, r, true) }
func (s *Server) waveFailures(w http.ResponseWriter, r *http.Request) { s.failures(w, r, false) }
func (s *Server) groupFailures(w http.ResponseWriter, r *http.Request) {
	s.failures(w, r, true)
}

// scope reads the group or wave of a report, checking that it exists.
func (s *Server) scope(r *http.Request, group bool) (groupID, waveID int64, name string, err error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, 0, "", err
	}
	if group {
		g, err := s.app.Group(r.Context(), id)
		return id, 0, g.Name, err
	}
	wave, err := s.app.Wave(r.Context(), id)
	return 0, id, wave.Name, err
}

func (s *Server) report(w http.ResponseWriter, r *http.Request, group bool) {
	groupID, waveID, name, err := s.scope(r, group)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rows, err := s.app.Report(r.Context(), groupID, waveID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fileName(name)+".csv"))
	_ = app.WriteReport(w, rows)
}

func (s *Server) failures(w http.ResponseWriter, r *http.Request, group bool) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "csv" {
		s.error(w, r, migration.Invalid("invalid_format", "format", "%q is not json or csv", format))
		return
	}
	groupID, waveID, name, err := s.scope(r, group)
	if err != nil {
		s.error(w, r, err)
		return
	}
	counts, err := s.app.Failures(r.Context(), groupID, waveID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	sum := app.Summarise(counts)
	if format != "csv" {
		writeJSON(w, http.StatusOK, sum)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fileName(name)+"-failures.csv"))
	_ = sum.WriteCSV(w)
}

// fileName makes a name safe for a download's file name.
func fileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' {
			return '-'
		}
		if r < 32 || strings.ContainsRune(`"\/:*?<>|`, r) {
			return -1
		}
		return r
	}, name)
}
