package redact_test

import (
	"fmt"

	"github.com/sentinel-agent/sentinel/internal/redact"
)

func ExampleText() {
	out, findings := redact.Text("git clone https://deploy:s3cr3t-Pa55w0rd@git.example.org/app.git")
	fmt.Println(out)
	for _, f := range findings {
		fmt.Println(f.Rule, f.Start, f.End)
	}
	// Output:
	// git clone https://deploy:[REDACTED:url-password]@git.example.org/app.git
	// url-password 25 40
}

func ExampleJSON() {
	out, n, err := redact.JSON([]byte(`{"user": "ada", "password": "hunter2", "cmd": "psql postgres://ada:Tr0ub4dor3@db/app"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out), n)
	// Output:
	// {"user":"ada","password":"[REDACTED:secret-field]","cmd":"psql postgres://ada:[REDACTED:db-password]@db/app"} 2
}

func ExampleSecretKey() {
	for _, k := range []string{"X-Api-Key", "aws_secret_access_key", "max_tokens"} {
		fmt.Println(k, redact.SecretKey(k))
	}
	// Output:
	// X-Api-Key true
	// aws_secret_access_key true
	// max_tokens false
}
