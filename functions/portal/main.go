// Command portal is the Lambda function behind GET /portal/{proxy+}: the
// Modules page, embedded. It reads no table and no secret.
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.Portal) }
