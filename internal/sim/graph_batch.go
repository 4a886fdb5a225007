package sim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// maxBatchItems is how many requests a JSON batch may hold.
const maxBatchItems = 20

type batchItemRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers,omitempty"`
	DependsOn []string          `json:"dependsOn,omitempty"`
}

type batchRequest struct {
	Requests []batchItemRequest `json:"requests"`
}

type batchItemResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// readBatch reads a $batch body, gzip-compressed or not, and checks it.
func readBatch(r *http.Request) (b *batchRequest, gz bool, err error) {
	var body io.Reader = io.LimitReader(r.Body, 4<<20)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		gz = true
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, gz, errors.New("The request body is not valid gzip: " + err.Error())
		}
		defer zr.Close()
		body = zr
	default:
		return nil, false, fmt.Errorf("Unsupported Content-Encoding %q.", enc)
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, gz, errors.New("The request body could not be read: " + err.Error())
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return nil, gz, fmt.Errorf("Invalid Content-Type %q: a JSON batch is application/json.", ct)
	}
	b = &batchRequest{}
	if err := json.Unmarshal(raw, b); err != nil {
		return nil, gz, errors.New("Invalid batch payload format: " + err.Error())
	}
	switch {
	case len(b.Requests) == 0:
		return nil, gz, errors.New("Invalid batch payload format: no requests.")
	case len(b.Requests) > maxBatchItems:
		return nil, gz, fmt.Errorf("Maximum number of requests in a batch is %d; this one has %d.", maxBatchItems, len(b.Requests))
	}
	ids := map[string]bool{}
	for _, it := range b.Requests {
		if it.ID == "" || it.Method == "" || it.URL == "" {
			return nil, gz, errors.New("Invalid batch payload format: each request needs an id, a method and a url.")
		}
		if ids[it.ID] {
			return nil, gz, errors.New("Request Id(s) must be unique in a batch.")
		}
		ids[it.ID] = true
	}
	deps := map[string][]string{}
	for _, it := range b.Requests {
		for _, dep := range it.DependsOn {
			if !ids[dep] || dep == it.ID {
				return nil, gz, fmt.Errorf("Invalid batch payload format: request %s depends on %q, which is not another request of the batch.", it.ID, dep)
			}
		}
		deps[it.ID] = it.DependsOn
	}
	if id, ok := dependencyCycle(deps); ok {
		return nil, gz, fmt.Errorf("Invalid batch payload format: request %s depends on itself through dependsOn.", id)
	}
	return b, gz, nil
}

// itemRecorder captures the answer to one batch item.
type itemRecorder struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (w *itemRecorder) Header() http.Header { return w.h }
func (w *itemRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.buf.Write(b)
}
func (w *itemRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// serveBatch answers each item of a batch as its own request would be, some
// throttled, and the responses in an order of their own (by id), as Graph
// does not keep the order either. Items run after those they depend on
// (dependsOn), and one that depends on an item that failed fails 424: "If
// an individual request fails, any request that depends on that request
// fails with status code `424` (Failed Dependency)."
// (microsoftgraph/microsoft-graph-docs-contrib concepts/json-batching.md).
// Only dependsOn makes a 424: an item without it never gets one.
func (g *Graph) serveBatch(w http.ResponseWriter, r *http.Request, b *batchRequest) []GraphBatchItem {
	recs := make([]GraphBatchItem, len(b.Requests))
	resps := make([]batchItemResponse, len(b.Requests))
	statuses := map[string]int{}
	for range b.Requests { // at most one pass per item (readBatch refused cycles)
		for i, it := range b.Requests {
			if statuses[it.ID] != 0 || slices.ContainsFunc(it.DependsOn, func(dep string) bool { return statuses[dep] == 0 }) {
				continue // answered, or waiting for a dependency
			}
			rec := GraphBatchItem{ID: it.ID, Method: strings.ToUpper(it.Method), URL: it.URL}
			rw := &itemRecorder{h: http.Header{}}
			if slices.ContainsFunc(it.DependsOn, func(dep string) bool { return statuses[dep] >= 400 }) {
				rw.WriteHeader(http.StatusFailedDependency)
			} else {
				g.serveItem(rw, r, it, &rec)
			}
			if rw.status == 0 {
				rw.status = http.StatusOK
			}
			rec.Status, statuses[it.ID] = rw.status, rw.status
			resp := batchItemResponse{ID: it.ID, Status: rw.status, Headers: map[string]string{}}
			for k := range rw.h {
				resp.Headers[k] = rw.h.Get(k)
			}
			if body := bytes.TrimSpace(rw.buf.Bytes()); len(body) > 0 && json.Valid(body) {
				resp.Body = body
			}
			recs[i], resps[i] = rec, resp
		}
	}
	g.mu.Lock()
	g.stats.BatchItems += len(recs)
	for _, rec := range recs {
		if rec.Throttled {
			g.stats.ThrottledItems++
		}
	}
	g.mu.Unlock()
	slices.SortFunc(resps, func(a, b batchItemResponse) int { return strings.Compare(a.ID, b.ID) })
	writeJSONStatus(w, http.StatusOK, map[string]any{"responses": resps})
	return recs
}

func (g *Graph) serveItem(w http.ResponseWriter, r *http.Request, it batchItemRequest, rec *GraphBatchItem) {
	if strings.Contains(it.URL, "://") {
		g.writeError(w, r, http.StatusBadRequest, "BadRequest", "A batch request's url must be relative, e.g. /users/{id}.")
		return
	}
	target := "/v1.0/" + strings.TrimPrefix(it.URL, "/")
	req, err := http.NewRequestWithContext(r.Context(), rec.Method, "https://"+r.Host+target, nil)
	if err != nil {
		g.writeError(w, r, http.StatusBadRequest, "BadRequest", "Invalid request url: "+err.Error())
		return
	}
	req.Host, req.RequestURI = r.Host, target
	for k, v := range it.Headers {
		req.Header.Set(k, v)
	}
	if id := r.Header.Get("client-request-id"); id != "" && req.Header.Get("client-request-id") == "" {
		req.Header.Set("client-request-id", id)
	}
	if rec.Method != http.MethodGet {
		g.writeError(w, req, http.StatusMethodNotAllowed, "Request_BadRequest", "The simulator answers GET requests in a batch only.")
		return
	}
	if g.throttled("item "+rec.Method+" "+it.URL, g.cfg.ThrottleBatchItems) {
		rec.Throttled, rec.RetryAfter = true, g.retryAfter()
		g.writeThrottled(w, req)
		return
	}
	if g.fault(w, req, req.URL.Path) {
		return
	}
	g.api.ServeHTTP(w, req)
}

// dependencyCycle finds a request that depends on itself through others.
func dependencyCycle(deps map[string][]string) (string, bool) {
	const (
		unseen = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(id string) bool
	visit = func(id string) bool {
		switch state[id] {
		case visiting:
			return true
		case done:
			return false
		}
		state[id] = visiting
		for _, d := range deps[id] {
			if visit(d) {
				return true
			}
		}
		state[id] = done
		return false
	}
	for _, id := range slices.Sorted(maps.Keys(deps)) {
		if visit(id) {
			return id, true
		}
	}
	return "", false
}
