// Package apitest helps tests of cutover's API: it checks the API's answers
// against its description, openapi.yaml.
package apitest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
)

// SpecCheck is an http.RoundTripper that checks every answer against
// openapi.yaml (libopenapi-validator: OpenAPI 3.1, JSON Schema 2020-12), as
// a client generated from the description would read it, and fails the
// test on an answer that does not match.
type SpecCheck struct {
	t    testing.TB
	next http.RoundTripper
	v    validator.Validator

	mu   sync.Mutex
	seen map[string]bool // "GET /api/v1/users/walk.000@contoso.com 200"
}

// NewSpecCheck reads the description at path (openapi.yaml) and checks the
// answers next gives.
func NewSpecCheck(t testing.TB, next http.RoundTripper, path string) *SpecCheck {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := libopenapi.NewDocument(data)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("openapi.yaml: %v", errs)
	}
	if ok, docErrs := v.ValidateDocument(); !ok {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", docErrs)
	}
	return &SpecCheck{t: t, next: next, v: v, seen: map[string]bool{}}
}

// RoundTrip implements http.RoundTripper.
func (s *SpecCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := s.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	check := *res
	check.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := s.v.ValidateHttpResponse(req, &check); !ok {
		var why []string
		for _, e := range errs {
			why = append(why, e.Error())
		}
		s.t.Errorf("%s %s → %d does not match openapi.yaml:\n%s\nbody: %s", req.Method, req.URL.Path, res.StatusCode, strings.Join(why, "\n"), body)
	}
	s.mu.Lock()
	s.seen[fmt.Sprintf("%s %s %d", req.Method, req.URL.Path, res.StatusCode)] = true
	s.mu.Unlock()
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}

// Seen reports whether an answer was checked: "GET /api/v1/me 200".
func (s *SpecCheck) Seen(call string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[call]
}
