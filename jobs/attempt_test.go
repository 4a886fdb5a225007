package jobs

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cutover/cutover/internal/migration"
)

// Both workers' failed attempts go through afterFailure: the step taken is
// the one migration.Decide names, and a worker without a resume step (a
// rollback) counts every broken session.
func TestAfterFailure(t *testing.T) {
	t.Parallel()
	transient := migration.FailureFor(migration.CodeTimeout)
	broken := migration.Failure{Code: migration.CodeSessionBroken, Transient: true}
	deployment := migration.Failure{Code: "graph_unreachable", Deployment: true}
	tests := []struct {
		name       string
		f          migration.Failure
		n, breaks  int
		withResume bool
		step, note string
	}{
		{"transient, attempts left", transient, 1, 0, true, "retry", ""},
		{"transient, last attempt", transient, 3, 0, true, "fail", "; no attempts left"},
		{"not the user's", deployment, 3, 0, true, "hold", ""},
		{"broken session, free", broken, 1, 0, true, "resume", ""},
		{"broken session, none free left", broken, 1, migration.SessionBreaksFree, true, "retry", ""},
		{"broken session in a rollback", broken, 1, 0, false, "retry", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var step, note, msg string
			s := failureSteps{
				hold:  func(_ migration.Failure, m string) error { step, msg = "hold", m; return nil },
				fail:  func(_ migration.Failure, m, n string) error { step, msg, note = "fail", m, n; return nil },
				retry: func(_ migration.Failure, m string) error { step, msg = "retry", m; return nil },
			}
			if tt.withResume {
				s.resume = func(_ migration.Failure, m string) error { step, msg = "resume", m; return nil }
			}
			cause := errors.New(strings.Repeat("x", 1200))
			assert.NoError(t, afterFailure(tt.f, cause, tt.n, 3, tt.breaks, s))
			assert.Equal(t, tt.step, step)
			assert.Equal(t, tt.note, note)
			assert.LessOrEqual(t, len(msg), 1003, "the message is truncated")
		})
	}
}
