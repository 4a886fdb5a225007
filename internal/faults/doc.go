// Package faults holds the fault suite in which Microsoft's side stops
// answering in the middle of a wave: a frozen shell, a frozen Graph. Its
// tests wait minutes of simulated outage, so they run in a package of their
// own, beside the others rather than after them. Run it alone with:
// go test ./internal/faults
package faults
