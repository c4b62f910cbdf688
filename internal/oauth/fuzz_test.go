package oauth

import (
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func FuzzBasicHeader(f *testing.F) {
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("client:secret")))
	f.Add("Basic " + base64.StdEncoding.EncodeToString([]byte("c%3Ad:a%2Bb%25")))
	f.Add("basic Og==")
	f.Add("Basic !!!")
	f.Add("Bearer abc")
	f.Fuzz(func(t *testing.T, header string) {
		id, secret, e := parseBasic(header)
		if e != nil {
			if e.Code != "invalid_request" || strings.Contains(e.Description, header) && len(header) > 12 {
				t.Fatalf("unexpected error %v", e)
			}
			return
		}
		// what was accepted must be what a client would send for id, secret
		again, s2, e2 := parseBasic("Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret))))
		if e2 != nil || again != id || s2 != secret {
			t.Fatalf("round trip of (%q, %q) gave (%q, %q, %v)", id, secret, again, s2, e2)
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
		if auth != "" && req.secret != "" {
			if q, _ := url.ParseQuery(body); q.Get("client_secret") != "" {
				t.Fatal("accepted two authentication methods at once")
			}
		}
	})
}
