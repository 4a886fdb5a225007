package migration

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
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

// ParseMembersCSV reads a pilot group from CSV held in memory, as
// ReadMembersCSV does, and returns all its members.
func ParseMembersCSV(data []byte) (ImportResult, error) {
	s, err := ReadMembersCSV(bytes.NewReader(data))
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{IgnoredColumns: s.IgnoredColumns()}
	for s.Next() {
		res.Members = append(res.Members, s.Member())
	}
	if err := s.Err(); err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// CSVMembers streams a pilot group's members from CSV, one record at a time.
type CSVMembers struct {
	in         *utf8Reader
	r          *csv.Reader
	headerLine int
	upn        int // columns, -1 if absent
	sip        int
	name       int
	ignored    []string
	check      *memberCheck
	n          int // members read (records not blank)
	cur        Member
	done       bool
	err        error
}

// ReadMembersCSV starts reading a pilot group from CSV: a header row naming
// an upn column (and optionally sip and display_name), UTF-8 with or without
// a byte order mark, CRLF or LF line ends, quoted fields. Blank lines are
// skipped. It reads the header row now, and returns its problems; the
// stream's Next reads the members, one record at a time, each validated as
// NormalizeMembers does.
//
// Problems are EInvalid *Errors naming the lines. The input as a whole is
// judged as if it were read before any record: bytes that are not UTF-8
// anywhere are the one problem named, then a malformed header or record,
// then a header without users, then the members' own problems; an error
// reading r comes before all of them, as it is (the body too large, say).
// So a stream with a problem reads on to the end of r.
func ReadMembersCSV(r io.Reader) (*CSVMembers, error) {
	in := &utf8Reader{r: r, line: 1}
	br := bufio.NewReaderSize(in, 64<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	s := &CSVMembers{in: in, r: csv.NewReader(br), upn: -1, sip: -1, name: -1, check: newMemberCheck()}
	s.r.FieldsPerRecord = -1
	s.r.TrimLeadingSpace = true
	s.r.ReuseRecord = true // fields are copied out of each record below

	header, err := s.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, s.fail(InvalidProblems(CodeInvalidCSV, []Problem{{Line: 1, Message: "the file is empty; it needs a header row with an upn column"}}))
	}
	if err != nil {
		return nil, s.fail(s.readError(err))
	}
	s.headerLine, _ = s.r.FieldPos(0) // blank lines before the header are skipped
	cols := map[string]*int{"upn": &s.upn, "sip": &s.sip, "display_name": &s.name}
	for i, name := range header {
		key := strings.ToLower(strings.TrimSpace(name))
		col, ok := csvColumns[key]
		if !ok {
			if key != "" {
				s.ignored = append(s.ignored, strings.TrimSpace(name))
			}
			continue
		}
		if *cols[col] >= 0 {
			return nil, s.fail(InvalidProblems(CodeInvalidCSV, []Problem{{Line: s.headerLine, Field: col, Message: fmt.Sprintf("column %q appears twice in the header", name)}}))
		}
		*cols[col] = i
	}
	if s.upn < 0 {
		return nil, s.fail(InvalidProblems(CodeInvalidCSV, []Problem{{Line: s.headerLine, Field: "upn", Message: fmt.Sprintf("the header has no upn column (found: %s)", strings.Join(header, ", "))}}))
	}
	return s, nil
}

// IgnoredColumns returns the header's columns that are not read.
func (s *CSVMembers) IgnoredColumns() []string { return s.ignored }

// Next reads up to the next good member. After a problem it yields no more,
// but reads the rest of the input for its problems.
func (s *CSVMembers) Next() bool {
	if s.done {
		return false
	}
	for {
		rec, err := s.r.Read()
		if err != nil {
			s.end(err)
			return false
		}
		if blank(rec) {
			continue
		}
		s.n++
		if s.check.full() {
			continue // the records are still read: a malformed one is the one problem named
		}
		line, _ := s.r.FieldPos(0)
		m, ok := s.check.member(Member{UPN: field(rec, s.upn), SIP: field(rec, s.sip), DisplayName: field(rec, s.name), Line: line}, s.n-1)
		if ok && !s.check.failed() {
			s.cur = m
			return true
		}
	}
}

// Member returns the member Next read.
func (s *CSVMembers) Member() Member { return s.cur }

// Err returns what is wrong with the input once Next is false, or nil.
func (s *CSVMembers) Err() error { return s.err }

func (s *CSVMembers) end(err error) {
	s.done = true
	switch {
	case !errors.Is(err, io.EOF):
		s.err = s.fail(s.readError(err))
	case s.n == 0:
		s.err = InvalidProblems(CodeInvalidCSV, []Problem{{Line: s.headerLine + 1, Message: "the file has a header but no users"}})
	default:
		s.err = s.check.err()
	}
}

// readError is the problem of an error from the CSV reader: bytes that are
// not UTF-8, malformed CSV, or else an error reading the input, as it is.
func (s *CSVMembers) readError(err error) error {
	if s.in.bad != nil && errors.Is(err, s.in.bad) {
		return s.in.bad
	}
	if pe, ok := errors.AsType[*csv.ParseError](err); ok {
		msg := "malformed CSV: " + pe.Err.Error()
		if pe.StartLine != pe.Line {
			msg += fmt.Sprintf(" (in the record starting on line %d, found on line %d)", pe.StartLine, pe.Line)
		}
		return InvalidProblems(CodeInvalidCSV, []Problem{{Line: pe.StartLine, Message: msg}})
	}
	return err
}

// fail returns the problem that stops the reading, err, unless the rest of
// the input has one that comes first: an error reading it, or bytes that are
// not UTF-8.
func (s *CSVMembers) fail(err error) error {
	s.done = true
	if rerr := s.in.drain(); rerr != nil {
		return rerr
	}
	if s.in.bad != nil {
		return s.in.bad
	}
	return err
}

func field(rec []string, i int) string {
	if i >= 0 && i < len(rec) {
		return rec[i]
	}
	return ""
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// utf8Reader passes its input on up to the first byte that is not UTF-8, and
// then fails with the problem, naming that byte's line.
type utf8Reader struct {
	r    io.Reader
	line int                   // of the next byte passed on
	held [utf8.UTFMax - 1]byte // the start of a rune cut by the end of a read
	nh   int
	rerr error  // r's error (io.EOF at its end), once it returned one
	bad  *Error // the input is not UTF-8; no more is passed on
}

// Read reads into p, which must hold a whole rune.
func (u *utf8Reader) Read(p []byte) (int, error) {
	switch {
	case u.bad != nil:
		return 0, u.bad
	case u.rerr != nil && u.nh == 0:
		return 0, u.rerr
	case len(p) < utf8.UTFMax:
		return 0, io.ErrShortBuffer
	}
	n := copy(p, u.held[:u.nh])
	u.nh = 0
	if u.rerr == nil {
		m, err := u.r.Read(p[n:])
		n += m
		u.rerr = err
	}
	good := n
	if !utf8.Valid(p[:n]) {
		good = u.validPrefix(p[:n])
	}
	u.line += bytes.Count(p[:good], []byte("\n"))
	if u.bad != nil && good == 0 {
		return 0, u.bad
	}
	return good, nil
}

// validPrefix returns the length of b's longest prefix of whole runes. A rune
// cut by b's end is held for the next read, unless the input has ended; any
// other fault makes the problem.
func (u *utf8Reader) validPrefix(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			i += size
			continue
		}
		if !utf8.FullRune(b[i:]) && u.rerr == nil {
			u.nh = copy(u.held[:], b[i:])
			return i
		}
		line := u.line + bytes.Count(b[:i], []byte("\n"))
		u.bad = InvalidProblems(CodeInvalidCSV, []Problem{{Line: line, Message: "the file is not UTF-8 text; save it as CSV UTF-8"}})
		return i
	}
	return len(b)
}

// drain reads the rest of the input, checking it is UTF-8 up to a first
// fault, and returns the error reading it, or nil at its end.
func (u *utf8Reader) drain() error {
	buf := make([]byte, 32<<10)
	for empty := 0; u.rerr == nil; {
		var n int
		if u.bad == nil {
			n, _ = u.Read(buf) // sets u.rerr, or u.bad
		} else {
			n, u.rerr = u.r.Read(buf) // past a fault, the rest is only read
		}
		if empty++; n > 0 {
			empty = 0
		} else if empty > 100 && u.rerr == nil { // as bufio gives up on a reader
			u.rerr = io.ErrNoProgress
		}
	}
	if u.bad == nil && u.nh > 0 {
		_, _ = u.Read(buf) // a rune cut by the end: the fault
	}
	if errors.Is(u.rerr, io.EOF) {
		return nil
	}
	return u.rerr
}
