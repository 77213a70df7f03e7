# wampd: a thin wrapper over CMake (the real build is CMakeLists.txt).
#   make run    install missing dependencies, build, start the router (embedded default)
#   make cluster-demo  redis + 3 nodes as one cluster on this machine (Ctrl-C stops it)
#   make test   install, build, run every test through ctest, then again under ASan+UBSan,
#               then each fuzz target for a few seconds (clang + libFuzzer)
#   make install [PREFIX=/usr/local] [DESTDIR=]   install the release build
#   make deb    the Debian package (cpack -G DEB) in build/package/
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
ARGS       ?=

.PHONY: all deps build run test test-release asan-build test-asan test-fuzz fuzz-build bench fuzz soak \
	install deb clean cluster-demo bench-cluster

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/router/wampd $(ARGS)

# make cluster-demo: a private redis-server + 3 wampd nodes as one cluster (docs/scale-out.md);
# prints the URLs, stops cleanly on Ctrl-C
cluster-demo: build
	WAMPD=$(BUILD)/router/wampd scripts/cluster-demo.sh

test: test-release test-asan test-fuzz

# make install [PREFIX=/usr/local] [DESTDIR=]: cmake --install of the build: wampd in
# PREFIX/sbin, wamp-call/-publish/-subscribe in PREFIX/bin, the man pages, the systemd unit
# in PREFIX/lib/systemd/system and the default configuration in PREFIX/etc/wampd (/etc/wampd
# for PREFIX=/usr; a configuration already there is kept)
PREFIX  ?= /usr/local
DESTDIR ?=
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# make deb: the Debian package of the build (prefix /usr, /etc/wampd/config.json a conffile)
deb: build
	cpack -G DEB --config $(BUILD)/CPackConfig.cmake -B $(BUILD)/package
	@ls $(BUILD)/package/*.deb

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 300

asan-build: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWAMPD_SANITIZE=ON \
		-DWAMPD_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

test-asan: asan-build
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) --timeout 600 -LE nosan

# make fuzz [FUZZ_SECONDS=60]: clang + libFuzzer + ASan/UBSan build in build-fuzz/, every
# target in tests/fuzz for FUZZ_SECONDS; make test runs them for FUZZ_SMOKE_SECONDS each
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_TARGETS = fuzz_json fuzz_msgpack fuzz_cbor fuzz_validate fuzz_session fuzz_httpreq fuzz_bridge \
               fuzz_httpsig fuzz_longpoll fuzz_client fuzz_yaml fuzz_webfile

fuzz-build:
	@scripts/deps.sh fuzz
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWAMPD_FUZZ=ON \
		-DWAMPD_SANITIZE=ON -DWAMPD_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(FUZZ_TARGETS)

fuzz: fuzz-build
	@cmake -S . -B $(FUZZ_BUILD) -DWAMPD_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -L fuzz -j$(JOBS) --timeout 7200

test-fuzz: fuzz-build
	@cmake -S . -B $(FUZZ_BUILD) -DWAMPD_FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) >/dev/null
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -L fuzz -j$(JOBS) --timeout 600

# make soak [SOAK_SECONDS=600]: ASan+UBSan wampd under mixed wampbench load; asserts no leaks
# and RSS growth < 5% after warm-up (tests/soak/run.sh)
SOAK_SECONDS ?= 600
soak: build asan-build
	SOAK_SECONDS=$(SOAK_SECONDS) tests/soak/run.sh

# make bench [ARGS=--quick]: Release build in build-bench/, every scenario against wampd
# and the relay baseline; results in bench/results/<date>.{json,md,png}
bench:
	@scripts/deps.sh bench
	bench/run.sh $(ARGS)

# make bench-cluster [ARGS=--quick]: wampd as 1, 2, 4 processes joined by a private Redis
# (bench/cluster.sh): fan-out and RPC scaling, the added latency of a cross-node call
bench-cluster:
	@scripts/deps.sh
	bench/cluster.sh $(ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-bench
