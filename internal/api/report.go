package api

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
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
		g, err := s.q.GroupGet(r.Context(), id)
		return id, 0, g.Name, err
	}
	wave, err := s.q.WaveGet(r.Context(), id)
	return 0, id, wave.Name, err
}

// ReportHeader is the first line of a report.
var ReportHeader = []string{"upn", "sip", "display_name", "group", "wave", "state", "attempts", "error_code",
	"explanation", "error_message", "started_at", "finished_at", "rolled_back", "enterprise_voice", "line_uri"}

func (s *Server) report(w http.ResponseWriter, r *http.Request, group bool) {
	groupID, waveID, name, err := s.scope(r, group)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rows, err := s.q.Report(r.Context(), groupID, waveID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fileName(name)+".csv"))
	_ = WriteReport(w, rows)
}

// WriteReport writes a report as CSV: ReportHeader, then a line per user.
func WriteReport(w io.Writer, rows []store.ReportRow) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(ReportHeader)
	for _, row := range rows {
		explanation := ""
		if row.ErrorCode != "" {
			explanation = migration.FailureFor(row.ErrorCode).Explanation
		}
		_ = cw.Write(cells(row.UPN, row.SIP, row.DisplayName, row.Group, row.Wave, string(row.State), strconv.Itoa(row.Attempts),
			string(row.ErrorCode), explanation, row.ErrorMessage, stamp(row.StartedAt), stamp(row.FinishedAt), strconv.FormatBool(row.RolledBack),
			strconv.FormatBool(row.EnterpriseVoice), row.LineURI))
	}
	cw.Flush()
	return cw.Error()
}

// FailureSummary is the failures of a wave or group counted by error code.
type FailureSummary struct {
	Failures []migration.FailureCount `json:"failures"`
	Total    int                      `json:"total"`
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
	counts, err := s.q.FailureCounts(r.Context(), groupID, waveID)
	if err != nil {
		s.error(w, r, err)
		return
	}
	sum := Summarise(counts)
	if format != "csv" {
		writeJSON(w, http.StatusOK, sum)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", fileName(name)+"-failures.csv"))
	_ = sum.WriteCSV(w)
}

// Summarise explains failure counts from the catalogue.
func Summarise(counts []store.FailureCount) FailureSummary {
	sum := FailureSummary{Failures: make([]migration.FailureCount, 0, len(counts))}
	for _, c := range counts {
		sum.Failures = append(sum.Failures, migration.FailureCount{Failure: migration.FailureFor(c.Code), Count: c.Count})
		sum.Total += c.Count
	}
	return sum
}

// WriteCSV writes the summary as CSV, a line per error code.
func (sum FailureSummary) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"error_code", "count", "retry_helps", "explanation", "fix"})
	for _, f := range sum.Failures {
		_ = cw.Write(cells(string(f.Code), strconv.Itoa(f.Count), strconv.FormatBool(f.Transient), f.Explanation, f.Fix))
	}
	cw.Flush()
	return cw.Error()
}

// cells guards CSV cells against spreadsheet formulas: a cell starting
// with =, +, -, @ or a tab gets a leading apostrophe.
func cells(values ...string) []string {
	for i, v := range values {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			values[i] = "'" + v
		}
	}
	return values
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
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
