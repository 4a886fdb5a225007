package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/cutover/cutover/internal/live"
	"github.com/cutover/cutover/internal/migration"
)

// The live routes stream a wave's or a group's answer (the JSON of GET
// /api/v1/waves/{id} or /api/v1/groups/{id}) as server-sent events: the
// current one on connecting, then each new one as the wave changes. The
// answers come from live.Feeds, which read each wave or group once per
// batch of changes for every page that follows it.

const (
	// liveRetry is the wait the stream asks the browser to reconnect
	// after, and the polling interval of a server without live feeds.
	liveRetry = 2 * time.Second
	// liveHeartbeat is how often a quiet stream says it lives: a proxy
	// keeps the connection open, and the page knows the stream is not
	// stalled (it falls back to polling after 20 s without a word).
	liveHeartbeat = 15 * time.Second
	// liveMaxAge ends a stream after a while, with a "reconnect" event the
	// page answers at once: the credential is checked again at each
	// connection, so that a revoked token or an ended session stops
	// streaming within it.
	liveMaxAge = 10 * time.Minute
	// liveWriteTimeout bounds one write to a stream: a client that stopped
	// reading loses its stream rather than holding a handler.
	liveWriteTimeout = 10 * time.Second
)

// ServeLive has the live routes stream from hub's changes, until
// CloseLive. Without it (a test's server, one whose process has no Hub),
// each live request answers the current state once and the page polls.
func (s *Server) ServeLive(hub *live.Hub) {
	if old := s.live.Swap(live.NewFeeds(hub, s.liveRead, s.log)); old != nil {
		old.Close()
	}
}

// CloseLive ends every live stream (the server is stopping: register it
// with http.Server.RegisterOnShutdown, as Shutdown does not wait for
// streams to end by themselves) and stops the feeds.
func (s *Server) CloseLive() {
	if f := s.live.Swap(nil); f != nil {
		f.Close()
	}
}

// LiveReads returns how many reads the server's live feeds have made.
func (s *Server) LiveReads() int64 {
	if f := s.live.Load(); f != nil {
		return f.Reads()
	}
	return 0
}

// feeds returns the server's live feeds, nil if it does not stream.
func (s *Server) feeds() *live.Feeds { return s.live.Load() }

// liveRead builds a topic's answer as the JSON routes do (waveGet,
// groupGet, userGet), so that an event's data is what a poll would have got.
func (s *Server) liveRead(ctx context.Context, t live.Topic) ([]byte, []int64, error) {
	if t.User != "" {
		st, err := s.app.LookUp(ctx, t.User, s.now())
		if err != nil {
			return nil, nil, err
		}
		var waves []int64
		for _, m := range st.Moves {
			waves = append(waves, m.WaveID)
		}
		slices.Sort(waves)
		data, err := json.Marshal(st)
		return data, slices.Compact(waves), err
	}
	if t.Group {
		v, err := s.app.GroupStatus(ctx, t.ID, s.now())
		if err != nil {
			return nil, nil, err
		}
		waves := make([]int64, len(v.Waves))
		for i, w := range v.Waves {
			waves[i] = w.ID
		}
		data, err := json.Marshal(v)
		return data, waves, err
	}
	wave, err := s.app.Wave(ctx, t.ID)
	if err != nil {
		return nil, nil, err
	}
	views, err := s.app.WaveViews(ctx, []migration.Wave{wave}, s.now())
	if err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(views[0])
	return data, nil, err
}

// waveLive streams a wave's answer: events named "wave".
func (s *Server) waveLive(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.stream(w, r, live.WaveTopic(id), "wave")
}

// userLive streams a user's answer (the helpdesk's lookup): events named
// "user".
func (s *Server) userLive(w http.ResponseWriter, r *http.Request) {
	s.stream(w, r, live.UserTopic(r.PathValue("identity")), "user")
}

// groupLive streams a group's answer: events named "group".
func (s *Server) groupLive(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.stream(w, r, live.GroupTopic(id), "group")
}

// stream answers a live route: the topic's current answer as an event
// named name, then each new one, a heartbeat when quiet, until the client
// goes, the stream is old enough to reconnect, or the server stops.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, t live.Topic, name string) {
	feeds := s.feeds()
	if feeds == nil {
		// No live feeds here: the current answer, and the page polls.
		data, _, err := s.liveRead(r.Context(), t)
		if err != nil {
			s.error(w, r, err)
			return
		}
		sse := startStream(w)
		_ = sse.event(name, 1, data)
		return
	}
	first, follower, err := feeds.Follow(r.Context(), t)
	if errors.Is(err, live.ErrClosed) {
		err = migration.Errorf(migration.EUnavailable, "stopping", "the server is stopping; poll, or connect again shortly")
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	defer follower.Close()
	sse := startStream(w)
	if sse.event(name, first.Seq, first.Data) != nil {
		return
	}
	sent := first.Seq
	heartbeat := time.NewTicker(liveHeartbeat)
	defer heartbeat.Stop()
	old := time.NewTimer(liveMaxAge)
	defer old.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-follower.Done():
			_ = sse.event("reconnect", 0, []byte(`"the server is stopping"`))
			return
		case <-old.C:
			_ = sse.event("reconnect", 0, []byte(`"the stream is renewed"`))
			return
		case u := <-follower.Updates():
			if u.Seq <= sent {
				continue
			}
			sent = u.Seq
			err = sse.event(name, u.Seq, u.Data)
		case now := <-heartbeat.C:
			err = sse.event("heartbeat", 0, []byte(strconv.Quote(now.UTC().Format(time.RFC3339))))
		}
		if err != nil {
			return // the client is gone
		}
	}
}

// sseWriter writes server-sent events, each flushed as it is written.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startStream writes a stream's headers and its reconnection delay.
func startStream(w http.ResponseWriter) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on as it comes
	w.WriteHeader(http.StatusOK)
	sse := &sseWriter{w: w, rc: http.NewResponseController(w)}
	_ = sse.write(fmt.Sprintf("retry: %d\n\n", liveRetry.Milliseconds()))
	return sse
}

// event writes one event; id 0 writes none. data is one line (compact
// JSON).
func (s *sseWriter) event(name string, id uint64, data []byte) error {
	msg := "event: " + name + "\n"
	if id > 0 {
		msg += "id: " + strconv.FormatUint(id, 10) + "\n"
	}
	return s.write(msg + "data: " + string(data) + "\n\n")
}

// write writes and flushes under its own deadline: the server's write
// time-out, if it has one, would otherwise cut a stream that outlives it.
func (s *sseWriter) write(msg string) error {
	if err := s.rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := s.w.Write([]byte(msg)); err != nil {
		return err
	}
	return s.rc.Flush()
}

// Unwrap lets http.ResponseController reach the connection under the
// request log's recorder, to flush a stream and set its deadlines.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
