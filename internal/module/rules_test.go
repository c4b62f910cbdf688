package module

import (
	"errors"
	"strings"
	"testing"

	"github.com/modules-service/modules/internal/derrors"
)

// TestUniqueKey: names and display names collide when a person would
// take one for the other (docs/api.md, "Rules").
func TestUniqueKey(t *testing.T) {
	tests := []struct {
		name, a, b string
		same       bool
	}{
		{"case and trailing space", "Billing", "billing ", true},
		{"leading space", "  billing", "BILLING", true},
		{"NFC: precomposed vs combining", "Caf\u00e9", "cafe\u0301", true},
		{"German sharp s folds to ss", "Straße", "STRASSE", true},
		{"capital sharp s", "STRAẞE", "strasse", true},
		{"Cyrillic і for Latin i", "bіlling", "billing", true},
		{"Cyrillic а for Latin a", "pаypal", "paypal", true},
		{"Cyrillic е in a display name", "Billing Sеrvice", "Billing Service", true},
		{"Cyrillic о and с", "cоnsоle", "console", true},
		{"Greek ο for Latin o", "οrders", "orders", true},
		{"Greek Α for Latin A", "Αlpha", "alpha", true},
		{"fullwidth letters", "ｂｉｌｌｉｎｇ", "billing", true},
		{"mathematical bold letters", "𝐛𝐢𝐥𝐥𝐢𝐧𝐠", "billing", true},
		{"ligature fi", "ﬁles", "files", true},
		{"ligature ff", "oﬀice", "office", true},
		{"Roman numeral twelve", "Ⅻ", "xii", true},
		{"no-break space", "Billing\u00a0Service", "Billing Service", true},
		{"ideographic space", "Billing\u3000Service", "Billing Service", true},
		{"narrow no-break space", "Billing\u202fService", "Billing Service", true},
		{"two spaces", "Billing  Service", "Billing Service", true},
		{"digit zero for letter o", "0rders", "orders", true},
		{"digit one for letter l", "1og", "log", true},
		{"rn for m", "rnodem", "modem", true},
		{"Turkish dotless i", "bılling", "billing", true},
		{"script small l", "ℓog", "log", true},
		{"Greek final sigma", "ΟΔΟΣ", "οδος", true},
		{"different names", "billing", "billing2", false},
		{"different words", "billing", "shipping", false},
		{"accent matters", "café", "cafe", false},
		{"umlaut matters", "räkning", "rakning", false},
		{"Cyrillic word unlike any Latin one", "Иван", "ivan", false},
		{"order of words", "Billing Service", "Service Billing", false},
		{"a space matters", "Billing Service", "BillingService", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UniqueKey(tt.a) == UniqueKey(tt.b); got != tt.same {
				t.Errorf("UniqueKey(%q) = %q, UniqueKey(%q) = %q: same is %v, want %v", tt.a, UniqueKey(tt.a), tt.b, UniqueKey(tt.b), got, tt.same)
			}
		})
	}
}

// TestInvisibleCharactersAreRefused: what renders as nothing cannot be part
// of a name, and a display name must show something.
func TestInvisibleCharactersAreRefused(t *testing.T) {
	for name, display := range map[string]string{
		"Hangul filler U+3164":      "\u3164",
		"Hangul choseong filler":    "\u115f\u115f",
		"halfwidth Hangul filler":   "Bill\uffa0ing",
		"braille blank":             "\u2800\u2800",
		"zero-width space":          "Bill\u200bing",
		"zero-width joiner":         "Bill\u200ding",
		"right-to-left override":    "Bill\u202eing",
		"word joiner":               "Bill\u2060ing",
		"combining grapheme joiner": "Bill\u034fing",
		"variation selector":        "Billing\ufe0f",
		"soft hyphen":               "Bill\u00ading",
		"only no-break spaces":      "\u00a0\u00a0",
	} {
		if checkDisplayName(clean(display)) == nil {
			t.Errorf("display name with %s accepted", name)
		}
	}
	if f := checkName("bill\u3164ing"); f == nil {
		t.Error("a name with U+3164 accepted")
	}
	for _, ok := range []string{"Billing Service", "Räkning – Nord", "計費", "🚀 Launch"} {
		if f := checkDisplayName(ok); f != nil {
			t.Errorf("display name %q refused: %s", ok, f.Reason)
		}
	}
}

