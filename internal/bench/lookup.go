package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cutover/cutover/internal/auth"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/jobs"
)

var (
	sqlLookupMembersMaxID = statement("lookup_members_max_id")
	sqlLookupMemberUPN    = statement("lookup_member_upn")
	sqlLookupMember       = statement("lookup_member")
)

// lookup: helpdesk lookups over HTTP from 50 clients, against the floor of
// any HTTP lookup: a bare net/http handler in the same process that checks
// nothing and runs one primary-key select through the API's own pool, with
// the same clients, transport and duration. The single-row select through
// pgx in process (no HTTP), the baseline before, is measured too and
// reported in the notes. The three loads run one after another.
func (b *bencher) lookup(ctx context.Context, sz Sizes) (Figure, error) {
	const clients, users = 50, 2000
	pool, _, done, err := b.fresh(ctx)
	if err != nil {
		return Figure{}, err
	}
	defer done()
	b.p.startPhase("setup: import and plan %d users", users)
	srv, client, token, err := b.benchAPI(ctx, pool, nil, jobs.Config{})
	if err != nil {
		return Figure{}, err
	}
	defer srv.Close()
	_ = client
	if _, err := importAndPlan(ctx, srv.URL, token, users, 10); err != nil {
		return Figure{}, err
	}
	_, helpdesk, err := store.New(pool).TokenCreate(ctx, "bench helpdesk", auth.RoleHelpdesk, "cutover bench")
	if err != nil {
		return Figure{}, err
	}
	ids, err := count(ctx, pool, sqlLookupMembersMaxID)
	if err != nil {
		return Figure{}, err
	}
	duration := time.Duration(sz.LookupSeconds) * time.Second
	measure := func(phase string, op func(*rand.Rand) error) (loadResult, error) {
		b.p.startPhase("%s, %d clients", phase, clients)
		stop := b.p.tick(duration)
		defer stop()
		return load(ctx, clients, duration, op)
	}
	get := func(hc *http.Client, url, token string) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, res.Status)
		}
		return nil
	}
	httpClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	}

	inProcess, err := measure("old baseline: pgx primary-key select in process", func(rnd *rand.Rand) error {
		var upn string
		return pool.QueryRow(ctx, sqlLookupMemberUPN, 1+rnd.IntN(ids)).Scan(&upn)
	})
	if err != nil {
		return Figure{}, err
	}

	// gets drives GET url(rnd) with the same 50 clients, on an HTTP client
	// of its own with the same settings.
	gets := func(phase, token string, url func(*rand.Rand) string) (loadResult, error) {
		hc := httpClient()
		defer hc.CloseIdleConnections()
		return measure(phase, func(rnd *rand.Rand) error { return get(hc, url(rnd), token) })
	}
	floorSrv := httptest.NewServer(memberHandler(pool))
	defer floorSrv.Close()
	floor, err := gets("baseline: bare net/http handler, one pgx primary-key select", "", func(rnd *rand.Rand) string {
		return fmt.Sprintf("%s/members/%d", floorSrv.URL, 1+rnd.IntN(ids))
	})
	if err != nil {
		return Figure{}, err
	}
	readsSrv := httptest.NewServer(userViewHandler(pool))
	defer readsSrv.Close()
	reads, err := gets("floor: the same reads (the user view) behind a bare handler", "", func(rnd *rand.Rand) string {
		return fmt.Sprintf("%s/users/b%07d@contoso.com", readsSrv.URL, rnd.IntN(users))
	})
	if err != nil {
		return Figure{}, err
	}
	ours, err := gets("cutover: GET /api/v1/users/{upn}", helpdesk, func(rnd *rand.Rand) string {
		return fmt.Sprintf("%s/api/v1/users/b%07d@contoso.com", srv.URL, rnd.IntN(users))
	})
	if err != nil {
		return Figure{}, err
	}
	b.p.endPhase()

	const maxP99 = 25 * time.Millisecond
	ratio := ours.rate / floor.rate
	return Figure{Name: fmt.Sprintf("helpdesk lookups/s, %d clients, HTTP", clients), Baseline: "bare net/http handler + pgx primary-key select",
		Base: floor.rate, Value: ours.rate, Unit: "/s", Ratio: ratio, Goal: "≥ 0.5× and p99 < 25 ms", Met: ratio >= 0.5 && ours.p99 < maxP99,
		Notes: fmt.Sprintf("against the in-process pgx select (old baseline): %s/s, ratio %.3f; p50/p99: pgx in process %s/%s, HTTP floor %s/%s, cutover %s/%s; "+
			"the floor's handler authenticates nothing and writes one group_members row as JSON, on the API's pool; "+
			"a lookup checks the token, then reads memberships, pre-flight, moves, timeline and rollback record. "+
			"Floor of those reads: the user view's batch (the same store call; the token is checked from a cache) behind a bare handler that writes the rows as JSON: "+
			"%s/s (p50/p99 %s/%s), %.3f× the HTTP floor; cutover %.2f× the floor of its reads",
			number(inProcess.rate), ours.rate/inProcess.rate, inProcess.p50, inProcess.p99, floor.p50, floor.p99, ours.p50, ours.p99,
			number(reads.rate), reads.p50, reads.p99, reads.rate/floor.rate, ours.rate/reads.rate)}, nil
}

// memberHandler is the lookup benchmark's floor: GET /members/{id} answers
// one group member read by its primary key, as JSON, and nothing else.
func memberHandler(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /members/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			http.Error(w, "bad id", http.StatusBadRequest)
			return
		}
		var m struct {
			UPN         string `json:"upn"`
			DisplayName string `json:"display_name"`
			SIP         string `json:"sip"`
		}
		err = pool.QueryRow(r.Context(), sqlLookupMember, id).Scan(&m.UPN, &m.DisplayName, &m.SIP)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			http.NotFound(w, r)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
	})
	return mux
}

// userViewHandler is the floor of a lookup's reads: GET /users/{identity}
// reads the user's view with the same store call as the API (one batch of
// five statements) and writes what it read as JSON; no token (the API's
// check is answered from its cache: a token is read again only every few
// seconds), no middleware, no explanation, no offers.
func userViewHandler(pool *pgxpool.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{identity}", func(w http.ResponseWriter, r *http.Request) {
		v, err := store.New(pool).UserView(r.Context(), r.PathValue("identity"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	})
	return mux
}
