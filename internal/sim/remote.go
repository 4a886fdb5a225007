package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cutover/cutover/internal/migration"
)

// shellRequest is the body of every call to a remote simulated shell.
type shellRequest struct {
	Identity string                       `json:"identity"`
	Pool     string                       `json:"pool,omitempty"`
	Number   string                       `json:"number,omitempty"`
	Move     *migration.MoveOnlineOptions `json:"move,omitempty"`
}

// shellReply is the answer: the user, or the shell's error message (or,
// for a call that did not answer in time, Timeout).
type shellReply struct {
	User     *migration.ShellUser        `json:"user,omitempty"`
	Meetings *migration.MeetingMigration `json:"meetings,omitempty"`
	Error    string                      `json:"error,omitempty"`
	Timeout  bool                        `json:"timeout,omitempty"`
}

// Handler serves a simulated shell over HTTP, so that worker processes on
// other hosts (or in other processes) share one simulated tenant:
//
//	POST /shell/get-user      {"identity": "..."}
//	POST /shell/move-online   {"identity": "..."}
//	POST /shell/move-to-pool  {"identity": "...", "pool": "..."}
//	POST /shell/meeting-migration, /shell/start-meeting-migration,
//	     /shell/clear-line-uri {"identity": "..."}
//	POST /shell/assign-number {"identity": "...", "number": "..."}
//	GET  /shell/stats
func (s *Shell) Handler() http.Handler {
	mux := http.NewServeMux()
	call := func(fn func(ctx context.Context, req shellRequest) (shellReply, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var req shellRequest
			if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil || req.Identity == "" {
				http.Error(w, "want a JSON body with an identity", http.StatusBadRequest)
				return
			}
			rep, err := fn(r.Context(), req)
			if err != nil {
				rep.Error, rep.Timeout = err.Error(), errors.Is(err, context.DeadlineExceeded)
			}
			writeJSON(w, rep)
		}
	}
	mux.Handle("POST /shell/get-user", call(func(ctx context.Context, req shellRequest) (shellReply, error) {
		u, err := s.GetUser(ctx, req.Identity)
		if err != nil {
			return shellReply{}, err
		}
		return shellReply{User: &u}, nil
	}))
	mux.Handle("POST /shell/move-online", call(func(ctx context.Context, req shellRequest) (shellReply, error) {
		var opts migration.MoveOnlineOptions
		if req.Move != nil {
			opts = *req.Move
		}
		return shellReply{}, s.MoveOnline(ctx, req.Identity, opts)
	}))
	mux.Handle("POST /shell/move-to-pool", call(func(ctx context.Context, req shellRequest) (shellReply, error) {
		return shellReply{}, s.MoveToPool(ctx, req.Identity, req.Pool)
	}))
	mux.Handle("POST /shell/meeting-migration", call(func(ctx context.Context, req shellRequest) (shellReply, error) {
		mm, found, err := s.MeetingMigration(ctx, req.Identity)
		if err != nil || !found {
			return shellReply{}, err
		}
		return shellReply{Meetings: &mm}, nil
	}))
	mux.Handle("POST /shell/start-meeting-migration", call(func(ctx context.Context, req shellRequest) (shellReply, error) {
		return shellReply{}, s.StartMeetingMigration(ctx, req.Identity)
	}))
	mux.Handle("POST /shell/clear-line-uri", call(func(ctx context.Context, req shellRequest) (shellReply, error) {
		return shellReply{}, s.ClearLineURI(ctx, req.Identity)
	}))
	mux.Handle("POST /shell/assign-number", call(func(ctx context.Context, req shellRequest) (shellReply, error) {
		return shellReply{}, s.AssignNumber(ctx, req.Identity, req.Number)
	}))
	mux.HandleFunc("GET /shell/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, s.Stats()) })
	mux.HandleFunc("GET /shell/host", func(w http.ResponseWriter, r *http.Request) {
		f, _ := s.CheckHost(r.Context())
		writeJSON(w, f)
	})
	mux.HandleFunc("POST /shell/voice-users", func(w http.ResponseWriter, r *http.Request) {
		var members []migration.Member
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&members); err != nil {
			http.Error(w, "want a JSON list of members", http.StatusBadRequest)
			return
		}
		users, _ := s.VoiceUsers(r.Context(), members)
		writeJSON(w, users)
	})
	mux.HandleFunc("GET /shell/on-premises", func(w http.ResponseWriter, r *http.Request) {
		o, _ := s.OnPremises(r.Context())
		writeJSON(w, o)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// RemoteShell is a migration.Shell that calls a simulated shell served by
// Handler.
type RemoteShell struct {
	base   string
	client *http.Client
}

var _ migration.Shell = (*RemoteShell)(nil)

// NewRemoteShell returns a shell calling the simulator at base
// (http://host:port).
func NewRemoteShell(base string, client *http.Client) *RemoteShell {
	if client == nil {
		client = http.DefaultClient
	}
	return &RemoteShell{base: strings.TrimSuffix(base, "/"), client: client}
}

// ErrShell is an error the shell reported (as opposed to one reaching it).
var ErrShell = errors.New("shell error")

func (c *RemoteShell) call(ctx context.Context, path string, req shellRequest) (*shellReply, error) {
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: simulated shell: %w", migration.ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("simulated shell: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	var rep shellReply
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return nil, fmt.Errorf("simulated shell: malformed answer: %w", err)
	}
	if rep.Timeout {
		return nil, fmt.Errorf("%w: %s: %w", ErrShell, rep.Error, context.DeadlineExceeded)
	}
	if rep.Error != "" {
		return nil, fmt.Errorf("%w: %s", ErrShell, rep.Error)
	}
	return &rep, nil
}

// GetUser implements migration.Shell.
func (c *RemoteShell) GetUser(ctx context.Context, identity string) (migration.ShellUser, error) {
	rep, err := c.call(ctx, "/shell/get-user", shellRequest{Identity: identity})
	if err != nil {
		return migration.ShellUser{}, err
	}
	if rep.User == nil {
		return migration.ShellUser{}, errors.New("simulated shell: answer without a user")
	}
	return *rep.User, nil
}

// MeetingMigration implements migration.CompletionShell.
func (c *RemoteShell) MeetingMigration(ctx context.Context, identity string) (migration.MeetingMigration, bool, error) {
	rep, err := c.call(ctx, "/shell/meeting-migration", shellRequest{Identity: identity})
	if err != nil || rep.Meetings == nil {
		return migration.MeetingMigration{}, false, err
	}
	return *rep.Meetings, true, nil
}

// StartMeetingMigration implements migration.CompletionShell.
func (c *RemoteShell) StartMeetingMigration(ctx context.Context, identity string) error {
	_, err := c.call(ctx, "/shell/start-meeting-migration", shellRequest{Identity: identity})
	return err
}

// ClearLineURI implements migration.CompletionShell.
func (c *RemoteShell) ClearLineURI(ctx context.Context, identity string) error {
	_, err := c.call(ctx, "/shell/clear-line-uri", shellRequest{Identity: identity})
	return err
}

// AssignNumber implements migration.CompletionShell.
func (c *RemoteShell) AssignNumber(ctx context.Context, identity, number string) error {
	_, err := c.call(ctx, "/shell/assign-number", shellRequest{Identity: identity, Number: number})
	return err
}

// MoveOnline implements migration.Shell.
func (c *RemoteShell) MoveOnline(ctx context.Context, identity string, opts migration.MoveOnlineOptions) error {
	_, err := c.call(ctx, "/shell/move-online", shellRequest{Identity: identity, Move: &opts})
	return err
}

// CheckHost implements migration.Shell: the simulated host's facts.
func (c *RemoteShell) CheckHost(ctx context.Context) (migration.HostFacts, error) {
	var f migration.HostFacts
	return f, c.get(ctx, "/shell/host", &f)
}

// VoiceUsers implements migration.Shell.
func (c *RemoteShell) VoiceUsers(ctx context.Context, members []migration.Member) (map[string]migration.ShellUser, error) {
	body, err := json.Marshal(members)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/shell/voice-users", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: simulated shell: %w", migration.ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("simulated shell: %s", resp.Status)
	}
	users := map[string]migration.ShellUser{}
	if err := json.NewDecoder(resp.Body).Decode(&users); err != nil {
		return nil, fmt.Errorf("simulated shell: malformed answer to voice-users: %w", err)
	}
	return users, nil
}

// OnPremises implements migration.Shell.
func (c *RemoteShell) OnPremises(ctx context.Context) (migration.OnPremises, error) {
	var o migration.OnPremises
	return o, c.get(ctx, "/shell/on-premises", &o)
}

// get reads a JSON answer of the remote simulated shell into v.
func (c *RemoteShell) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: simulated shell: %w", migration.ErrUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simulated shell: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("simulated shell: malformed answer to %s: %w", path, err)
	}
	return nil
}

// MoveToPool implements migration.Shell.
func (c *RemoteShell) MoveToPool(ctx context.Context, identity, pool string) error {
	_, err := c.call(ctx, "/shell/move-to-pool", shellRequest{Identity: identity, Pool: pool})
	return err
}
