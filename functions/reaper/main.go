// Command reaper runs on a schedule and deletes secret hashes whose module
// does not exist (see module.Service.Reap).
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.Reaper) }
