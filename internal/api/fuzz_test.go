package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/dbtest"
	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/sim"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
	"github.com/cutover/cutover/jobs/jobstest"
)

// FuzzJSONBodies sends any bytes as the JSON body of every route that reads
// one, as an admin, against a real database and workers: the answer is
// never a 5xx, and an error is always JSON naming what is wrong. Its seed
// corpus is in testdata/fuzz; .ci/run fuzzes it briefly.
func FuzzJSONBodies(f *testing.F) {
	pool := dbtest.Pool(f)
	client := jobstest.Start(f, pool, sim.NewShell(sim.ShellConfig{Mix: sim.Mix{}}))
	scheduler := app.New(pool, jobs.NewQueue(client))
	srv := httptest.NewServer(api.NewServer(pool, scheduler, slog.New(slog.DiscardHandler), nil).Handler())
	f.Cleanup(srv.Close)
	ctx := context.Background()
	q := store.New(pool)
	_, token, err := q.TokenCreate(ctx, "fuzz", auth.RoleAdmin, "test")
	if err != nil {
		f.Fatal(err)
	}
	ms := []migration.Member{{UPN: "fuzz0@contoso.com", SIP: "fuzz0@contoso.com"}, {UPN: "fuzz1@contoso.com", SIP: "fuzz1@contoso.com"}}
	g, err := q.GroupCreate(ctx, store.NewGroup{Name: "fuzz", Source: "json", Members: ms})
	if err != nil {
		f.Fatal(err)
	}
	waves, err := scheduler.Plan(ctx, app.As("test"), g.ID, func(unplanned, next int) ([]migration.WaveSpec, error) {
		return migration.CheckWaves([]migration.WaveSpec{{Size: 1, StartAt: time.Now().Add(time.Hour)}}, unplanned, next)
	})
	if err != nil {
		f.Fatal(err)
	}
	w := waves[0].ID
	routes := []struct{ method, path string }{
		{"POST", "/api/v1/groups"},
		{"POST", fmt.Sprintf("/api/v1/groups/%d/plan", g.ID)},
		{"POST", fmt.Sprintf("/api/v1/waves/%d/reschedule", w)},
		{"POST", fmt.Sprintf("/api/v1/waves/%d/retry-failed", w)},
		{"POST", fmt.Sprintf("/api/v1/waves/%d/members", w)},
		{"PUT", "/api/v1/settings"},
		{"POST", "/api/v1/webhooks"},
		{"POST", "/api/v1/tokens"},
	}
	seeds := []string{
		`{"name": "g", "members": [{"upn": "a@contoso.com", "sip": "sip:A@contoso.com", "display_name": "A"}]}`,
		`{"shorthand": "canary 1, then waves of 1 every 1h, starting in 1d", "max_attempts": 3, "concurrency": 5, "failure_threshold": {"percent": 10, "min_sample": 20}, "windows": ["mon-fri 22:00-05:00"], "time_zone": "Europe/London", "blackout_dates": ["2026-12-24"]}`,
		`{"start_at": "2030-01-07T22:00:00Z"}`,
		`{"start_at": "now"}`,
		`{"add": ["fuzz1@contoso.com"], "remove": ["fuzz0@contoso.com"]}`,
		`{"max_in_flight": 25}`,
		`{"name": "hook", "url": "https://example.com/h", "format": "json"}`,
		`{"name": "t", "role": "helpdesk"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Add(uint8(1), []byte(`{"waves": [{"size": 1, "start_at": "now", "windows": ["x"]}], "waves": null}`))
	f.Add(uint8(0), []byte(`{"name": "`+string(bytes.Repeat([]byte("x"), 300))+`"}`))
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := routes[int(route)%len(routes)]
		req, err := http.NewRequest(rt.method, srv.URL+rt.path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s with %q: %s", rt.method, rt.path, body, res.Status)
		}
		if res.StatusCode >= 400 {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := decodeInto(res, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s with %q: %s without a JSON error (%v)", rt.method, rt.path, body, res.Status, err)
			}
		}
	})
}

func decodeInto(res *http.Response, v any) error { return json.NewDecoder(res.Body).Decode(v) }
