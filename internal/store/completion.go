package store

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// CompletionDueItem is a pending completion item claimed for a look, with
// its user and when they were moved.
type CompletionDueItem struct {
	MoveID  int64
	Kind    migration.ItemKind
	UPN     string
	MovedAt time.Time
	// LineURI is the user's on-premises LineURI (their rollback record);
	// Bypass says that their wave moved them without Teams Phone.
	LineURI string
	Bypass  bool
}

// CompletionClaim claims up to n pending completion items due by now for
// lease: no other worker takes them until it ends, and if this one dies
// they are due again then. Items of users no longer moved are not claimed.
func (q *Queries) CompletionClaim(ctx context.Context, n int, lease time.Duration) ([]CompletionDueItem, error) {
	rows, err := q.gen.CompletionClaim(ctx, dbsqlc.CompletionClaimParams{MaxItems: int32(n), LeaseSeconds: lease.Seconds()})
	if err != nil {
		return nil, err
	}
	out := make([]CompletionDueItem, len(rows))
	for i, r := range rows {
		out[i] = CompletionDueItem{MoveID: r.MoveID, Kind: migration.ItemKind(r.Kind), UPN: r.UPN, MovedAt: r.MovedAt,
			LineURI: r.LineURI, Bypass: r.Bypass}
	}
	return out, nil
}

// CompletionLook is what a look at one item found.
type CompletionLook struct {
	MoveID int64
	Kind   migration.ItemKind
	Step   migration.ItemStep
}

// CompletionSet writes what looks at items found, in one statement: each
// item's state, words, evidence and next look; an item whose state or words
// changed gets an entry in its user's timeline, by actor.
func (q *Queries) CompletionSet(ctx context.Context, looks []CompletionLook, actor string) error {
	if len(looks) == 0 {
		return nil
	}
	p := dbsqlc.CompletionSetParams{Actor: actor}
	for _, l := range looks {
		p.MoveIDs = append(p.MoveIDs, l.MoveID)
		p.Kinds = append(p.Kinds, string(l.Kind))
		p.States = append(p.States, string(l.Step.State))
		p.Says = append(p.Says, l.Step.Says)
		p.Evidence = append(p.Evidence, l.Step.Evidence)
		p.Messages = append(p.Messages, l.Step.Message)
		p.Fixes = append(p.Fixes, l.Step.Fix)
		p.CheckAts = append(p.CheckAts, l.Step.CheckAt)
	}
	return q.gen.CompletionSet(ctx, p)
}

// CompletionOf reads the completion items of moves, by move.
func (q *Queries) CompletionOf(ctx context.Context, moveIDs []int64) (map[int64][]migration.CompletionItem, error) {
	rows, err := q.gen.CompletionOfMoves(ctx, moveIDs)
	if err != nil {
		return nil, err
	}
	out := map[int64][]migration.CompletionItem{}
	for _, r := range rows {
		out[r.MoveID] = append(out[r.MoveID], completionOf(r))
	}
	return out, nil
}

func completionOf(r dbsqlc.CompletionItem) migration.CompletionItem {
	return migration.CompletionItem{MoveID: r.MoveID, Kind: migration.ItemKind(r.Kind), State: migration.ItemState(r.State),
		Says: r.Says, Evidence: r.Evidence, Message: r.Message, Fix: r.Fix, CheckAt: r.CheckAt, Checks: r.Checks, UpdatedAt: r.UpdatedAt}
}

// WaveCompletion counts each wave's users who stand moved by their move in
// it by where their completion stands, by wave.
func (q *Queries) WaveCompletion(ctx context.Context, waveIDs []int64) (map[int64]migration.CompletionSum, error) {
	rows, err := q.gen.WaveCompletion(ctx, waveIDs)
	if err != nil {
		return nil, err
	}
	out := map[int64]migration.CompletionSum{}
	for _, r := range rows {
		out[r.WaveID] = out[r.WaveID].Add(migration.Completion(r.Completion), r.Users)
	}
	return out, nil
}

// CompletionLater gives the items whose look could not be made their next
// look at at, ending their claim early.
func (q *Queries) CompletionLater(ctx context.Context, items []CompletionDueItem, at time.Time) error {
	if len(items) == 0 {
		return nil
	}
	p := dbsqlc.CompletionLaterParams{CheckAt: &at}
	for _, it := range items {
		p.MoveIDs = append(p.MoveIDs, it.MoveID)
		p.Kinds = append(p.Kinds, string(it.Kind))
	}
	return q.gen.CompletionLater(ctx, p)
}
