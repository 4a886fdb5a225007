package auth

import "time"

// Session is a page session as listed: never its secret nor its
// anti-forgery token.
type Session struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name,omitempty"`
	Role        Role       `json:"role"`
	Via         string     `json:"via"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	LastSeenAt  time.Time  `json:"last_seen_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	EndedBy     string     `json:"ended_by,omitempty"`
}

// NewSession is a session to begin: who, with which role, how, until when.
type NewSession struct {
	Name        string
	DisplayName string
	Role        Role
	// Via is "entra" or "token".
	Via     string
	Subject string
	// TokenID is the token signed in with (0 for Entra ID): the session
	// ends when the token is revoked.
	TokenID   int64
	ExpiresAt time.Time
}
