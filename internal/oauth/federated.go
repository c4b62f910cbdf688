package oauth

import (
	"context"
	"errors"

	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/module"
	"github.com/modules-service/modules/internal/obs"
)

// authenticateFederated returns the enabled client whose module holds a
// federated credential that raw, a workload platform's token, matches
// (federation.Verifier.Verify: iss, sub and aud exactly, an issuer on the
// operator's list, the issuer's signature, exp, the jti once). As for
// private_key_jwt a good token is never counted or held back, and only a
// refusal goes through the per-(client, source) throttle. Every refusal
// is ErrInvalidClient, its reason in the log.
func (a *authenticator) authenticateFederated(ctx context.Context, clientID, raw, source string) (module.Client, error) {
	if module.CheckClientID(clientID) != nil {
		return module.Client{}, ErrInvalidClient
	}
	c, found, err := a.client(ctx, clientID)
	if err != nil {
		return module.Client{}, err
	}
	if found {
		obs.Set(ctx, obs.Client, clientID)
	}
	err = errNotFederated
	if found && c.Federated() {
		_, err = a.federated.Verify(ctx, raw, clientID, c.FederatedCredentials)
	}
	switch {
	case err == nil && c.Enabled:
		return c, nil
	case err == nil: // a disabled module: the platform's own token, never a failure
		return module.Client{}, ErrInvalidClient
	case !errors.Is(err, federation.ErrRefused) && !errors.Is(err, errNotFederated):
		return module.Client{}, err // the jti could not be recorded: nothing was decided
	}
	if found {
		a.log.InfoContext(ctx, "federated assertion refused", "clientId", clientID, "reason", err.Error())
	}
	try, err := a.throttle.admit(ctx, clientID, found, source, 1)
	if err != nil {
		return module.Client{}, err // past the limits: slow_down
	}
	a.throttle.record(ctx, try.failed(ctx))
	return module.Client{}, ErrInvalidClient
}

// errNotFederated: the client ID names no client, or one whose module
// holds no federated credential or does not accept private_key_jwt.
var errNotFederated = errors.New("no client under this client ID accepts federated assertions")
