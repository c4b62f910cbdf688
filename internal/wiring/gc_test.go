package wiring

import (
	"runtime/debug"
	"testing"
)

// TestTuneGC: in Lambda the limit is 90 % of the function's memory and
// GOGC 400; the environment's GOMEMLIMIT and GOGC win; outside Lambda
// nothing changes; SetGC (the local gateway's) takes the limit it is given.
func TestTuneGC(t *testing.T) {
	limit0, percent0 := debug.SetMemoryLimit(-1), debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetMemoryLimit(limit0); debug.SetGCPercent(percent0) })
	reset := func() { debug.SetMemoryLimit(1 << 62); debug.SetGCPercent(100) }

	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	reset()
	TuneGC(1024)
	if got, want := debug.SetMemoryLimit(-1), int64(966367641); got != want { // 0.9 × 1024 MiB
		t.Errorf("limit at 1024 MB: %d, want %d (90 %%)", got, want)
	}
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GOGC at 1024 MB: %d, want 400", got)
	}

	t.Setenv("GOMEMLIMIT", "900MiB")
	t.Setenv("GOGC", "50")
	reset()
	TuneGC(1024)
	if got := debug.SetMemoryLimit(-1); got != 1<<62 {
		t.Errorf("with GOMEMLIMIT set the limit was changed to %d", got)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set GOGC was changed to %d", got)
	}

	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	reset()
	if limit, percent := TuneGC(0); limit != -1 || percent != -1 || debug.SetGCPercent(100) != 100 {
		t.Errorf("outside Lambda: set %d, %d; want nothing", limit, percent)
	}

	reset()
	if limit, percent := SetGC(256 << 20); limit != 256<<20 || percent != 400 {
		t.Errorf("SetGC(256 MiB) says it set %d, %d; want %d, 400", limit, percent, 256<<20)
	}
	if got := debug.SetMemoryLimit(-1); got != 256<<20 {
		t.Errorf("limit after SetGC(256 MiB): %d", got)
	}
}
