package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWrapRecoversPanicsAndLogsNoHeaders(t *testing.T) {
	var logs bytes.Buffer
	h := wrap(slog.New(slog.NewJSONHandler(&logs, nil)), "test-fn", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	r := httptest.NewRequest("GET", "/x?token=abc", nil)
	r.Header.Set("Authorization", "Bearer very-secret-token")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("X-Request-Id") == "" {
		t.Errorf("got %d %v, want a 500 problem with a request ID", w.Code, w.Header())
	}
	if strings.Contains(w.Body.String(), "boom") {
		t.Errorf("the panic value reached the client: %s", w.Body)
	}
	if !strings.Contains(logs.String(), "boom") || strings.Contains(logs.String(), "very-secret-token") || strings.Contains(logs.String(), "abc") {
		t.Errorf("log: want the panic, no header and no query:\n%s", logs.String())
	}
}

func TestUnknownErrorsBecomeGeneric500(t *testing.T) {
	var logs bytes.Buffer
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	h := wrap(slog.New(slog.NewJSONHandler(&logs, nil)), "test-fn", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errors.New("dynamodb: table modules-prod unreachable at 10.0.0.1"))
	}))
	h.ServeHTTP(w, r)
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != 500 || strings.Contains(p.Detail, "modules-prod") {
		t.Errorf("problem %+v: want a generic 500", p)
	}
	if !strings.Contains(logs.String(), "modules-prod") {
		t.Errorf("the detail must go to the log:\n%s", logs.String())
	}
}
