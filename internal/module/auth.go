package module

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/modules-service/modules/internal/assertion"
	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/federation"
)

// The ways a client may authenticate at the token endpoint, as RFC 7591
// (token_endpoint_auth_method) names them.
const (
	AuthSecretBasic   = "client_secret_basic" // the secret in an Authorization: Basic header
	AuthSecretPost    = "client_secret_post"  // the secret in the form body
	AuthPrivateKeyJWT = "private_key_jwt"     // a JWT signed with a key of the module's JWKS
)

// AuthMethods are the methods a module may accept, in the order shown.
var AuthMethods = []string{AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT}

// DefaultAuthMethods are a module's methods unless its manager says
// otherwise: the secret chosen at create, either way it is sent.
var DefaultAuthMethods = []string{AuthSecretBasic, AuthSecretPost}

// Federated reports whether the client may authenticate with a workload
// platform's token: its module accepts private_key_jwt, whose wire format
// (a jwt-bearer client_assertion) such a token shares, and holds at least
// one federated credential.
func (c Client) Federated() bool {
	return c.Accepts(AuthPrivateKeyJWT) && len(c.FederatedCredentials) > 0
}

// Accepts reports whether the client may authenticate with method. A
// pointer written before methods were kept accepts the defaults.
func (c Client) Accepts(method string) bool {
	if len(c.AuthMethods) == 0 {
		return slices.Contains(DefaultAuthMethods, method)
	}
	return slices.Contains(c.AuthMethods, method)
}

// checkAuth validates the module's keys and methods, and keeps the keys
// as parsed: public members only, re-encoded, so that nothing a manager
// sent beside a key (or a private member, which is refused) is stored.
// A module that turns its secret methods off must accept private_key_jwt
// and hold a key; the secret stays stored but is never consulted then.
func (m *Module) checkAuth() []derrors.Field {
	var bad []derrors.Field
	seen := map[string]bool{}
	for _, method := range m.TokenEndpointAuthMethods {
		switch {
		case !slices.Contains(AuthMethods, method):
			bad = append(bad, derrors.Field{Name: "tokenEndpointAuthMethods", Code: derrors.CodeInvalidValue, Reason: fmt.Sprintf("%q is not a method; choose from %s", method, strings.Join(AuthMethods, ", "))})
		case seen[method]:
			bad = append(bad, derrors.Field{Name: "tokenEndpointAuthMethods", Code: derrors.CodeDuplicate, Reason: fmt.Sprintf("%q is listed twice", method)})
		}
		seen[method] = true
	}
	if len(m.TokenEndpointAuthMethods) == 0 {
		bad = append(bad, derrors.Field{Name: "tokenEndpointAuthMethods", Code: derrors.CodeRequired, Reason: "must name at least one method, or be left out for the default (" + strings.Join(DefaultAuthMethods, ", ") + ")"})
	}
	keys := 0
	if m.JWKS != nil {
		parsed, err := assertion.ParseKeySet(m.JWKS)
		if de, ok := errors.AsType[*derrors.Error](err); ok {
			return append(bad, de.Fields...)
		}
		keys = len(parsed)
		if m.JWKS, err = encodeKeys(parsed); err != nil {
			return append(bad, derrors.Field{Name: "jwks", Code: derrors.CodeUnsupportedKey, Reason: "could not be read back: " + err.Error()})
		}
	}
	bad = append(bad, federation.Check(m.FederatedCredentials, func(string) bool { return true })...)
	if seen[AuthPrivateKeyJWT] && keys == 0 && len(m.FederatedCredentials) == 0 {
		bad = append(bad, derrors.Field{Name: "jwks", Code: derrors.CodeRequired, Reason: "must hold at least one public key while tokenEndpointAuthMethods includes " + AuthPrivateKeyJWT + ", unless federatedCredentials holds a credential"})
	}
	return bad
}

// encodeKeys is a key set as stored and shown; nil for no keys.
func encodeKeys(keys []assertion.Key) (json.RawMessage, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	set := struct {
		Keys []any `json:"keys"`
	}{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK)
	}
	return json.Marshal(set)
}

// keySummary is what the audit trail keeps of a key set: each key's kid
// and RFC 7638 thumbprint, never the key.
func keySummary(jwks json.RawMessage) []string {
	if jwks == nil {
		return []string{}
	}
	keys, err := assertion.ParseKeySet(jwks)
	if err != nil { // stored sets were checked
		return []string{"(unreadable)"}
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.JWK.KeyID + " " + k.Thumbprint()
	}
	return out
}
