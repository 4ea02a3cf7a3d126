package shell

import (
	"strings"

	"github.com/sentinel-agent/sentinel/internal/analysis"
)

// credentialStores records the files a CLI reads or writes when it is
// told to store or print a credential: "aws configure set
// aws_secret_access_key …" writes ~/.aws/credentials, "gh auth token"
// prints what ~/.config/gh/hosts.yml holds. The path gate then judges
// them as it judges any change to or read of those files; without this,
// the command line names no file at all. s is k.strs().
func (w *walker) credentialStores(k *cmd, s []string) {
	write := func(p string) { w.ref(k, field{s: p}, analysis.OpWrite, false) }
	read := func(p string) { w.ref(k, field{s: p}, analysis.OpRead, false) }
	sub := positional(s[1:])
	at := func(i int) string {
		if i < len(sub) {
			return sub[i]
		}
		return ""
	}
	switch k.name {
	case "aws":
		sub = positional(awsCommand(s)[1:])
		if at(0) != "configure" {
			return
		}
		const creds, config = "~/.aws/credentials", "~/.aws/config"
		switch at(1) {
		case "", "import":
			// Interactive configure asks for the keys; import copies them
			// from a CSV file.
			write(creds)
			if at(1) == "" {
				write(config)
			}
		case "set":
			if awsCredentialKey(at(2)) {
				write(creds)
			} else {
				write(config) // credential_process runs a command: no less sensitive
			}
		case "get":
			if awsCredentialKey(at(2)) {
				read(creds)
			}
		case "export-credentials":
			read(creds)
		case "sso", "add-model":
			write(config)
		}
	case "npm", "pnpm":
		switch {
		case at(0) == "login" || at(0) == "adduser":
			write(npmrc(s))
		case (at(0) == "config" && at(1) == "set") || at(0) == "set":
			key := at(1)
			if at(0) == "config" {
				key = at(2)
			}
			if npmCredentialKey(key) {
				write(npmrc(s))
			}
		case (at(0) == "config" && at(1) == "get") || at(0) == "get":
			key := at(1)
			if at(0) == "config" {
				key = at(2)
			}
			if npmCredentialKey(key) {
				read(npmrc(s))
			}
		}
	case "docker":
		if at(0) == "login" {
			write("~/.docker/config.json")
		}
	case "gh":
		if at(0) == "auth" {
			switch at(1) {
			case "login", "refresh":
				write("~/.config/gh/hosts.yml")
			case "token":
				read("~/.config/gh/hosts.yml")
			}
		}
	}
}

// positional drops options ("-x", "--name=value", and the value of those
// in credValueFlags) from args, leaving subcommands and operands.
func positional(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case credValueFlags[a]:
			i++
		case !strings.HasPrefix(a, "-"):
			out = append(out, a)
		}
	}
	return out
}

// credValueFlags are the options of these CLIs that take the next
// argument as their value.
var credValueFlags = map[string]bool{
	"--profile": true, "--region": true, "--endpoint-url": true, "--output": true,
	"--location": true, "-L": true, "--registry": true, "--userconfig": true, "--scope": true, "--auth-type": true,
	"--username": true, "-u": true, "--password": true, "-p": true,
	"--hostname": true, "-h": true, "--git-protocol": true, "--scopes": true, "-s": true,
}

// awsCredentialKey: the keys aws configure keeps in the credentials file,
// bare or under a profile ("profile.dev.aws_secret_access_key").
func awsCredentialKey(key string) bool {
	key = strings.ToLower(key)
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		key = key[i+1:]
	}
	return key == "aws_access_key_id" || key == "aws_secret_access_key" || key == "aws_session_token"
}

// npmCredentialKey: npm settings that hold a credential, bare or scoped to
// a registry ("//registry.example/:_authToken").
func npmCredentialKey(key string) bool {
	key, _, _ = strings.Cut(strings.ToLower(key), "=")
	if i := strings.LastIndexByte(key, ':'); i >= 0 {
		key = key[i+1:]
	}
	switch key {
	case "_authtoken", "_auth", "_password", "certfile", "keyfile":
		return true
	}
	return false
}

// npmrc is the file npm config writes: the project's with --location
// project, else the user's.
func npmrc(s []string) string {
	for i, a := range s {
		if a == "--location=project" || a == "--location" && i+1 < len(s) && s[i+1] == "project" {
			return ".npmrc"
		}
	}
	return "~/.npmrc"
}
