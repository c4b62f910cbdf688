package internal_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/modules-service/modules/"

// vocabulary packages import nothing of ours: every layer may use them.
var vocabulary = []string{"internal/audit", "internal/caller", "internal/config", "internal/derrors", "internal/obs",
	"internal/ttl", "internal/signing", "internal/secrethash", "internal/edge"}

// mayImport is the layering docs/architecture.md's "Code layout" describes: for each
// package, the packages of ours it may import besides the vocabulary.
// Domain ← edges and adapters ← one wiring point ← mains and tools; test
// support is imported by tests only.
var mayImport = map[string][]string{
	// vocabulary and standalone tools
	"internal/audit": nil, "internal/caller": nil, "internal/config": nil, "internal/derrors": nil, "internal/obs": nil,
	"internal/ttl": nil, "internal/signing": nil, "internal/secrethash": nil, "internal/edge": nil,
	"internal/apigw": nil, "internal/samtemplate": nil, "internal/openapi": {"internal/openapi/document"}, "internal/openapi/document": nil, "internal/portal": nil,
	"internal/accesstoken": nil, "internal/assertion": nil, "internal/federation": nil, "internal/dpop": nil,
	// the domain
	"internal/module": {"internal/assertion", "internal/federation"},
	// edges: HTTP, the token endpoint, the authorizer (never an adapter)
	"internal/httpapi": {"internal/module"},
	"internal/oauth":   {"internal/module", "internal/accesstoken", "internal/assertion", "internal/federation", "internal/dpop"},
	"internal/authz":   {"internal/module", "internal/accesstoken", "internal/dpop"},
	// adapters by technology (never an edge, never each other)
	"internal/dynamo":         {"internal/module", "internal/federation"},
	"internal/secretsmanager": {"internal/module"},
	"internal/inmem":          {"internal/module"},
	"internal/awserr":         nil, // the AWS SDK's errors in derrors' words
	// the one wiring point
	"internal/wiring": {"internal/module", "internal/federation", "internal/httpapi", "internal/oauth", "internal/authz", "internal/portal", "internal/openapi/document",
		"internal/dynamo", "internal/secretsmanager", "internal/awserr"},
	// the local gateway: the functions as wired, behind API Gateway's emulation
	"internal/localgateway": {"internal/wiring", "internal/module", "internal/accesstoken", "internal/apigw", "internal/samtemplate",
		"internal/dynamo", "internal/inmem"},
	// test support (imported by tests only)
	"internal/testing/testenv":   {"internal/module", "internal/dynamo", "internal/inmem", "internal/secretsmanager", "internal/awserr"},
	"internal/testing/lambdarie": {"internal/module", "internal/dynamo", "internal/secretsmanager"},
	"internal/testing/clientkey": {"internal/dpop"},
	// mains and tools
	"infra/local":    {"internal/localgateway"},
	"infra/admin":    {"internal/wiring"},
	"infra/fidelity": nil,
	// benchmarks
	"bench/coldstart": {"internal/testing/lambdarie"},
	"bench/load":      {"internal/module", "bench/loadgen"},
	"bench/peers":     {"bench/loadgen"},
	"bench/loadgen":   nil,
	"bench/hello":     nil,
}

// TestLayers fails when a package imports one of ours that its layer may
// not: the layering cannot erode unnoticed. A new package must be placed.
func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(strings.ReplaceAll(line, modulePath, ""))
		pkg, imports := fields[0], fields[1:]
		if pkg == "internal" {
			continue // this test
		}
		allowed, placed := mayImport[pkg]
		if strings.HasPrefix(pkg, "functions/") {
			allowed, placed = []string{"internal/wiring"}, true // a main is one line
		}
		if !placed {
			t.Errorf("%s is in no layer: add it to mayImport and to docs/architecture.md's code layout", pkg)
			continue
		}
		for _, imp := range imports {
			if !strings.HasPrefix(imp, "internal/") && !strings.HasPrefix(imp, "infra/") && !strings.HasPrefix(imp, "bench/") {
				continue
			}
			if !slices.Contains(allowed, imp) && !(slices.Contains(vocabulary, imp) && !slices.Contains(vocabulary, pkg)) {
				t.Errorf("%s imports %s, which its layer may not", pkg, imp)
			}
		}
	}
}
