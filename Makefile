# Sluice: the two commands that matter are `make run` and `make test`.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: run build test check-tools vet fmt-check cross bench clean editor

## run: start Sluice on http://127.0.0.1:1880 with the example flow
run:
	$(GO) run ./cmd/sluice run -u .sluice-dev flows/hello.json

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/sluice ./cmd/sluice

## test: everything CI runs (tools check, vet, gofmt, race tests, cross builds)
test: check-tools vet fmt-check
	$(GO) test -race -count=1 -timeout 20m ./...
	$(MAKE) cross

check-tools:
	@bash scripts/check-tools.sh

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run ./cmd/sluice fmt --check flows/*.json

## cross: static builds for the edge targets
cross:
	@for arch in amd64 arm64 arm; do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch GOARM=7 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/sluice-linux-$$arch ./cmd/sluice || exit 1; \
	  echo "bin/sluice-linux-$$arch $$(stat -c %s bin/sluice-linux-$$arch) bytes"; \
	done

## editor: rebuild the browser editor into web/editor_dist (commit the result)
editor:
	npm ci --no-audit --no-fund
	npm test
	npm run typecheck -w editor
	npm run build

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./bench/...

clean:
	rm -rf bin .sluice-dev
