package module

import (
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/derrors"
)

// TestEveryRuleHasItsCode: each rule of a module answers its own stable
// code (docs/api.md, "Rules"), what a portal translates.
func TestEveryRuleHasItsCode(t *testing.T) {
	one := func(f *derrors.Field) derrors.Code {
		if f == nil {
			return ""
		}
		return f.Code
	}
	first := func(fs []derrors.Field) derrors.Code {
		if len(fs) == 0 {
			return ""
		}
		return fs[0].Code
	}
	tests := []struct {
		name string
		got  derrors.Code
		want derrors.Code
	}{
		{"name too short", one(checkName("ab")), derrors.CodeTooShort},
		{"name too long", one(checkName(strings.Repeat("a", NameMax+1))), derrors.CodeTooLong},
		{"name starts with a dot", one(checkName(".billing")), derrors.CodeInvalidStart},
		{"name with a space", one(checkName("bill ing")), derrors.CodeInvalidCharacters},
		{"name with U+3164", one(checkName("bill\u3164ing")), derrors.CodeInvisibleCharacters},
		{"name fine", one(checkName("billing")), ""},
		{"display name too long", one(checkDisplayName(strings.Repeat("a", DisplayNameMax+1))), derrors.CodeTooLong},
		{"display name with a bidi override", one(checkDisplayName("Billing\u202e")), derrors.CodeInvisibleCharacters},
		{"display name of spaces", one(checkDisplayName("\u3000 \u3000")), derrors.CodeBlank},
		{"secret too short", one(checkSecret("short", "n", "d")), derrors.CodeTooShort},
		{"secret too long", one(checkSecret(strings.Repeat("ab", SecretMax), "n", "d")), derrors.CodeTooLong},
		{"secret with a control character", one(checkSecret("abcdefgh\x01ijklmnop", "n", "d")), derrors.CodeInvalidCharacters},
		{"secret equal to the name", one(checkSecret("Billing-Service-1", "billing-service-1", "d")), derrors.CodeWeakSecret},
		{"secret of few characters", one(checkSecret("abababababababab", "n", "d")), derrors.CodeWeakSecret},
		{"User Login on without a URL", first(checkUserLogin(UserLogin{Enabled: true})), derrors.CodeRequired},
		{"too many URLs", first(checkURIs("u", make([]string, MaxRedirectURIs+1))), derrors.CodeTooMany},
		{"a URL twice", first(checkURIs("u", []string{"https://a.example/cb", "https://a.example/cb"})), derrors.CodeDuplicate},
		{"too many scopes", first(checkScopes(make([]string, MaxScopes+1))), derrors.CodeTooMany},
		{"empty scope", first(checkScopes([]string{""})), derrors.CodeTooShort},
		{"scope too long", first(checkScopes([]string{strings.Repeat("s", MaxScopeLength+1)})), derrors.CodeTooLong},
		{"scope with a quote", first(checkScopes([]string{`a"b`})), derrors.CodeInvalidCharacters},
		{"scope twice", first(checkScopes([]string{"a", "a"})), derrors.CodeDuplicate},
		{"name taken", NameTaken("billing").Code, derrors.CodeTaken},
		{"display name taken", DisplayNameTaken("Billing").Code, derrors.CodeTaken},
		{"malformed client ID", one(checkClientID("a b")), derrors.CodeInvalidFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("code %q, want %q", tt.got, tt.want)
			}
		})
	}
}
