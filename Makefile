# SPDX-License-Identifier: BSD-3-Clause
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
# Packaging (rpm/ringfence.spec): topdir of rpmbuild, where `make dist` writes.
VERSION    := $(shell sed -n 's/^project.ringfence VERSION \([0-9][0-9.]*\).*/\1/p' CMakeLists.txt)
RPM_TOPDIR ?= $(CURDIR)/build-rpm
DIST_TARBALL = $(RPM_TOPDIR)/SOURCES/ringfence-$(VERSION).tar.gz
# rpmbuild checks BuildRequires against the rpm database. On Debian that
# database does not know the dpkg-installed compilers and -devel packages
# (bootstrap-deps installs their Debian names), so there the check is skipped,
# and rpmbuild gets a database of its own in the topdir instead of creating
# one in root's home; on the RHEL family the check stays on.
RPMBUILD_NODEPS ?= $(if $(shell command -v dpkg-query 2>/dev/null),--nodeps --dbpath $(RPM_TOPDIR)/rpmdb,)
RPMBUILD = rpmbuild --define '_topdir $(RPM_TOPDIR)' $(RPMBUILD_NODEPS)
# The configure and build of $(BUILD) print one line each; their output goes
# to $(BUILD)/configure.log and build.log, shown when they fail or warn.
# `make V=1` shows everything as it comes.
V          ?=
LOGGED      = $(if $(filter 1,$(V)),,@scripts/run-logged $(1) $(2))
# make's "Entering directory" lines, for every directory of every cmake
# build, say nothing here.
MAKEFLAGS  += --no-print-directory

.PHONY: all deps build check check-asan check-tsan fuzz fuzz-smoke demo bench install clean dist rpm rpm-check

all: build

deps:
	@scripts/bootstrap-deps

$(BUILD)/CMakeCache.txt: | deps
	$(call LOGGED,$(BUILD)/configure.log,"configuring $(BUILD)/") cmake -S . -B $(BUILD) -DRINGFENCE_WERROR=$(WERROR) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	$(call LOGGED,$(BUILD)/build.log,"building $(BUILD)/") cmake --build $(BUILD) -j $(JOBS)

# Every stage runs, even after one failed; each one's output is kept in
# $(CHECK_LOGS)/, and the summary at the end (one row per stage, then
# "N passed, N failed") fails if any stage did.
CHECK_LOGS = $(BUILD)/check-logs
STAGE      = scripts/check-stage
check: build
	@rm -rf $(CHECK_LOGS)
	@$(STAGE) run $(CHECK_LOGS) ctest "$(BUILD)/, all but packaging" \
	    'cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE packaging'
	@$(STAGE) run $(CHECK_LOGS) asan "$(ASAN_BUILD)/, ASan+UBSan" '$(MAKE) check-asan'
	@$(STAGE) run $(CHECK_LOGS) tsan "$(TSAN_BUILD)/, TSan, preload shim" '$(MAKE) check-tsan'
	@$(STAGE) run $(CHECK_LOGS) fuzz "$(FUZZ_BUILD)/, libFuzzer smoke" '$(MAKE) fuzz-smoke'
	@# Decided when it runs: bootstrap-deps may have installed rpmbuild just now.
	@if command -v rpmbuild >/dev/null 2>&1; then \
	   $(STAGE) run $(CHECK_LOGS) packaging "rpm-check, $(notdir $(RPM_TOPDIR))/" '$(MAKE) rpm-check'; \
	 else $(STAGE) skip $(CHECK_LOGS) packaging "rpm-check, $(notdir $(RPM_TOPDIR))/" \
	   "rpmbuild not installed (Debian: rpm, RHEL: rpm-build)"; fi
	@$(STAGE) summary $(CHECK_LOGS) ctest asan tsan fuzz packaging

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
	cd $(TSAN_BUILD) && ctest --output-on-failure -R 'integration_shim_(stress|blocking|names|symbols|dns|syslog)'

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
	@scripts/demo $(BUILD)

bench: build
	bench/run $(BUILD)
	bench/tcpd/run $(BUILD)
	bench/firewall/run $(BUILD)
	bench/sync/run $(BUILD)

# Reconfigures with PREFIX first: /etc and /var paths (GNUInstallDirs: /etc
# for PREFIX=/usr, PREFIX/etc otherwise) and the preload path compiled into
# ringfence-wrap are fixed at configure time, so --prefix alone would not move them.
install: deps $(BUILD)/CMakeCache.txt
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# Source tarball from the working tree (tracked and not-ignored files).
dist:
	rpm/make-dist $(RPM_TOPDIR)/SOURCES

# Binary and source RPM, from the tarball and the spec inside it, as a
# distribution would build them. --noclean keeps the build tree, which
# rpm-check reuses (rpm 4.18 removes it after a build otherwise). rpmbuild's
# %build never uses the network or bootstrap-deps.
rpm: dist
	rm -rf $(RPM_TOPDIR)/RPMS $(RPM_TOPDIR)/SRPMS $(RPM_TOPDIR)/SPECS
	mkdir -p $(RPM_TOPDIR)/SPECS
	tar -xzf $(DIST_TARBALL) -O ringfence-$(VERSION)/rpm/ringfence.spec > $(RPM_TOPDIR)/SPECS/ringfence.spec
	$(RPMBUILD) -ba --noclean $(RPM_TOPDIR)/SPECS/ringfence.spec

# The packaging tests (tests/packaging, ctest label `packaging`): rpmlint,
# the file list, and install / upgrade / erase into a scratch root. The
# upgrade needs a second release: built in the same rpmbuild tree without
# recompiling (--noprep), with a changed default firewall.conf, as a real
# update with a new default would ship (so that .rpmnew must appear). `make
# rpm` always unpacks afresh, so the change never reaches a release-1 build.
rpm-check: rpm $(BUILD)/CMakeCache.txt
	echo '# default changed in release 2 (packaging test)' >> $(RPM_TOPDIR)/BUILD/ringfence-$(VERSION)/etc/firewall/esx.conf
	$(RPMBUILD) -bb --noprep --noclean --define 'release_bump 2' $(RPM_TOPDIR)/SPECS/ringfence.spec
	cmake -S . -B $(BUILD) -DRINGFENCE_RPM_TOPDIR=$(RPM_TOPDIR)
	cd $(BUILD) && ctest --output-on-failure -L packaging

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(RPM_TOPDIR)
