# rs-idc: build, demo and tests. Everything uses cargo's release profile, so
# the AWS SDK is compiled once for the library, the tests and the C programs.

CARGO      ?= cargo
CC         ?= gcc
LIBDIR     := target/release
FAKE       := $(LIBDIR)/rs-idc-fake
BUILD      := build
CFLAGS     ?= -std=c11 -O1 -g -Wall -Wextra -Werror -pedantic
CPPFLAGS   += -D_GNU_SOURCE -Iinclude -I$(BUILD)
LDLIBS_RS  := -L$(LIBDIR) -Wl,-rpath,$(abspath $(LIBDIR)) -lrs_idc -lpthread
VALGRIND   := valgrind --quiet --error-exitcode=99 --leak-check=full \
              --errors-for-leak-kinds=definite --show-leak-kinds=definite \
              --track-fds=no --child-silent-after-fork=yes
VENV       := .venv
VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
VERSION_MAJOR := $(firstword $(subst ., ,$(VERSION)))

EXAMPLES   := $(BUILD)/get_token $(BUILD)/dlopen_token $(BUILD)/driver_options \
              $(BUILD)/user_token $(BUILD)/poll_token
# The C test harness: tests/c/harness.h declares it; its functions are
# compiled once into an archive that every program including the header
# links (tests/c, tests/life, bench, soak). $(call harness_archive,DIR,FLAGS)
# makes the rules of DIR/harness/libharness.a, built with $(CFLAGS) FLAGS.
# The header includes $(BUILD)/fake_names.h, the names the tests share with
# the fake (control operations, counters, counted operations), printed by
# the fake binary itself, so a test cannot use a name the fake lacks.
HARNESS_SRCS := tests/c/harness.c tests/c/fake_client.c tests/c/calls.c
HARNESS    := $(BUILD)/harness/libharness.a
define harness_archive
$(1)/harness/%.o: tests/c/%.c tests/c/harness.h $(BUILD)/fake_names.h include/rs_idc.h
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $(2) -c $$< -o $$@
$(1)/harness/libharness.a: $(patsubst tests/c/%.c,$(1)/harness/%.o,$(HARNESS_SRCS))
	rm -f $$@ && $$(AR) rcs $$@ $$^
endef
$(eval $(call harness_archive,$(BUILD)))

