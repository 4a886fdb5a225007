// Package examples holds the sample pilot group the demo imports: 200 users
// across two SIP domains (contoso.com and fabrikam.com).
package examples

import _ "embed"

// PilotUsersCSV is examples/pilot-users.csv.
//
//go:embed pilot-users.csv
var PilotUsersCSV []byte
