# Thin wrapper around CMake. `make demo` and `make check` are the two commands
# the README promises; both install what they need first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
PREFIX     ?= /usr
DESTDIR    ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 20
WERROR     := $(if $(CI),ON,OFF)
CMAKE_FLAGS ?=

.PHONY: all deps build check check-asan check-tsan fuzz fuzz-smoke demo bench install clean

all: build

deps:
	@scripts/bootstrap-deps

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DRINGFENCE_WERROR=$(WERROR) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

check: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory check-asan
	$(MAKE) --no-print-directory check-tsan
	$(MAKE) --no-print-directory fuzz-smoke

# Unit and integration tests again under AddressSanitizer + UBSan.
check-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DRINGFENCE_WERROR=$(WERROR) -DRINGFENCE_SANITIZE=address \
	      -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L 'unit|sanitize'

# The preload shim under ThreadSanitizer: many threads accepting at once in a
# real daemon, reloads and name lookups in the middle.
check-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DRINGFENCE_WERROR=$(WERROR) -DRINGFENCE_SANITIZE=thread \
	      -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target ringfence_preload ringfence-wrap shim_test_server
	cd $(TSAN_BUILD) && ctest --output-on-failure -R 'integration_shim_(stress|blocking|names|symbols)'

$(FUZZ_BUILD)/CMakeCache.txt: | deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DRINGFENCE_FUZZ=ON \
	      -DRINGFENCE_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)

fuzz-build: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets

# A short run of every fuzz target (CI). `make fuzz FUZZ_SECONDS=600` for more.
fuzz-smoke: FUZZ_SECONDS = 15
fuzz-smoke fuzz: fuzz-build
	tests/fuzz/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: build
	scripts/demo $(BUILD)

bench: build
	bench/run $(BUILD)
	bench/tcpd/run $(BUILD)

install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
