# The public header as C89 and C++98: tests/header/compile.c uses every
# declaration of include/rs_idc.h and is built with gcc -std=c89 and with
# g++ -std=c++98, -pedantic -Werror, and linked against the library, so a
# construct either language refuses, or a declaration without a symbol,
# fails. (That include/rs_idc.h matches a fresh one is a Rust test.)
#
#   make test-header

.PHONY: test-header
EXTRA_TESTS += test-header

HEADER_WARNINGS := -pedantic -Werror -Wall -Wextra

test-header: lib | $(BUILD)
	$(CC) -std=c89 $(HEADER_WARNINGS) -Iinclude tests/header/compile.c \
	  -o $(BUILD)/header_c89 $(LDLIBS_RS)
	$(CXX) -std=c++98 $(HEADER_WARNINGS) -Iinclude -x c++ tests/header/compile.c \
	  -x none -o $(BUILD)/header_cxx98 $(LDLIBS_RS)
	@echo "include/rs_idc.h: C89 and C++98 clean"
