package oauth

import (
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/modules-service/modules/internal/assertion"
	"github.com/modules-service/modules/internal/federation"
	"github.com/modules-service/modules/internal/module"
)

// maxForm bounds the token request body: a few short parameters.
const maxForm = 16 << 10

// tokenRequest is a parsed token request.
type tokenRequest struct {
	grantType, scope string
	clientID         string
	// secrets are the readings of the client secret sent: one, or two
	// for Basic credentials that read two ways (basicSecrets).
	secrets []string
	// method is how the client authenticated (module.AuthSecretBasic,
	// AuthSecretPost or AuthPrivateKeyJWT); empty when it did not.
	method string
	// assertion is the client_assertion of private_key_jwt.
	assertion string
	// federated: the assertion is a workload platform's token (its iss
	// is not the client_id sent), for the module's federated credentials.
	federated bool
}

// parseRequest reads a token request per RFC 6749 §3.2 and §2.3.1.
func parseRequest(r *http.Request) (tokenRequest, *Error) {
	var req tokenRequest
	if r.Method != http.MethodPost {
		return req, ErrInvalidRequest.with("the token endpoint accepts only POST")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return req, ErrInvalidRequest.with("send the parameters as application/x-www-form-urlencoded")
	}
	q := r.URL.Query()
	if q.Has("client_secret") || q.Has("client_id") {
		return req, ErrInvalidRequest.with("client credentials must not be sent in the query string")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
	if err != nil || len(body) > maxForm {
		return req, ErrInvalidRequest.with("the request body is unreadable or too large")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return req, ErrInvalidRequest.with("the body is not valid form-urlencoded data")
	}
	// §3.2: parameters must not be repeated; an empty one counts as absent.
	get := func(name string) (string, *Error) {
		switch v := form[name]; {
		case len(v) > 1:
			return "", ErrInvalidRequest.with("parameter " + name + " is repeated")
		case len(v) == 1:
			return v[0], nil
		}
		return "", nil
	}
	var e *Error
	var secret, assertionType string
	for _, p := range []struct {
		name string
		dst  *string
	}{{"grant_type", &req.grantType}, {"scope", &req.scope}, {"client_id", &req.clientID}, {"client_secret", &secret},
		{"client_assertion_type", &assertionType}, {"client_assertion", &req.assertion}} {
		if *p.dst, e = get(p.name); e != nil {
			return req, e
		}
	}
	auth := r.Header.Get("Authorization")
	if n := holds(secret != "", auth != "", req.assertion != "" || assertionType != ""); n > 1 {
		return req, ErrInvalidRequest.with("use one client authentication method: Basic, client_secret in the body, or client_assertion; not several")
	}
	switch {
	case secret != "":
		req.secrets, req.method = []string{secret}, module.AuthSecretPost
	case auth != "":
		id, secrets, e := parseBasic(auth)
		if e != nil {
			return req, e
		}
		if req.clientID != "" && req.clientID != id {
			return req, ErrInvalidRequest.with("client_id in the body differs from the one in the Authorization header")
		}
		req.clientID, req.secrets, req.method = id, secrets, module.AuthSecretBasic
	case assertionType != "" || req.assertion != "":
		if e := req.readAssertion(assertionType); e != nil {
			return req, e
		}
	}
	if req.grantType == "" {
		return req, ErrInvalidRequest.with("grant_type is required")
	}
	return req, nil
}

// readAssertion checks private_key_jwt's parameters (RFC 7523 §2.2) and
// finds the client ID: client_id when sent, which must then be the
// assertion's subject, else that subject, unverified until the client's
// keys verify the assertion. An assertion whose iss is not the client_id
// sent is a workload platform's token (federated credentials), for the
// client that client_id names.
func (req *tokenRequest) readAssertion(assertionType string) *Error {
	if assertionType != assertion.Type {
		return ErrInvalidRequest.with("client_assertion_type must be " + assertion.Type + ", with the JWT in client_assertion")
	}
	if req.assertion == "" {
		return ErrInvalidRequest.with("client_assertion is required with client_assertion_type")
	}
	// A platform's token names the platform as iss and the workload as
	// sub, never our client ID: its client sends client_id.
	iss, ok := federation.Issuer(req.assertion)
	if ok && req.clientID != "" && iss != req.clientID {
		req.method, req.federated = module.AuthPrivateKeyJWT, true
		return nil
	}
	sub, hasSub := assertion.Subject(req.assertion)
	if !hasSub {
		return ErrInvalidClient.with("client_assertion is not a signed JWT with a sub (the client ID)")
	}
	if ok && req.clientID == "" && iss != sub {
		return ErrInvalidClient.with("send client_id with a workload platform's token (its iss is not its sub); a private_key_jwt assertion has the client ID as both")
	}
	if req.clientID != "" && req.clientID != sub {
		return ErrInvalidClient.with("client_id differs from the client_assertion's sub")
	}
	req.clientID, req.method = sub, module.AuthPrivateKeyJWT
	return nil
}

// holds is how many of conds hold.
func holds(conds ...bool) int {
	n := 0
	for _, c := range conds {
		if c {
			n++
		}
	}
	return n
}

// parseBasic decodes client_secret_basic. RFC 6749 §2.3.1 form-urlencodes
// client ID and secret before they are joined with ':' and base64-encoded;
// most clients do not (curl -u, Python requests, fetch with btoa, Java's
// HttpClient send them as they are), so both readings are accepted:
//
//   - the client ID is decoded when it decodes (ours are [a-z0-9] either way);
//   - the secret is split off at the first ':' (a client ID holds none), so
//     a raw secret keeps its colons;
//   - a secret a form encoder could not have produced (it holds a byte a
//     form encoder escapes, or a '%' not followed by two hex digits) is
//     taken as sent; one that reads the same both ways is one reading;
//     otherwise (only unreserved characters, '%XX' and '+') it is tried
//     decoded first and as sent second. The throttle counts each reading.
func parseBasic(header string) (id string, secrets []string, e *Error) {
	scheme, payload, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", nil, ErrInvalidRequest.with("the Authorization header must use the Basic scheme")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
	if err != nil {
		return "", nil, ErrInvalidRequest.with("the Basic credentials are not valid base64")
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", nil, ErrInvalidRequest.with("the Basic credentials must be client_id:client_secret")
	}
	id = rawID
	if dec, err := url.QueryUnescape(rawID); err == nil {
		id = dec
	}
	if rawSecret == "" {
		return id, nil, nil
	}
	return id, basicSecrets(rawSecret), nil
}

// basicSecrets are the readings of a Basic secret, as parseBasic says.
// Bytes that are not UTF-8 are Latin-1, as Python requests encodes a str
// (RFC 7617 leaves the charset to the client): a secret is UTF-8 text, so
// this reading costs no second verification.
func basicSecrets(sent string) []string {
	if !utf8.ValidString(sent) {
		sent = latin1(sent)
	}
	dec, err := url.QueryUnescape(sent)
	if err != nil || dec == sent || strings.IndexFunc(sent, escaped) >= 0 {
		return []string{sent}
	}
	return []string{dec, sent}
}

// latin1 reads s's bytes as ISO 8859-1.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := range len(s) {
		r[i] = rune(s[i])
	}
	return string(r)
}

// escaped reports whether a form encoder would have escaped r: anything
// but letters, digits, '-', '_', '.', '~', '*' and its own '%' and '+'.
func escaped(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("-_.~*%+", r)
}
