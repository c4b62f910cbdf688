package module

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/federation"
)

// Limits of the product rules; the OpenAPI document states the same.
const (
	NameMin, NameMax               = 3, 64
	DisplayNameMin, DisplayNameMax = 1, 100
	SecretMin, SecretMax           = 16, 256
	SecretMinDistinct              = 6
	MaxRedirectURIs                = 20
	MaxURILength                   = 2000
	MaxScopes, MaxScopeLength      = 50, 128
)

var tenantIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var folder = cases.Fold()

// UniqueKey is the form in which names and display names are compared for
// uniqueness: as a person sees them (docs/api.md, "Rules"). In order:
//   - NFKC: fullwidth letters, ligatures, mathematical alphabets, the
//     no-break and other spaces become their plain forms;
//   - full case folding (so ß and ss, Σ and σ collide);
//   - whitespace runs collapse to one space, ends trimmed;
//   - the UTS #39 skeleton (Unicode's confusables.txt, through
//     github.com/mtibben/confusables): Cyrillic і and Latin i, Greek ο and
//     Latin o, 0 and O, m and rn map to one prototype;
//   - case folding again, as the prototypes are case-sensitive (0 → O).
//
// A key is stored with the guard it made (Module.NameKey), so a later change
// of this function never strands a guard.
func UniqueKey(s string) string {
	s = norm.NFKC.String(folder.String(norm.NFKC.String(s)))
	s = strings.Join(strings.Fields(s), " ")
	return norm.NFC.String(folder.String(confusables.Skeleton(s)))
}

// legacyKey is how guards were keyed before UniqueKey (trimmed, NFC, case
// folded): the guards of modules that have no stored keys yet.
func legacyKey(s string) string {
	return norm.NFC.String(folder.String(norm.NFC.String(strings.TrimSpace(s))))
}

// invisible reports a rune that renders as nothing or as blank space
// though it is not a space: default-ignorable code points (zero-width and
// bidi controls are format characters, refused separately), fillers such
// as U+3164 and U+115F, variation selectors, and the braille blank.
func invisible(r rune) bool {
	return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || unicode.Is(unicode.Variation_Selector, r) ||
		unicode.Is(unicode.Cf, r) || r == '\u2800' || r == '\u3164' || r == '\u115F' || r == '\u1160' || r == '\uFFA0'
}

