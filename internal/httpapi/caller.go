package httpapi

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
)

// Keys of the Lambda authorizer's context (functions/authorizer), as API
// Gateway hands them to every function in requestContext.authorizer.lambda.
const (
	CtxTenant   = "tenantId"
	CtxKind     = "kind" // KindManager or KindClient
	CtxClientID = "clientId"
	CtxScope    = "scope" // space-separated

	KindManager = "manager"
	KindClient  = "client"
)

// callerOf reads who is calling from the authorizer context; false when no
// authorizer vouched for the request.
func callerOf(r *http.Request) (module.Caller, bool) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.Lambda == nil {
		return module.Caller{}, false
	}
	lc := rc.Authorizer.Lambda
	tenant, _ := lc[CtxTenant].(string)
	kind, _ := lc[CtxKind].(string)
	client, _ := lc[CtxClientID].(string)
	if tenant == "" {
		return module.Caller{}, false
	}
	return module.Caller{TenantID: tenant, Manager: kind == KindManager, ClientID: client}, true
}

// requireManager lets through only a tenant manager of the path's tenant.
// A function refuses a {tenantId} that is not the caller's, whatever the
// authorizer allowed.
func requireManager(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := callerOf(r)
		switch {
		case !ok:
			writeError(w, r, derrors.New(derrors.ErrUnauthenticated, "send a bearer access token of a tenant manager in the Authorization header"))
		case c.TenantID != r.PathValue("tenantId"):
			writeError(w, r, derrors.New(derrors.ErrForbidden, "your token is not valid for this tenant"))
		case !c.Manager:
			writeError(w, r, derrors.New(derrors.ErrForbidden, "only a manager of this tenant may manage its modules; a client token needs the modules:manage scope"))
		default:
			next.ServeHTTP(w, r)
		}
	})
}
