// Package migration is cutover's domain: pilot groups and their members, waves,
// moves and their states, the timeline of a move, rollback records, the plan
// that splits a group into waves, and the errors a person sees.
//
// It imports no adapter. The on-premises management shell is reached through
// the Shell interface; Postgres, HTTP and River live in their own packages.
package migration
