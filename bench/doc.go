// Package bench measures Sentinel against its peers in one process: the
// seed's regex guard (package baseline) and the same rules as a prepared
// Rego policy (package opapeer). It lives in its own module so that
// Sentinel's main module never depends on OPA, and it holds only
// benchmarks and tests: nothing here may be imported by Sentinel itself.
package bench
