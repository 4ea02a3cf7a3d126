// Package migrate brings a store's schema up to the version the binary
// knows. Each store embeds its numbered SQL files (0001_events.sql,
// 0002_….sql) and adapts its driver to [DB]; Apply runs the missing
// files in order, one transaction each, and records them in
// schema_migrations.
//
// Migrations only move forward. Apply refuses a database whose schema is
// newer than the binary's, since an older Sentinel writing to it could
// break what the newer one relies on. It never edits or reorders the
// files it is given and never drops anything by itself.
package migrate
