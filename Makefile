# pinion's build, run and CI entry points (GNU make).
#
#   make run     build bin/pinion and serve echo on $(ADDR) in the foreground
#   make test    what CI runs: deps, lint, race tests, a short fuzz pass,
#                a smoke run of the benchmarks
#   make lint    gofmt, go vet here and for darwin/freebsd/netbsd/openbsd,
#                and a windows build
#   make bench   the full benchmark matrix against net, gnet and a C
#                reference: rewrites docs/benchmarks.md and its plots
#   make bench-quick  the same harness on a small matrix (in make test)
#   make bench-go     the Go benchmarks of every package, with allocations
#   make soak    every protocol on both models under mixed load for
#                SOAK_DURATION (10m); fails on leaks (make test runs 60s)
#
# Recipes run in bash with -e and pipefail, so a failing command in a pipe
# fails the target.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

GO    ?= go
GOFMT ?= $(shell $(GO) env GOROOT)/bin/gofmt
BIN   ?= bin/pinion

# Flags of `make run`.
ADDR  ?= 127.0.0.1:9000
PROTO ?= echo
MODEL ?= loop

TEST_TIMEOUT ?= 15m
# A count, not a duration: with -fuzztime=5s Go 1.26's fuzz coordinator can
# fail a target with a bare "context deadline exceeded" at the deadline and
# no crashing input (golang/go#75804, fixed in Go 1.27); a count never arms
# that deadline. 50000 runs take 1 to 12 s per target here.
FUZZTIME     ?= 50000x
BENCHTIME    ?= 100x

# Debian packages the tests need. gcc and libc6-dev: -race needs cgo.
# Scenario tests will add wrk, redis-tools and curl here. prometheus: the
# metrics tests run its promtool and its server. haproxy: the hot restart
# behind a real load balancer (cmd/pinion/haproxy_test.go).
DEB_PACKAGES ?= gcc libc6-dev curl wrk redis-tools redis-server prometheus haproxy

# Systems lint vets for besides the host's; windows is built, not vetted.
VET_GOOS ?= darwin freebsd netbsd openbsd

.PHONY: all build run clean deps lint test test-race fuzz soak soak-short bench bench-quick bench-go bench-smoke bench-protocols

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pinion

run: build
	$(BIN) serve -addr $(ADDR) -proto $(PROTO) -model $(MODEL)

clean:
	rm -rf bin

# test runs its steps in this order even under make -j.
test:
	$(MAKE) --no-print-directory deps
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-race
	$(MAKE) --no-print-directory soak-short
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory bench-quick

# deps installs the missing DEB_PACKAGES with apt-get (one update, then
# one install). Without root or apt-get it says so and installs nothing;
# the steps that need a package then fail on their own.
deps:
	@missing=""; \
	if ! command -v dpkg-query >/dev/null; then \
		echo "deps: no dpkg-query (not Debian?); make sure these are installed: $(DEB_PACKAGES)"; \
		exit 0; \
	fi; \
	for p in $(DEB_PACKAGES); do \
		if ! dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed'; then \
			missing="$$missing $$p"; \
		fi; \
	done; \
	if [ -z "$$missing" ]; then \
		echo "deps: all present ($(or $(strip $(DEB_PACKAGES)),none needed))"; \
	elif [ "$$(id -u)" -ne 0 ]; then \
		echo "deps: not root, not installing:$$missing"; \
	elif ! command -v apt-get >/dev/null; then \
		echo "deps: no apt-get, not installing:$$missing"; \
	else \
		echo "deps: installing:$$missing"; \
		apt-get update; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi

lint:
	@unformatted=$$($(GOFMT) -l .); \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files are not formatted (run gofmt -w on them):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi
	$(GO) vet ./...
	@for os in $(VET_GOOS); do \
		echo "GOOS=$$os $(GO) vet ./..."; \
		GOOS=$$os $(GO) vet ./...; \
	done
	GOOS=windows $(GO) build ./...
	cd bench && $(GO) vet ./...

