package module

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modules-service/modules/internal/derrors"
)

func FuzzPatch(f *testing.F) {
	for _, seed := range []string{
		`{"name":"beta"}`, `{"displayName":"Beta","enabled":false}`, `{"userLogin":null}`,
		`{"userLogin":{"enabled":true,"redirectUris":["https://a.example/cb"]}}`,
		`{"scopes":["a","b"]}`, `{"scopes":null}`, `{"clientSecret":"x"}`, `{"name":null}`,
		`{"userLogin":{"redirectUris":[1]}}`, `{"userLogin":[]}`, `{"enabled":"yes"}`, `{}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var p Patch
		if json.Unmarshal([]byte(body), &p) != nil {
			return
		}
		m := Module{ID: "01id", TenantID: "acme", ClientID: "cid", Name: "alpha", DisplayName: "Alpha", Enabled: true}
		m.normalize()
		err := p.apply(&m)
		if err == nil {
			m.normalize()
			err = m.Check()
		}
		if err != nil && !errors.Is(err, derrors.ErrInvalid) {
			t.Fatalf("error of unexpected kind: %v", err)
		}
		if m.ID != "01id" || m.TenantID != "acme" || m.ClientID != "cid" {
			t.Fatalf("patch %s changed a fixed field: %+v", body, m)
		}
		if err == nil && (checkName(m.Name) != nil || checkDisplayName(m.DisplayName) != nil) {
			t.Fatalf("patch %s produced an invalid module that Check passed: %+v", body, m)
		}
	})
}

func FuzzCreateInput(f *testing.F) {
	for _, seed := range []string{
		`{"name":"billing","displayName":"Billing","clientSecret":"Known-Secret-4711-xyz"}`,
		`{"name":" Straße ","displayName":"STRASSE","clientSecret":"pässwörd-ÿ-%+:ok-long"}`,
		`{"name":"a","displayName":"","clientSecret":""}`,
		`{"name":"billing","displayName":"B\u202e","clientSecret":"aaaaaaaaaaaaaaaaaaaa","scopes":["a b"]}`,
		`{"name":"x-y","displayName":"X","clientSecret":"0123456789abcdef","userLogin":{"enabled":true,"redirectUris":["http://[::1]:80/#"]}}`,
	} {
		f.Add(seed)
	}
	s := &Service{SecretPrefix: "modules", Now: func() time.Time { return time.Unix(0, 0) }}
	f.Fuzz(func(t *testing.T, body string) {
		var in CreateInput
		if json.Unmarshal([]byte(body), &in) != nil {
			return
		}
		m, err := s.newModule("acme", in)
		if err != nil {
			if !errors.Is(err, derrors.ErrInvalid) {
				t.Fatalf("error of unexpected kind: %v", err)
			}
			var de *derrors.Error
			if errors.As(err, &de) && len(in.ClientSecret) >= SecretMin && strings.Contains(de.Detail, in.ClientSecret) {
				t.Fatalf("error detail quotes the secret: %s", de.Detail)
			}
			return
		}
		if m.Check() != nil || m.Name != clean(m.Name) || UniqueKey(in.ClientSecret) == UniqueKey(m.Name) {
			t.Fatalf("accepted an invalid module: %+v", m)
		}
	})
}

func FuzzCursor(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Add(sealCursor(key, "acme", "01jabc"))
	f.Add("MDFqYWJj.AAAA")
	f.Add(".")
	f.Add("")
	f.Fuzz(func(t *testing.T, cursor string) {
		id, err := openCursor(key, "acme", cursor)
		if err != nil {
			if !errors.Is(err, derrors.ErrInvalid) {
				t.Fatalf("error of unexpected kind: %v", err)
			}
			return
		}
		if sealCursor(key, "acme", id) != cursor {
			t.Fatalf("accepted a cursor the service did not issue: %q", cursor)
		}
	})
}
