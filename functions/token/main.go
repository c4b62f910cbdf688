// Command token is the Lambda function behind POST /oauth2/token,
// GET /.well-known/jwks.json and GET /.well-known/oauth-authorization-server.
// It only reads: client pointers, secret hashes and the signing key; its one
// write is the failed-authentication counter.
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.Token) }
