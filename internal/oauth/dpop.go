package oauth

import (
	"context"
	"net/http"
	"strings"

	"github.com/modules-service/modules/internal/dpop"
	"github.com/modules-service/modules/internal/module"
)

// checkProof reads the request's DPoP proof (RFC 9449 §5), if any, before
// the client is authenticated: it is a signature check, no I/O. htu may
// be the metadata's token_endpoint or the URL as the request reached this
// function (the API's own domain, when Issuer names another, such as the
// edge in front). A zero Proof: none was sent.
func (e *Endpoint) checkProof(r *http.Request) (dpop.Proof, *Error) {
	values := r.Header.Values(dpop.Header)
	switch {
	case len(values) == 0:
		return dpop.Proof{}, nil
	case len(values) > 1:
		return dpop.Proof{}, ErrInvalidDPoPProof.with("send one DPoP header")
	}
	urls := []string{issuer(e.cfg.Issuer, r) + tokenPath, "https://" + r.Host + tokenPath}
	p, err := dpop.Check(values[0], dpop.Request{Method: http.MethodPost, URLs: urls}, e.now())
	if err != nil {
		return dpop.Proof{}, ErrInvalidDPoPProof.with(strings.TrimPrefix(err.Error(), dpop.ErrInvalid.Error()+": "))
	}
	return p, nil
}

// bind decides, once the client is known, whether its token may be
// issued as proof says: a module with DPoPBoundAccessTokens needs a proof
// (RFC 9449 §5.2), and a proof's jti is recorded once across instances
// (§11.1), under the client's partition, beside its assertions' jti but
// never equal to one ("dpop " before it).
func (e *Endpoint) bind(ctx context.Context, c module.Client, proof dpop.Proof) error {
	if proof.JKT == "" {
		if c.DPoPBound {
			return ErrInvalidDPoPProof.with("this client's tokens are DPoP-bound: send a DPoP proof (RFC 9449)")
		}
		return nil
	}
	first, err := e.auth.replays.FirstUse(ctx, c.ClientID, "dpop "+proof.JTI, proof.Expires)
	if err != nil {
		return err
	}
	if !first {
		return ErrInvalidDPoPProof.with("jti already used: make a proof per request")
	}
	return nil
}
