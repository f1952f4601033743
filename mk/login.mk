# libpq-style login example (examples-c/libpq_login.c): gets a token with
# rs-idc and logs in over TLS (OpenSSL) with the PostgreSQL v3 protocol.
# Tested against a loopback TLS login server (tests/login/fake_pg.py, with
# certificates the test makes with the openssl command) and the fake
# endpoint, three cases again under valgrind; the same server records what
# the official Python driver (redshift_connector, in the project venv)
# sends, and the test compares the two. The browser sign-in (-b) is tested
# the same way, for the example and the driver's BrowserIdcAuthPlugin: a
# script plays the browser (tests/login/play_browser.py, through
# RS_IDC_OPEN_WITH for the example and BROWSER for the driver) and the fake
# endpoint signs its user in.

.PHONY: test-login
EXAMPLES    += $(BUILD)/libpq_login
EXTRA_TESTS += test-login

LOGIN_DRIVER := redshift_connector==2.2.0

$(BUILD)/libpq_login: examples-c/libpq_login.c include/rs_idc.h lib | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDLIBS_RS) -lssl -lcrypto

# The Python driver in the project venv; with the AWS CLI there, pip keeps
# the two agreeing on botocore. The stamp names the version.
$(VENV)/.login-$(subst ==,-,$(LOGIN_DRIVER)):
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(LOGIN_DRIVER) \
	  $$(test -x $(VENV)/bin/aws && echo awscli)
	touch $@

test-login: lib $(BUILD)/libpq_login $(VENV)/.login-$(subst ==,-,$(LOGIN_DRIVER))
	PYTHONDONTWRITEBYTECODE=1 $(FAKE) run -- python3 tests/login/test_login.py $(BUILD)/libpq_login \
	  --valgrind "$(VALGRIND)" --driver-python $(abspath $(VENV))/bin/python
