# Process life: the library loaded and unloaded with dlopen()/dlclose() 200
# times (tests/life/dlopen_loop.c, not linked with the library, so it is
# not a tests/c program: of the harness archive it links only the part
# that calls nothing of the library), plain and under valgrind. fork()
# while calls are in flight and exit() with calls in flight are
# tests/c/test_lifecycle.c and tests/c/test_exit.c, which `make test-c` and
# `make test-valgrind` run; `make test-life` runs them too, for a quick
# look at process life alone.
#
# A driver plug-in that links librs_idc.a statically (tests/life/
# static_driver.c, linked the way `pkg-config --static --libs rs_idc` says,
# -Wl,-z,nodelete included) is loaded and unloaded 50 times by
# tests/life/static_unload.c, with a fork() in each round: dlclose() must
# leave it mapped, so that the library's threads and fork handlers never
# run unmapped code. It runs plain and under valgrind.
#
#   make test-life-dlopen         the dlopen loop (also part of `make test`)
#   make test-life-static-unload  the static plug-in loop (also part of `make test`)
#   make test-life                both loops, test_lifecycle and test_exit

LIFE_DLOPEN := $(BUILD)/life/dlopen_loop

.PHONY: test-life test-life-dlopen test-life-static-unload
EXTRA_TESTS += test-life-dlopen test-life-static-unload

$(BUILD)/life:
	mkdir -p $@

$(LIFE_DLOPEN): tests/life/dlopen_loop.c tests/life/life.h tests/life/proc_stats.h tests/c/harness.h \
                $(HARNESS) include/rs_idc.h | $(BUILD)/life
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(HARNESS) -ldl

test-life-dlopen: lib $(LIFE_DLOPEN)
	$(FAKE) run -- $(LIFE_DLOPEN) $(abspath $(LIBDIR))/librs_idc.so
	RS_IDC_TEST_SLOW=1 $(FAKE) run -- $(VALGRIND) $(LIFE_DLOPEN) $(abspath $(LIBDIR))/librs_idc.so

LIFE_STATIC_DRIVER := $(BUILD)/life/static_driver.so
LIFE_STATIC_UNLOAD := $(BUILD)/life/static_unload

# The plug-in: the static archive plus Libs.private of rs_idc.pc
# (RS_IDC_LIBS_PRIVATE, mk/install.mk), as a driver would link it.
$(LIFE_STATIC_DRIVER): tests/life/static_driver.c include/rs_idc.h lib | $(BUILD)/life
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared $< -o $@ \
	  $(LIBDIR)/librs_idc.a $(RS_IDC_LIBS_PRIVATE)

$(LIFE_STATIC_UNLOAD): tests/life/static_unload.c tests/life/life.h tests/life/proc_stats.h tests/c/harness.h \
                       $(HARNESS) include/rs_idc.h | $(BUILD)/life
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(HARNESS) -ldl

test-life-static-unload: lib $(LIFE_STATIC_DRIVER) $(LIFE_STATIC_UNLOAD)
	$(FAKE) run -- $(LIFE_STATIC_UNLOAD) $(abspath $(LIFE_STATIC_DRIVER))
	RS_IDC_TEST_SLOW=1 $(FAKE) run -- $(VALGRIND) $(LIFE_STATIC_UNLOAD) \
	  $(abspath $(LIFE_STATIC_DRIVER))

test-life: test-life-dlopen test-life-static-unload $(BUILD)/test_lifecycle $(BUILD)/test_exit
	$(FAKE) run -- $(BUILD)/test_exit
	$(FAKE) run -- $(BUILD)/test_lifecycle
