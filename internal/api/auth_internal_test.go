package api

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/app"
	"github.com/cutover/cutover/internal/auth"
)

// countingAuth counts lookups and can be told a token was revoked.
type countingAuth struct {
	calls   int
	revoked bool
}

func (c *countingAuth) Authenticate(_ context.Context, credential string) (auth.Principal, error) {
	c.calls++
	if c.revoked || credential != "good" {
		return auth.Principal{}, auth.ErrUnknown
	}
	return auth.Principal{Name: "token:t (lead)", Role: auth.RoleLead}, nil
}

func TestCachedAuth(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	next := &countingAuth{}
	c := &cachedAuth{next: next, now: func() time.Time { return now }, seen: map[string]cachedPrincipal{}}
	ctx := context.Background()

	for range 3 {
		p, err := c.Authenticate(ctx, "good")
		require.NoError(t, err)
		require.Equal(t, auth.RoleLead, p.Role)
	}
	require.Equal(t, 1, next.calls, "asked once, then remembered")
	for range 2 {
		_, err := c.Authenticate(ctx, "bad")
		require.ErrorIs(t, err, auth.ErrUnknown)
	}
	require.Equal(t, 3, next.calls, "an unknown token is asked about every time")

	next.revoked = true
	now = now.Add(authCacheTTL - time.Millisecond)
	_, err := c.Authenticate(ctx, "good")
	require.NoError(t, err, "within the cache's time a revoked token still passes")
	now = now.Add(time.Millisecond)
	_, err = c.Authenticate(ctx, "good")
	require.ErrorIs(t, err, auth.ErrUnknown, "after it, the revocation holds")
}

// gatedAuth answers once released, counting the lookups that reached it.
type gatedAuth struct {
	calls   atomic.Int32
	release chan struct{}
}

func (g *gatedAuth) Authenticate(context.Context, string) (auth.Principal, error) {
	g.calls.Add(1)
	<-g.release
	return auth.Principal{Name: "token:t (helpdesk)", Role: auth.RoleHelpdesk}, nil
}

// TestCachedAuthSharesMisses: requests of one token that miss the cache at
// once share one lookup.
func TestCachedAuthSharesMisses(t *testing.T) {
	t.Parallel()
	next := &gatedAuth{release: make(chan struct{})}
	c := &cachedAuth{next: next, now: time.Now, seen: map[string]cachedPrincipal{}}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.Authenticate(context.Background(), "good")
			errs <- err
		})
	}
	require.Eventually(t, func() bool { return next.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	time.Sleep(50 * time.Millisecond) // the others are waiting by now, not asking
	close(next.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int32(1), next.calls.Load())
}

// TestEveryWriteNamesItsAction: each route that changes something names
// its action as the audit log does (the use case's own name), so that a
// refusal before the use case is recorded under the name its success is;
// and no name is kept for a route that is not served.
func TestEveryWriteNamesItsAction(t *testing.T) {
	t.Parallel()
	s := &Server{}
	served := map[string]bool{}
	for _, rt := range s.Routes() {
		key := rt.Method + " " + rt.Pattern
		served[key] = true
		if rt.Method == "GET" || (rt.Role == "" && !strings.HasPrefix(key, "POST /ui/sign")) {
			continue
		}
		action, ok := routeActions[key]
		require.True(t, ok, "%s names no action of the audit log", key)
		require.NotEqual(t, "make this change", app.TryWords(action, "it"), "%s: %q is not an action the audit log knows", key, action)
	}
	for key := range routeActions {
		require.True(t, served[key], "routeActions names %s, which is not served", key)
	}
}