# test-race runs the module on each package's default I/O backend (the
# engine's is auto: io_uring where the kernel allows it, else epoll; the
# loop suite's is epoll), then each of the two suites again on the other
# backend (PINION_TEST_IO), so both backends run every test of both. Where
# the kernel refuses a ring, the io_uring pass skips with the reason.
test-race:
	$(GO) test -race -count=1 -timeout=$(TEST_TIMEOUT) ./...
	PINION_TEST_IO=epoll $(GO) test -race -count=1 -timeout=$(TEST_TIMEOUT) ./engine/
	PINION_TEST_IO=uring $(GO) test -race -count=1 -timeout=$(TEST_TIMEOUT) ./internal/loop/
	cd bench && $(GO) test -race -count=1 -timeout=$(TEST_TIMEOUT) ./...

# soak runs TestSoak (cmd/pinion/soak_test.go): echo, http and resp on
# both models at once, under steady load, churn, reset storms, slow
# readers, offload storms and idle connections, sampling RSS, live heap,
# goroutines and descriptors every second. It fails on descriptors or
# goroutines not back to their baseline and on a heap or RSS trend past its
# bound; heap profiles and the samples go to SOAK_DIR. soak-short is the
# 60-second run of make test. Without -race: the race detector's own
# memory would hide the server's.
SOAK_DURATION ?= 10m
SOAK_TIMEOUT  ?= 30m
SOAK_DIR      ?= $(CURDIR)/out/soak
soak:
	SOAK_DURATION=$(SOAK_DURATION) SOAK_DIR=$(SOAK_DIR) \
		$(GO) test -run='^TestSoak$$' -count=1 -v -timeout=$(SOAK_TIMEOUT) ./cmd/pinion/

soak-short:
	$(MAKE) --no-print-directory soak SOAK_DURATION=60s SOAK_TIMEOUT=5m SOAK_DIR=$(CURDIR)/out/soak-short

# fuzz runs every Fuzz target of the module for FUZZTIME. `go test -list`
# prints a package's target names before its "ok <package>" line; one
# -fuzz run may name only one target of one package.
fuzz:
	@targets=$$($(GO) test -list '^Fuzz' ./... | \
		awk '/^Fuzz/ { names[n++] = $$1; next } \
		     /^ok[ \t]/ { for (i = 0; i < n; i++) print $$2 " " names[i]; n = 0 }'); \
	if [ -z "$$targets" ]; then echo "fuzz: no targets"; exit 0; fi; \
	while read -r pkg name; do \
		echo "fuzz: $$pkg $$name for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) "$$pkg"; \
	done <<< "$$targets"

# bench-smoke runs each benchmark a fixed, small number of times: it checks
# they run, not how fast.
bench-smoke:
	$(GO) test -run='^$$' -bench=. -benchtime=$(BENCHTIME) ./...

bench-go:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# bench runs the full matrix (pinion loop and goroutine, gnet, the C
# reference; echo, HTTP, RESP; 100 to 10,000 connections; a memory probe
# up to 18,000 idle connections) and rewrites docs/benchmarks.md and
# docs/benchmarks/*.svg: about 15 minutes on 2 cores. It needs taskset, a
# C compiler and 2 CPUs. bench-quick runs the same harness on a small
# matrix into a temporary directory (about a minute) and fails on any
# wrong response. bench-protocols rewrites docs/benchmarks-protocols.md
# (third-party clients: wrk, redis-benchmark; about 5 minutes).
BENCH_REPEAT ?= 3
bench:
	cd bench && $(GO) run ./cmd/matrix -repeat $(BENCH_REPEAT) -out ../docs/benchmarks.md

bench-quick:
	out=$${BENCH_QUICK_OUT:-$$(mktemp -d)}; \
	cd bench && $(GO) run ./cmd/matrix -quick -out "$$out/benchmarks.md"

bench-protocols:
	bench/protocols.sh
