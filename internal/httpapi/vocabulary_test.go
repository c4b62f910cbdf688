package httpapi_test

import (
	"slices"
	"testing"

	"github.com/modules-service/modules/internal/derrors"
	"github.com/modules-service/modules/internal/openapi"
)

// TestVocabularyIsDocumented: the problem types and field fault codes the
// service sends are exactly those the API document enumerates, so a client
// generated from it (and a portal translating codes) knows every one.
func TestVocabularyIsDocumented(t *testing.T) {
	doc, _, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	enum := func(schema string) []string {
		ref := doc.Components.Schemas[schema]
		if ref == nil || ref.Value == nil {
			t.Fatalf("no schema %s in the document", schema)
		}
		var out []string
		for _, v := range ref.Value.Enum {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	var codes []string
	for _, c := range derrors.Codes {
		codes = append(codes, string(c))
	}
	slices.Sort(codes)
	types := derrors.Types()
	slices.Sort(types)
	for _, tc := range []struct {
		schema    string
		got, want []string
	}{
		{"FaultCode", enum("FaultCode"), codes},
		{"ProblemType", enum("ProblemType"), types},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s enum in the document %v; the service sends %v", tc.schema, tc.got, tc.want)
		}
	}
}
