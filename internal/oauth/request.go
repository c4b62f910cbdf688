package oauth

import (
	"encoding/base64"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxForm bounds the token request body: a few short parameters.
const maxForm = 16 << 10

// tokenRequest is a parsed token request.
type tokenRequest struct {
	grantType, scope string
	clientID, secret string
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
	for _, p := range []struct {
		name string
		dst  *string
	}{{"grant_type", &req.grantType}, {"scope", &req.scope}, {"client_id", &req.clientID}, {"client_secret", &req.secret}} {
		if *p.dst, e = get(p.name); e != nil {
			return req, e
		}
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		if req.secret != "" {
			return req, ErrInvalidRequest.with("use one client authentication method: Basic or client_secret in the body, not both")
		}
		id, secret, e := parseBasic(auth)
		if e != nil {
			return req, e
		}
		if req.clientID != "" && req.clientID != id {
			return req, ErrInvalidRequest.with("client_id in the body differs from the one in the Authorization header")
		}
		req.clientID, req.secret = id, secret
	}
	if req.grantType == "" {
		return req, ErrInvalidRequest.with("grant_type is required")
	}
	return req, nil
}

// parseBasic decodes client_secret_basic: RFC 6749 §2.3.1 form-urlencodes
// client ID and secret before they are joined with ':' and base64-encoded.
func parseBasic(header string) (id, secret string, e *Error) {
	scheme, payload, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", ErrInvalidRequest.with("the Authorization header must use the Basic scheme")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
	if err != nil {
		return "", "", ErrInvalidRequest.with("the Basic credentials are not valid base64")
	}
	encID, encSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", ErrInvalidRequest.with("the Basic credentials must be client_id:client_secret")
	}
	id, err1 := url.QueryUnescape(encID)
	secret, err2 := url.QueryUnescape(encSecret)
	if err1 != nil || err2 != nil {
		return "", "", ErrInvalidRequest.with("the Basic credentials must be form-urlencoded (RFC 6749 §2.3.1)")
	}
	return id, secret, nil
}
