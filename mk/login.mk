# libpq-style login example (examples-c/libpq_login.c): gets a token with
# rs-idc and logs in over the PostgreSQL v3 protocol. Tested against a tiny
# loopback login server (tests/login/fake_pg.py) and the fake endpoint, with
# two cases again under valgrind.

.PHONY: test-login
EXAMPLES    += $(BUILD)/libpq_login
EXTRA_TESTS += test-login

$(BUILD)/libpq_login: examples-c/libpq_login.c include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDLIBS_RS)

test-login: lib $(BUILD)/libpq_login
	PYTHONDONTWRITEBYTECODE=1 $(FAKE) run -- python3 tests/login/test_login.py $(BUILD)/libpq_login \
	  --valgrind "$(VALGRIND)"
