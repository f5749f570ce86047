// Package domain is the centre of Kooperacje: the aggregates of the
// "Kooperacje 3D" cooperation model, the commands that express what a user
// intends, the events that record what was decided, and the invariants that
// decide between them.
//
// The package is pure Go. It imports nothing of NATS, HTTP or any other
// infrastructure: the event store, the projections and the API depend on it,
// never the other way round (see DESIGN.md §2).
//
// Each aggregate has the same shape: a state type with an Evolve method that
// folds one event into the state, and a Decide method that turns a command
// into new events or a typed *Error. Handler runs the load → decide → append
// loop against any Store.
package domain
