package migration

import (
	"fmt"
	"hash/maphash"
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
}

// MaxProblems is how many problems an import reports before it stops looking.
const MaxProblems = 20

// Codes of the import errors.
const (
	CodeInvalidCSV     = "invalid_csv"
	CodeInvalidMembers = "invalid_members"
)

// MemberStream yields a pilot group's members one at a time, each checked and
// normalised (see NormalizeMembers), so that an import need not hold them
// all. Next reports whether there is another (Member returns it). Once Next
// is false, Err says why: nil at the end of good input; else what is wrong
// with the input, and then nothing the stream yielded may be kept. After its
// first problem a stream yields nothing more, but reads on to the end of its
// input to name every problem (up to MaxProblems).
type MemberStream interface {
	Next() bool
	Member() Member
	Err() error
}

// NormalizeMembers checks and normalises members: UPN and SIP address valid
// and lower-cased, the SIP address defaulting to the UPN and losing any "sip:"
// prefix, no UPN or SIP address twice. Problems name the CSV line of a member
// that has one, else its index in the list (members[i].upn).
func NormalizeMembers(in []Member) ([]Member, error) {
	s := CheckMembers(in)
	out := make([]Member, 0, len(in))
	for s.Next() {
		out = append(out, s.Member())
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// CheckMembers streams the members of a list, checked and normalised one at
// a time as NormalizeMembers does, without copying the list. in is not
// changed.
func CheckMembers(in []Member) MemberStream {
	return &listMembers{in: in, check: newMemberCheck()}
}

type listMembers struct {
	in    []Member
	next  int
	check *memberCheck
	cur   Member
	done  bool
	err   error
}

func (s *listMembers) Next() bool {
	if s.done {
		return false
	}
	for s.next < len(s.in) && !s.check.full() {
		m, ok := s.check.member(s.in[s.next], s.next)
		s.next++
		if ok && !s.check.failed() {
			s.cur = m
			return true
		}
	}
	s.done = true
	if len(s.in) == 0 {
		s.err = InvalidProblems(CodeInvalidMembers, []Problem{{Field: "members", Message: "the group has no users"}})
	} else {
		s.err = s.check.err()
	}
	return false
}

func (s *listMembers) Member() Member { return s.cur }
func (s *listMembers) Err() error     { return s.err }

// memberCheck checks members one at a time and remembers the problems, and
// the addresses seen so that a second of each is found.
//
// An address is remembered by a 64-bit hash of it (maphash, seeded afresh
// for each import) with where it was first seen: 16 bytes of map for each,
// rather than the address as well. Two different addresses share a hash
// with a chance of about n²/2⁶⁵ in n members (under 10⁻⁹ for 100,000); such
// an import would be refused as having a duplicate, and a second try, with
// another seed, would pass. A duplicate is never missed.
type memberCheck struct {
	seed       maphash.Seed
	upns, sips map[uint64]int32 // where each address was first seen: its line, or ^its index
	problems   []Problem
	fromCSV    bool // the first member had a line: problems are a CSV's
}

func newMemberCheck() *memberCheck {
	return &memberCheck{seed: maphash.MakeSeed(), upns: map[uint64]int32{}, sips: map[uint64]int32{}}
}

// full reports whether the check has found as many problems as it reports.
func (c *memberCheck) full() bool { return len(c.problems) >= MaxProblems }

// failed reports whether the check has found a problem.
func (c *memberCheck) failed() bool { return len(c.problems) > 0 }

// member checks and normalises m, the i-th member (from 0), and reports
// whether it is good; if not, the problem is recorded.
func (c *memberCheck) member(m Member, i int) (Member, bool) {
	if i == 0 {
		c.fromCSV = m.Line > 0
	}
	add := func(field, format string, args ...any) (Member, bool) {
		p := Problem{Line: m.Line, Field: field, Message: fmt.Sprintf(format, args...)}
		if m.Line == 0 {
			p.Field = fmt.Sprintf("members[%d].%s", i, field)
		}
		c.problems = append(c.problems, p)
		return Member{}, false
	}
	m.UPN = strings.ToLower(strings.TrimSpace(m.UPN))
	m.SIP = NormalizeAddress(m.SIP)
	m.DisplayName = strings.TrimSpace(m.DisplayName)
	if m.SIP == "" {
		m.SIP = m.UPN
	}
	if m.UPN == "" {
		return add("upn", "upn is empty")
	}
	if msg := checkAddress(m.UPN); msg != "" {
		return add("upn", "%q is not a valid UPN: %s", m.UPN, msg)
	}
	if msg := checkAddress(m.SIP); msg != "" {
		return add("sip", "%q is not a valid SIP address: %s", m.SIP, msg)
	}
	if utf8.RuneCountInString(m.DisplayName) > 256 {
		return add("display_name", "display name is longer than 256 characters")
	}
	upn, sip := maphash.String(c.seed, m.UPN), maphash.String(c.seed, m.SIP)
	if prev, dup := c.upns[upn]; dup {
		return add("upn", "%s appears twice (first %s)", m.UPN, where(prev, "upn"))
	}
	if prev, dup := c.sips[sip]; dup {
		return add("sip", "SIP address %s appears twice (first %s)", m.SIP, where(prev, "sip"))
	}
	at := ^int32(i)
	if m.Line > 0 {
		at = int32(m.Line)
	}
	c.upns[upn], c.sips[sip] = at, at
	return m, true
}

// err returns the problems found, or nil.
func (c *memberCheck) err() error {
	if !c.failed() {
		return nil
	}
	code := CodeInvalidMembers
	if c.fromCSV {
		code = CodeInvalidCSV
	}
	return InvalidProblems(code, c.problems)
}

// where names where a member was first seen: its line, or its index.
func where(at int32, field string) string {
	if at > 0 {
		return fmt.Sprintf("on line %d", at)
	}
	return fmt.Sprintf("at members[%d].%s", ^at, field)
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
