package wiring

import (
	"os"
	"runtime/debug"
)

// GC settings of a function, from the memory Lambda gives it.
const (
	// memoryLimitShare of the function's memory is the Go heap's soft
	// limit: the rest is for the binary, goroutine stacks and the runtime.
	memoryLimitShare = 0.9
	// gcPercent lets the heap grow to five times what is live before the
	// collector runs (GOGC=100 is twice): a function's live heap is a few
	// MiB of caches in hundreds of MiB it pays for anyway, so collections
	// come a quarter as often and take less of the requests' CPU; the
	// memory limit makes the collector run sooner if the heap ever nears
	// it, instead of the instance running out of memory.
	gcPercent = 400
)

// TuneGC sets the collector for a Lambda instance of memoryMB
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE): SetGC with a limit of
// memoryLimitShare of it. Without a memory size (memoryMB 0: not in
// Lambda) nothing changes. It returns what it set (-1: left as it was).
func TuneGC(memoryMB int) (limit int64, percent int) {
	if memoryMB <= 0 {
		return -1, -1
	}
	return SetGC(int64(float64(memoryMB) * memoryLimitShare * (1 << 20)))
}

// SetGC gives the process the functions' GOGC (gcPercent) under a soft
// memory limit of limit bytes. GOMEMLIMIT and GOGC in the environment win,
// so an operator can override either. It returns what it set (-1: left as
// it was).
func SetGC(limit int64) (int64, int) {
	percent := -1
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	} else {
		limit = -1
	}
	if os.Getenv("GOGC") == "" {
		percent = gcPercent
		debug.SetGCPercent(percent)
	}
	return limit, percent
}
