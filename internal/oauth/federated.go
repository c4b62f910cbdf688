package oauth

import (
	"context"
	"errors"

	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/module"
)

// authenticateFederated returns the enabled client whose module holds a
// federated credential that raw, a workload platform's token, matches
// (federation.Verifier.Verify: iss, sub and aud exactly, an issuer on the
// operator's list, the issuer's signature, exp, the jti once), presented
// from source; throttled as private_key_jwt is (authenticateSigned).
func (a *authenticator) authenticateFederated(ctx context.Context, clientID, raw, source string) (module.Client, error) {
	return a.authenticateSigned(ctx, clientID, source, "federated assertion refused", func(c module.Client, found bool) error {
		if !found || !c.Federated() {
			return refusedSigned(errNotFederated)
		}
		_, err := a.federated.Verify(ctx, raw, clientID, c.FederatedCredentials)
		if errors.Is(err, federation.ErrRefused) {
			return refusedSigned(err)
		}
		return err
	})
}

// errNotFederated: the client ID names no client, or one whose module
// holds no federated credential or does not accept private_key_jwt.
var errNotFederated = errors.New("no client under this client ID accepts federated assertions")
