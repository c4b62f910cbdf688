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
