package escape

import "time"

// Layers name the part of a sandbox a case attacks.
const (
	LayerFilesystem = "filesystem"
	LayerNetwork    = "network"
	LayerProcess    = "process"
	LayerPrivilege  = "privilege"
	LayerKernel     = "kernel"
	LayerLimits     = "limits"
	// LayerBaseline marks what the profile allows: a runner must let it
	// happen, or it is blocking by breaking rather than by enforcing.
	LayerBaseline = "baseline"
)

// Limits are the resource limits every runner is asked to enforce.
type Limits struct {
	WallTime    time.Duration
	MemoryBytes int64
	Processes   int
}

// DefaultLimits is the profile's budget for one run.
var DefaultLimits = Limits{WallTime: 15 * time.Second, MemoryBytes: 256 << 20, Processes: 32}

// Result is what a runner observed of one run.
type Result struct {
	Exit           int
	Stdout, Stderr string
	Duration       time.Duration
	// Killed reports that the runner ended the run at its wall limit.
	Killed bool
}

// Case is one attack. Script is a bash script run inside the sandbox;
// Escaped decides, from the Env's state after the run and the run's output,
// whether the attack got through, and says what it saw either way. For a
// baseline case, Escaped reports whether the permitted action took effect.
type Case struct {
	Name, Layer string
	// WallTime, when set, replaces DefaultLimits.WallTime for this case.
	WallTime time.Duration
	Script   func(Env) string
	Escaped  func(Env, Result) (bool, string)
}

// limits returns the limits the case runs under.
func (c Case) limits() Limits {
	l := DefaultLimits
	if c.WallTime > 0 {
		l.WallTime = c.WallTime
	}
	return l
}
