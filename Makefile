# Kalla's build. Every tool is pinned and installed into .tools/ from the Go
# module proxy, so a fresh machine needs only Go (and PostgreSQL for tests).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

TOOLS := $(CURDIR)/.tools
TOOLBIN := $(TOOLS)/bin
export PATH := $(TOOLBIN):$(PATH)

BUF_VERSION := v1.75.0
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_CONNECT_GO_VERSION := v1.21.1
STATICCHECK_VERSION := v0.8.2

MODULES := gen libs libs/engine/duckdb services/planner services/stager services/executor services/reaper services/kalla deploy bench
SERVICES := planner stager executor reaper kalla
GO_PACKAGES := $(addprefix ./,$(addsuffix /...,$(MODULES)))

.PHONY: all tools generate check-generated build test lint bench example clean

all: build

# go install with an explicit version ignores go.work, which is what we want
# for tools: their dependencies never mix with ours.
$(TOOLBIN)/buf:
	GOBIN=$(TOOLBIN) GOWORK=off GOFLAGS= go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(TOOLBIN)/protoc-gen-go:
	GOBIN=$(TOOLBIN) GOWORK=off GOFLAGS= go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(TOOLBIN)/protoc-gen-connect-go:
	GOBIN=$(TOOLBIN) GOWORK=off GOFLAGS= go install connectrpc.com/connect/cmd/protoc-gen-connect-go@$(PROTOC_GEN_CONNECT_GO_VERSION)
$(TOOLBIN)/staticcheck:
	GOBIN=$(TOOLBIN) GOWORK=off GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

tools: $(TOOLBIN)/buf $(TOOLBIN)/protoc-gen-go $(TOOLBIN)/protoc-gen-connect-go

generate: tools
	rm -rf gen/kalla
	buf generate

# Regenerates into a scratch copy and compares, so a stale gen/ fails the build.
check-generated: tools
	@scratch=$$(mktemp -d); trap 'rm -rf "$$scratch"' EXIT; \
	buf generate --template buf.gen.yaml -o "$$scratch"; \
	if ! diff -r "$$scratch/gen/kalla" gen/kalla >/dev/null; then \
		diff -r "$$scratch/gen/kalla" gen/kalla | head -40; \
		echo "gen/ is stale: run 'make generate' and commit the result" >&2; exit 1; \
	fi; echo "gen/ is up to date"

build:
	@mkdir -p bin
	for s in $(SERVICES); do go build -o bin/$$s ./services/$$s; done

test: check-generated
	go vet $(GO_PACKAGES)
	go test -count=1 -timeout 45m $(GO_PACKAGES)

lint: tools $(TOOLBIN)/staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet $(GO_PACKAGES)
	staticcheck $(GO_PACKAGES)
	buf lint
	buf format --diff --exit-code

bench:
	bash bench/run.sh

example:
	go build -o bin/kalla ./services/kalla
	bin/kalla reconcile --recipe examples/invoices/recipe.json --out out/example --format csv

clean:
	rm -rf bin
