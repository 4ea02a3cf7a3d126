package shell

import (
	"github.com/sentinel-agent/sentinel/internal/analysis"
	"github.com/sentinel-agent/sentinel/internal/decision"
)

// Finding codes. They are stable: policies override actions by code and
// clients match on them.
const (
	CodeRecursiveDeleteRoot = "command.recursive_delete_root"
	CodeDiskDestroy         = "command.disk_destroy"
	CodeForkBomb            = "command.fork_bomb"
	CodePermissionStorm     = "command.permission_storm"
	CodeSetuid              = "command.setuid"
	CodeDownloadExec        = "command.download_exec"
	CodeDecodeExec          = "command.decode_exec"
	CodeReverseShell        = "command.reverse_shell"
	CodeBindShell           = "command.bind_shell"
	CodeExfiltration        = "command.exfiltration"
	CodePrivilegeEscalation = "command.privilege_escalation"
	CodePrivileged          = "command.privileged"
	CodePersistence         = "command.persistence"
	CodeHistoryWipe         = "command.history_wipe"
	CodeLogTamper           = "command.log_tamper"
	CodeForcePush           = "command.force_push"
	CodeGitDestructive      = "command.git_destructive"
	CodePublish             = "command.publish"
	CodeDestructiveSQL      = "command.destructive_sql"
	CodeDestructiveCloud    = "command.destructive_cloud"
	CodePowerState          = "command.power_state"
	CodeKernelModule        = "command.kernel_module"
	CodeFirewallDisable     = "command.firewall_disable"
	CodeSystemWrite         = "command.system_write"
	CodeLibraryLoad         = "command.library_load"
	CodeShellEscape         = "command.shell_escape"
	CodeArbitraryFileRead   = "command.arbitrary_file_read"
	CodeArbitraryFileWrite  = "command.arbitrary_file_write"
	CodeRawDeviceRead       = "command.raw_device_read"
	CodeDynamicCommand      = "command.dynamic_command"
	CodeUnresolvedExec      = "command.unresolved_exec"
	CodeTooComplex          = "command.too_complex"
	CodeNulByte             = "command.nul_byte"
	CodeListener            = "command.listener"
	CodePortExposure        = "command.port_exposure"
	CodePackageInstall      = "command.package_install"
)

// CodeInfo describes a finding code for documentation and `sentinel
// explain`.
type CodeInfo struct {
	Code    string
	Default decision.Action
	Summary string
}

// Codes lists every finding code the analyser emits with its usual action.
// Some codes are emitted with a different action when the context calls
// for it (a permission storm on one file is only a notice; persistence
// under sudo is a deny); Default is the most common one.
func Codes() []CodeInfo {
	return []CodeInfo{
		{CodeRecursiveDeleteRoot, decision.Deny, "recursive delete of /, ~, . or a top-level system directory"},
		{CodeDiskDestroy, decision.Deny, "overwrite, format or wipe of a block device"},
		{CodeForkBomb, decision.Deny, "self-replicating process loop"},
		{CodePermissionStorm, decision.Deny, "recursive mode or owner change on / or a system directory; chmod -R 777"},
		{CodeSetuid, decision.Confirm, "setuid/setgid bits or file capabilities"},
		{CodeDownloadExec, decision.Deny, "downloaded content executed"},
		{CodeDecodeExec, decision.Deny, "decoded or obfuscated content executed"},
		{CodeReverseShell, decision.Deny, "a shell wired to a network connection"},
		{CodeBindShell, decision.Deny, "a shell served on a listening socket"},
		{CodeExfiltration, decision.Deny, "local files or the environment sent over the network"},
		{CodePrivilegeEscalation, decision.Deny, "root shell or arbitrary code as root"},
		{CodePrivileged, decision.Notify, "an ordinary command run as root"},
		{CodePersistence, decision.Confirm, "cron, shell rc, authorized_keys, services and other autostart changes"},
		{CodeHistoryWipe, decision.Confirm, "shell history erased or disabled"},
		{CodeLogTamper, decision.Confirm, "system logs truncated or deleted"},
		{CodeForcePush, decision.Confirm, "git push that rewrites remote history"},
		{CodeGitDestructive, decision.Confirm, "git operation that discards work"},
		{CodePublish, decision.Confirm, "package, image or release published"},
		{CodeDestructiveSQL, decision.Confirm, "DROP, TRUNCATE, DELETE without WHERE and the like"},
		{CodeDestructiveCloud, decision.Confirm, "cloud or cluster resources destroyed"},
		{CodePowerState, decision.Confirm, "shutdown, reboot or killing every process"},
		{CodeKernelModule, decision.Confirm, "kernel modules or kernel parameters changed"},
		{CodeFirewallDisable, decision.Confirm, "firewall or mandatory access control disabled"},
		{CodeSystemWrite, decision.Confirm, "write to account databases, sudoers, boot or system binaries"},
		{CodeLibraryLoad, decision.Confirm, "a library injected into a process"},
		{CodeShellEscape, decision.Confirm, "a program made to start a shell or run a command string"},
		{CodeArbitraryFileRead, decision.Confirm, "a file read through a side channel"},
		{CodeArbitraryFileWrite, decision.Confirm, "a file written through a side channel"},
		{CodeRawDeviceRead, decision.Deny, "a disk or memory device read raw, past every file permission"},
		{CodeDynamicCommand, decision.Confirm, "the program name is not statically known"},
		{CodeUnresolvedExec, decision.Confirm, "code built at run time is executed"},
		{CodeTooComplex, decision.Deny, "the line exceeds the analyser's limits"},
		{CodeNulByte, decision.Deny, "the line contains a NUL byte"},
		{CodeListener, decision.Notify, "a local server or listener is started"},
		{CodePortExposure, decision.Confirm, "a local port published on a remote host or the internet (ssh -R, ngrok, cloudflared tunnel)"},
		{CodePackageInstall, decision.Notify, "packages installed from a registry"},
	}
}

// Risk dimension presets for findings.
var (
	riskCatastrophic = &decision.Dimensions{Impact: 10, Reversibility: 0, Sensitivity: 3, ErrorRate: 0.5}
	riskCompromise   = &decision.Dimensions{Impact: 9, Reversibility: 0.1, Sensitivity: 3, ErrorRate: 0.2}
	riskLeak         = &decision.Dimensions{Impact: 8, Reversibility: 0, Sensitivity: 3, ErrorRate: 0.2}
	riskHigh         = &decision.Dimensions{Impact: 7, Reversibility: 0.3, Sensitivity: 2, ErrorRate: 0.3}
	riskMedium       = &decision.Dimensions{Impact: 5, Reversibility: 0.5, Sensitivity: 2, ErrorRate: 0.3}
	riskLow          = &decision.Dimensions{Impact: 2, Reversibility: 0.8, Sensitivity: 1, ErrorRate: 0.1}
)

func tooComplex(detail string) analysis.Finding {
	return analysis.Finding{
		Code: CodeTooComplex, Action: decision.Deny,
		Message: "the command is too large or too deeply nested to analyse; split it into simpler commands",
		Detail:  clip(detail),
		Risk:    riskMedium,
	}
}

// finding builds a finding; the walker adds it.
func finding(code string, act decision.Action, msg, detail string, risk *decision.Dimensions) analysis.Finding {
	return analysis.Finding{Code: code, Action: act, Message: msg, Detail: clip(detail), Risk: risk}
}
