package auth_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/sentinel-agent/sentinel/internal/auth"
)

func Example() {
	token, hash, err := auth.NewToken()
	if err != nil {
		panic(err)
	}
	a, err := auth.New(auth.Config{Clients: []auth.ClientConfig{
		{Name: "ci-bot", Scopes: []string{"check"}, Tokens: []string{hash}},
	}})
	if err != nil {
		panic(err)
	}

	r := httptest.NewRequest("POST", "/v1/check", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	c, err := a.Authenticate(r)
	fmt.Println(c.Name, err)
	fmt.Println(a.Require(c, auth.ScopeCheck))
	fmt.Println(a.Require(c, auth.ScopeAdmin))

	r.Header.Set("Authorization", "Bearer snt_not-a-real-token")
	_, err = a.Authenticate(r)
	fmt.Println(err)
	// Output:
	// ci-bot <nil>
	// <nil>
	// auth.forbidden_scope: client "ci-bot" lacks the "admin" scope
	// auth.invalid_token: the bearer token is not valid
}
