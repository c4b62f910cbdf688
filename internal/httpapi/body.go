package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/modules-service/modules/internal/derrors"
)

// MaxBody is the largest request body accepted.
const MaxBody = 64 << 10

// decode reads a JSON body of one of the allowed media types into v,
// refusing unknown fields and trailing data, before anything is written.
func decode(r *http.Request, v any, mediaTypes ...string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !contains(mediaTypes, mt) {
		return derrors.New(derrors.ErrUnsupportedMediaType, fmt.Sprintf("send the body as %s", mediaTypes[0]))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		return derrors.New(derrors.ErrTooLarge, fmt.Sprintf("the body must be at most %d bytes", MaxBody))
	}
	if err != nil {
		return derrors.New(derrors.ErrInvalid, "the request body could not be read")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return derrors.New(derrors.ErrInvalid, "the body is not valid JSON for this request: "+jsonProblem(err))
	}
	if dec.More() {
		return derrors.New(derrors.ErrInvalid, "the body must hold exactly one JSON object")
	}
	return nil
}

// jsonProblem describes a decoding error without quoting the input, which
// may hold a secret.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "the body must be a JSON object"
		}
		return fmt.Sprintf("field %s must be of type %s", typ.Field, jsonType(typ.Type.Kind().String()))
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body ends too early"
	}
	// The decoder's remaining messages name an unknown field: `json: unknown field "x"`.
	if msg := err.Error(); len(msg) > 6 && msg[:6] == "json: " {
		return msg[6:]
	}
	return "malformed JSON"
}

func jsonType(kind string) string {
	switch kind {
	case "slice":
		return "array"
	case "struct", "map":
		return "object"
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return kind
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
