# C++: the header-only wrapper include/rs_idc.hpp, its example and its test.
#
#   make cpp       builds build/cpp_token and build/cpp_test_wrapper
#   make test-cpp  runs the test and the example (the process's own and a
#                  user's token) under the fake, and the test again under
#                  valgrind

CXX        ?= g++
CXXFLAGS   ?= -std=c++17 -O1 -g -Wall -Wextra -Werror -pedantic -Wshadow \
              -Wconversion -Wsign-conversion -Wold-style-cast -Wnon-virtual-dtor
CPP_PROGRAMS := $(BUILD)/cpp_token $(BUILD)/cpp_test_wrapper

.PHONY: cpp test-cpp

cpp: $(CPP_PROGRAMS)

$(BUILD)/cpp_token: examples-c/cpp_token.cpp include/rs_idc.hpp include/rs_idc.h lib | $(BUILD)
	$(CXX) -Iinclude $(CXXFLAGS) $< -o $@ $(LDLIBS_RS)

$(BUILD)/cpp_test_wrapper: tests/cpp/test_wrapper.cpp $(BUILD)/fake_names.h include/rs_idc.hpp include/rs_idc.h lib | $(BUILD)
	$(CXX) -Iinclude -I$(BUILD) $(CXXFLAGS) $< -o $@ $(LDLIBS_RS)

test-cpp: lib $(CPP_PROGRAMS)
	$(FAKE) run -- $(BUILD)/cpp_test_wrapper
	$(FAKE) run -- $(BUILD)/cpp_token my-cluster
	$(FAKE) run -- $(BUILD)/cpp_token --serverless my-workgroup
	$(FAKE) run -- $(BUILD)/cpp_token --host my-cluster.abc123.us-east-1.redshift.amazonaws.com
	@echo "== cpp_token --user (a user's token from a web token on stdin)"
	$(FAKE) run -- sh -c '$(FAKE) web-token cpp-example-user 600 | $(BUILD)/cpp_token --user \
	  "$$RS_IDC_TEST_APPLICATION_ARN" "$$RS_IDC_TEST_ACCESS_ROLE_ARN" my-cluster'
	@echo "== cpp_token --user with an expired web token (must fail with RS_IDC_EIDENTITY)"
	@out=$$($(FAKE) run -- sh -c '$(FAKE) web-token cpp-example-user -60 | $(BUILD)/cpp_token \
	  --user "$$RS_IDC_TEST_APPLICATION_ARN" "$$RS_IDC_TEST_ACCESS_ROLE_ARN" my-cluster' 2>&1); \
	  rc=$$?; echo "$$out"; test $$rc -eq 1 && echo "$$out" | grep -q '^error: RS_IDC_EIDENTITY: '
	@echo "== cpp_token err-notfound (must fail with RS_IDC_ENOTFOUND)"
	@out=$$($(FAKE) run -- $(BUILD)/cpp_token err-notfound 2>&1); rc=$$?; echo "$$out"; \
	  test $$rc -eq 1 && echo "$$out" | grep -q '^error: RS_IDC_ENOTFOUND: '
	RS_IDC_TEST_SLOW=1 $(FAKE) run -- $(VALGRIND) $(BUILD)/cpp_test_wrapper

EXTRA_TESTS += test-cpp
