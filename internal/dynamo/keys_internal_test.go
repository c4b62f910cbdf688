package dynamo

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/modules-service/modules/internal/module"
)

// TestGuardKeysFit: a guard's sort key is its key whole while that fits
// (so every guard ever stored keeps its key), and past 1,024 bytes a
// readable head at a rune boundary and a hash, within the limit, distinct
// for distinct keys and never equal to a whole one.
func TestGuardKeysFit(t *testing.T) {
	fits := strings.Repeat("a", MaxSortKey-len(displayGuard))
	if got := displaySK(fits); got != displayGuard+fits {
		t.Errorf("a key that fits is changed: %q", got)
	}
	long := module.UniqueKey(strings.Repeat("\uFDFA", module.DisplayNameMax))
	for _, k := range []string{fits + "bcdef", long, long[:len(long)-1] + "x"} {
		for _, sk := range []string{nameSK(k), displaySK(k)} {
			if len(sk) > MaxSortKey || !utf8.ValidString(sk) || !strings.Contains(sk, hashMark) {
				t.Errorf("sort key of a %d-byte key: %d bytes, valid UTF-8 %v, hashed %v", len(k), len(sk), utf8.ValidString(sk), strings.Contains(sk, hashMark))
			}
		}
	}
	if displaySK(long) == displaySK(long[:len(long)-1]+"x") {
		t.Error("two long keys differing at their end share a sort key")
	}
	if strings.ToLower(hashMark) == hashMark || module.UniqueKey(hashMark) == hashMark {
		t.Error("hashMark must hold what no UniqueKey holds (an ASCII capital)")
	}
	begins, cut := searchPrefix(displayGuard, long)
	if !cut || !strings.HasPrefix(displaySK(long), begins) {
		t.Errorf("searchPrefix of a long key: %q (cut %v) is not a prefix of its sort key", begins, cut)
	}
	if begins, cut := searchPrefix(nameGuard, "billing"); cut || begins != "NAME#billing" {
		t.Errorf("searchPrefix of a short query: %q, %v", begins, cut)
	}
	pos := module.SortKey(strings.Repeat("\uFDFA", module.DisplayNameMax)) + " 01J0000000000000000000000Z"
	if sk := orderSK(module.SortDisplayName, pos); len(sk) > MaxSortKey || !strings.HasSuffix(sk, " 01J0000000000000000000000Z") || !utf8.ValidString(sk) {
		t.Errorf("order key of a long position: %d bytes, %q at its end", len(sk), sk[max(0, len(sk)-30):])
	}
	if short := "billing 01J0000000000000000000000Z"; orderSK(module.SortName, short) != "ORDER#name#"+short {
		t.Error("a position that fits is changed")
	}
}

// FuzzGuardKeys: for any display name, its guard keys fit, and a search
// by any prefix of its UniqueKey begins where its guard's sort key does.
func FuzzGuardKeys(f *testing.F) {
	f.Add(strings.Repeat("\uFDFA", module.DisplayNameMax), 40)
	f.Add("Billing Service", 3)
	f.Fuzz(func(t *testing.T, name string, cut int) {
		k := module.UniqueKey(name)
		q := head(k, max(0, min(len(k), cut*37)))
		for _, p := range []string{nameGuard, displayGuard} {
			sk := fitSK(p, k)
			if len(sk) > MaxSortKey {
				t.Fatalf("%d-byte sort key", len(sk))
			}
			if begins, _ := searchPrefix(p, q); !strings.HasPrefix(sk, begins) {
				t.Fatalf("search for %q does not find %q", q, k)
			}
		}
	})
}
