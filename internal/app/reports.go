package app

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// ReportHeader is the first line of a report.
var ReportHeader = []string{"upn", "sip", "display_name", "group", "wave", "state", "attempts", "error_code",
	"explanation", "error_message", "started_at", "finished_at", "rolled_back", "enterprise_voice", "line_uri"}

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

// CSVCells guards CSV cells against spreadsheet formulas, as every CSV
// cutover writes does (cells).
func CSVCells(values ...string) []string { return cells(values...) }

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
