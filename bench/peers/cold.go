package main

import (
	"fmt"

	"github.com/modules-service/modules/bench/loadgen"
)

// coldRequests is the size of the cold burst: a client's fleet starting at
// once.
const coldRequests = 50

// coldBurst sends coldRequests token requests at once to s, which has just
// started and answered its set-up and the one token request of checkAlg,
// and measures them and the CPU s spent on them. On this service's side
// the local gateway holds one warm token instance then, so 49 of the 50
// requests start a fresh instance each (internal/apigw.Instances), which
// makes its init and verifies the secret (argon2id) before it signs; as on
// Lambda, but here every instance shares this machine's cores. The one
// token before the burst also makes the loopback address a source the
// client authenticated from, as its fleet's would be: from a new address
// at most oauth.MaxPerSource verifications run at once and the rest get
// slow_down. On a JVM's side the burst meets code not yet compiled.
func coldBurst(s *system) (loadgen.Run, error) {
	cpu0, err := loadgen.CPUTime(s.cmd.Process.Pid)
	if err != nil {
		return loadgen.Run{}, fmt.Errorf("%s: %w", s.name, err)
	}
	r := loadgen.Burst(s.target, coldRequests)
	cpu1, err := loadgen.CPUTime(s.cmd.Process.Pid)
	if err != nil {
		return loadgen.Run{}, fmt.Errorf("%s: %w", s.name, err)
	}
	r.CPU = cpu1 - cpu0
	return r, nil
}
