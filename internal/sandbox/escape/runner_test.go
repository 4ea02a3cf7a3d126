package escape

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunCommandKillsTheGroupAtTheWallLimit(t *testing.T) {
	tag := "sentinel-escape-test-" + randomHex(6)
	// The background sleep shares the group; it must die with the script.
	cmd := exec.Command("bash", "-c", "sleep 60 & echo started; sleep 60")
	cmd.Env = []string{"PATH=/usr/bin:/bin", tagVar + "=" + tag}
	res, err := runCommand(context.Background(), cmd, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Killed || res.Exit != -1 {
		t.Errorf("Killed=%v Exit=%d, want a run killed by its wall limit", res.Killed, res.Exit)
	}
	if sig := endedBy(cmd); sig != syscall.SIGTERM {
		t.Errorf("ended by %v, want SIGTERM: the wall limit asks politely first", sig)
	}
	if res.Stdout != "started\n" {
		t.Errorf("stdout %q, want what the script printed before the kill", res.Stdout)
	}
	if pids := leftovers(tag, 2*time.Second); len(pids) > 0 {
		_ = killTagged(tag)
		t.Errorf("processes of the group survived: %v", pids)
	}
}

func TestRunCommandKillsWhatIgnoresSIGTERM(t *testing.T) {
	cmd := exec.Command("bash", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done")
	res, err := runCommand(context.Background(), cmd, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Killed || res.Exit != -1 {
		t.Errorf("Killed=%v Exit=%d, want a run killed by its wall limit", res.Killed, res.Exit)
	}
	if sig := endedBy(cmd); sig != syscall.SIGKILL {
		t.Errorf("ended by %v, want SIGKILL after the grace period", sig)
	}
}

// endedBy is the signal that ended cmd, or -1.
func endedBy(cmd *exec.Cmd) syscall.Signal {
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return -1
	}
	return ws.Signal()
}

func TestRunCommandStopsAtContextEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.Command("sleep", "60")
	time.AfterFunc(100*time.Millisecond, cancel)
	res, err := runCommand(ctx, cmd, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if res.Killed || res.Exit != -1 {
		t.Errorf("Killed=%v Exit=%d, want a run ended by its context, not its wall limit", res.Killed, res.Exit)
	}
}

func TestRunCommandReportsExitAndOutput(t *testing.T) {
	cmd := exec.Command("bash", "-c", "echo out; echo err >&2; exit 3")
	res, err := runCommand(context.Background(), cmd, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.Exit != 3 || res.Stdout != "out\n" || res.Stderr != "err\n" || res.Killed {
		t.Errorf("got %+v", res)
	}
}

func TestRunCommandStartFailureIsAnError(t *testing.T) {
	if _, err := runCommand(context.Background(), exec.Command("/nonexistent/sentinel-escape"), time.Minute); err == nil {
		t.Error("a command that cannot start gave no error")
	}
}

func TestCappedBufferKeepsTheStart(t *testing.T) {
	var b cappedBuffer
	chunk := strings.Repeat("x", maxOutput/2+1)
	for range 3 {
		if n, err := b.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v; want the whole chunk accepted", n, err)
		}
	}
	got := b.String()
	if !strings.HasPrefix(got, strings.Repeat("x", maxOutput)) || !strings.HasSuffix(got, "[output truncated]\n") {
		t.Errorf("len %d, tail %q: want the first %d bytes and a truncation note", len(got), got[len(got)-30:], maxOutput)
	}
	if strings.Count(got, "x") != maxOutput {
		t.Errorf("kept %d bytes, want %d", strings.Count(got, "x"), maxOutput)
	}
}

func TestWithPathFirst(t *testing.T) {
	got := withPathFirst([]string{"HOME=/h", "PATH=/usr/bin:/bin"}, "/node/bin")
	want := []string{"HOME=/h", "PATH=/node/bin:/usr/bin:/bin"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := withPathFirst([]string{"HOME=/h"}, "/n"); !slices.Equal(got, []string{"HOME=/h", "PATH=/n"}) {
		t.Errorf("without PATH: got %q", got)
	}
}

func TestSRTSettingsFollowTheProfile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	allowed := newListener(ln)
	defer allowed.Close()
	env := Env{
		Workspace:      "/e/workspace",
		State:          "/e/state",
		DataDir:        "/e/data",
		SSHKey:         "/e/home/.ssh/id_rsa",
		AWSCredentials: "/e/home/.aws/credentials",
		Allowed:        allowed,
	}
	s := (&srtRunner{}).settings(env)
	if want := []string{allowed.Addr().String()}; !slices.Equal(s.Network.AllowedDomains, want) {
		t.Errorf("allowedDomains %q, want %q", s.Network.AllowedDomains, want)
	}
	if want := []string{"/e/home/.ssh", "/e/home/.aws", "/e/data"}; !slices.Equal(s.Filesystem.DenyRead, want) {
		t.Errorf("denyRead %q, want %q", s.Filesystem.DenyRead, want)
	}
	if want := []string{"/e/workspace", "/e/state/srt-tmp"}; !slices.Equal(s.Filesystem.AllowWrite, want) {
		t.Errorf("allowWrite %q, want %q", s.Filesystem.AllowWrite, want)
	}
	if addr, err := netip.ParseAddrPort(s.Network.AllowedDomains[0]); err != nil || !addr.Addr().IsLoopback() {
		t.Errorf("allowed host %q is not an IP literal with a port", s.Network.AllowedDomains[0])
	}
}

func TestSRTUnavailableSaysWhy(t *testing.T) {
	tests := []struct {
		r    *srtRunner
		want string
	}{
		{&srtRunner{}, "SENTINEL_E2E_SRT is not set"},
		{&srtRunner{bin: "/nonexistent/srt", nodeDir: "/nonexistent"}, "SENTINEL_E2E_SRT"},
		{&srtRunner{bin: "/bin/sh", nodeDir: "/nonexistent"}, "no Node for srt"},
	}
	for _, tt := range tests {
		if err := tt.r.Available(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Available() = %v, want an error mentioning %q", err, tt.want)
		}
	}
}
