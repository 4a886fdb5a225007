package store

import (
	"time"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store/dbsqlc"
)

// The rows of the generated queries (dbsqlc) are the store's own; these
// turn them into the domain's types.

// moveOf is the domain's move of a row of move_details.
func moveOf(r dbsqlc.MoveDetail) migration.Move {
	return migration.Move{
		ID: r.ID, WaveID: r.WaveID, WaveName: r.WaveName, WaveStartAt: r.WaveStartAt,
		GroupID: r.GroupID, GroupName: r.GroupName, UPN: r.UPN, SIP: r.SIP, DisplayName: r.DisplayName,
		State: migration.MoveState(r.State), Run: r.Run, Attempts: r.Attempts, MaxAttempts: r.MaxAttempts,
		ErrorCode: migration.ErrorCode(r.ErrorCode), ErrorMessage: r.ErrorMessage,
		NextAttemptAt: r.NextAttemptAt, MoveIssuedAt: r.MoveIssuedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		UpdatedAt: r.UpdatedAt, MemberID: r.MemberID, Stranded: time.Duration(r.StrandedNs), SupersededBy: r.SupersededBy,
	}
}

// movesOf is moveOf of each row.
func movesOf(rows []dbsqlc.MoveDetail, err error) ([]migration.Move, error) {
	return mapRows(rows, err, moveOf)
}

// waveOf is the domain's wave of a row of waves.
func waveOf(r dbsqlc.Wave) migration.Wave {
	w := migration.Wave{
		ID: r.ID, GroupID: r.GroupID, Number: r.Number, Name: r.Name, State: migration.WaveState(r.State),
		Size: r.Size, StartAt: r.StartAt, MaxAttempts: r.MaxAttempts, Concurrency: r.Concurrency,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, StateReason: r.StateReason, StateReasonCode: r.StateReasonCode, ConcurrencyLimit: r.ConcurrencyLimit,
		Controls: migration.Controls{
			RollbackOnHalt: r.RollbackOnHalt, Windows: r.Windows, TimeZone: r.TimeZone,
			BypassEnterpriseVoiceCheck: r.BypassEnterpriseVoiceCheck,
			NumberPlan:                 migration.NumberPlan(r.NumberPlan),
		},
		NumbersApprovedAt: r.NumbersApprovedAt, NumbersApprovedBy: r.NumbersApprovedBy,
		RoutingConfirmedAt: r.RoutingConfirmedAt, RoutingConfirmedBy: r.RoutingConfirmedBy,
		RetryOf: r.RetryOf, GateOverride: r.GateOverride, ReadinessOverride: r.ReadinessOverride,
		ThresholdSince: r.ThresholdSince, ScheduleRev: r.ScheduleRev, LimitSuccesses: r.LimitSuccesses,
	}
	if r.FailureThresholdPercent != nil {
		w.Threshold.Percent = *r.FailureThresholdPercent
	}
	if r.FailureThresholdCount != nil {
		w.Threshold.Count = *r.FailureThresholdCount
	}
	if w.Threshold.Set() {
		w.Threshold.MinSample = r.FailureMinSample
	}
	if len(w.Windows) == 0 {
		w.Windows = nil
	}
	for _, d := range r.BlackoutDates {
		w.BlackoutDates = append(w.BlackoutDates, d.Time.Format(time.DateOnly))
	}
	return w
}

// wavesOf is waveOf of each row.
func wavesOf(rows []dbsqlc.Wave, err error) ([]migration.Wave, error) {
	return mapRows(rows, err, waveOf)
}

// waveOrErr is waveOf of a row read with err.
func waveOrErr(r dbsqlc.Wave, err error) (migration.Wave, error) {
	if err != nil {
		return migration.Wave{}, translate(err)
	}
	return waveOf(r), nil
}

// eventOf is the domain's entry of a move's timeline.
func eventOf(r dbsqlc.MoveEventsRow) migration.MoveEvent {
	return migration.MoveEvent{At: r.At, State: migration.MoveState(r.State), Attempt: r.Attempt,
		ErrorCode: migration.ErrorCode(r.ErrorCode), Message: r.Message, Actor: r.Actor}
}

// rollbackOf is the domain's rollback record.
func rollbackOf(r dbsqlc.RollbackRecord) *migration.RollbackRecord {
	return &migration.RollbackRecord{MoveID: r.MoveID, SipAddress: r.SipAddress, RegistrarPool: r.RegistrarPool,
		HostingProvider: r.HostingProvider, EnterpriseVoiceEnabled: r.EnterpriseVoiceEnabled, LineURI: r.LineURI,
		Policies: r.Policies, CapturedAt: r.CapturedAt}
}

// mapRows turns rows read with err into the domain's type.
func mapRows[R, T any](rows []R, err error, of func(R) T) ([]T, error) {
	if err != nil {
		return nil, err
	}
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = of(r)
	}
	return out, nil
}

// names are state names (or codes) as the queries take them.
func names[S ~string](states []S) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}