func TestNameRules(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"plain", "billing", true},
		{"with dot dash underscore", "billing.v2_eu-1", true},
		{"unicode letters", "räkning", true},
		{"starts with digit", "9lives", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"too short", "ab", false},
		{"65 characters", strings.Repeat("a", 65), false},
		{"starts with dot", ".hidden", false},
		{"starts with dash", "-x-y", false},
		{"space inside", "bill ing", false},
		{"slash", "bill/ing", false},
		{"emoji", "bill💸", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkName(tt.in) == nil; got != tt.ok {
				t.Errorf("checkName(%q) ok = %v, want %v", tt.in, got, tt.ok)
			}
		})
	}
}

func TestDisplayNameRules(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"words and spaces", "Billing Service (EU)", true},
		{"one character", "B", true},
		{"100 characters", strings.Repeat("é", 100), true},
		{"empty", "", false},
		{"101 characters", strings.Repeat("x", 101), false},
		{"control character", "Bill\x07ing", false},
		{"newline", "Bill\ning", false},
		{"bidi override", "Bill\u202eing", false},
		{"zero width space", "Bill\u200bing", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkDisplayName(tt.in) == nil; got != tt.ok {
				t.Errorf("checkDisplayName(%q) ok = %v, want %v", tt.in, got, tt.ok)
			}
		})
	}
}

func TestSecretRules(t *testing.T) {
	tests := []struct {
		name, secret, why string
	}{
		{"strong", "c0rrect-h0rse-battery", ""},
		{"256 characters", strings.Repeat("abcdefgh", 32), ""},
		{"printable non-ASCII", "pässwörd-ÿ-%+:ok", ""},
		{"15 characters", "abcdefghijklmno", "16 to 256"},
		{"257 characters", strings.Repeat("abcdefgh", 32) + "x", "16 to 256"},
		{"equal to the name", "billing-service-01", "must not equal the name"},
		{"equal to the display name, other case", "BILLING SERVICE ONE", "must not equal the name"},
		{"too few distinct characters", "aaaaabbbbbcccccddddd", "at least 6 different"},
		{"control character", "abcdefgh\x00ijklmnop", "printable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := checkSecret(tt.secret, "billing-service-01", "Billing Service One")
			switch {
			case tt.why == "" && f != nil:
				t.Errorf("checkSecret refused a good secret: %s", f.Reason)
			case tt.why != "" && (f == nil || !strings.Contains(f.Reason, tt.why)):
				t.Errorf("checkSecret = %v, want a reason containing %q", f, tt.why)
			case f != nil && strings.Contains(f.Reason, tt.secret):
				t.Errorf("reason %q quotes the secret", f.Reason)
			}
		})
	}
}

func TestRedirectURIRules(t *testing.T) {
	tests := []struct {
		name, uri string
		code      derrors.Code // "": allowed
	}{
		{"https", "https://app.example.com/callback", ""},
		{"https with port and query", "https://app.example.com:8443/cb?x=1", ""},
		{"http on localhost", "http://localhost:8080/cb", ""},
		{"http on 127.0.0.1", "http://127.0.0.1/cb", ""},
		{"http on ::1", "http://[::1]:3000/cb", ""},
		{"http elsewhere", "http://app.example.com/cb", derrors.CodeNotHTTPS},
		{"http on a name containing localhost", "http://localhost.evil.com/cb", derrors.CodeNotHTTPS},
		{"fragment", "https://app.example.com/cb#frag", derrors.CodeFragment},
		{"empty fragment", "https://app.example.com/cb#", derrors.CodeFragment},
		{"wildcard host", "https://*.example.com/cb", derrors.CodeWildcard},
		{"wildcard path", "https://app.example.com/*", derrors.CodeWildcard},
		{"relative", "/callback", derrors.CodeInvalidURL},
		{"custom scheme", "myapp://callback", derrors.CodeNotHTTPS},
		{"javascript", "javascript:alert(1)", derrors.CodeInvalidURL},
		{"user info", "https://user:pw@app.example.com/cb", derrors.CodeUserInfo},
		{"empty", "", derrors.CodeInvalidURL},
		{"too long", "https://app.example.com/" + strings.Repeat("a", MaxURILength), derrors.CodeTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason := uriProblem(tt.uri)
			if code != tt.code || (reason == "") != (tt.code == "") {
				t.Errorf("uriProblem(%q) = %q (%s), want code %q", tt.uri, code, reason, tt.code)
			}
		})
	}
}

