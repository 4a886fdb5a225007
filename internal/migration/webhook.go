package migration

import "time"

// Webhook is where wave notifications go. Its URL carries its key: it is
// kept only to post to, and shown as its host.
type Webhook struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"-"`
	Host      string    `json:"host"`
	Format    string    `json:"format"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Delivery is one notification to one webhook.
type Delivery struct {
	ID          int64      `json:"id"`
	WebhookID   int64      `json:"webhook_id"`
	WebhookName string     `json:"webhook"`
	Event       string     `json:"event"`
	WaveID      int64      `json:"wave_id"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	LastStatus  *int       `json:"last_status,omitempty"`
	LastError   *string    `json:"last_error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	URL         string     `json:"-"`
	Payload     []byte     `json:"-"`
}
