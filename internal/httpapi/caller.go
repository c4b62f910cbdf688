package httpapi

import (
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/modules-service/modules/internal/audit"
	"github.com/modules-service/modules/internal/caller"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/obs"
)

// callerOf reads who is calling from the authorizer context; false when no
// authorizer vouched for the request.
func callerOf(r *http.Request) (caller.Caller, bool) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil {
		return caller.Caller{}, false
	}
	return caller.FromContext(rc.Authorizer.Lambda)
}

// originOf is what the audit trail records of where a request came from:
// the caller, API Gateway's request ID and the source address it saw
// (which no header can set), and the user agent.
func originOf(r *http.Request, c caller.Caller) audit.Origin {
	o := audit.Origin{
		Actor:     audit.Actor{Kind: string(c.Kind), ClientID: c.ClientID, Subject: c.Subject, TenantID: c.TenantID},
		UserAgent: r.UserAgent(),
	}
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		o.RequestID, o.SourceIP = rc.RequestID, rc.HTTP.SourceIP
	}
	return o
}

// requireManager lets through only a tenant manager of the path's tenant.
// A function refuses a {tenantId} that is not the caller's, whatever the
// authorizer allowed.
func requireManager(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := callerOf(r)
		// Only what the authorizer vouched for, and IDs of a module's
		// shape, reach the log line: never an arbitrary path segment.
		if ok {
			obs.Set(r.Context(), obs.Tenant, c.TenantID)
			if c.ClientID != "" {
				obs.Set(r.Context(), obs.Client, c.ClientID)
			}
		}
		if id := r.PathValue("moduleId"); module.IsModuleID(id) {
			obs.Set(r.Context(), obs.Module, id)
		}
		switch {
		case !ok:
			writeError(w, r, derrors.New(derrors.ErrUnauthenticated, "send a bearer access token of a tenant manager in the Authorization header"))
		case c.TenantID != r.PathValue("tenantId"):
			writeError(w, r, derrors.New(derrors.ErrForbidden, "your token is not valid for this tenant"))
		case c.Kind != caller.Manager:
			writeError(w, r, derrors.New(derrors.ErrForbidden, "only a manager of this tenant may manage its modules; a client token needs the modules:manage scope, and its module must still have it"))
		default:
			next.ServeHTTP(w, r.WithContext(audit.WithOrigin(r.Context(), originOf(r, c))))
		}
	})
}
