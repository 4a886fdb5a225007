package jobs

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cutover/cutover/internal/migration"
	"github.com/cutover/cutover/internal/store"
)

// A notification in each webhook format: Teams reads an Adaptive Card in a
// message (the envelope of MicrosoftDocs/msteams-docs,
// connectors-using.md), with a button to the wave's page; Slack reads
// text; json is the notification.
func TestPayloadFormats(t *testing.T) {
	t.Parallel()
	n := Notification{Event: "wave.halted", Message: "halted: 3 of 10 failed", Link: "https://cutover.contoso.com/ui/waves/7",
		Wave: NotificationWave{ID: 7, Name: "Wave 2", Group: "Pilot", State: migration.WaveStateHalted, Reason: "failure threshold crossed"},
		Progress: migration.Progress{Total: 10, Done: 4, Percent: 40, Counts: map[migration.MoveState]int{migration.MoveStateFailed: 3,
			migration.MoveStateMoved: 1, migration.MoveStatePending: 6}}}

	tests := []struct {
		format string
		check  func(t *testing.T, body map[string]any)
	}{
		{store.WebhookTeams, func(t *testing.T, body map[string]any) {
			assert.Equal(t, "message", body["type"])
			attachments := body["attachments"].([]any)
			require.Len(t, attachments, 1)
			a := attachments[0].(map[string]any)
			assert.Equal(t, "application/vnd.microsoft.card.adaptive", a["contentType"])
			assert.Contains(t, a, "contentUrl")
			card := a["content"].(map[string]any)
			assert.Equal(t, "AdaptiveCard", card["type"])
			assert.Equal(t, "1.2", card["version"])
			body0 := card["body"].([]any)[0].(map[string]any)
			assert.Equal(t, "TextBlock", body0["type"])
			assert.Equal(t, "cutover: Wave 2 of Pilot: halted", body0["text"])
			assert.Equal(t, "attention", body0["color"], "a halt stands out")
			facts := card["body"].([]any)[2].(map[string]any)
			assert.Equal(t, "FactSet", facts["type"])
			assert.Contains(t, facts["facts"], map[string]any{"title": "Why", "value": "failure threshold crossed"})
			actions := card["actions"].([]any)
			require.Len(t, actions, 1)
			assert.Equal(t, map[string]any{"type": "Action.OpenUrl", "title": "Open the wave", "url": "https://cutover.contoso.com/ui/waves/7"}, actions[0])
		}},
		{store.WebhookSlack, func(t *testing.T, body map[string]any) {
			assert.Contains(t, body["text"], "<https://cutover.contoso.com/ui/waves/7|Open the wave>")
			assert.Contains(t, body["text"], "1 of 10 users moved to Teams, 3 failed; 6 still to move.", "a failure is not counted as done")
		}},
		{store.WebhookJSON, func(t *testing.T, body map[string]any) {
			assert.Equal(t, "wave.halted", body["event"])
			assert.Equal(t, "https://cutover.contoso.com/ui/waves/7", body["link"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			data, err := payload(tt.format, n)
			require.NoError(t, err)
			var body map[string]any
			require.NoError(t, json.Unmarshal(data, &body))
			tt.check(t, body)
		})
	}

	t.Run("no public URL: no button", func(t *testing.T) {
		t.Parallel()
		plain := n
		plain.Link = ""
		data, err := payload(store.WebhookTeams, plain)
		require.NoError(t, err)
		assert.NotContains(t, string(data), "Action.OpenUrl")
	})
}
