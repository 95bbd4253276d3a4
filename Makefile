# SPDX-License-Identifier: LGPL-2.1-or-later
# Front door for people and CI. The build itself is meson + ninja.

BUILD ?= build
ASAN_BUILD ?= build-asan
PREFIX ?= /usr/local
PYTHON ?= /usr/bin/python3

# Debian 12 packages: to build, to test, and for the peers the tests run against.
BUILD_DEPS = meson ninja-build gcc pkg-config python3 libsqlite3-dev libarchive-dev zlib1g-dev \
	libzstd-dev libcurl4-openssl-dev busybox-static
TEST_DEPS = clang libclang-rt-14-dev python3-pytest python3-setuptools python3-yaml varlink-go systemd go-md2man skopeo umoci \
	podman sqlite3 crun runc conmon catatonit golang-github-containers-common docker-registry apache2-utils \
	openssl curl netavark aardvark-dns iptables openssh-server openssh-client
BENCH_DEPS = golang-go golang-github-varlink-go-dev libjson-c-dev valgrind hyperfine

.PHONY: all deps test-deps build check demo install clean bench fuzz format

all: build

deps:
	@./tools/apt-install $(BUILD_DEPS)

test-deps: deps
	@./tools/apt-install $(TEST_DEPS)

$(BUILD)/build.ninja:
	meson setup $(BUILD) --prefix=$(PREFIX)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Every test: unit (TAP), the same under ASan+UBSan, fuzz corpus replay,
# integration and interop (pytest). Ends with "N passed, N failed".
check: test-deps
	@$(MAKE) --no-print-directory build
	@./tools/host-setup.sh
	@$(PYTHON) tests/run-all.py --build $(BUILD) --asan-build $(ASAN_BUILD)

install: deps build
	ninja -C $(BUILD) install
	ldconfig

demo: test-deps
	@$(MAKE) --no-print-directory install
	@./tools/host-setup.sh
	@./tools/demo.sh

bench: test-deps
	@./tools/apt-install $(BENCH_DEPS)
	@./bench/run-all.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
