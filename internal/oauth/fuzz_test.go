package oauth

import (
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func FuzzBasicHeader(f *testing.F) {
	f.Add(basic("client", "secret"))
	f.Add(basic("c%3Ad", "a%2Bb%25"))
	f.Add(basic("c", "a+b c:d%e€"))
	f.Add("basic Og==")
	f.Add("Basic !!!")
	f.Add("Bearer abc")
	f.Fuzz(func(t *testing.T, header string) {
		id, secrets, e := parseBasic(header)
		if e != nil {
			if e.Code != "invalid_request" || strings.Contains(e.Description, header) && len(header) > 12 {
				t.Fatalf("unexpected error %v", e)
			}
			return
		}
		if len(secrets) > 2 {
			t.Fatalf("%d readings of one secret, want at most 2", len(secrets))
		}
		// each reading, sent as RFC 6749 §2.3.1 says, is read first
		for _, s := range secrets {
			again, s2, e2 := parseBasic(basic(url.QueryEscape(id), url.QueryEscape(s)))
			if e2 != nil || again != id || len(s2) == 0 || s2[0] != s {
				t.Fatalf("round trip of (%q, %q) gave (%q, %q, %v)", id, s, again, s2, e2)
			}
		}
	})
}

// FuzzBasicAsSent: a secret sent as it is (curl -u, requests, btoa) is
// always among the readings, whatever it holds (bytes that are not UTF-8
// read as Latin-1).
func FuzzBasicAsSent(f *testing.F) {
	for _, s := range []string{"plain-secret-1234", "a+b%c:d ü€ =&?/#x", "a%2Bb", "100%", "+++", "a b"} {
		f.Add("ynuqmqpvfzh25hxkud3tts7v34", s)
	}
	f.Fuzz(func(t *testing.T, id, secret string) {
		if strings.Contains(id, ":") || secret == "" {
			return
		}
		got, secrets, e := parseBasic(basic(id, secret))
		if e != nil {
			t.Fatalf("(%q, %q): %v", id, secret, e)
		}
		if !utf8.ValidString(secret) {
			secret = latin1(secret)
		}
		if !slices.Contains(secrets, secret) {
			t.Fatalf("(%q, %q) read as %q: the secret as sent is not among them", id, secret, secrets)
		}
		if dec, err := url.QueryUnescape(id); err == nil && got != dec || err != nil && got != id {
			t.Fatalf("client ID %q read as %q", id, got)
		}
	})
}

func FuzzTokenRequest(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "grant_type=client_credentials&client_id=a&client_secret=b", "")
	f.Add("application/x-www-form-urlencoded", "grant_type=client_credentials&scope=a%20b&scope=c", "")
	f.Add("application/x-www-form-urlencoded; charset=utf-8", "grant_type=&x=%zz", "Basic Og==")
	f.Add("text/plain", "grant_type=client_credentials", "")
	f.Fuzz(func(t *testing.T, contentType, body, auth string) {
		r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		req, e := parseRequest(r)
		if e != nil {
			if e.Code != "invalid_request" || e.status != 400 {
				t.Fatalf("unexpected error %+v", e)
			}
			return
		}
		if req.grantType == "" {
			t.Fatal("accepted a request without grant_type")
		}
		if auth != "" && len(req.secrets) > 0 {
			if q, _ := url.ParseQuery(body); q.Get("client_secret") != "" {
				t.Fatal("accepted two authentication methods at once")
			}
		}
	})
}
