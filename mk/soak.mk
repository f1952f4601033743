# Soak: eight threads call the library for a while (soak/soak.c); resident
# memory, open descriptors and threads must stay flat and every call must
# give the status it should. It prints its figures; it is not a timed test.
#
#   make soak       a 120 s run
#   make test-soak  a 10 s run (also part of `make test`)
#
# SOAK_SECONDS overrides the length of `make soak`.

SOAK         := $(BUILD)/soak/soak
SOAK_SECONDS ?= 120

.PHONY: soak test-soak
EXTRA_TESTS += test-soak

$(BUILD)/soak:
	mkdir -p $@

$(SOAK): soak/soak.c tests/c/harness.h $(HARNESS) tests/life/proc_stats.h include/rs_idc.h lib | $(BUILD)/soak
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(HARNESS) $(LDLIBS_RS)

soak: lib $(SOAK)
	$(FAKE) run -- $(SOAK) $(SOAK_SECONDS)

test-soak: lib $(SOAK)
	$(FAKE) run -- $(SOAK) 10
