# One way to build and check Sentinel. CI runs `make ci`.
GO        ?= go
FUZZTIME  ?= 30s
CORPUS    ?= ../shared/corpus
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build test lint bench fuzz eval-docs ci tools

all: build test

build:
	$(GO) build -o bin/sentinel ./cmd/sentinel

## test: every test of the main module and of the benchmark module.
test:
	$(GO) test -count=1 ./...
	cd bench && $(GO) test -count=1 ./...

tools:
	command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## lint: gofmt, go vet and staticcheck must be silent.
lint: tools
	@out="$$(gofmt -l . )"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...
	cd bench && $(GO) vet ./... && PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...

## bench: the decision benchmarks side by side with the peers (see bench/README.md).
bench:
	cd bench && $(GO) test -run='^$$' -bench=. -benchmem -count=6 . | tee bench.txt

## fuzz: every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list='^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

## eval-docs: regenerate the corpus tables in docs/.
eval-docs: build
	./bin/sentinel eval --max-mismatches 40 $(CORPUS)/gtfobins/gtfobins_commands.jsonl > docs/eval-gtfobins.md
	./bin/sentinel eval --max-mismatches 40 $(CORPUS)/nl2bash/nl2bash_commands.jsonl > docs/eval-nl2bash.md

ci: lint test
