package egress_test

import (
	"fmt"

	"github.com/sentinel-agent/sentinel/internal/sandbox/egress"
)

func ExampleParseRule() {
	for _, s := range []string{"API.GitHub.com", "*.npmjs.org:8443,443", "[2001:db8::1]:22", "https://example.com", "*"} {
		r, err := egress.ParseRule(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s → host %s, ports %v\n", s, r.Host, r.Ports)
	}
	// Output:
	// API.GitHub.com → host api.github.com, ports []
	// *.npmjs.org:8443,443 → host *.npmjs.org, ports [443 8443]
	// [2001:db8::1]:22 → host 2001:db8::1, ports [22]
	// invalid egress rule "https://example.com": has a scheme; give a host and optional ports, such as api.github.com:443
	// invalid egress rule "*": names no host; a bare * would allow everything, so name a host or *.domain
}
