// Command list-modules is the Lambda function behind GET /tenants/{tenantId}/modules
// and GET /tenants/{tenantId}/modules/{moduleId}. It holds no Secrets Manager
// client and no permission for it.
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.ListModules) }
