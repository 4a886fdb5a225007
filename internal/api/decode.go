package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/cutover/cutover/internal/migration"
)

// readBody reads the whole request body, up to the limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	// Sized from Content-Length when it is sent and within the limit, so
	// that a big import is read into one buffer rather than a series of
	// doublings.
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= s.maxBody {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, s.maxBody)); err != nil {
		return nil, s.bodyError(err)
	}
	return buf.Bytes(), nil
}

func (s *Server) bodyError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return migration.Errorf(migration.ETooLarge, "body_too_large",
			"the request body is larger than %s; split the group into smaller files", byteSize(s.maxBody))
	}
	return migration.Errorf(migration.EMalformed, "unreadable_body", "the request body could not be read: %v", err)
}

// decodeJSON reads a JSON body into v, refusing unknown fields and trailing
// data, with errors that name the field or the byte at fault.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := s.jsonBody(w, r)
	if err != nil {
		return err
	}
	return decodeJSONBytes(data, v)
}

// jsonBody reads a body sent as JSON (or with no media type).
func (s *Server) jsonBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := mediaType(r); ct != "application/json" && ct != "" {
		return nil, migration.Errorf(migration.EUnsupported, "unsupported_media_type", "send JSON (Content-Type: application/json), not %s", ct)
	}
	return s.readBody(w, r)
}

// decodeOptionalJSON is decodeJSON for a body that may be left out.
func (s *Server) decodeOptionalJSON(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := s.jsonBody(w, r)
	if err != nil || len(strings.TrimSpace(string(data))) == 0 {
		return err
	}
	return decodeJSONBytes(data, v)
}

func decodeJSONBytes(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		return nil
	}
	const code = "invalid_json"
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return migration.Errorf(migration.EMalformed, code, "the body is not valid JSON: %v (at byte %d)", se, se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		e := migration.Errorf(migration.EMalformed, code, "%s: expected %s, got JSON %s", orBody(te.Field), jsonType(te.Type.Kind().String()), te.Value)
		e.Field = te.Field
		return e
	}
	switch {
	case errors.Is(err, io.EOF):
		return migration.Errorf(migration.EMalformed, code, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return migration.Errorf(migration.EMalformed, code, "the body is not valid JSON: it ends too soon")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		e := migration.Errorf(migration.EMalformed, code, "%s: unknown field", field)
		e.Field = field
		return e
	}
	return migration.Errorf(migration.EMalformed, code, "the body is not valid JSON: %v", err)
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}

func jsonType(goKind string) string {
	switch goKind {
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return goKind
}

func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Sprintf("an unreadable Content-Type %q", ct)
	}
	return mt
}

// byteSize writes a size for people: 8 MiB, 512 KiB, 100 bytes.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
