package audit_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modules-service/modules/internal/audit"
)

func TestOriginKeepsAShortValidUserAgent(t *testing.T) {
	long := strings.Repeat("ü", audit.MaxUserAgent) // 2 bytes each: cut mid-rune at the limit
	o := audit.OriginOf(audit.WithOrigin(context.Background(), audit.Origin{UserAgent: long + "x"}))
	if len(o.UserAgent) > audit.MaxUserAgent || !utf8.ValidString(o.UserAgent) || o.UserAgent == "" {
		t.Errorf("user agent of %d bytes, valid %v; want at most %d valid bytes", len(o.UserAgent), utf8.ValidString(o.UserAgent), audit.MaxUserAgent)
	}
	if got := audit.OriginOf(context.Background()).Actor.Kind; got != "operator" {
		t.Errorf("no origin: actor kind %q, want operator", got)
	}
}

func TestIDsFollowTime(t *testing.T) {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	a, b := audit.NewID(at), audit.NewID(at)
	later := audit.NewID(at.Add(time.Millisecond))
	if !(a < b && b < later) || audit.FirstID(at) > a || audit.FirstID(at.Add(time.Millisecond)) <= b {
		t.Errorf("IDs %s %s %s, first of the instant %s: want them ordered as their times", a, b, later, audit.FirstID(at))
	}
}

// TestUserAgentIsKeptHarmless: a user agent reaches an event without
// control, format or bidirectional characters, and never starting a
// spreadsheet formula (docs/api.md, "Audit trail").
func TestUserAgentIsKeptHarmless(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "curl/8.5.0", "curl/8.5.0"},
		{"empty", "", ""},
		{"log line break", "curl/8.5.0\r\nfake: entry", "curl/8.5.0fake: entry"},
		{"NUL and ESC", "a\x00b\x1b[31mc", "ab[31mc"},
		{"C1 control", "a\u0085b\u009bc", "abc"},
		{"bidi override", "evil\u202Efdp.exe", "evilfdp.exe"},
		{"bidi embeddings", "\u202Aa\u202Bb\u202Cc\u202Dd", "abcd"},
		{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", "abc"},
		{"directional marks", "a\u200Eb\u200Fc\u061Cd", "abcd"},
		{"zero width and BOM", "a\u200Bb\uFEFFc\u00ADd", "abcd"},
		{"line separators", "a\u2028b\u2029c", "abc"},
		{"invalid UTF-8", "a\xffb", "ab"},
		{"formula =", "=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"formula +", "+1+2", "'+1+2"},
		{"formula -", "-2+3", "'-2+3"},
		{"formula @", "@SUM(A1)", "'@SUM(A1)"},
		{"tab first", "\tcmd", "'cmd"},
		{"CR first", "\r=cmd", "'=cmd"},
		{"formula behind a control", "\u202E=cmd", "'=cmd"},
		{"formula sign inside", "a=b", "a=b"},
		{"only controls", "\x00\u202E", ""},
		{"long, formula", "=" + strings.Repeat("a", audit.MaxUserAgent), "'=" + strings.Repeat("a", audit.MaxUserAgent-2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := audit.WithOrigin(context.Background(), audit.Origin{UserAgent: tt.in})
			if got := audit.OriginOf(ctx).UserAgent; got != tt.want {
				t.Errorf("WithOrigin user agent %q: got %q, want %q", tt.in, got, tt.want)
			}
			ev := audit.New(ctx, audit.ModuleCreated, time.Now(), "acme", "m", "billing")
			if ev.UserAgent != tt.want {
				t.Errorf("New user agent %q: got %q, want %q", tt.in, ev.UserAgent, tt.want)
			}
			if again := audit.Text(tt.want, audit.MaxUserAgent); again != tt.want {
				t.Errorf("Text(%q) = %q: not idempotent", tt.want, again)
			}
		})
	}
}
