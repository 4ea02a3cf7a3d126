// Package postgres keeps Sentinel's audit chain (audit.Store) and human
// approvals (approval.Store) in PostgreSQL, for deployments where several
// Sentinel replicas share one chain and decide each approval exactly once
// (compare-and-set on the approval's version).
//
// Every Append locks the one-row audit_head table (SELECT … FOR UPDATE)
// in its transaction before reading the head, calls the seal, inserts the
// records and moves the head, so that appends from any number of
// connections, processes and replicas form one gap-free chain. Prune takes
// the same lock. Reads never lock. A seal must not use the store: it runs
// while its Append holds a connection and the lock.
//
// All tables live in one schema (Options.Schema, "sentinel" by default),
// created if missing and named by the connections' search_path, so that
// several stores can share a database. Times are kept at microsecond
// precision, PostgreSQL's: record times and filter bounds are truncated
// to the microsecond.
//
// The store talks to the server through pgx (github.com/jackc/pgx/v5) and
// its pool, pgxpool, which checks a connection that sat idle before
// handing it out and closes one given back broken or inside a
// transaction. Errors never quote the connection string, which may hold
// a password. The store never computes or checks hashes beyond the links
// between records: verification belongs to package audit.
package postgres
