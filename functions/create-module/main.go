// Command create-module is the Lambda function behind POST /tenants/{tenantId}/modules.
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.CreateModule) }
