package audit

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUserAgent is the longest user agent kept, in bytes.
const MaxUserAgent = 200

// Text is s as the trail may keep free text that a caller chose (a user
// agent), at most n bytes (docs/api.md, "Audit trail"):
//
//   - invalid UTF-8, control characters (Unicode Cc: NUL, CR, LF, tab,
//     ESC, …), format characters (Cf: the bidirectional overrides and
//     isolates U+202A–U+202E and U+2066–U+2069, the marks U+200E, U+200F
//     and U+061C, zero-width characters) and line and paragraph
//     separators (U+2028, U+2029) are removed, so a value cannot break a
//     log line, hide itself or reorder what a reader sees;
//   - a value that would start with = + - or @ (or, before the removal,
//     with a tab or CR) gets a leading apostrophe, so a spreadsheet that
//     opens an export of the trail shows it rather than evaluating a
//     formula (OWASP, "CSV Injection").
//
// Text is idempotent: Text(Text(s, n), n) == Text(s, n).
func Text(s string, n int) string {
	formula := strings.HasPrefix(s, "\t") || strings.HasPrefix(s, "\r")
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if s == "" {
		return ""
	}
	if formula || strings.ContainsRune("=+-@", rune(s[0])) {
		s = "'" + s
	}
	return truncate(s, n)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
