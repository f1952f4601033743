# rs-idc: build, demo and tests. Everything uses cargo's release profile, so
# the AWS SDK is compiled once for the library, the tests and the C programs.

CARGO      ?= cargo
CC         ?= gcc
LIBDIR     := target/release
FAKE       := $(LIBDIR)/rs-idc-fake
BUILD      := build
CFLAGS     ?= -std=c11 -O1 -g -Wall -Wextra -Werror -pedantic
CPPFLAGS   += -D_GNU_SOURCE -Iinclude
LDLIBS_RS  := -L$(LIBDIR) -Wl,-rpath,$(abspath $(LIBDIR)) -lrs_idc -lpthread
VALGRIND   := valgrind --quiet --error-exitcode=99 --leak-check=full \
              --errors-for-leak-kinds=definite --show-leak-kinds=definite \
              --track-fds=no --child-silent-after-fork=yes
VENV       := .venv
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
VERSION_MAJOR := $(firstword $(subst ., ,$(VERSION)))

EXAMPLES   := $(BUILD)/get_token $(BUILD)/dlopen_token $(BUILD)/driver_options
# Each mk/*.mk file adds the rules of one part (install, bindings, ...) and
# names its test targets in EXTRA_TESTS, which `make test` runs too.
.DEFAULT_GOAL := all
EXTRA_TESTS :=
-include $(sort $(wildcard mk/*.mk))
C_TESTS    := $(patsubst tests/c/%.c,$(BUILD)/%,$(wildcard tests/c/test_*.c))

.PHONY: all lib header demo test test-rust test-c test-valgrind test-cli lint clean

all: lib $(EXAMPLES) $(C_TESTS)

# The library (cdylib, staticlib, rlib) and the local fake endpoint. The
# link named by the library's SONAME lets programs linked here find it.
lib:
	$(CARGO) build --release --workspace
	ln -sf librs_idc.so $(LIBDIR)/librs_idc.so.$(VERSION_MAJOR)

# Refreshes include/rs_idc.h from the Rust sources: build.rs writes the
# header into its OUT_DIR, which cargo names in its build messages.
header:
	$(CARGO) build --release --message-format=json | python3 -c 'import json, shutil, sys; \
	  dirs = [m["out_dir"] for m in map(json.loads, sys.stdin) \
	          if m.get("reason") == "build-script-executed" and "#rs-idc@" in m["package_id"]]; \
	  shutil.copy(dirs[-1] + "/rs_idc.h", "include/rs_idc.h")'


$(LIBDIR)/librs_idc.so: lib

$(BUILD):
	mkdir -p $@

$(BUILD)/get_token: examples-c/get_token.c include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDLIBS_RS)

$(BUILD)/dlopen_token: examples-c/dlopen_token.c include/rs_idc.h | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ -ldl

$(BUILD)/driver_options: examples-c/driver_options.c include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDLIBS_RS)

$(BUILD)/test_%: tests/c/test_%.c tests/c/harness.h include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDLIBS_RS)

# Gets a token from the local fake endpoint and shows its length and expiry.
demo: lib $(EXAMPLES)
	$(FAKE) run -- $(BUILD)/get_token my-cluster
	$(FAKE) run -- $(BUILD)/dlopen_token $(abspath $(LIBDIR))/librs_idc.so my-cluster
	$(FAKE) run -- $(BUILD)/driver_options

test: test-rust test-c test-valgrind test-cli $(EXTRA_TESTS)

# Rust unit and integration tests; the fake's environment is the safety net
# that keeps every SDK call on loopback.
test-rust: lib
	$(FAKE) run -- $(CARGO) test --release --workspace

test-c: lib $(EXAMPLES) $(C_TESTS)
	@set -e; for t in $(C_TESTS); do echo "== $$t"; $(FAKE) run -- $$t; done
	$(FAKE) run -- $(BUILD)/get_token my-cluster
	$(FAKE) run -- $(BUILD)/dlopen_token $(abspath $(LIBDIR))/librs_idc.so my-cluster
	$(FAKE) run -- $(BUILD)/driver_options

test-valgrind: lib $(EXAMPLES) $(C_TESTS)
	@set -e; for t in $(C_TESTS); do echo "== valgrind $$t"; \
	  RS_IDC_TEST_SLOW=1 $(FAKE) run -- $(VALGRIND) $$t; done
	$(FAKE) run -- $(VALGRIND) $(BUILD)/get_token my-cluster

# Checks the fake against a real client: the AWS CLI.
$(VENV)/bin/aws:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check awscli

test-cli: lib $(VENV)/bin/aws
	AWS_CLI=$(abspath $(VENV))/bin/aws python3 tests/check_aws_cli.py $(FAKE)

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

clean:
	rm -rf $(BUILD)
	$(CARGO) clean

# Benchmark: rs-idc (cached, uncached, cold start) against boto3, all on the
# local fake endpoint; prints a table and writes it to build/bench.txt.
.PHONY: bench
BENCH_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -pedantic

$(BUILD)/bench: bench/bench.c include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(BENCH_CFLAGS) $< -o $@ $(LDLIBS_RS)

# boto3 in the project venv; with the AWS CLI there, pip keeps the two agreeing on botocore.
$(VENV)/.boto3:
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check boto3 \
	  $$(test -x $(VENV)/bin/aws && echo awscli)
	touch $@

bench: lib $(BUILD)/bench $(BUILD)/get_token $(VENV)/.boto3
	$(FAKE) run -- python3 bench/run.py --python $(VENV)/bin/python
