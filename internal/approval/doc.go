// Package approval is how a human answers a "confirm" decision. A call the
// kernel holds for confirmation becomes a pending Approval; operators vote
// on it (one approver, or two distinct ones for a critical call); the agent
// waits for the outcome or re-submits the call naming the approval, which
// then authorizes that exact call once. An operator may also grant a shape
// of call in a session for a while, so that they are not asked again.
//
// Several replicas may share one Store, so every change is a
// compare-and-set on the approval's Version: an approval is decided exactly
// once whoever races. The Service retries lost races a bounded number of
// times, re-reading the approval each time.
//
// The package fails closed. An approval past its ExpiresAt can never
// authorize anything; an approval bound to one call (its CallHash over the
// tool, session, agent and canonical arguments) never authorizes another;
// an error anywhere is a refusal. It never decides calls itself and never
// sees unredacted arguments beyond hashing them.
package approval
