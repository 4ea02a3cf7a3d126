// Package egress is the sandbox's egress proxy: the only way out of a
// sandbox whose network mode is allowlist. The sandboxed command lives in a
// network namespace with no route out; its HTTP proxy settings point at a
// forwarder inside that copies bytes to a Unix socket, and this package
// serves that socket on the host side.
//
// It speaks HTTP/1.1 as a forward proxy: CONNECT host:port tunnels (HTTPS,
// SSH over CONNECT, anything TCP) and absolute-form plain HTTP requests
// ("GET http://host/path"), one request or tunnel per connection. For each
// one it
//
//  1. matches the host and port against the allowlist (egress.host_not_allowed,
//     egress.port_not_allowed);
//  2. refuses cloud metadata names outright (egress.metadata_address);
//  3. resolves the name itself, on the host, and checks every address it
//     gets: loopback, private, link-local, CGNAT, unspecified, multicast and
//     reserved ranges need AllowPrivate (egress.private_address), cloud
//     metadata addresses are refused even then unless the rule that matched
//     names that very address as an IP literal (egress.metadata_address);
//  4. dials the address it checked, never the name again, so that a second
//     DNS answer cannot slip in between the check and the connection.
//
// A refusal is an HTTP response (403, or 400, 502 and 503 for bad requests,
// upstream failures and overload) whose one-line body and
// X-Sentinel-Egress header carry a stable code. Every attempt, allowed or
// not, is reported to Options.Log.
//
// The proxy must never add credentials, never forward a request it did not
// check, never dial a name, and never let one connection's work grow
// without bound: request heads, concurrent connections, dial time and idle
// tunnels are all limited.
package egress
