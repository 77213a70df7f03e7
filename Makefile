# wampd: a thin wrapper over CMake (the real build is CMakeLists.txt).
#   make run    install missing dependencies, build, start the router (embedded default)
#   make test   install, build, run every test through ctest, then again under ASan+UBSan
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
ARGS       ?=

.PHONY: all deps build run test test-release test-asan bench fuzz soak clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/router/wampd $(ARGS)

test: test-release test-asan

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 300

test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWAMPD_SANITIZE=ON \
		-DWAMPD_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) --timeout 600 -LE nosan

# make bench [ARGS=--quick]: Release build in build-bench/, every scenario against wampd
# and the relay baseline; results in bench/results/<date>.{json,md,png}
bench:
	@scripts/deps.sh bench
	bench/run.sh $(ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-bench