# Each mk/*.mk file adds the rules of one part (install, bindings, ...) and
# names its test targets in EXTRA_TESTS, which `make test` runs too.
.DEFAULT_GOAL := all
EXTRA_TESTS :=
-include $(sort $(wildcard mk/*.mk))
C_TESTS    := $(patsubst tests/c/%.c,$(BUILD)/%,$(wildcard tests/c/test_*.c))

.PHONY: all lib header demo test check test-rust test-c test-valgrind test-cli lint clean

all: lib $(EXAMPLES) $(C_TESTS)

# The library (cdylib, staticlib, rlib) and the local fake endpoint. The
# link named by the library's SONAME lets programs linked here find it.
lib:
	$(CARGO) build --release --workspace
	ln -sf librs_idc.so $(LIBDIR)/librs_idc.so.$(VERSION_MAJOR)

# Refreshes include/rs_idc.h from the Rust sources (build.rs writes the
# header into its OUT_DIR, which cargo names in its build messages), then
# the reference pages in docs/api/ from the header.
header:
	$(CARGO) build --release --message-format=json | python3 -c 'import json, shutil, sys; \
	  dirs = [m["out_dir"] for m in map(json.loads, sys.stdin) \
	          if m.get("reason") == "build-script-executed" and "#rs-idc@" in m["package_id"]]; \
	  shutil.copy(dirs[-1] + "/rs_idc.h", "include/rs_idc.h")'
	python3 tools/api_docs.py write


$(LIBDIR)/librs_idc.so: lib

# Rewritten only when the names change, so that nothing is rebuilt for it.
$(BUILD)/fake_names.h: lib | $(BUILD)
	$(FAKE) names --c > $@.tmp && (cmp -s $@.tmp $@ || mv $@.tmp $@) && rm -f $@.tmp

$(BUILD):
	mkdir -p $@

$(BUILD)/get_token: examples-c/get_token.c include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDLIBS_RS)

$(BUILD)/dlopen_token: examples-c/dlopen_token.c include/rs_idc.h | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ -ldl

$(BUILD)/driver_options: examples-c/driver_options.c include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDLIBS_RS)

$(BUILD)/user_token: examples-c/user_token.c include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDLIBS_RS)

$(BUILD)/poll_token: examples-c/poll_token.c include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDLIBS_RS)

$(BUILD)/test_%: tests/c/test_%.c tests/c/harness.h $(HARNESS) include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(HARNESS) $(LDLIBS_RS)

# Runs examples-c/user_token under the fake for three users: their web
# tokens come from the fake (files in $(BUILD), mode 0600), the program's
# own credentials are the fake's plain application keys, and $(1) names
# the target (--cluster-id ID or --workgroup NAME).
USER_TOKEN_DEMO = $(FAKE) run -- sh -c 'umask 077 && \
	  for user in alice bob carol; do \
	    $(FAKE) web-token $$user > $(BUILD)/$$user.jwt || exit 1; \
	  done && \
	  unset AWS_SESSION_TOKEN && \
	  AWS_ACCESS_KEY_ID="$$RS_IDC_TEST_PLAIN_ACCESS_KEY_ID" \
	  AWS_SECRET_ACCESS_KEY="$$RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY" \
	  $(BUILD)/user_token --application-arn "$$RS_IDC_TEST_APPLICATION_ARN" \
	    --access-role-arn "$$RS_IDC_TEST_ACCESS_ROLE_ARN" $(1) \
	    $(BUILD)/alice.jwt $(BUILD)/bob.jwt $(BUILD)/carol.jwt'

# Runs examples-c/driver_options under the fake with three connection
# strings, read from standard input since they hold secrets (the fake's
# test keys and the password of its authenticating proxy, expanded by the
# shell, never echoed): ODBC-style keys for a cluster, through the
# authenticating proxy to the HTTPS fake by its test host name (so the
# proxy and CA file are really used), with the cache off; Python-style keys
# for a serverless workgroup; and a bad Region, which must fail and name
# that key.
DRIVER_OPTIONS_DEMO = $(FAKE) run -- sh -c 'set -e; \
	  $(BUILD)/driver_options; \
	  printf "%s" "ClusterId=my-cluster;Region=us-east-1;Port=5439;Database=dev;\
	EndpointUrl=$$RS_IDC_FAKE_NAMED_TLS_URL;CaFile=$$RS_IDC_FAKE_CA_FILE;\
	https_proxy_host=127.0.0.1;https_proxy_port=$$RS_IDC_FAKE_AUTH_PROXY_PORT;\
	https_proxy_username=$$RS_IDC_FAKE_AUTH_PROXY_USER;\
	https_proxy_password={$$RS_IDC_FAKE_AUTH_PROXY_PASSWORD};DisableCache=1;\
	AccessKeyID=$$AWS_ACCESS_KEY_ID;SecretAccessKey={$$AWS_SECRET_ACCESS_KEY};\
	SessionToken={$$AWS_SESSION_TOKEN};ProxyHost=db-proxy.invalid;ProxyPort=5439" \
	    | $(BUILD)/driver_options -; \
	  $(BUILD)/driver_options "serverless_work_group=my-workgroup;is_serverless=true;\
	region=us-east-1;endpoint_url=$$AWS_ENDPOINT_URL;iam_disable_cache=false"; \
	  if $(BUILD)/driver_options "ClusterId=my-cluster;Region=us east 1" \
	      2> $(BUILD)/driver_options.err; then \
	    echo "driver_options: a bad Region was accepted" >&2; exit 1; fi; \
	  cat $(BUILD)/driver_options.err; \
	  grep -q "value of Region (option region) is at fault" $(BUILD)/driver_options.err'

# Gets a token from the local fake endpoint and shows its length and expiry.
demo: lib $(EXAMPLES)
	$(FAKE) run -- $(BUILD)/get_token my-cluster
	$(FAKE) run -- $(BUILD)/dlopen_token $(abspath $(LIBDIR))/librs_idc.so my-cluster
	$(DRIVER_OPTIONS_DEMO)
	$(FAKE) run -- $(BUILD)/poll_token slow-300
	$(call USER_TOKEN_DEMO,--cluster-id my-cluster)

test: test-rust test-c test-valgrind test-cli $(EXTRA_TESTS)

# The fast offline suite for the edit-compile-test loop: the Rust unit and
# integration tests and the C test programs, run plainly; no valgrind,
# sanitizers, AWS CLI, install, fuzz, login or soak (`make test` runs those).
check: test-rust test-c

# Rust unit and integration tests; the fake's environment is the safety net
# that keeps every SDK call on loopback.
test-rust: lib
	$(FAKE) run -- $(CARGO) test --release --workspace

# test_user_tokens also has a slow mode (about 30 s) for the renewal of
# users' credentials, which needs short-lived ones from the fake;
# test_browser a renew mode (about 3 s) for the renewal of the browser
# sign-in's access token with its refresh token; test_device_code a slow
# mode (about 7 s: told to slow down once) and an expiry mode.
USER_TOKEN_TTLS := --user-credentials-ttl 20 --refresh-token-ttl 15
BROWSER_TTLS    := --access-token-ttl 4

test-c: lib $(EXAMPLES) $(C_TESTS)
	@set -e; for t in $(C_TESTS); do echo "== $$t"; $(FAKE) run -- $$t; done
	@echo "== $(BUILD)/test_user_tokens refresh"
	$(FAKE) run $(USER_TOKEN_TTLS) -- $(BUILD)/test_user_tokens refresh
	@echo "== $(BUILD)/test_browser renew"
	$(FAKE) run $(BROWSER_TTLS) -- $(BUILD)/test_browser renew
	@echo "== $(BUILD)/test_device_code slow, expiry"
	$(FAKE) run --device-slow-downs 1 -- $(BUILD)/test_device_code slow
	$(FAKE) run --device-code-ttl 1 -- $(BUILD)/test_device_code expiry
	$(FAKE) run -- $(BUILD)/get_token my-cluster
	$(FAKE) run -- $(BUILD)/dlopen_token $(abspath $(LIBDIR))/librs_idc.so my-cluster
	$(DRIVER_OPTIONS_DEMO)
	$(FAKE) run -- $(BUILD)/poll_token slow-300
	$(call USER_TOKEN_DEMO,--cluster-id my-cluster)
	$(call USER_TOKEN_DEMO,--workgroup my-workgroup)

test-valgrind: lib $(EXAMPLES) $(C_TESTS)
	@set -e; for t in $(C_TESTS); do echo "== valgrind $$t"; \
	  RS_IDC_TEST_SLOW=1 $(FAKE) run -- $(VALGRIND) $$t; done
	@echo "== valgrind $(BUILD)/test_user_tokens refresh"
	RS_IDC_TEST_SLOW=1 $(FAKE) run $(USER_TOKEN_TTLS) -- $(VALGRIND) $(BUILD)/test_user_tokens refresh
	@echo "== valgrind $(BUILD)/test_browser renew"
	RS_IDC_TEST_SLOW=1 $(FAKE) run $(BROWSER_TTLS) -- $(VALGRIND) $(BUILD)/test_browser renew
	$(FAKE) run -- $(VALGRIND) $(BUILD)/get_token my-cluster
	$(FAKE) run -- $(VALGRIND) $(BUILD)/poll_token slow-300

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

# Benchmark: rs-idc (cached, cached per-user, uncached, cold start, library
# size) against boto3, all on the local fake endpoint; prints a table and
# the goals, and writes them to build/bench.txt. The per-user figure comes
# from $(BENCH_USERS_BIN) (bench/users.c, built by mk/bench.mk's rule); the
# size is of $(DISTDIR)/librs_idc.so, which `make install` installs, when
# `make dist` has built it (this target never builds it).
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

bench: lib $(BUILD)/bench $(BENCH_USERS_BIN) $(BUILD)/get_token $(VENV)/.boto3
	$(FAKE) run -- python3 bench/run.py --python $(VENV)/bin/python \
	  --users $(BENCH_USERS_BIN) --dist-lib $(DISTDIR)/librs_idc.so \
	  --release-lib $(LIBDIR)/librs_idc.so
