package migration

import (
	"errors"
	"fmt"
)

// Kinds of error, each shown to API clients with its own HTTP status.
const (
	EMalformed       = "malformed"       // the request cannot be read (not JSON, wrong types)
	EInvalid         = "invalid"         // the request is wrong; Field or Line says where
	ENotFound        = "not_found"       // the thing asked for does not exist
	EConflict        = "conflict"        // the request clashes with the current state
	ETooLarge        = "too_large"       // the request body is over the limit
	EUnsupported     = "unsupported"     // a content type cutover does not read
	EUnavailable     = "unavailable"     // a service cutover needs is not configured
	EUpstream        = "upstream"        // a service cutover called (Microsoft Graph) failed
	EInternal        = "internal"        // cutover's own fault; details are logged, never shown
	EUnauthenticated = "unauthenticated" // no valid token
	EForbidden       = "forbidden"       // a valid token whose role may not do this
)

// Error is an error a person may see: a kind, a stable code, a message safe to
// show and, for bad input, the field or line that is wrong.
type Error struct {
	Kind    string    `json:"-"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field,omitempty"`
	Line    int       `json:"line,omitempty"`
	Details []Problem `json:"details,omitempty"`
}

// Problem is one thing wrong with an input, by field and (for files) line.
type Problem struct {
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	switch {
	case p.Line > 0 && p.Field != "":
		return fmt.Sprintf("line %d, %s: %s", p.Line, p.Field, p.Message)
	case p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	case p.Field != "":
		return fmt.Sprintf("%s: %s", p.Field, p.Message)
	}
	return p.Message
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an Error of the given kind and code.
func Errorf(kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EInvalid error naming the field that is wrong.
func Invalid(code, field, format string, args ...any) *Error {
	return &Error{Kind: EInvalid, Code: code, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// InvalidProblems returns an EInvalid error listing what is wrong; the message
// names the first problem and how many more there are.
func InvalidProblems(code string, problems []Problem) *Error {
	e := &Error{Kind: EInvalid, Code: code, Details: problems}
	if len(problems) > 0 {
		e.Message, e.Field, e.Line = problems[0].String(), problems[0].Field, problems[0].Line
		if n := len(problems) - 1; n > 0 {
			e.Message += fmt.Sprintf(" (and %d more problem%s)", n, plural(n))
		}
	}
	return e
}

// ErrorKind returns the kind of err: that of the first *Error in its chain, or
// EInternal.
func ErrorKind(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return EInternal
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
