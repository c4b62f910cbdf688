package authz

import (
	"context"
	"net/url"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modules-service/modules/internal/accesstoken"
	"github.com/modules-service/modules/internal/dpop"
)

// request is what a DPoP proof is checked against: the event, the token
// as sent and the scheme it came under.
type request struct {
	event  events.APIGatewayV2CustomAuthorizerV2Request
	token  string
	scheme string
}

// checkBinding holds a verified token to its scheme (RFC 9449 §7.1): a
// token bound to a key (cnf.jkt) passes only as DPoP with a proof by that
// key for this very request, used once; a bearer token only as Bearer.
// Nothing here is cached: API Gateway's authorizer cache is off
// (ReauthorizeEvery: 0, which a template test holds), so every request's
// proof is checked and its jti recorded.
func (a *Authorizer) checkBinding(ctx context.Context, c accesstoken.Claims, req request) error {
	jkt := c.JKT()
	switch {
	case jkt == "" && req.scheme == dpop.Scheme:
		return refuse(whyDPoP, "a bearer token sent as DPoP")
	case jkt == "":
		return nil
	case req.scheme != dpop.Scheme:
		return refuse(whyDPoP, "a DPoP-bound token sent as Bearer")
	}
	e := req.event
	raw, ok := e.Headers["dpop"]
	if !ok {
		return refuse(whyDPoP, "no DPoP proof")
	}
	// API Gateway joins repeated headers with commas; Check refuses that.
	p, err := dpop.Check(raw, dpop.Request{Method: e.RequestContext.HTTP.Method, URLs: a.calledURLs(e), AccessToken: req.token}, a.now())
	if err != nil {
		return refuse(whyDPoP, err.Error())
	}
	if p.JKT != jkt {
		return refuse(whyDPoP, "the proof's key is not the one the token is bound to")
	}
	if a.Proofs == nil {
		return refuse(whyDPoP, "no store for DPoP proofs is configured")
	}
	first, err := a.Proofs.FirstUse(ctx, c.ClientID, p.JTI, p.Expires)
	if err != nil {
		return err // the store failed: nothing was decided
	}
	if !first {
		return refuse(whyDPoP, "the proof's jti was used before")
	}
	return nil
}

// calledURLs are the URLs the client may have called, as RFC 9449 §4.3
// compares them (without query): https on the domain API Gateway saw with
// the path as sent (rawPath: a named stage's prefix included, as in the
// URL), and the same path on the issuer's origin when one is configured,
// which is the URL clients call behind a front door (CloudFront forwards
// the API's own host name, not the viewer's).
func (a *Authorizer) calledURLs(e events.APIGatewayV2CustomAuthorizerV2Request) []string {
	path := e.RawPath
	urls := []string{"https://" + e.RequestContext.DomainName + path}
	if a.Issuer != "" {
		if u, err := url.Parse(a.Issuer); err == nil && u.Host != "" {
			urls = append(urls, u.Scheme+"://"+u.Host+path)
		}
	}
	return urls
}
