package httpapi

import (
	"errors"
	"fmt"
	"io"
	"maps"
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
	body, err := read(r, mediaTypes...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v, json.RejectUnknownMembers(true)); err != nil {
		return jsonProblem(err)
	}
	return nil
}

// decodeObject is decode for a JSON object into a struct, member by
// member, so that every member at fault (unknown, of the wrong type) is
// named at once, and the members that decoded are in v: the caller checks
// them too and answers every fault in one 400. A problem with the body as
// a whole (media type, size, syntax, a repeated member, not an object) is
// returned alone, as *derrors.Error not of kind ErrInvalid with fields.
func decodeObject(r *http.Request, v any, mediaTypes ...string) (memberFaults, whole error) {
	body, err := read(r, mediaTypes...)
	if err != nil {
		return nil, err
	}
	var members map[string]jsontext.Value
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, jsonProblem(err)
	}
	if members == nil {
		return nil, derrors.New(derrors.ErrInvalid, "the body is not valid JSON for this request: the body must be a JSON object")
	}
	var faults []error
	for _, name := range slices.Sorted(maps.Keys(members)) {
		one, _ := json.Marshal(map[string]jsontext.Value{name: members[name]}) // re-encoding a decoded value cannot fail
		if err := json.Unmarshal(one, v, json.RejectUnknownMembers(true)); err != nil {
			faults = append(faults, jsonProblem(err))
		}
	}
	return derrors.Faults(faults...), nil
}

// read reads a body of one of the allowed media types, at most maxBody.
func read(r *http.Request, mediaTypes ...string) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !slices.Contains(mediaTypes, mt) {
		return nil, derrors.New(derrors.ErrUnsupportedMediaType, fmt.Sprintf("send the body as %s", mediaTypes[0]))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		return nil, derrors.New(derrors.ErrTooLarge, fmt.Sprintf("the body must be at most %d bytes", maxBody))
	}
	if err != nil {
		return nil, derrors.New(derrors.ErrInvalid, "the request body could not be read")
	}
	return body, nil
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
			return derrors.Invalid(derrors.Field{Name: name, Code: derrors.CodeDuplicateMember, Reason: "appears more than once; send each member once"})
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
			return derrors.Invalid(derrors.Field{Name: name, Code: derrors.CodeUnknownMember, Reason: "is not a member of this request (member names are case-sensitive)"})
		case name == "":
			return invalid("the body must be a JSON object")
		case sem.GoType != nil:
			return derrors.Invalid(derrors.Field{Name: name, Code: derrors.CodeWrongType, Reason: "must be of type " + jsonType(sem.GoType.Kind().String())})
		}
		return derrors.Invalid(derrors.Field{Name: name, Code: derrors.CodeInvalidValue, Reason: "has a value this member cannot take"})
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
