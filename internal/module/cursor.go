package module

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/modules-service/modules/internal/derrors"
)

// CursorStore keeps the key that signs list and trail cursors.
type CursorStore interface {
	// CursorKey returns the key that signs list cursors, creating it on first use.
	CursorKey(ctx context.Context) ([]byte, error)
}

// A list cursor is the last module ID of a page and a MAC over tenant and ID
// under a key only the service knows: a client can neither forge one nor
// replay it against another tenant's list.

func sealCursor(key []byte, tenantID, after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(after)) + "." + base64.RawURLEncoding.EncodeToString(cursorMAC(key, tenantID, after))
}

func openCursor(key []byte, tenantID, cursor string) (string, error) {
	bad := derrors.Invalid(derrors.Field{Name: "cursor", Code: derrors.CodeInvalidValue, Reason: "is not a cursor of this list; pass the nextCursor of the previous page unchanged"})
	id64, mac64, ok := strings.Cut(cursor, ".")
	if !ok || !isBase64URL(id64) || !isBase64URL(mac64) {
		return "", bad
	}
	// Strict, and no line breaks (which the decoder skips): one cursor has
	// exactly one spelling.
	id, err1 := base64.RawURLEncoding.Strict().DecodeString(id64)
	mac, err2 := base64.RawURLEncoding.Strict().DecodeString(mac64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, cursorMAC(key, tenantID, string(id))) {
		return "", bad
	}
	return string(id), nil
}

func cursorMAC(key []byte, tenantID, after string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cursor\x00" + tenantID + "\x00" + after))
	return m.Sum(nil)[:16]
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
