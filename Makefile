# Advancia Pay Ledger. `make run` starts the stack, `make test` tests it.
# Tools are built from the Go module proxy at the versions pinned here.

SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

BUF_VERSION                := v1.75.0
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPC_GATEWAY_VERSION       := v2.34.0
STRIPE_MOCK_VERSION        := v0.183.0
# staticcheck v0.8.2 is release 2026.2.2.
STATICCHECK_VERSION        := v0.8.2
GOSEC_VERSION              := v2.30.0

TOOLS := $(CURDIR)/.bin
export PATH := $(TOOLS):$(PATH)
export STRIPE_MOCK_BIN := $(TOOLS)/stripe-mock

# Development defaults; every one can be overridden from the environment.
export LEDGER_JWT_SECRET ?= dev-only-jwt-secret-do-not-use-in-production
export LEDGER_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ledger?sslmode=disable
# Client tokens are ES256; make run and make token create a development key
# pair in .run/ on first use.
export LEDGER_JWT_SIGNING_KEY_FILE ?= $(CURDIR)/.run/jwt-signing-key.pem
export LEDGER_JWT_JWKS_FILE ?= $(CURDIR)/.run/jwks.json

# Every module of the workspace, as package patterns and as directories.
PACKAGES = $(shell go list -m -f '{{.Path}}/...')
MODULE_DIRS = $(shell go list -m -f '{{.Dir}}/...')

# The fuzz targets, as package:FuzzName, because `go test -fuzz` runs one
# target per invocation. Each one's seed corpus is in its package's
# testdata/fuzz/FuzzName/.
FUZZ_TARGETS := \
	github.com/advancia-pay/ledger/pkg/money:FuzzParseCurrency \
	github.com/advancia-pay/ledger/pkg/money:FuzzFormat \
	github.com/advancia-pay/ledger/pkg/idempotency:FuzzValidateKey \
	github.com/advancia-pay/ledger/pkg/idempotency:FuzzFingerprint \
	github.com/advancia-pay/ledger/pkg/auth:FuzzVerify \
	github.com/advancia-pay/ledger/gateway/internal/rest:FuzzErrorHandler \
	github.com/advancia-pay/ledger/gateway/internal/graphql:FuzzLimits \
	github.com/advancia-pay/ledger/gateway/internal/graphql:FuzzParseAmount
FUZZTIME ?= 10s
FUZZMINIMIZETIME ?= 1s

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(TOOLS)/buf:
	GOBIN=$(TOOLS) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
$(TOOLS)/protoc-gen-grpc-gateway:
	GOBIN=$(TOOLS) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
$(TOOLS)/protoc-gen-openapiv2:
	GOBIN=$(TOOLS) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
$(TOOLS)/stripe-mock:
	GOBIN=$(TOOLS) go install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)
$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
$(TOOLS)/gosec:
	GOBIN=$(TOOLS) go install github.com/securego/gosec/v2/cmd/gosec@$(GOSEC_VERSION)

.PHONY: tools
tools: $(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc $(TOOLS)/protoc-gen-grpc-gateway $(TOOLS)/protoc-gen-openapiv2 $(TOOLS)/stripe-mock $(TOOLS)/staticcheck $(TOOLS)/gosec ## build the pinned code generators, linters and stripe-mock into .bin

.PHONY: generate
generate: tools ## regenerate proto/gen from proto/ and the GraphQL server code
	buf lint
	buf generate
	cd gateway/internal/graphql && go generate ./...

.PHONY: check-generated
check-generated: tools ## fail when proto/gen differs from what the protos generate
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	buf generate --output "$$out" && \
	if ! diff -r "$$out/proto/gen" proto/gen; then \
		echo "proto/gen is stale: run 'make generate' and commit the result" >&2; exit 1; \
	fi
	@# gqlgen writes in place, so its check compares with the committed files.
	@cd gateway/internal/graphql && go generate ./... && \
	if ! git diff --quiet -- generated model; then \
		echo "gateway/internal/graphql is stale: run 'make generate' and commit the result" >&2; exit 1; \
	fi

.PHONY: build
build: ## build every command into bin/
	go build -o bin/ github.com/advancia-pay/ledger/services/wallet/cmd/... github.com/advancia-pay/ledger/services/idempotency/cmd/... github.com/advancia-pay/ledger/services/ratelimit/cmd/... github.com/advancia-pay/ledger/services/payment/cmd/... github.com/advancia-pay/ledger/gateway/cmd/...

.PHONY: check-deps
check-deps:
	@deploy/local/check-deps.sh

.PHONY: lint
lint: $(TOOLS)/staticcheck $(TOOLS)/gosec ## run go vet, staticcheck and gosec over every module
	go vet $(PACKAGES)
	staticcheck $(PACKAGES)
	@# Files marked "Code generated" (proto/gen, the gqlgen output) are
	@# skipped, and every #nosec must name its rules and give a reason.
	gosec -quiet -exclude-generated -nosec-require-rules -nosec-require-justification $(MODULE_DIRS)

# FUZZMINIMIZETIME is 1s because minimizing each new input for the default
# 60s stalled the short runs for most of their time.
.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 10s); a failing input is saved under testdata/fuzz
	@set -e; for target in $(FUZZ_TARGETS); do \
		package=$${target%%:*}; name=$${target##*:}; \
		echo "fuzz $$name in $$package for $(FUZZTIME)"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) "$$package"; \
	done

.PHONY: test
# The short fuzz run counts executions instead of seconds: with a duration,
# Go 1.26's fuzzing coordinator can report "context deadline exceeded" as a
# failure when the time runs out under load (golang/go#75804, fixed in Go
# 1.27).
test: check-deps check-generated lint $(TOOLS)/stripe-mock ## lint, then test everything against the local PostgreSQL and Redis with -race, then fuzz each target for 20,000 executions
	go test -race -count=1 -timeout 15m $(PACKAGES)
	@$(MAKE) --no-print-directory fuzz FUZZTIME=20000x FUZZMINIMIZETIME=100x

.PHONY: chaos
chaos: ## run the fault-tolerance suite against its own PostgreSQL and Redis (CHAOS_FLAGS for ledgerchaos; see chaos/README.md)
	@go build -o bin/ github.com/advancia-pay/ledger/chaos/cmd/ledgerchaos
	bin/ledgerchaos $(CHAOS_FLAGS)

.PHONY: bench
bench: check-deps build $(TOOLS)/stripe-mock ## run the benchmark harness against the stack (FULL=1 for the full set; see BENCHMARKS.md)
	go test -run '^$$' -bench . -benchmem -count 1 github.com/advancia-pay/ledger/services/wallet/...
	@go build -o bin/ github.com/advancia-pay/ledger/bench/cmd/ledgerbench
	@mkdir -p .run && go build -o bin/ github.com/advancia-pay/ledger/gateway/cmd/devtoken && bin/devtoken -init-keys .run
	@FULL=$(FULL) deploy/local/bench.sh

.PHONY: run
run: check-deps build $(TOOLS)/stripe-mock ## migrate, start every service and the gateway; Ctrl-C stops them
	@deploy/local/run.sh

.PHONY: token
token: ## print a development token: make -s token SUB=user-1 [ROLE=service]
	@go build -o bin/ github.com/advancia-pay/ledger/gateway/cmd/devtoken
	@bin/devtoken -init-keys .run
	@bin/devtoken -sub "$(SUB)" $(if $(ROLE),-role $(ROLE))
