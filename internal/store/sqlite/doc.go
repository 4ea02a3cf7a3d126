// Package sqlite keeps Sentinel's audit chain (audit.Store) and human
// approvals (approval.Store) in a SQLite file, through
// the pure-Go driver modernc.org/sqlite, so that a single binary built
// without cgo needs no database server.
//
// The file runs in WAL mode: readers never wait for the writer. Every
// Append, PutCheckpoint and Prune runs in a BEGIN IMMEDIATE transaction
// on the store's only write connection, so writers queue up within the
// process on that connection and across processes on SQLite's write lock
// (waiting up to the busy timeout, 10 s). The head is read inside that
// transaction, which is what makes the chain gap-free whoever appends. A
// seal must not write to the store: it runs on the write connection,
// which its Append holds.
//
// Times are stored as fixed-width UTC text with nanoseconds, so they sort
// as text and round-trip exactly; years outside 0000–9999 are refused.
// The store never computes or checks hashes beyond the links between
// records: verification belongs to package audit.
//
// Approvals are rows with their JSON body; every change is a
// compare-and-set on the row's version, and a unique partial index keeps
// one pending approval per call.
package sqlite
