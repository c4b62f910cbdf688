# One entry point for people and CI. `make run` starts the API locally,
# `make test` runs every test layer (.ci/run calls it), `make bench` measures.

GO        ?= go
VENV      := .venv
PY        := $(VENV)/bin/python
SAM       := $(VENV)/bin/sam
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='

export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: run deps test venv venv-ministack venv-checkov screenshots bench bench-peers bench-zipf lambdas clean deploy-local stop-local

## run: the whole API on 127.0.0.1:3000 with embedded DynamoDB and secrets
run:
	@$(GO) build -o bin/local ./infra/local
	@bin/local $(ARGS)

## deps: the Debian packages the tests need (infra/deps.sh says which, why)
deps:
	infra/deps.sh

## test: unit, integration (moto), fuzz, template (lint, checkov, build),
## Lambda fidelity, deployment (ministack) and property-based tests
test: venv venv-ministack venv-checkov bin/axe.min.js bin/tsclient/.installed
	infra/test.sh

## venv: Python tools pinned in infra/requirements.txt
venv: $(VENV)/.installed
$(VENV)/.installed: infra/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

## deploy-local: sam build + sam deploy --config-env local into ministack on
## 127.0.0.1 (kept running), a first manager, .aws-sam/local-deploy.json
deploy-local: venv venv-ministack
	infra/deploy-local.sh

## stop-local: end the ministack of deploy-local, and all it holds
stop-local:
	infra/stop-local.sh

## venv-ministack, venv-checkov: tools whose dependencies conflict with the
## SAM CLI's, each in a virtual environment of its own, pinned in
## infra/requirements-<tool>.txt
venv-ministack: .venv-ministack/.installed
venv-checkov: .venv-checkov/.installed
.venv-%/.installed: infra/requirements-%.txt
	python3 -m venv .venv-$*
	.venv-$*/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

## bin/axe.min.js: axe-core, pinned, for the portal's accessibility test
AXE_VERSION := 4.14.1
bin/axe.min.js:
	mkdir -p bin/axe-pack
	cd bin/axe-pack && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && tar -xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js
	mv bin/axe-pack/package/axe.min.js $@ && rm -rf bin/axe-pack

## bin/tsclient: openapi-typescript, openapi-fetch and typescript, pinned with
## their dependencies by infra/tsclient/package-lock.json, for the generated
## client's type check (infra/tsclient.sh)
bin/tsclient/.installed: infra/tsclient/package.json infra/tsclient/package-lock.json
	mkdir -p bin/tsclient
	cp infra/tsclient/package.json infra/tsclient/package-lock.json bin/tsclient/
	cd bin/tsclient && npm ci --silent --no-audit --no-fund
	touch $@

## screenshots: the README's pictures of the portal (docs/portal-*.png)
screenshots:
	DOCS_SCREENSHOTS=$(CURDIR)/docs $(GO) test -count=1 -run TestPortalWizard ./internal/localgateway

## bench: benchmarks and measurements (docs/performance.md, "Performance")
bench: venv
	infra/bench.sh

## bench-peers: the token endpoint beside Keycloak and Ory Hydra on this
## machine (fetched and built first), written to bench/peers.txt
bench-peers:
	infra/bench-peers.sh $(ARGS)

## bench-zipf: the token caches' hit rate and cost per request at 10,000,
## 100,000 and 1,000,000 Zipf-popular clients, before and after the LRU,
## written to bench/zipf.txt (REPLAY=1 adds the replay through one instance)
bench-zipf:
	infra/bench-zipf.sh

clean:
	rm -rf .aws-sam bin

# sam build runs these (Metadata: BuildMethod: makefile) with ARTIFACTS_DIR set.
# Each function is a static arm64 `bootstrap` for provided.al2023, built
# without the net/rpc Lambda fallback and stripped.
FUNCTIONS := CreateModuleFunction:create-module ListModulesFunction:list-modules \
	UpdateModuleFunction:update-module DeleteModuleFunction:delete-module \
	ReaperFunction:reaper TokenFunction:token RotateSigningKeyFunction:rotate-signing-key \
	AuthorizerFunction:authorizer PortalFunction:portal

define lambda_rule
build-$(word 1,$(subst :, ,$(1))):
	CGO_ENABLED=0 GOOS=linux GOARCH=$$(or $$(LAMBDA_ARCH),arm64) $$(GO) build $$(GOFLAGS_LAMBDA) -o $$(ARTIFACTS_DIR)/bootstrap ./functions/$(word 2,$(subst :, ,$(1)))
endef
$(foreach f,$(FUNCTIONS),$(eval $(call lambda_rule,$(f))))

## lambdas: every bootstrap for the host architecture, as bin/<LogicalId>/bootstrap
lambdas:
	@for f in $(FUNCTIONS); do name=$${f#*:}; \
	  CGO_ENABLED=0 $(GO) build $(GOFLAGS_LAMBDA) -o bin/$${f%%:*}/bootstrap ./functions/$$name || exit 1; done
