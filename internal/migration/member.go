package migration

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Member is one user of a pilot group.
type Member struct {
	UPN         string `json:"upn"`
	SIP         string `json:"sip"`
	DisplayName string `json:"display_name"`
	// Line is the CSV line the member came from (0 for JSON input).
	Line int `json:"-"`

	index int // position in the input, for messages
}

// MaxProblems is how many problems an import reports before it stops looking.
const MaxProblems = 20

// Codes of the import errors.
const (
	CodeInvalidCSV     = "invalid_csv"
	CodeInvalidMembers = "invalid_members"
)

// ImportResult is what a CSV file held: its members and the columns that were
// not used.
type ImportResult struct {
	Members        []Member
	IgnoredColumns []string
}

// csvColumns are the columns cutover reads, by header name; aliases found in
// exports of Get-CsUser and of the admin centre are accepted too.
var csvColumns = map[string]string{
	"upn": "upn", "userprincipalname": "upn", "user_principal_name": "upn",
	"sip": "sip", "sipaddress": "sip", "sip_address": "sip",
	"display_name": "display_name", "displayname": "display_name", "name": "display_name",
}

// ParseMembersCSV reads a pilot group from CSV: a header row naming an upn
// column (and optionally sip and display_name), UTF-8 with or without a byte
// order mark, CRLF or LF line ends, quoted fields. Blank lines are skipped.
// Every member is validated; on any problem nothing is returned but an
// EInvalid *Error naming the lines.
func ParseMembersCSV(data []byte) (ImportResult, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:firstInvalidUTF8(data)], []byte("\n"))
		return ImportResult{}, InvalidProblems(CodeInvalidCSV, []Problem{{Line: line, Message: "the file is not UTF-8 text; save it as CSV UTF-8"}})
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.ReuseRecord = true // fields are copied out of each record below

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return ImportResult{}, InvalidProblems(CodeInvalidCSV, []Problem{{Line: 1, Message: "the file is empty; it needs a header row with an upn column"}})
	}
	if err != nil {
		return ImportResult{}, csvSyntaxError(err)
	}
	headerLine, _ := r.FieldPos(0) // blank lines before the header are skipped
	index := map[string]int{}
	var res ImportResult
	for i, name := range header {
		key := strings.ToLower(strings.TrimSpace(name))
		col, ok := csvColumns[key]
		if !ok {
			if key != "" {
				res.IgnoredColumns = append(res.IgnoredColumns, strings.TrimSpace(name))
			}
			continue
		}
		if _, dup := index[col]; dup {
			return ImportResult{}, InvalidProblems(CodeInvalidCSV, []Problem{{Line: headerLine, Field: col, Message: fmt.Sprintf("column %q appears twice in the header", name)}})
		}
		index[col] = i
	}
	if _, ok := index["upn"]; !ok {
		return ImportResult{}, InvalidProblems(CodeInvalidCSV, []Problem{{Line: headerLine, Field: "upn", Message: fmt.Sprintf("the header has no upn column (found: %s)", strings.Join(header, ", "))}})
	}
	field := func(rec []string, col string) string {
		if i, ok := index[col]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ImportResult{}, csvSyntaxError(err)
		}
		if blank(rec) {
			continue
		}
		line, _ := r.FieldPos(0)
		res.Members = append(res.Members, Member{
			UPN: field(rec, "upn"), SIP: field(rec, "sip"), DisplayName: field(rec, "display_name"), Line: line,
		})
	}
	if len(res.Members) == 0 {
		return ImportResult{}, InvalidProblems(CodeInvalidCSV, []Problem{{Line: headerLine + 1, Message: "the file has a header but no users"}})
	}
	members, err := NormalizeMembers(res.Members)
	if err != nil {
		return ImportResult{}, err
	}
	res.Members = members
	return res, nil
}

