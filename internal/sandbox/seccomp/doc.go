// Package seccomp builds the two seccomp filters a sandboxed command runs
// under, and the supervisor side of the second one.
//
// The deny filter (Install) makes a list of system calls fail with an
// errno: calls that reach other processes (ptrace, process_vm_*), change
// the mount table or the root, make or enter namespaces, load kernel code,
// or open kernel attack surface an agent's command has no use for (bpf,
// io_uring, userfaultfd, keyrings, raw and packet sockets, ...). It
// returns an errno rather than killing, so a command that tries one fails
// with a readable message. Some rules look at arguments, which a filter
// can only do for integers in registers: clone is checked for namespace
// flags, and clone3, whose flags sit in a struct the filter cannot read,
// fails with ENOSYS so that libc falls back to clone. Calls from any ABI
// but x86-64 kill the process, so the 32-bit table cannot be used to step
// around the list.
//
// The trace filter (InstallTrace) hands the calls that say what a run
// touched (opens, execs, connects, renames, removals, ...) to a
// supervisor through a seccomp listener fd. Supervise decodes them,
// reading paths and argv from /proc/<pid>/mem, emits an Event, and lets
// every call continue. The trace is observation, not enforcement:
//
//   - The supervisor reads the target's memory before the kernel does, and
//     a thread of the target can change it in between, so a recorded path
//     may differ from the one the kernel then used (time of check to time
//     of use). The deny filter and Landlock are what enforce; nothing here
//     decides anything from what it reads.
//   - Calls the deny filter refuses never reach the supervisor (an errno
//     outranks a notification), so refused attempts are not in the trace.
//   - When the supervisor cannot decode a call, or stops, the call still
//     runs: a decoding failure is noted in Event.Incomplete, and once the
//     listener is closed the kernel fails traced calls with ENOSYS rather
//     than letting them wait.
//   - io_uring performs file and network operations without system calls
//     the filter sees, which is one reason the deny filter refuses it.
//
// Filters are built for linux/amd64 only; on anything else every entry
// point returns an error wrapping errors.ErrUnsupported rather than
// installing a filter written for another system call table.
package seccomp
