package migration

import (
	"slices"
	"strings"
	"time"
)

// A side of Microsoft's that cutover calls: the on-premises management
// shell (and, through it, the hosted migration service), or Microsoft
// Graph. A side that stops answering is nobody's failure: a call that did
// not answer is a user's own only if the side answers a probe after it.
type Side string

// The sides.
const (
	SideShell Side = "shell"
	SideGraph Side = "graph"
)

// Code is the hold that stops every move while the side does not answer.
func (s Side) Code() ErrorCode {
	if s == SideGraph {
		return CodeGraphUnavailable
	}
	return CodeShellUnavailable
}

// ShellUnanswered is the reason of a hold while the management shell of
// the named hosts does not answer (hosts in any order; each said once).
func ShellUnanswered(hosts ...string) string {
	hosts = slices.Compact(slices.Sorted(slices.Values(hosts)))
	switch len(hosts) {
	case 0:
		return "the Skype for Business management shell does not answer"
	case 1:
		return "the Skype for Business management shell on " + hosts[0] + " does not answer"
	}
	return "the Skype for Business management shell on " + strings.Join(hosts[:len(hosts)-1], ", ") + " and " + hosts[len(hosts)-1] + " does not answer"
}

// Span is a span of time, such as one during which the deployment was held.
type Span struct {
	Since time.Time
	Until time.Time
}

// HeldWithin is how much of [from, to] the spans cover, each instant once
// however many spans overlap there.
func HeldWithin(spans []Span, from, to time.Time) time.Duration {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b Span) int { return a.Since.Compare(b.Since) })
	var held time.Duration
	reached := from // the part of [from, to] counted so far ends here
	for _, s := range spans {
		since, until := s.Since, s.Until
		if since.Before(reached) {
			since = reached
		}
		if until.After(to) {
			until = to
		}
		if until.After(since) {
			held += until.Sub(since)
			reached = until
		}
	}
	return held
}

// TeamsWaited is how long a moved user has waited for Teams to show them
// as a Teams user, as the provisioning wait counts it: from the first time
// Teams answered, in this run, that they are not one yet (time in which
// Teams was not asked, before that answer, is not theirs), less the time
// the deployment was held and the time the move spent stranded on a worker
// that died.
func TeamsWaited(since, now time.Time, held, stranded time.Duration) time.Duration {
	return max(now.Sub(since)-held-stranded, 0)
}
