# Kooperacje — the two commands a newcomer needs are `make run` and `make test`.

GO      ?= go
BIN     := bin/kooperacje
DATA    ?= ./data
HTTP    ?= 127.0.0.1:8080
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test test-short bench bench-all soak scale lint fmt clean chromium axe

## run: build and start the engine with an embedded JetStream, the demo data, the API
run: build
	./$(BIN) serve --data $(DATA) --http $(HTTP) --demo

## build: build the one binary into bin/
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/kooperacje

## test: every test, with the race detector (the engine is concurrent throughout);
## the browser tests' screenshots land in artifacts/
test: chromium axe
	@mkdir -p artifacts
	KOOP_AXE=$${KOOP_AXE:-$(AXE)} $(GO) test -race -count=1 -timeout 45m -artifacts -outputdir $(CURDIR)/artifacts ./...

## chromium: Debian's Chromium for the browser tests, installed when missing
## (set KOOP_CHROMIUM to use another Chromium)
chromium:
	@if [ -z "$$KOOP_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium >/dev/null; \
	fi

## axe: axe-core from npm for the browser tests' accessibility checks, installed
## into bin/axe when missing (and Debian's npm when there is no npm); the tests
## inject axe.min.js into the pages through the DevTools protocol, it is never
## part of the pages (set KOOP_AXE to use another axe.min.js)
AXE_VERSION := 4.14.1
AXE_DIR     := $(CURDIR)/bin/axe
AXE         := $(AXE_DIR)/node_modules/axe-core/axe.min.js
axe:
	@if [ -z "$$KOOP_AXE" ] && ! grep -qs '"version": "$(AXE_VERSION)"' $(AXE_DIR)/node_modules/axe-core/package.json; then \
		if ! command -v npm >/dev/null 2>&1; then \
			echo "installing Debian's npm to fetch axe-core for the browser tests"; \
			sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
			$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq npm >/dev/null; \
		fi; \
		echo "installing axe-core $(AXE_VERSION) into $(AXE_DIR) for the browser tests"; \
		mkdir -p $(AXE_DIR) && npm install --no-save --no-audit --no-fund --silent --prefix $(AXE_DIR) axe-core@$(AXE_VERSION); \
	fi

## test-short: the tests without the race detector, faster while editing
test-short:
	$(GO) test -count=1 ./...

## bench: one table, each figure beside raw JetStream measured in the same run (a few minutes; the raw output goes to bin/bench.txt)
bench:
	@mkdir -p bin
	@{ $(GO) test -run '^$$' -bench . -benchtime=1x -count=1 -timeout 20m ./internal/perf; \
	   $(GO) test -run '^$$' -bench 'BenchmarkReplay/families=200/events_per_family=25$$' -benchtime=1x -count=1 -timeout 20m ./projections; \
	 } 2>&1 | tee bin/bench.txt | $(GO) run ./internal/benchtable

## bench-all: every benchmark of every package, raw go test output
bench-all:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

## soak: the crash test for longer: SOAK_ROUNDS kill-and-restart rounds under load (default 300)
SOAK_ROUNDS ?= 300
soak:
	KOOPERACJE_CRASH_ROUNDS=$(SOAK_ROUNDS) $(GO) test -race -count=1 -timeout 0 -run '^TestCrashSafety$$' -v ./cmd/kooperacje

## scale: the large-scale figures of docs/performance.md: for each FAMILIES:MEETINGS in SCALE_RUNS,
## bench generate (--no-sync: test data only) then bench scale; reports in bin/scale/*.json
## (about an hour on 2 shared cores, ~13 GB of disk and ~12 GB of RAM at most at the defaults; never part of make test;
## SCALE_KEEP=1 keeps the data directories)
SCALE_DIR  ?= bin/scale
SCALE_RUNS ?= 20000:0 20000:14 200000:0 200000:14
scale: build
	@mkdir -p $(SCALE_DIR)
	@set -e; for r in $(SCALE_RUNS); do \
		n=$${r%%:*}; m=$${r##*:}; d=$(SCALE_DIR)/data-$$n-$$m; \
		echo "== $$n families, $$m extra meetings ($$(nproc) cores, load $$(cut -d' ' -f1-3 /proc/loadavg))"; \
		rm -rf $$d; \
		./$(BIN) bench generate --data $$d --demo --families $$n --meetings $$m --no-sync --concurrency 1024; \
		./$(BIN) bench scale --data $$d --demo --json-file $(SCALE_DIR)/scale-$$n-$$m.json; \
		[ -n "$(SCALE_KEEP)" ] || rm -rf $$d; \
	done

## lint: go vet and a gofmt check
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## fmt: format the code
fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin artifacts