func TestUserLoginRules(t *testing.T) {
	many := make([]string, MaxRedirectURIs+1)
	for i := range many {
		many[i] = "https://app.example.com/cb" + strings.Repeat("x", i)
	}
	tests := []struct {
		name  string
		in    UserLogin
		field string
	}{
		{"off and empty", UserLogin{}, ""},
		{"on with a redirect URI", UserLogin{Enabled: true, RedirectURIs: []string{"https://a.example/cb"}}, ""},
		{"on without redirect URIs", UserLogin{Enabled: true}, "userLogin.redirectUris"},
		{"21 redirect URIs", UserLogin{RedirectURIs: many}, "userLogin.redirectUris"},
		{"bad post-logout URI", UserLogin{PostLogoutRedirectURIs: []string{"http://evil.example/"}}, "userLogin.postLogoutRedirectUris[0]"},
		{"duplicate URI", UserLogin{RedirectURIs: []string{"https://a.example/cb", "https://a.example/cb"}}, "userLogin.redirectUris[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := checkUserLogin(tt.in)
			if tt.field == "" && len(bad) > 0 {
				t.Fatalf("got %v, want no error", bad)
			}
			if tt.field != "" && (len(bad) == 0 || bad[0].Name != tt.field) {
				t.Fatalf("got %v, want an error on %s", bad, tt.field)
			}
		})
	}
}

func TestScopeRules(t *testing.T) {
	tests := []struct {
		name   string
		scopes []string
		ok     bool
	}{
		{"none", nil, true},
		{"several", []string{"modules:manage", "orders.read", "x"}, true},
		{"space", []string{"a b"}, false},
		{"quote", []string{`a"b`}, false},
		{"backslash", []string{`a\b`}, false},
		{"non-ASCII", []string{"lesen:ä"}, false},
		{"empty", []string{""}, false},
		{"duplicate", []string{"a", "a"}, false},
		{"too long", []string{strings.Repeat("s", MaxScopeLength+1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(checkScopes(tt.scopes)) == 0; got != tt.ok {
				t.Errorf("checkScopes(%q) ok = %v, want %v", tt.scopes, got, tt.ok)
			}
		})
	}
}

func TestTenantIDRules(t *testing.T) {
	for in, ok := range map[string]bool{
		"acme": true, "a": true, "ACME_eu-1": true, strings.Repeat("t", 64): true,
		"": false, strings.Repeat("t", 65): false, "acme corp": false, "acme/x": false, "äcme": false,
	} {
		err := CheckTenantID(in)
		if (err == nil) != ok {
			t.Errorf("CheckTenantID(%q) = %v, want ok=%v", in, err, ok)
		}
		if err != nil && !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("CheckTenantID(%q) error is not ErrInvalid: %v", in, err)
		}
	}
}

func TestCursorIsBoundToTenantAndKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	c := sealCursor(key, "acme", "01jabc")
	if got, err := openCursor(key, "acme", c); err != nil || got != "01jabc" {
		t.Fatalf("openCursor = %q, %v; want 01jabc", got, err)
	}
	forged := sealCursor([]byte("another key, not the service's!!"), "acme", "01jzzz")
	for name, tc := range map[string]struct{ tenant, cursor string }{
		"other tenant":   {"globex", c},
		"forged":         {"acme", forged},
		"tampered id":    {"acme", "MDFqenp6" + c[strings.Index(c, "."):]},
		"not a cursor":   {"acme", "hello"},
		"empty mac":      {"acme", "MDFqYWJj."},
		"bad base64 mac": {"acme", "MDFqYWJj.!!"},
	} {
		if _, err := openCursor(key, tc.tenant, tc.cursor); !errors.Is(err, derrors.ErrInvalid) {
			t.Errorf("%s: openCursor error = %v, want ErrInvalid", name, err)
		}
	}
}
