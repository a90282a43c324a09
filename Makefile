# oidcstack: the two commands a new user needs are `make run` and
# `make test`. Every target uses the go command on PATH.

GO ?= go

.PHONY: run test vet unit interop browser-deps bench build clean

## run: start the whole stack on the default ports and print its URLs.
## The binary is built first and exec'd, so Ctrl-C reaches it directly
## and a clean shutdown exits 0 (`go run` reports 1 when interrupted).
run: build
	exec ./oidcstack run

## test: vet, then every test (browser tests included) under the race
## detector, then the interop module (a few seconds)
test: browser-deps
	$(GO) vet ./...
	$(GO) test -race ./...
	$(MAKE) --no-print-directory interop

## interop: the login through an independent OpenID provider, in the
## nested module interop/ (its own go.mod, so its dependencies stay out of
## the main module)
interop:
	cd interop && $(GO) vet ./... && $(GO) test -race ./...

## unit: every test without -race, for a quick check while editing
unit:
	$(GO) test ./...

## browser-deps: install Debian's chromium when running as root and no
## browser is found; elsewhere the browser tests say how to install one
browser-deps:
	@if [ -z "$$OIDCSTACK_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1 \
	   && ! command -v chromium-browser >/dev/null 2>&1 \
	   && ! command -v google-chrome >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium with apt-get (needed by the browser tests)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else \
	    echo "note: no Chrome or Chromium found; the browser tests will fail."; \
	    echo "      Install one (Debian/Ubuntu: sudo apt-get install chromium)"; \
	    echo "      or set OIDCSTACK_CHROMIUM=/path/to/chrome."; \
	  fi; \
	fi

## bench: run the Go benchmarks, then load the gateway with wrk against a
## bare reverse proxy (bench/wrk.sh; about two minutes). Installs Debian's
## wrk when running as root without it. Never run in CI.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing wrk with apt-get (needed by bench/wrk.sh)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	fi
	GO=$(GO) sh bench/wrk.sh

## build: build the oidcstack binary into ./oidcstack
build:
	$(GO) build -o oidcstack ./cmd/oidcstack

clean:
	rm -rf oidcstack data e2e/artifacts
