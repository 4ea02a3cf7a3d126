package sandbox

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroup bounds a run's memory and process count. It uses cgroup v2
// when the machine mounts it with the controllers delegated, else the
// v1 memory and pids hierarchies; each directory is a child of the
// cgroup Sentinel itself runs in. A controller that cannot be used
// leaves its directory empty (the exec stage falls back to rlimits and
// the layer is reported as not enforced).
type cgroup struct {
	memDir, pidsDir string
	v2              bool
}

const cgroupRoot = "/sys/fs/cgroup"

// newCgroup makes the run's cgroup and reports the two layers.
func newCgroup(memory int64, processes int) (*cgroup, []Layer) {
	cg := &cgroup{}
	name := "sentinel-" + randomHex(6)
	memLayer := Layer{Name: "cgroup memory"}
	pidsLayer := Layer{Name: "cgroup pids"}
	if isCgroup2(cgroupRoot) {
		dir, err := cg.makeV2(name, memory, processes)
		if err == nil {
			cg.v2, cg.memDir, cg.pidsDir = true, dir, dir
			memLayer.Enforced, memLayer.Detail = true, fmt.Sprintf("cgroup v2 memory.max %d MiB", memory>>20)
			pidsLayer.Enforced, pidsLayer.Detail = true, fmt.Sprintf("cgroup v2 pids.max %d", processes)
			return cg, []Layer{memLayer, pidsLayer}
		}
		memLayer.Detail, pidsLayer.Detail = err.Error(), err.Error()
		return cg, []Layer{memLayer, pidsLayer}
	}
	if dir, err := makeV1("memory", name, map[string]string{"memory.limit_in_bytes": strconv.FormatInt(memory, 10),
		"memory.memsw.limit_in_bytes?": strconv.FormatInt(memory, 10), "memory.swappiness?": "0"}); err == nil {
		cg.memDir = dir
		memLayer.Enforced, memLayer.Detail = true, fmt.Sprintf("cgroup v1 memory.limit_in_bytes %d MiB", memory>>20)
	} else {
		memLayer.Detail = err.Error()
	}
	if dir, err := makeV1("pids", name, map[string]string{"pids.max": strconv.Itoa(processes)}); err == nil {
		cg.pidsDir = dir
		pidsLayer.Enforced, pidsLayer.Detail = true, fmt.Sprintf("cgroup v1 pids.max %d", processes)
	} else {
		pidsLayer.Detail = err.Error()
	}
	return cg, []Layer{memLayer, pidsLayer}
}

func isCgroup2(path string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Type == 0x63677270 // CGROUP2_SUPER_MAGIC
}

// ownCgroup returns the path of this process's cgroup in the hierarchy
// of controller ("" for v2).
func ownCgroup(controller string) (string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				return parts[2], nil
			}
		}
	}
	return "", fmt.Errorf("no %q line in /proc/self/cgroup", controller)
}

func (cg *cgroup) makeV2(name string, memory int64, processes int) (string, error) {
	own, err := ownCgroup("")
	if err != nil {
		return "", err
	}
	parent := filepath.Join(cgroupRoot, own)
	ctl, err := os.ReadFile(filepath.Join(parent, "cgroup.subtree_control"))
	if err != nil {
		return "", fmt.Errorf("cgroup v2: %w", err)
	}
	if !strings.Contains(string(ctl), "memory") || !strings.Contains(string(ctl), "pids") {
		return "", fmt.Errorf("cgroup v2: the memory and pids controllers are not delegated to %s", parent)
	}
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("cgroup v2: %w", err)
	}
	for file, v := range map[string]string{"memory.max": strconv.FormatInt(memory, 10), "memory.swap.max": "0", "pids.max": strconv.Itoa(processes)} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0); err != nil && file != "memory.swap.max" {
			_ = os.Remove(dir)
			return "", fmt.Errorf("cgroup v2: %s: %w", file, err)
		}
	}
	return dir, nil
}

// makeV1 makes name under this process's cgroup of controller and
// writes settings; a key ending in "?" is optional.
func makeV1(controller, name string, settings map[string]string) (string, error) {
	own, err := ownCgroup(controller)
	if err != nil {
		return "", fmt.Errorf("cgroup %s: %w", controller, err)
	}
	dir := filepath.Join(cgroupRoot, controller, own, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("cgroup %s: %w", controller, err)
	}
	for file, v := range settings {
		optional := strings.HasSuffix(file, "?")
		file = strings.TrimSuffix(file, "?")
		if err := os.WriteFile(filepath.Join(dir, file), []byte(v), 0); err != nil && !optional {
			_ = os.Remove(dir)
			return "", fmt.Errorf("cgroup %s: %s: %w", controller, file, err)
		}
	}
	return dir, nil
}

// add moves pid (and so everything it starts) into the cgroup.
func (cg *cgroup) add(pid int) error {
	for _, dir := range cg.dirs() {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return err
		}
	}
	return nil
}

func (cg *cgroup) dirs() []string {
	var out []string
	for _, d := range []string{cg.memDir, cg.pidsDir} {
		if d != "" && (len(out) == 0 || out[0] != d) {
			out = append(out, d)
		}
	}
	return out
}

// killAll kills whatever is still in the cgroup.
func (cg *cgroup) killAll() {
	for _, dir := range cg.dirs() {
		if cg.v2 {
			if os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0) == nil {
				continue
			}
		}
		for range 3 {
			data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			if err != nil || len(strings.TrimSpace(string(data))) == 0 {
				break
			}
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// oomKilled reports whether the kernel's OOM killer acted in the cgroup.
func (cg *cgroup) oomKilled() bool {
	if cg.memDir == "" {
		return false
	}
	file := "memory.oom_control"
	if cg.v2 {
		file = "memory.events"
	}
	data, err := os.ReadFile(filepath.Join(cg.memDir, file))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "oom_kill" && f[1] != "0" {
			return true
		}
	}
	return false
}

// remove deletes the cgroup once it is empty.
func (cg *cgroup) remove() {
	cg.killAll()
	for _, dir := range cg.dirs() {
		for i := 0; i < 50; i++ {
			err := syscall.Rmdir(dir)
			if err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
