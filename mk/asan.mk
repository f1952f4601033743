# AddressSanitizer and UndefinedBehaviorSanitizer for the C side: every
# tests/c/test_*.c program, the C examples and the dlopen loop of
# tests/life, built with -fsanitize=address,undefined into build/asan/ and
# run under the fake. The library itself is not instrumented, but its
# allocations go through the sanitizer's malloc, so a C program that frees
# a token twice, writes past one or leaks one is caught, and so is a
# library allocation nothing points to any more at exit (LeakSanitizer,
# which gcc's libasan includes: no extra package is needed). The library's
# process-lifetime allocations (runtime, caches, clients) stay reachable
# from statics, so no suppression is needed today; tests/asan.supp is
# where one would go, limited to its allocation site, with its reason.
#
#   make asan       builds the programs
#   make test-asan  runs them (also part of `make test`)

ASAN_DIR      := $(BUILD)/asan
ASAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all \
                 -fno-omit-frame-pointer -g
# test_lifecycle forks while other threads allocate without pause. GCC 12's
# libasan does not hold its allocator's locks across fork(), so a child can
# inherit one held by a parent thread and block in malloc() forever (seen:
# a runtime worker of the child waiting in SizeClassAllocator64::
# GetFromAllocator). That is the sanitizer's limit, not the library's:
# test_lifecycle runs in test-c and test-valgrind, not here.
ASAN_SKIP     := test_lifecycle
ASAN_C_TESTS  := $(filter-out $(addprefix $(ASAN_DIR)/,$(ASAN_SKIP)), \
                 $(patsubst tests/c/%.c,$(ASAN_DIR)/%,$(wildcard tests/c/test_*.c)))
ASAN_EXAMPLES := $(ASAN_DIR)/get_token $(ASAN_DIR)/dlopen_token $(ASAN_DIR)/driver_options
ASAN_LIFE     := $(ASAN_DIR)/dlopen_loop
ASAN_PROGRAMS := $(ASAN_C_TESTS) $(ASAN_EXAMPLES) $(ASAN_LIFE)
# halt_on_error/exitcode: the first finding ends the program with status
# 86, which fails the run. Leak reports come at exit; forked children leave
# with _exit() and are not leak-checked, which is what we want.
ASAN_OPTS     := detect_leaks=1:halt_on_error=1:exitcode=86:strict_string_checks=1
ASAN_OPTS     := $(ASAN_OPTS):detect_stack_use_after_return=1:check_initialization_order=1
ASAN_ENV      := ASAN_OPTIONS=$(ASAN_OPTS) \
                 LSAN_OPTIONS=suppressions=$(abspath tests/asan.supp):print_suppressions=1 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: asan test-asan
EXTRA_TESTS += test-asan

$(ASAN_DIR):
	mkdir -p $@

# The harness archive, instrumented too.
ASAN_HARNESS  := $(ASAN_DIR)/harness/libharness.a
$(eval $(call harness_archive,$(ASAN_DIR),$(ASAN_FLAGS)))

$(ASAN_DIR)/test_%: tests/c/test_%.c tests/c/harness.h $(ASAN_HARNESS) include/rs_idc.h lib | $(ASAN_DIR)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) $< -o $@ $(ASAN_HARNESS) $(LDLIBS_RS)

$(ASAN_DIR)/get_token: examples-c/get_token.c include/rs_idc.h lib | $(ASAN_DIR)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) $< -o $@ $(LDLIBS_RS)

$(ASAN_DIR)/driver_options: examples-c/driver_options.c include/rs_idc.h lib | $(ASAN_DIR)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) $< -o $@ $(LDLIBS_RS)

$(ASAN_DIR)/dlopen_token: examples-c/dlopen_token.c include/rs_idc.h | $(ASAN_DIR)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) $< -o $@ -ldl

$(ASAN_DIR)/dlopen_loop: tests/life/dlopen_loop.c tests/life/proc_stats.h tests/c/harness.h \
                         $(ASAN_HARNESS) include/rs_idc.h | $(ASAN_DIR)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) $< -o $@ $(ASAN_HARNESS) -ldl

asan: $(ASAN_PROGRAMS)

test-asan: lib $(ASAN_PROGRAMS)
	@set -e; for t in $(ASAN_C_TESTS); do echo "== asan $$t"; \
	  $(ASAN_ENV) $(FAKE) run -- $$t; done
	$(ASAN_ENV) $(FAKE) run -- $(ASAN_DIR)/get_token my-cluster
	$(ASAN_ENV) $(FAKE) run -- $(ASAN_DIR)/dlopen_token $(abspath $(LIBDIR))/librs_idc.so my-cluster
	$(ASAN_ENV) $(FAKE) run -- $(ASAN_DIR)/driver_options
	$(ASAN_ENV) $(FAKE) run -- $(ASAN_LIFE) $(abspath $(LIBDIR))/librs_idc.so
