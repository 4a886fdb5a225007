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
	// WaveID is the wave that moved the user; NumberPlan its number plan,
	// NumbersApproved and RoutingConfirmed a lead's decisions on it, and
	// Calendar its maintenance windows.
	WaveID           int64
	NumberPlan       migration.NumberPlan
	NumbersApproved  bool
	RoutingConfirmed bool
	Calendar         migration.Calendar
	// NumberState is the state of the user's number item ("": none).
	NumberState migration.ItemState
	// Acted is the item's last step cutover took, at ActedAt.
	Acted   string
	ActedAt *time.Time
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
			LineURI: r.LineURI, Bypass: r.Bypass, WaveID: r.WaveID, NumberPlan: migration.NumberPlan(r.NumberPlan),
			NumbersApproved: r.NumbersApproved, RoutingConfirmed: r.RoutingConfirmed,
			Calendar:    migration.Controls{Windows: r.Windows, TimeZone: r.TimeZone, BlackoutDates: r.BlackoutDates}.Calendar(),
			NumberState: migration.ItemState(r.NumberState), Acted: r.Acted, ActedAt: r.ActedAt}
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
		p.WaitsFor = append(p.WaitsFor, string(l.Step.WaitsFor))
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
		Says: r.Says, Evidence: r.Evidence, Message: r.Message, Fix: r.Fix, CheckAt: r.CheckAt, Checks: r.Checks, UpdatedAt: r.UpdatedAt,
		WaitsFor: migration.WaitsFor(r.WaitsFor), Acted: r.Acted, ActedAt: r.ActedAt}
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
		sum := out[r.WaveID].Add(migration.Completion(r.Completion), r.Users)
		sum.WaitRouting += r.WaitingRouting
		sum.WaitApproval += r.WaitingApproval
		sum.Voice += r.Voice
		out[r.WaveID] = sum
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

// CompletionActed records that cutover took a step of an item (acted names
// it), with says in the user's timeline, by actor.
func (q *Queries) CompletionActed(ctx context.Context, moveID int64, kind migration.ItemKind, acted, says, actor string) error {
	return q.gen.CompletionActed(ctx, dbsqlc.CompletionActedParams{MoveID: moveID, Kind: string(kind), Acted: acted, Says: says, Actor: actor})
}

// WaveConfirmRouting records a lead's confirmation that the SBC sends the
// wave's numbers to Direct Routing, and reopens its users' voice items
// that waited on it; it returns the wave and how many items it reopened.
func (q *Queries) WaveConfirmRouting(ctx context.Context, waveID int64, actor string) (migration.Wave, int, error) {
	return q.waveDecision(ctx, waveID, actor, migration.WaitsForRouting, func(tx *Queries) (dbsqlc.Wave, error) {
		return tx.gen.WaveConfirmRouting(ctx, dbsqlc.WaveConfirmRoutingParams{ID: waveID, Actor: actor})
	})
}

// WaveApproveNumbers records a lead's approval of the wave's number moves,
// and reopens its users' number items that waited on it.
func (q *Queries) WaveApproveNumbers(ctx context.Context, waveID int64, actor string) (migration.Wave, int, error) {
	return q.waveDecision(ctx, waveID, actor, migration.WaitsForApproval, func(tx *Queries) (dbsqlc.Wave, error) {
		return tx.gen.WaveApproveNumbers(ctx, dbsqlc.WaveApproveNumbersParams{ID: waveID, Actor: actor})
	})
}

// waveDecision records a lead's decision on a wave and reopens the items
// that waited on it, in one transaction.
func (q *Queries) waveDecision(ctx context.Context, waveID int64, actor string, waits migration.WaitsFor, record func(*Queries) (dbsqlc.Wave, error)) (migration.Wave, int, error) {
	var w migration.Wave
	var n int
	err := q.inTx(ctx, func(tx *Queries) error {
		r, err := record(tx)
		if err != nil {
			return notFound(err, "wave %d does not exist", waveID)
		}
		w = waveOf(r)
		says := "A migration lead approved the number moves (" + actor + "): cutover goes on."
		if waits == migration.WaitsForRouting {
			says = "A migration lead confirmed the SBC's routing (" + actor + "): cutover checks the user's calling again."
		}
		n, err = tx.gen.CompletionReopen(ctx, dbsqlc.CompletionReopenParams{WaveID: waveID, WaitsFor: string(waits), Says: says})
		return err
	})
	return w, n, err
}

// CompletionMeetingsRequest records a lead's request that Microsoft migrate
// the meetings of the user moved by moveID again, if their meetings item
// failed or was handed to a person and was never triggered: it reports
// whether it was such an item.
func (q *Queries) CompletionMeetingsRequest(ctx context.Context, moveID int64, says, actor string) (bool, error) {
	n, err := q.gen.CompletionMeetingsRequest(ctx, dbsqlc.CompletionMeetingsRequestParams{MoveID: moveID, Says: says, Actor: actor})
	return n == 1, err
}
