package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat; Linux exports them
// in USER_HZ, which is 100 on every architecture Go supports.
const userHZ = 100

// maxRSSSamples bounds the sampler's memory: an hour at one a second, with
// room to spare.
const maxRSSSamples = 4000

type rssSample struct {
	T  float64 `json:"t_s"` // seconds since the end of the warmup
	KB uint64  `json:"rss_kb"`
}

// readRSS returns the resident set size of pid in KiB.
func readRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("/proc/%d/status: unexpected VmRSS line %q", pid, bytes.TrimSpace(line))
		}
		return strconv.ParseUint(string(f[0]), 10, 64)
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS line (a kernel thread or a zombie?)", pid)
}

// procCPU returns the user plus system CPU time pid has used.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces and parentheses; the fields that
	// follow it start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := bytes.Fields(b[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields, want at least 15", pid, len(f)+2)
	}
	var ticks uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// selfCPU returns this process's user and system CPU time.
func selfCPU() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// rssSampler records another process's RSS at a fixed interval.
type rssSampler struct {
	pid   int
	every time.Duration

	mu      sync.Mutex
	samples []rssSample
	err     error
}

// run samples once at once and then every s.every until stop is closed or
// the process cannot be read any more.
func (s *rssSampler) run(stop <-chan struct{}) {
	start := time.Now()
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		kb, err := readRSS(s.pid)
		s.mu.Lock()
		if err != nil {
			s.err = fmt.Errorf("RSS of pid %d: %w", s.pid, err)
		} else if len(s.samples) < maxRSSSamples {
			s.samples = append(s.samples, rssSample{T: time.Since(start).Seconds(), KB: kb})
		}
		s.mu.Unlock()
		if err != nil {
			return
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func (s *rssSampler) result() ([]rssSample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]rssSample(nil), s.samples...), s.err
}

// rssSlope is the least-squares slope of the samples in MiB per minute;
// ok is false when fewer than two distinct times were sampled.
func rssSlope(samples []rssSample) (slope float64, ok bool) {
	n := float64(len(samples))
	if n < 2 {
		return 0, false
	}
	var sx, sy float64
	for _, s := range samples {
		sx += s.T / 60
		sy += float64(s.KB) / 1024
	}
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for _, s := range samples {
		dx := s.T/60 - mx
		sxy += dx * (float64(s.KB)/1024 - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}

// cpuModel names the first CPU in /proc/cpuinfo, or says it could not.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if ok && string(bytes.TrimSpace(k)) == "model name" {
			return string(bytes.TrimSpace(v))
		}
	}
	return "unknown"
}

// checkPID fails when pid's RSS and CPU time cannot be read, so that a
// wrong -pid stops the run before it starts rather than after.
func checkPID(pid int) error {
	if _, err := readRSS(pid); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("-pid %d: no such process", pid)
		}
		return fmt.Errorf("-pid %d: %w", pid, err)
	}
	if _, err := procCPU(pid); err != nil {
		return fmt.Errorf("-pid %d: %w", pid, err)
	}
	return nil
}
