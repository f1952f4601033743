# Installation: `make install PREFIX=... [DESTDIR=...]` and `make uninstall`.
#
#   $(PREFIX)/lib/librs_idc.so.$(VERSION)        the shared library (real file)
#   $(PREFIX)/lib/librs_idc.so.$(VERSION_MAJOR)  -> librs_idc.so.$(VERSION) (the SONAME)
#   $(PREFIX)/lib/librs_idc.so                   -> librs_idc.so.$(VERSION_MAJOR) (for -lrs_idc)
#   $(PREFIX)/lib/librs_idc.a                    the static library
#   $(PREFIX)/include/rs_idc.h, rs_idc.hpp       the C header and the C++ wrapper
#   $(PREFIX)/lib/pkgconfig/rs_idc.pc            for `pkg-config rs_idc`
#
# `make install` installs what `make dist` built (cargo's dist profile: one
# LTO-optimised, stripped library; the tests use the release profile), and
# builds it first only when it was never built: `make dist && sudo make
# install` does not need cargo in root's PATH. DESTDIR is prepended to every path (staged installs,
# packaging) but never written into the .pc file. After installing into a
# system library directory, run `ldconfig`.

PREFIX             ?= /usr/local
DESTDIR            ?=
INSTALL_LIBDIR     ?= $(PREFIX)/lib
INSTALL_INCLUDEDIR ?= $(PREFIX)/include
INSTALL_PCDIR      ?= $(INSTALL_LIBDIR)/pkgconfig
INSTALL            ?= install

# What a program linked with librs_idc.a needs besides it. The libraries are
# rustc's `--print native-static-libs` for x86_64-unknown-linux-gnu: gcc_s is
# the unwinder behind Rust's panics (a gcc link adds it by itself, other
# links do not), m gives pow/floor/round/trunc. With glibc 2.34 and later
# util, rt, pthread and dl are part of libc, so those four cost nothing
# there; older glibc needs them. tests/install checks the list with
# -nodefaultlibs.
RS_IDC_NATIVE_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
# -z nodelete: a shared object (a driver plug-in) that links librs_idc.a is
# never unmapped by dlclose(). The library's threads, thread-local
# destructors and pthread_atfork handlers point into that object's code for
# the rest of the process; unmapped, they would crash it. librs_idc.so has the same flag
# (build.rs). In a program it only marks the program, which is never
# unloaded anyway. tests/life/static_unload.c checks a plug-in.
RS_IDC_LIBS_PRIVATE := -Wl,-z,nodelete $(RS_IDC_NATIVE_LIBS)

# The .pc file names its directories relative to ${prefix} where it can, so
# `pkg-config --define-prefix` can move it.
rs_idc_pc_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
rs_idc_sed_escape = $(subst |,\|,$(subst &,\&,$(1)))

DISTDIR := target/dist

.PHONY: dist
dist:
	$(CARGO) build --profile dist -p rs-idc --lib

# Build the library only when it was never built (see above).
rs_idc_install_needs := $(if $(and $(wildcard $(DISTDIR)/librs_idc.so),$(wildcard $(DISTDIR)/librs_idc.a)),,dist)

.PHONY: install uninstall test-install

$(BUILD)/rs_idc.pc: rs_idc.pc.in Cargo.toml FORCE_RS_IDC_PC | $(BUILD)
	@test -n '$(VERSION)' || { echo 'no version found in Cargo.toml' >&2; exit 1; }
	sed -e 's|@PREFIX@|$(call rs_idc_sed_escape,$(PREFIX))|' \
	    -e 's|@LIBDIR@|$(call rs_idc_sed_escape,$(call rs_idc_pc_rel,$(INSTALL_LIBDIR)))|' \
	    -e 's|@INCLUDEDIR@|$(call rs_idc_sed_escape,$(call rs_idc_pc_rel,$(INSTALL_INCLUDEDIR)))|' \
	    -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@LIBS_PRIVATE@|$(RS_IDC_LIBS_PRIVATE)|' \
	    rs_idc.pc.in > $@.tmp
	mv -f $@.tmp $@

# The .pc depends on PREFIX and friends, which make cannot see change.
.PHONY: FORCE_RS_IDC_PC
FORCE_RS_IDC_PC:

# The shared library is copied, then renamed into place: a running program
# that maps the old one keeps it intact.
install: $(rs_idc_install_needs) $(BUILD)/rs_idc.pc
	@test -n '$(VERSION_MAJOR)' || { echo 'no version found in Cargo.toml' >&2; exit 1; }
	@for f in $(DISTDIR)/librs_idc.so $(DISTDIR)/librs_idc.a include/rs_idc.h include/rs_idc.hpp; do \
	  test -f "$$f" || { echo "missing $$f: run 'make dist' first" >&2; exit 1; }; done
	$(INSTALL) -d '$(DESTDIR)$(INSTALL_LIBDIR)' '$(DESTDIR)$(INSTALL_INCLUDEDIR)' \
	  '$(DESTDIR)$(INSTALL_PCDIR)'
	$(INSTALL) -m 0755 $(DISTDIR)/librs_idc.so '$(DESTDIR)$(INSTALL_LIBDIR)/.librs_idc.so.$(VERSION).tmp'
	mv -f '$(DESTDIR)$(INSTALL_LIBDIR)/.librs_idc.so.$(VERSION).tmp' \
	  '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so.$(VERSION)'
	ln -sfn librs_idc.so.$(VERSION) '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so.$(VERSION_MAJOR)'
	ln -sfn librs_idc.so.$(VERSION_MAJOR) '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so'
	$(INSTALL) -m 0644 $(DISTDIR)/librs_idc.a '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.a'
	$(INSTALL) -m 0644 include/rs_idc.h include/rs_idc.hpp '$(DESTDIR)$(INSTALL_INCLUDEDIR)/'
	$(INSTALL) -m 0644 $(BUILD)/rs_idc.pc '$(DESTDIR)$(INSTALL_PCDIR)/rs_idc.pc'

uninstall:
	rm -f '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so.$(VERSION)' \
	      '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so.$(VERSION_MAJOR)' \
	      '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so' \
	      '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.a' \
	      '$(DESTDIR)$(INSTALL_INCLUDEDIR)/rs_idc.h' \
	      '$(DESTDIR)$(INSTALL_INCLUDEDIR)/rs_idc.hpp' \
	      '$(DESTDIR)$(INSTALL_PCDIR)/rs_idc.pc'

# Installs into temporary prefixes, then builds and runs examples-c/get_token.c
# with nothing but pkg-config's flags, shared and static, under the fake.
test-install: lib dist
	MAKE='$(MAKE)' CC='$(CC)' CXX='$(CXX)' FAKE='$(abspath $(FAKE))' \
	  VERSION='$(VERSION)' VERSION_MAJOR='$(VERSION_MAJOR)' \
	  bash tests/install/test_install.sh

EXTRA_TESTS += test-install
