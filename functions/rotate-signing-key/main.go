// Command rotate-signing-key is the Secrets Manager rotation function of
// the token-signing key: it creates the first key when the stack is
// deployed and a new one on every scheduled rotation.
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.RotateSigningKey) }
