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

WEB := services/web
WEBUI_DIST := services/planner/internal/webui/dist
CHROMIUM ?= /usr/bin/chromium

.PHONY: all tools generate check-generated web build test test-web chromium lint bench example clean

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

tools: $(TOOLBIN)/buf $(TOOLBIN)/protoc-gen-go $(TOOLBIN)/protoc-gen-connect-go node_modules/.package-lock.json

# One npm workspace at the root: the web page, its tests and protoc-gen-es
# (which writes gen/ts), all pinned in package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json $(WEB)/package.json
	npm ci --no-audit --no-fund
	@touch $@

generate: tools
	rm -rf gen/kalla gen/ts
	buf generate

# Regenerates into a scratch copy and compares, so a stale gen/ fails the build.
check-generated: tools
	@scratch=$$(mktemp -d); trap 'rm -rf "$$scratch"' EXIT; \
	buf generate --template buf.gen.yaml -o "$$scratch"; \
	for d in kalla ts; do \
		if ! diff -r "$$scratch/gen/$$d" gen/$$d >/dev/null; then \
			diff -r "$$scratch/gen/$$d" gen/$$d | head -40; \
			echo "gen/ is stale: run 'make generate' and commit the result" >&2; exit 1; \
		fi; \
	done; echo "gen/ is up to date"

# The page is built into the planner's module, which embeds it; without
# this step the planner serves a page saying how to build it.
web: node_modules/.package-lock.json
	npm run build --workspace $(WEB)

build: web
	@mkdir -p bin
	for s in $(SERVICES); do go build -o bin/$$s ./services/$$s; done

# The end-to-end walk (services/kalla/web_test.go) needs Chromium; it is
# installed from Debian when missing, as CI's fresh machine lacks it.
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "Chromium is missing: apt-get install chromium (as root)" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

test-web: node_modules/.package-lock.json
	npm test --workspace $(WEB)

test: check-generated web chromium test-web
	go vet $(GO_PACKAGES)
	CHROMIUM=$(CHROMIUM) go test -count=1 -timeout 45m $(GO_PACKAGES)

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
