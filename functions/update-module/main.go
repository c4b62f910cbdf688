// Command update-module is the Lambda function behind PATCH /tenants/{tenantId}/modules/{moduleId}.
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.UpdateModule) }
