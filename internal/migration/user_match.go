package migration

// A user found by a lookup.

// UserMatch is a user a search found.
type UserMatch struct {
	UPN         string `json:"upn"`
	SIP         string `json:"sip"`
	DisplayName string `json:"display_name"`
	GroupName   string `json:"group_name"` // their newest group
}
