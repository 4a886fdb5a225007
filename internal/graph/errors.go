package graph

import (
	"context"
	"errors"
	"fmt"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"net/http"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/cutover/cutover/internal/migration"
)

// AsDirectoryError reads an error of the SDK as what Graph answered: the
// HTTP status, the OData error code and message (either may be empty) and
// the Retry-After. ok is false for errors that are not answers of Graph
// (the network, the credential, the context).
//
// It never calls (*odataerrors.ODataError).Error, which dereferences the
// message and panics when Graph sent none, or no "error" object at all; it
// reads the error's parts nil-safely instead.
func AsDirectoryError(err error) (de *migration.DirectoryError, ok bool) {
	if err == nil {
		return nil, false
	}
	if errors.As(err, &de) {
		return de, true
	}
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) && oe != nil {
		code, msg := odataParts(oe)
		return &migration.DirectoryError{
			Status: oe.ResponseStatusCode, Code: code, Message: msg,
			RetryAfter: retryAfterOf(oe.ResponseHeaders),
		}, true
	}
	var ae *abs.ApiError
	if errors.As(err, &ae) && ae != nil {
		return &migration.DirectoryError{
			Status: ae.ResponseStatusCode, Message: ae.Message,
			RetryAfter: retryAfterOf(ae.ResponseHeaders),
		}, true
	}
	var other abs.ApiErrorable
	if errors.As(err, &other) && other != nil {
		return &migration.DirectoryError{Status: other.GetStatusCode(), RetryAfter: retryAfterOf(other.GetResponseHeaders())}, true
	}
	return nil, false
}

// odataParts reads an OData error's code and message, nil-safely: the error
// may have no main error, and the main error no code or message. A getter
// that panics (an ODataError not made by the SDK has no backing store)
// leaves them empty.
func odataParts(oe *odataerrors.ODataError) (code, msg string) {
	defer func() {
		if recover() != nil {
			code, msg = "", ""
		}
	}()
	main := oe.GetErrorEscaped()
	if main == nil {
		return "", ""
	}
	return deref(main.GetCode()), deref(main.GetMessage())
}

// retryAfterOf reads a Retry-After header: seconds or an HTTP date.
func retryAfterOf(h *abs.ResponseHeaders) time.Duration {
	if h == nil {
		return 0
	}
	v := h.Get("Retry-After")
	if len(v) == 0 {
		return 0
	}
	return parseRetryAfter(v[0])
}

func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// wrap turns an SDK error into a *migration.DirectoryError if Graph
// answered it, and otherwise says what was being done.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	if de, ok := AsDirectoryError(err); ok {
		return de
	}
	// Not Graph's answer: the sign-in to Entra ID refused the app's
	// credentials (401), or nothing answered (0). Either is the
	// deployment's, not a user's (migration.Failure.Deployment).
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe != nil && afe.RawResponse != nil && afe.RawResponse.StatusCode < 500 {
		return &migration.DirectoryError{Status: http.StatusUnauthorized, Code: "sign_in",
			Message: fmt.Sprintf("%s: signing in to Entra ID failed: %v", what, err)}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("microsoft graph: %s: %w", what, err) // the caller gave up: not Graph's
	case errors.Is(err, context.DeadlineExceeded):
		// No answer in the time the caller gave: as the deployment sees
		// it, Graph did not answer (status 0).
		return &migration.DirectoryError{Status: 0, Message: what + ": no answer in time", TimedOut: true}
	}
	return &migration.DirectoryError{Status: 0, Message: fmt.Sprintf("%s: %v", what, err)}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
