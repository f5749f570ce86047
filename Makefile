# Kooperacje — the two commands a newcomer needs are `make run` and `make test`.

GO      ?= go
BIN     := bin/kooperacje
DATA    ?= ./data
HTTP    ?= 127.0.0.1:8080
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run build test test-short bench soak lint fmt clean

## run: build and start the engine with an embedded JetStream, the demo data, the API
run: build
	./$(BIN) serve --data $(DATA) --http $(HTTP) --demo

## build: build the one binary into bin/
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/kooperacje

## test: every test, with the race detector (the engine is concurrent throughout)
test:
	$(GO) test -race -count=1 -timeout 20m ./...

## test-short: the tests without the race detector, faster while editing
test-short:
	$(GO) test -count=1 ./...

## bench: the benchmarks, each beside raw JetStream measured in the same run
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

## soak: the crash test for longer: SOAK_ROUNDS kill-and-restart rounds under load (default 300)
SOAK_ROUNDS ?= 300
soak:
	KOOPERACJE_CRASH_ROUNDS=$(SOAK_ROUNDS) $(GO) test -race -count=1 -timeout 0 -run '^TestCrashSafety$$' -v ./cmd/kooperacje

## lint: go vet and a gofmt check
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## fmt: format the code
fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
