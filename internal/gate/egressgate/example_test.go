package egressgate_test

import (
	"context"
	"fmt"

	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/gate"
	"github.com/sentinel-agent/sentinel/internal/gate/egressgate"
)

func ExampleParseDest() {
	for _, raw := range []string{
		"https://u:p@API.Example.com:8443/v1",
		"http://0xa9fea9fe/latest/meta-data/",
		"git@github.com:org/repo.git",
		"https://münchen.de./",
	} {
		d, err := egressgate.ParseDest(raw)
		fmt.Println(d.Scheme, d.Host, d.Port, err)
	}
	// Output:
	// https api.example.com 8443 <nil>
	// http 169.254.169.254 80 <nil>
	//  github.com 0 <nil>
	// https xn--mnchen-3ya.de 443 <nil>
}

func ExampleGate_Check() {
	g, err := egressgate.Compile(egressgate.Default())
	if err != nil {
		panic(err)
	}
	in := &gate.Input{Analysis: &analysis.Analysis{Dests: []analysis.Dest{
		{Raw: "http://2852039166/", Scheme: "http", Host: "2852039166", Command: "curl"},
	}}}
	v, _ := g.Check(context.Background(), in)
	fmt.Println(v.Action, v.Reasons[0].Code)
	fmt.Println(v.Reasons[0].Message)
	// Output:
	// deny egress.metadata_address
	// contacting 169.254.169.254, a cloud metadata endpoint that hands out credentials, is refused
}
