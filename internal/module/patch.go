package module

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/modules-service/modules/internal/derrors"
)

// Patch is a JSON merge patch (RFC 7396) of a module: member name to raw
// JSON value, where null removes (resets) a member.
type Patch map[string]json.RawMessage

const neverChanged = "can never be changed: the client ID and secret are fixed at creation and the secret is never shown again; to replace a leaked secret, create a new module and disable or delete this one"

// apply merges p into m and returns every field at fault at once.
func (p Patch) apply(m *Module) error {
	var bad []derrors.Field
	fail := func(name string, code derrors.Code, reason string) {
		bad = append(bad, derrors.Field{Name: name, Code: code, Reason: reason})
	}

	shown := readOnlyValues(*m) // as read, so an unchanged read-only member is no change
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error order
	for _, k := range keys {
		v := p[k]
		null := bytes.Equal(bytes.TrimSpace(v), []byte("null"))
		switch k {
		case "name", "displayName":
			var s string
			if null {
				fail(k, derrors.CodeRequired, "must be a string; it is required and cannot be removed")
				continue
			}
			if json.Unmarshal(v, &s) != nil {
				fail(k, derrors.CodeWrongType, "must be a string; it is required and cannot be removed")
				continue
			}
			if k == "name" {
				m.Name = s
			} else {
				m.DisplayName = s
			}
		case "enabled":
			if null || json.Unmarshal(v, &m.Enabled) != nil {
				fail(k, derrors.CodeWrongType, "must be true or false")
			}
		case "dpopBoundAccessTokens":
			if null || json.Unmarshal(v, &m.DPoPBoundAccessTokens) != nil {
				fail(k, derrors.CodeWrongType, "must be true or false")
			}
		case "scopes":
			m.Scopes = nil
			if !null && json.Unmarshal(v, &m.Scopes) != nil {
				fail(k, derrors.CodeWrongType, "must be an array of strings, or null to remove every scope")
			}
		case "tokenEndpointAuthMethods":
			m.TokenEndpointAuthMethods = nil // null: the default (normalize)
			if !null && (json.Unmarshal(v, &m.TokenEndpointAuthMethods) != nil || m.TokenEndpointAuthMethods == nil) {
				fail(k, derrors.CodeWrongType, "must be an array of method names, or null for the default")
			}
		case "jwks":
			// The whole set is replaced: a manager rotates by adding the
			// new key, then removing the old one once clients use it.
			m.JWKS = nil
			if !null {
				m.JWKS = append(json.RawMessage(nil), v...)
			}
		case "federatedCredentials":
			// The whole list is replaced, as jwks is.
			m.FederatedCredentials = nil
			if !null {
				bad = append(bad, patchFederated(&m.FederatedCredentials, v)...)
			}
		case "userLogin":
			if null {
				m.UserLogin = UserLogin{}
				continue
			}
			bad = append(bad, patchUserLogin(&m.UserLogin, v)...)
		case "clientSecret":
			fail(k, derrors.CodeReadOnly, neverChanged)
		case "lastUsedAt":
			// Moved by the token endpoint, outside the version a client
			// edits: what the client read may be an hour old, so any time
			// it sends back is no change.
			var t *time.Time
			if json.Unmarshal(v, &t) != nil {
				fail(k, derrors.CodeReadOnly, "is read-only; send it as read (a time, or null) or leave it out")
			}
		case "clientId", "id", "tenantId", "createdAt", "updatedAt", "version", "manager":
			// A client may send back the module it read: read-only
			// members with their current values are no change.
			if sameJSON(shown[k], v) {
				continue
			}
			switch k {
			case "clientId", "id":
				fail(k, derrors.CodeReadOnly, neverChanged)
			case "manager":
				fail(k, derrors.CodeReadOnly, "is read-only: a module is a manager when its scopes include "+ScopeManage)
			default:
				fail(k, derrors.CodeReadOnly, "is read-only; send it unchanged or leave it out")
			}
		default:
			fail(k, derrors.CodeUnknownMember, "is not a field of a module; editable fields are name, displayName, userLogin, scopes, enabled, tokenEndpointAuthMethods, jwks, federatedCredentials and dpopBoundAccessTokens")
		}
	}
	if len(bad) > 0 {
		return derrors.Invalid(bad...)
	}
	return nil
}

// readOnlyValues are m's members as its representation shows them.
func readOnlyValues(m Module) map[string]json.RawMessage {
	b, _ := json.Marshal(m) // a Module always encodes
	var members map[string]json.RawMessage
	_ = json.Unmarshal(b, &members)
	return members
}

// sameJSON reports whether two JSON values are equal as values (times as
// instants, so "…Z" and "…+00:00" match).
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if a == nil || json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	if xs, ok := x.(string); ok {
		if ys, ok := y.(string); ok {
			tx, errx := time.Parse(time.RFC3339Nano, xs)
			ty, erry := time.Parse(time.RFC3339Nano, ys)
			if errx == nil && erry == nil {
				return tx.Equal(ty)
			}
			return xs == ys
		}
	}
	return reflect.DeepEqual(x, y)
}

func patchUserLogin(u *UserLogin, raw json.RawMessage) []derrors.Field {
	var p Patch
	// Strict like the body (encoding/json/v2 semantics): a repeated member
	// is refused, never last-one-wins.
	if err := jsonv2.Unmarshal(raw, &p); err != nil || p == nil {
		if syn, ok := errors.AsType[*jsontext.SyntacticError](err); ok && errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			return []derrors.Field{{Name: "userLogin." + syn.JSONPointer.LastToken(), Code: derrors.CodeDuplicateMember, Reason: "appears more than once; send each member once"}}
		}
		return []derrors.Field{{Name: "userLogin", Code: derrors.CodeWrongType, Reason: "must be an object, or null to switch User Login off and clear its URLs"}}
	}
	var bad []derrors.Field
	for k, v := range p {
		null := bytes.Equal(bytes.TrimSpace(v), []byte("null"))
		var err error
		switch k {
		case "enabled":
			u.Enabled = false
			if !null {
				err = json.Unmarshal(v, &u.Enabled)
			}
		case "redirectUris":
			u.RedirectURIs = nil
			if !null {
				err = json.Unmarshal(v, &u.RedirectURIs)
			}
		case "postLogoutRedirectUris":
			u.PostLogoutRedirectURIs = nil
			if !null {
				err = json.Unmarshal(v, &u.PostLogoutRedirectURIs)
			}
		default:
			bad = append(bad, derrors.Field{Name: "userLogin." + k, Code: derrors.CodeUnknownMember, Reason: "is not a User Login option; options are enabled, redirectUris and postLogoutRedirectUris"})
			continue
		}
		if err != nil {
			bad = append(bad, derrors.Field{Name: "userLogin." + k, Code: derrors.CodeWrongType, Reason: "has the wrong type: enabled is true or false, the URI lists are arrays of strings"})
		}
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i].Name < bad[j].Name })
	return bad
}
