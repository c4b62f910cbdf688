package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/modules-service/modules/internal/derrors"
)

// maxBody is the largest request body accepted.
const maxBody = 64 << 10

// decode reads a JSON body of one of the allowed media types into v before
// anything is written. Parsing is strict (encoding/json/v2 semantics, from
// github.com/go-json-experiment/json until the standard library's is no
// longer an experiment): member names match exactly, a repeated member and
// an unknown one are errors naming the member, invalid UTF-8 and trailing
// data are refused. So what a WAF, a log or a frontend validator reads is
// what the service stores.
func decode(r *http.Request, v any, mediaTypes ...string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(mediaTypes, mt) {
		return derrors.New(derrors.ErrUnsupportedMediaType, fmt.Sprintf("send the body as %s", mediaTypes[0]))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		return derrors.New(derrors.ErrTooLarge, fmt.Sprintf("the body must be at most %d bytes", maxBody))
	}
	if err != nil {
		return derrors.New(derrors.ErrInvalid, "the request body could not be read")
	}
	if err := json.Unmarshal(body, v, json.RejectUnknownMembers(true)); err != nil {
		return jsonProblem(err)
	}
	return nil
}

// jsonProblem describes a decoding error without quoting any value, which
// may hold a secret; a member at fault is named as a field.
func jsonProblem(err error) error {
	invalid := func(reason string) error {
		return derrors.New(derrors.ErrInvalid, "the body is not valid JSON for this request: "+reason)
	}
	if syn, ok := errors.AsType[*jsontext.SyntacticError](err); ok {
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			name := member(syn.JSONPointer)
			return derrors.Invalid(derrors.Field{Name: name, Reason: "appears more than once; send each member once"})
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return invalid("the body ends too early")
		}
		// jsontext has no sentinel for data after the value; its message is stable.
		if strings.Contains(syn.Err.Error(), "after top-level value") {
			return invalid("the body must hold exactly one JSON object")
		}
		return invalid(fmt.Sprintf("syntax error at byte %d", syn.ByteOffset))
	}
	if sem, ok := errors.AsType[*json.SemanticError](err); ok {
		name := member(sem.JSONPointer)
		switch {
		case errors.Is(sem.Err, json.ErrUnknownName):
			return derrors.Invalid(derrors.Field{Name: name, Reason: "is not a member of this request (member names are case-sensitive)"})
		case name == "":
			return invalid("the body must be a JSON object")
		case sem.GoType != nil:
			return derrors.Invalid(derrors.Field{Name: name, Reason: "must be of type " + jsonType(sem.GoType.Kind().String())})
		}
		return derrors.Invalid(derrors.Field{Name: name, Reason: "has a value this member cannot take"})
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return invalid("the body is empty or ends too early")
	}
	return invalid("malformed JSON")
}

// member is the dotted name of the member a JSON pointer leads to
// ("userLogin.enabled"), array indexes left out, at most 64 characters.
func member(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		if strings.Trim(tok, "0123456789") != "" {
			parts = append(parts, tok)
		}
	}
	name := strings.Join(parts, ".")
	if len(name) > 64 {
		name = name[:64] + "…"
	}
	return name
}

func jsonType(kind string) string {
	switch kind {
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	}
	return kind
}
