// Package document holds the API's OpenAPI 3.1 document (openapi.yaml)
// and serves it as JSON. It imports no OpenAPI library: every function
// binary links it, and kin-openapi's schema compiler costs ~70 ms of
// init per cold start (GODEBUG=inittrace=1), so the checker that tests
// use lives in the parent package, internal/openapi.
package document

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"gopkg.in/yaml.v3"
)

// YAML is openapi.yaml.
//
//go:embed openapi.yaml
var YAML []byte

// Route is where the API serves its own document, without authentication.
const Route = "GET /openapi.json"

var (
	jsonOnce sync.Once
	jsonDoc  []byte
	jsonErr  error
)

// JSON is the document as JSON, converted once.
func JSON() ([]byte, error) {
	jsonOnce.Do(func() {
		var v any
		if jsonErr = yaml.Unmarshal(YAML, &v); jsonErr != nil {
			return
		}
		if v, jsonErr = jsonable(v); jsonErr != nil {
			return
		}
		jsonDoc, jsonErr = json.Marshal(v)
	})
	return jsonDoc, jsonErr
}

// jsonable turns YAML's mappings into JSON objects: keys that YAML reads
// as numbers or booleans (an unquoted 200) become their text.
func jsonable(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			v[k] = c
		}
		return v, nil
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			var key string
			switch k := k.(type) {
			case string:
				key = k
			case int:
				key = strconv.Itoa(k)
			case bool:
				key = strconv.FormatBool(k)
			default:
				return nil, fmt.Errorf("openapi.yaml: a mapping key of type %T", k)
			}
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			m[key] = c
		}
		return m, nil
	case []any:
		for i, e := range v {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			v[i] = c
		}
		return v, nil
	default:
		return v, nil
	}
}

// Handler serves GET /openapi.json: the document, public like the JWKS,
// cacheable for five minutes (it changes only with a deploy).
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := JSON()
		if err != nil { // embedded and tested: only a broken build gets here
			http.Error(w, "the API document cannot be read", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body)
	})
}
