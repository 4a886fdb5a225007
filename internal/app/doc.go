// Package app is cutover's application layer: every use case the API, the
// pages and the command line share, so that no front end reaches into the
// store or another front end.
//
// A change (plan a group, pause a wave, roll a user back, add a webhook…)
// is a method of Service taking the Actor and a typed request: it runs in
// one transaction with the River jobs it queues (through jobs' exported
// helpers) and its entry in the audit log. Reads are methods too: a user
// looked up for the helpdesk, a group's and its waves' progress, reports
// and failures by error code, the checks against Microsoft Graph.
package app
