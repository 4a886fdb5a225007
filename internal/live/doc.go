// Package live tells the pages that follow waves of their changes as they
// happen, without each page polling the database.
//
// Three parts, each in a process of its own or together:
//
//   - A Notifier, in every process that changes waves or moves (workers,
//     the API's use cases, a lead's command): the code Touches the waves it
//     changed once the change has committed, and the Notifier sends what
//     was touched with one NOTIFY every FlushEvery at most. Never in the
//     changes' own transactions: a transaction that notifies takes a
//     database-wide lock at commit, which would serialise the moves'
//     commits.
//   - A Hub, in a process that serves pages: one connection of its own
//     LISTENs and wakes the subscribers of the waves named.
//   - Feeds, on a Hub: one reader per wave or group followed, which reads
//     the page's answer once per batch of changes, however many pages
//     follow it, and hands it to each of them.
package live
