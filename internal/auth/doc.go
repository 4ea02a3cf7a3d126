// Package auth decides who is calling the Sentinel server: it maps a bearer
// token to a named client with scopes, limits failed attempts per client
// address, and works out that address behind trusted proxies.
//
// Tokens are configured only as SHA-256 hashes, so the clients file never
// holds a secret that works on its own. The package never logs a token and
// no error it returns contains one. Configuration is an immutable snapshot
// behind an atomic pointer: Update swaps it whole (token rotation without a
// restart) or refuses it and keeps the old one.
//
// Everything that fails here ends in a refusal; there is no path from an
// internal error to an authenticated client.
package auth