// clean trims and NFC-normalises a name as it will be stored and shown.
func clean(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

// CheckTenantID reports whether id is a well-formed tenant ID.
func CheckTenantID(id string) error {
	if !tenantIDPattern.MatchString(id) {
		return derrors.Invalid(derrors.Field{Name: "tenantId", Code: derrors.CodeInvalidFormat, Reason: "must be 1 to 64 letters, digits, '-' or '_'"})
	}
	return nil
}

// checkName validates a trimmed, normalised module name.
func checkName(name string) *derrors.Field {
	n := utf8.RuneCountInString(name)
	switch {
	case n < NameMin || n > NameMax:
		return &derrors.Field{Name: "name", Code: derrors.Length(n, NameMin), Reason: fmt.Sprintf("must be %d to %d characters long, got %d", NameMin, NameMax, n)}
	case !isLetterOrDigit(firstRune(name)):
		return &derrors.Field{Name: "name", Code: derrors.CodeInvalidStart, Reason: "must start with a letter or a digit"}
	}
	for _, r := range name {
		if invisible(r) {
			return &derrors.Field{Name: "name", Code: derrors.CodeInvisibleCharacters, Reason: fmt.Sprintf("must not contain invisible or blank characters, such as %U", r)}
		}
		if !isLetterOrDigit(r) && r != '.' && r != '_' && r != '-' {
			return &derrors.Field{Name: "name", Code: derrors.CodeInvalidCharacters, Reason: fmt.Sprintf("may contain only letters, digits, '.', '_' and '-', not %q", r)}
		}
	}
	return nil
}

// checkDisplayName validates a trimmed, normalised display name: what
// people read. Control and format characters (bidi overrides, zero-width
// joiners) and invisible or blank ones (U+3164, the braille blank) are
// refused: they let one display name pass for another, or for nothing.
// A name of spaces alone is refused too.
func checkDisplayName(name string) *derrors.Field {
	n := utf8.RuneCountInString(name)
	if n < DisplayNameMin || n > DisplayNameMax {
		return &derrors.Field{Name: "displayName", Code: derrors.Length(n, DisplayNameMin), Reason: fmt.Sprintf("must be %d to %d characters long, got %d", DisplayNameMin, DisplayNameMax, n)}
	}
	visible := false
	for _, r := range name {
		if !unicode.IsGraphic(r) || invisible(r) {
			return &derrors.Field{Name: "displayName", Code: derrors.CodeInvisibleCharacters, Reason: fmt.Sprintf("must contain only visible characters, not %U", r)}
		}
		visible = visible || !unicode.IsSpace(r)
	}
	if !visible {
		return &derrors.Field{Name: "displayName", Code: derrors.CodeBlank, Reason: "must contain a visible character"}
	}
	return nil
}

// checkSecret refuses a client secret that is easy to guess. The reasons
// never quote the secret.
func checkSecret(secret, name, displayName string) *derrors.Field {
	const field = "clientSecret"
	n := utf8.RuneCountInString(secret)
	if n < SecretMin || n > SecretMax {
		return &derrors.Field{Name: field, Code: derrors.Length(n, SecretMin), Reason: fmt.Sprintf("must be %d to %d characters long, got %d", SecretMin, SecretMax, n)}
	}
	distinct := map[rune]bool{}
	for _, r := range secret {
		if !unicode.IsGraphic(r) {
			return &derrors.Field{Name: field, Code: derrors.CodeInvalidCharacters, Reason: "must contain only printable characters"}
		}
		distinct[r] = true
	}
	folded := UniqueKey(secret)
	switch {
	case folded == UniqueKey(name) || folded == UniqueKey(displayName):
		return &derrors.Field{Name: field, Code: derrors.CodeWeakSecret, Reason: "is too weak: it must not equal the name or the display name"}
	case len(distinct) < SecretMinDistinct:
		return &derrors.Field{Name: field, Code: derrors.CodeWeakSecret, Reason: fmt.Sprintf("is too weak: it must contain at least %d different characters", SecretMinDistinct)}
	}
	return nil
}

// checkUserLogin validates the User Login options (OAuth 2.0 Security BCP:
// exact https redirect URIs, http only on loopback).
func checkUserLogin(u UserLogin) []derrors.Field {
	var bad []derrors.Field
	bad = append(bad, checkURIs("userLogin.redirectUris", u.RedirectURIs)...)
	bad = append(bad, checkURIs("userLogin.postLogoutRedirectUris", u.PostLogoutRedirectURIs)...)
	if u.Enabled && len(u.RedirectURIs) == 0 {
		bad = append(bad, derrors.Field{Name: "userLogin.redirectUris", Code: derrors.CodeRequired, Reason: "needs at least one redirect URI when User Login is enabled"})
	}
	return bad
}

func checkURIs(field string, uris []string) []derrors.Field {
	if len(uris) > MaxRedirectURIs {
		return []derrors.Field{{Name: field, Code: derrors.CodeTooMany, Reason: fmt.Sprintf("may hold at most %d URIs, got %d", MaxRedirectURIs, len(uris))}}
	}
	var bad []derrors.Field
	seen := map[string]bool{}
	for i, raw := range uris {
		at := fmt.Sprintf("%s[%d]", field, i)
		if code, reason := uriProblem(raw); reason != "" {
			bad = append(bad, derrors.Field{Name: at, Code: code, Reason: reason})
			continue
		}
		if seen[raw] {
			bad = append(bad, derrors.Field{Name: at, Code: derrors.CodeDuplicate, Reason: "is listed twice"})
		}
		seen[raw] = true
	}
	return bad
}

// uriProblem returns the code and reason of what is wrong with a redirect
// URI, or an empty reason.
func uriProblem(raw string) (derrors.Code, string) {
	if raw == "" || len(raw) > MaxURILength {
		code := derrors.CodeInvalidURL
		if raw != "" {
			code = derrors.CodeTooLong
		}
		return code, fmt.Sprintf("must be an absolute URL of 1 to %d characters", MaxURILength)
	}
	if strings.Contains(raw, "*") {
		return derrors.CodeWildcard, "must not contain wildcards"
	}
	if strings.Contains(raw, "#") {
		return derrors.CodeFragment, "must not contain a fragment"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return derrors.CodeInvalidURL, "must be an absolute URL such as https://app.example.com/callback"
	}
	if u.User != nil {
		return derrors.CodeUserInfo, "must not contain user information"
	}
	switch u.Scheme {
	case "https":
		return "", ""
	case "http":
		if isLoopback(u.Hostname()) {
			return "", ""
		}
		return derrors.CodeNotHTTPS, "must use https; http is allowed only on loopback hosts (localhost, 127.0.0.1, [::1])"
	default:
		return derrors.CodeNotHTTPS, "must use https (or http on a loopback host)"
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkScopes validates scope tokens per RFC 6749 §3.3.
func checkScopes(scopes []string) []derrors.Field {
	if len(scopes) > MaxScopes {
		return []derrors.Field{{Name: "scopes", Code: derrors.CodeTooMany, Reason: fmt.Sprintf("may hold at most %d scopes, got %d", MaxScopes, len(scopes))}}
	}
	var bad []derrors.Field
	seen := map[string]bool{}
	for i, s := range scopes {
		at := fmt.Sprintf("scopes[%d]", i)
		switch {
		case !isScopeToken(s):
			bad = append(bad, derrors.Field{Name: at, Code: scopeCode(s), Reason: fmt.Sprintf("must be 1 to %d printable ASCII characters without spaces, '\"' or '\\' (RFC 6749 §3.3)", MaxScopeLength)})
		case seen[s]:
			bad = append(bad, derrors.Field{Name: at, Code: derrors.CodeDuplicate, Reason: "is listed twice"})
		}
		seen[s] = true
	}
	return bad
}

// scopeCode is the code of a scope that is not a scope token.
func scopeCode(s string) derrors.Code {
	switch {
	case s == "":
		return derrors.CodeTooShort
	case len(s) > MaxScopeLength:
		return derrors.CodeTooLong
	}
	return derrors.CodeInvalidCharacters
}

// isScopeToken: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	if len(s) == 0 || len(s) > MaxScopeLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Check validates a whole module as it is about to be stored, after a create
// or an update, and returns every field at fault at once.
func (m *Module) Check() error {
	var bad []derrors.Field
	if f := checkName(m.Name); f != nil {
		bad = append(bad, *f)
	}
	if f := checkDisplayName(m.DisplayName); f != nil {
		bad = append(bad, *f)
	}
	bad = append(bad, checkUserLogin(m.UserLogin)...)
	bad = append(bad, checkScopes(m.Scopes)...)
	bad = append(bad, m.checkAuth()...)
	if len(bad) > 0 {
		return derrors.Invalid(bad...)
	}
	return nil
}

// normalize trims and normalises names and turns nil lists into empty ones,
// so that JSON shows [] rather than null.
func (m *Module) normalize() {
	m.Name, m.DisplayName = clean(m.Name), clean(m.DisplayName)
	m.NameKey, m.DisplayKey = UniqueKey(m.Name), UniqueKey(m.DisplayName)
	if m.Scopes == nil {
		m.Scopes = []string{}
	}
	if m.FederatedCredentials == nil {
		m.FederatedCredentials = []federation.Credential{}
	}
	if m.TokenEndpointAuthMethods == nil {
		m.TokenEndpointAuthMethods = slices.Clone(DefaultAuthMethods)
	}
	if m.UserLogin.RedirectURIs == nil {
		m.UserLogin.RedirectURIs = []string{}
	}
	if m.UserLogin.PostLogoutRedirectURIs == nil {
		m.UserLogin.PostLogoutRedirectURIs = []string{}
	}
}

func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

func isLetterOrDigit(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
