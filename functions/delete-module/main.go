// Command delete-module is the Lambda function behind DELETE /tenants/{tenantId}/modules/{moduleId}.
package main

import "github.com/modules-service/modules/internal/wiring"

func main() { wiring.Main(wiring.DeleteModule) }
