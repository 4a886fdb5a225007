// Package app is cutover's application layer: the use cases the API, the
// pages and the command line share, each taking what it needs and answering
// a typed result, so that no front end reaches into another. It holds, so
// far, what a lead or a helpdesk agent reads: a user looked up, a group's
// and its waves' progress, the wave and group reports and their failures by
// error code. The lead's actions are in jobs.Scheduler until they move here.
package app
