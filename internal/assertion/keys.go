// Package assertion verifies JWT client assertions (RFC 7523 §2.2, OpenID
// Connect Core §9 private_key_jwt): a client proves itself with a JWT it
// signed with a private key whose public half its module holds. No secret
// exists on this path, so none can leak, be guessed or cost an argon2id run.
package assertion

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"

	"github.com/modules-service/modules/internal/derrors"
)

// MaxKeys is how many public keys a module may hold: enough to rotate
// (add the new key, move the clients, remove the old one) with room for
// several deployments, few enough that a verification tries them all.
const MaxKeys = 5

// minRSABits is the smallest RSA modulus accepted (NIST SP 800-131A).
const minRSABits = 2048

// privateMembers are the JWK members that hold private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2): a module holds
// public keys only, so any of them is refused rather than dropped.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// Key is one public key of a module, with the algorithms it verifies.
type Key struct {
	JWK  jose.JSONWebKey
	Algs []jose.SignatureAlgorithm
}

// Thumbprint is the key's RFC 7638 SHA-256 thumbprint, base64url: what the
// audit trail and the page show of a key.
func (k Key) Thumbprint() string {
	t, err := k.JWK.Thumbprint(crypto.SHA256)
	if err != nil { // every key ParseKeySet accepts has one
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(t)
}

// ParseKeySet reads an RFC 7517 JWK Set of public keys for a module: RSA
// of at least 2,048 bits (RS256, PS256), EC P-256 (ES256) or Ed25519
// (EdDSA), at most MaxKeys, each with a kid of its own. Each fault is an
// ErrInvalid field naming the key ("jwks.keys[1]") and what to fix.
func ParseKeySet(raw []byte) ([]Key, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&set); err != nil || set.Keys == nil {
		return nil, derrors.Invalid(derrors.Field{Name: "jwks", Code: derrors.CodeWrongType, Reason: `must be a JWK Set: {"keys": [<public JWK>, …]}`})
	}
	if len(set.Keys) > MaxKeys {
		return nil, derrors.Invalid(derrors.Field{Name: "jwks.keys", Code: derrors.CodeTooMany, Reason: fmt.Sprintf("holds %d keys, at most %d are allowed", len(set.Keys), MaxKeys)})
	}
	var keys []Key
	var faults []derrors.Field
	kids := map[string]int{}
	for i, m := range set.Keys {
		name := fmt.Sprintf("jwks.keys[%d]", i)
		k, code, reason := parseKey(m)
		if reason == "" {
			if j, taken := kids[k.JWK.KeyID]; taken {
				code, reason = derrors.CodeDuplicate, fmt.Sprintf("kid %q is also the kid of jwks.keys[%d]; each key needs a kid of its own", k.JWK.KeyID, j)
			}
			kids[k.JWK.KeyID] = i
		}
		if reason != "" {
			faults = append(faults, derrors.Field{Name: name, Code: code, Reason: reason})
			continue
		}
		keys = append(keys, k)
	}
	if len(faults) > 0 {
		return nil, derrors.Invalid(faults...)
	}
	return keys, nil
}

// parseKey reads one public JWK, or says what is wrong with it.
func parseKey(raw json.RawMessage) (Key, derrors.Code, string) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return Key{}, derrors.CodeWrongType, "must be a JSON object (a JWK)"
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			if m == "k" {
				return Key{}, derrors.CodePrivateKey, "is a symmetric key (member \"k\"); a module holds public keys only"
			}
			return Key{}, derrors.CodePrivateKey, fmt.Sprintf("holds the private member %q; send the public key only, and keep the private key with the client", m)
		}
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return Key{}, derrors.CodeUnsupportedKey, "is not a public key this service accepts (RSA, EC P-256 or Ed25519 JWK): " + err.Error()
	}
	if jwk.KeyID == "" {
		return Key{}, derrors.CodeRequired, "needs a kid, which the client's assertions name in their header"
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return Key{}, derrors.CodeUnsupportedKey, fmt.Sprintf("has use %q; a client's key signs, so use must be \"sig\" or absent", jwk.Use)
	}
	var algs []jose.SignatureAlgorithm
	switch pub := jwk.Key.(type) {
	case *rsa.PublicKey:
		if n := pub.N.BitLen(); n < minRSABits {
			return Key{}, derrors.CodeUnsupportedKey, fmt.Sprintf("is an RSA key of %d bits; at least %d are needed", n, minRSABits)
		}
		algs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return Key{}, derrors.CodeUnsupportedKey, fmt.Sprintf("is an EC key on %s; only P-256 (ES256) is accepted", pub.Curve.Params().Name)
		}
		algs = []jose.SignatureAlgorithm{jose.ES256}
	case ed25519.PublicKey:
		algs = []jose.SignatureAlgorithm{jose.EdDSA}
	default:
		return Key{}, derrors.CodeUnsupportedKey, "is not a public key this service accepts (RSA, EC P-256 or Ed25519)"
	}
	if jwk.Algorithm != "" {
		alg := jose.SignatureAlgorithm(jwk.Algorithm)
		if !slices.Contains(algs, alg) {
			return Key{}, derrors.CodeUnsupportedKey, fmt.Sprintf("has alg %q, which its key type cannot sign with (it can: %v)", jwk.Algorithm, algs)
		}
		algs = []jose.SignatureAlgorithm{alg}
	}
	return Key{JWK: jwk, Algs: algs}, "", ""
}

// Algorithms are the signature algorithms a client assertion may use, as
// the metadata documents advertise them
// (token_endpoint_auth_signing_alg_values_supported).
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}
