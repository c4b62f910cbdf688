// Command token is the Lambda function behind POST /oauth2/token,
// GET /.well-known/jwks.json and GET /.well-known/oauth-authorization-server.
// It reads client pointers, secret hashes and the signing key, and writes
// only its counters (LIMIT#), credential events (CREDEVENTS#) and a
// module's lastUsedAt (docs/security.md, "Who writes what").
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.Token) }
