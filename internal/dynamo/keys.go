package dynamo

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"unicode/utf8"
)

// DynamoDB's limits on keys, in bytes of UTF-8 (partition key 2,048, sort
// key 1,024; an item 400 KB). The stand-ins do not enforce them; testenv
// does, on every request of the tests.
const (
	MaxPartitionKey = 2048
	MaxSortKey      = 1024
	MaxItem         = 400 * 1024
)

// hashMark joins a long key's readable head to its hash. A UniqueKey is
// case folded, so it never holds an ASCII capital: no key stored whole
// can equal a hashed one.
const hashMark = "#SHA256="

// hashLen is the length of an unpadded base32 SHA-256.
const hashLen = 52

// fitSK is the sort key prefix+key: whole when it fits MaxSortKey, which
// every key ever stored did, so existing items keep their keys; else the
// longest head of key that leaves room, cut at a rune boundary, then
// hashMark and the SHA-256 of the whole key. The head keeps begins_with
// working for every prefix no longer than it (searchPrefix).
func fitSK(prefix, key string) string {
	if len(prefix)+len(key) <= MaxSortKey {
		return prefix + key
	}
	sum := sha256.Sum256([]byte(key))
	return prefix + head(key, headRoom(prefix)) + hashMark + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])
}

// headRoom is how many bytes of a long key fitSK keeps readable after prefix.
func headRoom(prefix string) int { return MaxSortKey - len(prefix) - len(hashMark) - hashLen }

// head is s cut to at most n bytes, at a rune boundary.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// searchPrefix is the begins_with value that finds every key fitSK(prefix,
// key) stored under that starts with q, and whether it is shorter than
// prefix+q: then the items it finds must be checked against q whole. A
// query longer than the readable head of a hashed key reads the keys that
// share the head (a handful at most) and filters them.
func searchPrefix(prefix, q string) (string, bool) {
	if h := head(q, headRoom(prefix)); h != q {
		return prefix + h, true
	}
	return prefix + q, false
}

// fitPosition cuts the sort key of a position ("<SortKey> <id>",
// module.Position) so that prefix+position fits MaxSortKey, keeping the ID
// whole: names alike in their first ~950 bytes sort by ID. Positions that
// fit, which every stored one did, are unchanged.
func fitPosition(prefix, position string) string {
	if len(prefix)+len(position) <= MaxSortKey {
		return position
	}
	i := strings.LastIndexByte(position, ' ')
	if i < 0 {
		return head(position, MaxSortKey-len(prefix))
	}
	return head(position[:i], MaxSortKey-len(prefix)-len(position[i:])) + position[i:]
}
