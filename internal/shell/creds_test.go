package shell

import (
	"testing"

	"github.com/sentinel-agent/sentinel/internal/analysis"
)

// TestCredentialStores: a CLI told to store or print a credential is
// recorded as writing or reading the file that keeps it, and one told
// anything else is not.
func TestCredentialStores(t *testing.T) {
	const aws, npmrc, gh = "~/.aws/credentials", "~/.npmrc", "~/.config/gh/hosts.yml"
	tests := []struct {
		cmd  string
		path string
		op   analysis.Op
		want bool
	}{
		{"aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG", aws, analysis.OpWrite, true},
		{"aws --profile dev configure set profile.dev.aws_access_key_id AKIAX", aws, analysis.OpWrite, true},
		{"aws configure set aws_session_token T --profile ci", aws, analysis.OpWrite, true},
		{"aws configure", aws, analysis.OpWrite, true},
		{"aws configure --profile dev", "~/.aws/config", analysis.OpWrite, true},
		{"aws configure import --csv file://keys.csv", aws, analysis.OpWrite, true},
		{"aws configure set credential_process 'sh -c x'", "~/.aws/config", analysis.OpWrite, true},
		{"aws configure get aws_secret_access_key", aws, analysis.OpRead, true},
		{"aws configure export-credentials --format env", aws, analysis.OpRead, true},
		{"npm config set //registry.example/:_authToken abc", npmrc, analysis.OpWrite, true},
		{"npm set //registry.example/:_authToken=abc", npmrc, analysis.OpWrite, true},
		{"npm config set --location project //r.example/:_authToken abc", ".npmrc", analysis.OpWrite, true},
		{"pnpm login --registry https://r.example", npmrc, analysis.OpWrite, true},
		{"npm config get //registry.example/:_authToken", npmrc, analysis.OpRead, true},
		{"docker login -u me --password-stdin ghcr.io", "~/.docker/config.json", analysis.OpWrite, true},
		{"gh auth login --with-token < token.txt", gh, analysis.OpWrite, true},
		{"gh auth token", gh, analysis.OpRead, true},
		// Near misses: settings without a credential, reads of harmless
		// values, other subcommands.
		{"aws configure get region", aws, analysis.OpRead, false},
		{"aws configure set region us-east-1", aws, analysis.OpWrite, false},
		{"aws configure list", aws, analysis.OpRead, false},
		{"aws s3 ls", aws, analysis.OpRead, false},
		{"npm config set fund false", npmrc, analysis.OpWrite, false},
		{"npm install", npmrc, analysis.OpWrite, false},
		{"docker logout ghcr.io", "~/.docker/config.json", analysis.OpWrite, false},
		{"gh auth status", gh, analysis.OpRead, false},
		{"gh pr list", gh, analysis.OpRead, false},
	}
	for _, tc := range tests {
		a := testAnalyzer.Analyze(tc.cmd)
		if got := hasPath(a, tc.path, tc.op); got != tc.want {
			t.Errorf("%q: %s %s recorded = %v, want %v (paths %+v)", tc.cmd, tc.op, tc.path, got, tc.want, a.Paths)
		}
	}
}
