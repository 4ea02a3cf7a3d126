// Package escape is the sandbox escape suite: a list of attacks a sandboxed
// shell script might make (write outside its workspace, read the user's keys,
// reach a host the profile does not allow, exfiltrate through DNS, signal or
// trace a host process, gain privileges through a setuid binary, exhaust the
// machine, outlive its wall limit, touch the kernel), each judged from the
// state of a small world prepared for it, and a set of runners that execute
// the same script under different sandboxes.
//
// Every case runs in a fresh Env: a fake home holding marker secrets, a
// writable workspace, a read-only outside directory, a hidden data
// directory, TCP listeners and a DNS server that record who reached them (on
// loopback and in a second network namespace reached over a veth pair), and
// a marker process on the host. A case decides from that world after the run
// (files created, listener hits, DNS names asked, processes alive, secrets
// in the output), never from the exit status alone.
//
// Runners: "direct" runs the script with plain bash and no isolation; it is
// the control, under which every case except the resource limits must escape,
// which proves that each case can see an escape at all. "srt" runs it under
// Anthropic's sandbox-runtime, the peer Sentinel is compared with. Sentinel's
// own runner joins the list in runner_sentinel.go and the set of runners that
// must block every case.
//
// To print the table (markdown, for the docs) and the start-up ratio:
//
//	SENTINEL_E2E_SRT=$PWD/e2e-hosts/node_modules/.bin/srt \
//	SENTINEL_E2E_NODE=$PWD/e2e-hosts/node_modules/.bin/node \
//	go test -run TestEscapeSuite -v ./internal/sandbox/escape/
//	go test -run '^$' -bench BenchmarkStartup -benchtime=100x ./internal/sandbox/escape/
//
// The suite needs root (namespaces, a setuid helper, veth pairs) and touches
// nothing outside the directories, addresses and processes it creates; it
// never sends a packet off the machine.
package escape
