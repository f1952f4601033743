# Process life: the library loaded and unloaded with dlopen()/dlclose() 200
# times (tests/life/dlopen_loop.c, not linked with the library, so it is
# not a tests/c program), plain and under valgrind. fork() while calls are
# in flight and exit() with calls in flight are tests/c/test_lifecycle.c and
# tests/c/test_exit.c, which `make test-c` and `make test-valgrind` run;
# `make test-life` runs them too, for a quick look at process life alone.
#
#   make test-life-dlopen  the dlopen loop (also part of `make test`)
#   make test-life         the dlopen loop, test_lifecycle and test_exit

LIFE_DLOPEN := $(BUILD)/life/dlopen_loop

.PHONY: test-life test-life-dlopen
EXTRA_TESTS += test-life-dlopen

$(BUILD)/life:
	mkdir -p $@

$(LIFE_DLOPEN): tests/life/dlopen_loop.c tests/life/proc_stats.h tests/c/harness.h \
                include/rs_idc.h | $(BUILD)/life
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ -ldl

test-life-dlopen: lib $(LIFE_DLOPEN)
	$(FAKE) run -- $(LIFE_DLOPEN) $(abspath $(LIBDIR))/librs_idc.so
	RS_IDC_TEST_SLOW=1 $(FAKE) run -- $(VALGRIND) $(LIFE_DLOPEN) $(abspath $(LIBDIR))/librs_idc.so

test-life: test-life-dlopen $(BUILD)/test_lifecycle $(BUILD)/test_exit
	$(FAKE) run -- $(BUILD)/test_exit
	$(FAKE) run -- $(BUILD)/test_lifecycle
