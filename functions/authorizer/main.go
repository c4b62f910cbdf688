// Command authorizer is the HTTP API's Lambda authorizer (payload 2.0,
// simple responses): it admits this service's access tokens and the
// portal identity provider's tokens, and hands functions the caller's
// tenant, kind, client ID and scopes.
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.Authorizer) }
