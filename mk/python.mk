# Python binding (bindings/python): a ctypes wrapper, tested against the
# local fake endpoint with the library built here.

.PHONY: test-python
EXTRA_TESTS += test-python

test-python: lib
	PYTHONDONTWRITEBYTECODE=1 RS_IDC_LIBRARY=$(abspath $(LIBDIR))/librs_idc.so \
	  $(FAKE) run -- python3 bindings/python/test_rs_idc.py