func csvSyntaxError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := "malformed CSV: " + pe.Err.Error()
		if pe.StartLine != pe.Line {
			msg += fmt.Sprintf(" (in the record starting on line %d, found on line %d)", pe.StartLine, pe.Line)
		}
		return InvalidProblems(CodeInvalidCSV, []Problem{{Line: pe.StartLine, Message: msg}})
	}
	return InvalidProblems(CodeInvalidCSV, []Problem{{Message: "malformed CSV: " + err.Error()}})
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// NormalizeMembers checks and normalises members: UPN and SIP address valid
// and lower-cased, the SIP address defaulting to the UPN and losing any "sip:"
// prefix, no UPN or SIP address twice. Problems name the CSV line of a member
// that has one, else its index in the list (members[i].upn).
func NormalizeMembers(in []Member) ([]Member, error) {
	if len(in) == 0 {
		return nil, InvalidProblems(CodeInvalidMembers, []Problem{{Field: "members", Message: "the group has no users"}})
	}
	out := make([]Member, 0, len(in))
	var problems []Problem
	add := func(i int, m Member, field, format string, args ...any) {
		p := Problem{Line: m.Line, Field: field, Message: fmt.Sprintf(format, args...)}
		if m.Line == 0 {
			p.Field = fmt.Sprintf("members[%d].%s", i, field)
		}
		problems = append(problems, p)
	}
	upns := make(map[string]Member, len(in))
	sips := make(map[string]Member, len(in))
	for i, m := range in {
		if len(problems) >= MaxProblems {
			break
		}
		m.UPN = strings.ToLower(strings.TrimSpace(m.UPN))
		m.SIP = NormalizeAddress(m.SIP)
		m.DisplayName = strings.TrimSpace(m.DisplayName)
		if m.SIP == "" {
			m.SIP = m.UPN
		}
		if m.UPN == "" {
			add(i, m, "upn", "upn is empty")
			continue
		}
		if msg := checkAddress(m.UPN); msg != "" {
			add(i, m, "upn", "%q is not a valid UPN: %s", m.UPN, msg)
			continue
		}
		if msg := checkAddress(m.SIP); msg != "" {
			add(i, m, "sip", "%q is not a valid SIP address: %s", m.SIP, msg)
			continue
		}
		if utf8.RuneCountInString(m.DisplayName) > 256 {
			add(i, m, "display_name", "display name is longer than 256 characters")
			continue
		}
		if prev, dup := upns[m.UPN]; dup {
			add(i, m, "upn", "%s appears twice (first %s)", m.UPN, where(prev, "upn"))
			continue
		}
		if prev, dup := sips[m.SIP]; dup {
			add(i, m, "sip", "SIP address %s appears twice (first %s)", m.SIP, where(prev, "sip"))
			continue
		}
		m.index = i
		upns[m.UPN], sips[m.SIP] = m, m
		out = append(out, m)
	}
	if len(problems) > 0 {
		code := CodeInvalidMembers
		if in[0].Line > 0 {
			code = CodeInvalidCSV
		}
		return nil, InvalidProblems(code, problems)
	}
	return out, nil
}

func where(m Member, field string) string {
	if m.Line > 0 {
		return fmt.Sprintf("on line %d", m.Line)
	}
	return fmt.Sprintf("at members[%d].%s", m.index, field)
}

// checkAddress checks a UPN or SIP address (user@domain) and says what is
// wrong with it, or returns "".
func checkAddress(s string) string {
	if len(s) > 256 {
		return "longer than 256 characters"
	}
	local, domain, ok := strings.Cut(s, "@")
	switch {
	case !ok:
		return "it has no @"
	case strings.Contains(domain, "@"):
		return "it has more than one @"
	case local == "":
		return "nothing before the @"
	case len(local) > 64:
		return "the part before the @ is longer than 64 characters"
	case strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, ".."):
		return "the part before the @ starts, ends or has two dots in a row"
	}
	for _, r := range local {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r)) {
			return fmt.Sprintf("%q is not allowed before the @", r)
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "the domain needs a dot (contoso.com)"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return fmt.Sprintf("the domain %q is not valid", domain)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Sprintf("the domain %q is not valid", domain)
			}
		}
	}
	return ""
}

// NormalizeAddress lower-cases a UPN or SIP address, trims it and drops a
// "sip:" prefix, so that either finds the user.
func NormalizeAddress(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.TrimPrefix(s, "sip:")
}
