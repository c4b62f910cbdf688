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
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE): the soft memory limit at
// memoryLimitShare of it and GOGC at gcPercent. GOMEMLIMIT and GOGC in the
// environment win, so an operator can override either; without a memory
// size (memoryMB 0: not in Lambda) nothing changes. It returns what it set
// (-1: left as it was).
func TuneGC(memoryMB int) (limit int64, percent int) {
	limit, percent = -1, -1
	if memoryMB <= 0 {
		return limit, percent
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		limit = int64(float64(memoryMB) * memoryLimitShare * (1 << 20))
		debug.SetMemoryLimit(limit)
	}
	if os.Getenv("GOGC") == "" {
		percent = gcPercent
		debug.SetGCPercent(percent)
	}
	return limit, percent
}
