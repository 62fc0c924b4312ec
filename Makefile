# memberpass: a membership and loyalty system for physical shops.
# `make demo` runs the whole system once; `make test` runs every test.

GO       ?= go
# The Go toolchain every target uses. go1.26.8 (the machines' local default,
# GOTOOLCHAIN=local) has 13 reachable standard-library vulnerabilities
# (net/http, crypto/x509, html/template) fixed in go1.26.10; the go command
# fetches this one from the module proxy once (~76 MB) and caches it.
export GOTOOLCHAIN := go1.26.10
BIN      := $(CURDIR)/.bin
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
# govulncheck and the vulnerability database it reads, pinned. The database
# is built offline from the golang.org/x/vulndb module (its OSV files, with
# the module's own cmd/indexdb) and cached under .bin: no network lookup at
# check time, the same answer on every machine until the pin moves.
GOVULNCHECK_VERSION := v1.9.0
VULNDB_VERSION      := v0.0.0-20261105234957-e22db6528018
VULNDB              := $(BIN)/vulndb-$(VULNDB_VERSION)
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: all build demo run test test-short deps proto proto-check vulncheck lint fuzz bench clean console-assets dist proto-snapshot

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cloud/cmd/... ./agent/cmd/... ./scripts/cmd/...

## dist: release binaries (linux amd64/arm64/armv7, windows amd64), Debian packages and SHA256SUMS in dist/
dist:
	$(GO) run ./scripts/cmd/dist -version $(VERSION) -out dist

## demo: start a cloud and an agent with a simulated scanner, print what reached the cloud
demo run:
	$(GO) run ./scripts/demo

## console-assets: refresh the console's ECharts from the npm lockfile (the built file is committed and embedded: go build needs no npm)
CONSOLE_ASSETS := cloud/console/assets
console-assets:
	cd $(CONSOLE_ASSETS) && npm ci --no-audit --no-fund
	cp $(CONSOLE_ASSETS)/node_modules/echarts/dist/echarts.common.min.js cloud/console/static/echarts.min.js
	cp $(CONSOLE_ASSETS)/node_modules/echarts/LICENSE cloud/console/static/echarts.LICENSE.txt

## deps: install and start what the tests need (protoc, PostgreSQL, Chromium); idempotent
deps:
	./scripts/ensure-deps.sh

## test: every test, against a real PostgreSQL, real pseudo-terminals and a real browser
test: deps proto-check vulncheck
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

test-short:
	$(GO) test -short ./...

$(BIN)/protoc-gen-go:
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)

$(BIN)/protoc-gen-go-grpc:
	GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

$(BIN)/govulncheck:
	GOBIN=$(BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

# The first build downloads the vulndb module and what its indexdb needs
# (a few minutes); later runs reuse .bin.
$(VULNDB)/index/db.json:
	@dir=$$(cd / && $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p') && \
	test -n "$$dir" && rm -rf $(VULNDB).tmp && \
	echo "vulncheck: building the vulnerability database from golang.org/x/vulndb@$(VULNDB_VERSION)" && \
	(cd $$dir && $(GO) run ./cmd/indexdb -vulns data/osv -out $(VULNDB).tmp) && \
	rm -rf $(VULNDB) && mv $(VULNDB).tmp $(VULNDB)

## vulncheck: govulncheck against the pinned offline vulnerability database; fails on any reachable vulnerability
vulncheck: $(BIN)/govulncheck $(VULNDB)/index/db.json
	$(BIN)/govulncheck -db file://$(VULNDB) ./...

PROTO_FILES := $(wildcard proto/memberpass/v1/*.proto)

define protoc
	PATH=$(BIN):$$PATH protoc -I proto \
		--go_out=$(1) --go_opt=module=github.com/memberpass/memberpass \
		--go-grpc_out=$(1) --go-grpc_opt=module=github.com/memberpass/memberpass \
		$(PROTO_FILES)
endef

## proto: regenerate the Go code from proto/ with the pinned local plugins
proto: $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc
	$(call protoc,.)

## proto-snapshot: after a release, record its proto as the baseline proto/compat checks additions against
proto-snapshot:
	protoc -I proto --include_imports --descriptor_set_out=proto/compat/v1.binpb $(PROTO_FILES)

## proto-check: fail if the committed generated code is stale
proto-check: $(BIN)/protoc-gen-go $(BIN)/protoc-gen-go-grpc
	@tmp=$$(mktemp -d) && $(call protoc,$$tmp) && \
	if diff -r $$tmp/proto/memberpass/v1 proto/memberpass/v1 --exclude='*.proto' >/dev/null; then \
		echo "proto-check: generated code is up to date"; rm -rf $$tmp; \
	else \
		diff -r $$tmp/proto/memberpass/v1 proto/memberpass/v1 --exclude='*.proto' | head -20; rm -rf $$tmp; \
		echo "proto-check: generated code is stale; run make proto and commit"; exit 1; \
	fi

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -o /dev/null ./agent/cmd/memberpass-agent ./cloud/cmd/memberpass-hq

## fuzz: run every fuzz target for FUZZTIME each (default 30s)
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## bench: every benchmark beside its baseline, one table, written to docs/benchmarks.md (BENCHFLAGS=-quick: short run)
bench:
	$(GO) run ./scripts/cmd/bench $(BENCHFLAGS)

clean:
	rm -rf bin .bin dist
