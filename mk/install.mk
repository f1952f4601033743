# Installation: `make install PREFIX=... [DESTDIR=...]` and `make uninstall`.
#
#   $(PREFIX)/lib/librs_idc.so.$(VERSION)        the shared library (real file)
#   $(PREFIX)/lib/librs_idc.so.$(VERSION_MAJOR)  -> librs_idc.so.$(VERSION) (the SONAME)
#   $(PREFIX)/lib/librs_idc.so                   -> librs_idc.so.$(VERSION_MAJOR) (for -lrs_idc)
#   $(PREFIX)/lib/librs_idc.a                    the static library
#   $(PREFIX)/include/rs_idc.h, rs_idc.hpp       the C header and the C++ wrapper
#   $(PREFIX)/lib/pkgconfig/rs_idc.pc            for `pkg-config rs_idc`
#   $(PREFIX)/lib/cmake/rs_idc/rs_idcConfig.cmake and rs_idcConfigVersion.cmake
#                                                for CMake's `find_package(rs_idc)`
#   $(PREFIX)/share/man/man3/rs_idc_*.3, rs_idc.3 a man page per function, and
#                                                one for the whole API (`man
#                                                rs_idc_get_token`, `man rs_idc`)
#   $(PREFIX)/bin/rs-idc-token                   the command-line tool
#
# `make install` installs what `make dist` built (mk/dist.mk: cargo's dist
# profile, linked against glibc 2.28; the tests use the release profile),
# and builds it first only when it was never built: `make dist && sudo make
# install` does not need cargo in root's PATH. DESTDIR is prepended to every path (staged installs,
# packaging: mk/package.mk) but never written into the .pc file or the CMake files. Making
# the CMake files needs sed, not cmake; making the man pages needs python3
# (tools/api_docs.py, from the pages of docs/api/). After installing into a
# system library directory, run `ldconfig`.

PREFIX             ?= /usr/local
DESTDIR            ?=
INSTALL_LIBDIR     ?= $(PREFIX)/lib
INSTALL_INCLUDEDIR ?= $(PREFIX)/include
INSTALL_PCDIR      ?= $(INSTALL_LIBDIR)/pkgconfig
INSTALL_CMAKEDIR   ?= $(INSTALL_LIBDIR)/cmake/rs_idc
INSTALL_MANDIR     ?= $(PREFIX)/share/man
INSTALL_BINDIR     ?= $(PREFIX)/bin
# The prefix the .pc file names. A tree that may be moved (the release
# archive) gives '$${pcfiledir}/../..' instead: the prefix is then found from
# the .pc file's own location, wherever the tree lies.
INSTALL_PC_PREFIX  ?= $(PREFIX)
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
# The library's pointer size, which rs_idcConfigVersion.cmake checks: it is
# built for x86_64-unknown-linux-gnu, like RS_IDC_NATIVE_LIBS.
RS_IDC_SIZEOF_VOID_P := 8

# The .pc file names its directories relative to ${prefix} where it can, so
# `pkg-config --define-prefix` can move it.
rs_idc_pc_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
rs_idc_sed_escape = $(subst |,\|,$(subst &,\&,$(1)))

# The CMake files find the prefix from their own location, INSTALL_CMAKEDIR,
# by going up as many directories as it is deep below PREFIX, and name the
# other directories relative to it. A directory outside PREFIX (or one with
# ".." in its path) is named as it is, absolute.
rs_idc_empty :=
rs_idc_space := $(rs_idc_empty) $(rs_idc_empty)
rs_idc_cmakedir_parts = $(filter-out .,$(subst /, ,$(patsubst $(PREFIX)/%,%,$(INSTALL_CMAKEDIR))))
rs_idc_cmake_prefix = $(if $(and $(filter $(PREFIX)/%,$(INSTALL_CMAKEDIR)),$(rs_idc_cmakedir_parts),$(if $(filter ..,$(rs_idc_cmakedir_parts)),,ok)),$${CMAKE_CURRENT_LIST_DIR}/$(subst $(rs_idc_space),/,$(patsubst %,..,$(rs_idc_cmakedir_parts))),$(PREFIX))
rs_idc_cmake_rel = $(patsubst $(PREFIX)/%,$${_rs_idc_prefix}/%,$(1))
# Libs.private as CMake lists: the linker options and the libraries.
rs_idc_cmake_list = $(subst $(rs_idc_space),;,$(strip $(1)))
rs_idc_cmake_link_options = $(call rs_idc_cmake_list,$(filter-out -l%,$(RS_IDC_LIBS_PRIVATE)))
rs_idc_cmake_link_libraries = $(call rs_idc_cmake_list,$(filter -l%,$(RS_IDC_LIBS_PRIVATE)))

# What `make install` installs from $(DISTDIR) (mk/dist.mk), built first
# only when one of them was never built (see above).
rs_idc_dist_files := $(addprefix $(DISTDIR)/,librs_idc.so librs_idc.a rs-idc-token)
rs_idc_install_needs := $(if $(filter-out $(wildcard $(rs_idc_dist_files)),$(rs_idc_dist_files)),dist)

.PHONY: install uninstall test-install

$(BUILD)/rs_idc.pc: rs_idc.pc.in Cargo.toml FORCE_RS_IDC_PC | $(BUILD)
	@test -n '$(VERSION)' || { echo 'no version found in Cargo.toml' >&2; exit 1; }
	sed -e 's|@PREFIX@|$(call rs_idc_sed_escape,$(INSTALL_PC_PREFIX))|' \
	    -e 's|@LIBDIR@|$(call rs_idc_sed_escape,$(call rs_idc_pc_rel,$(INSTALL_LIBDIR)))|' \
	    -e 's|@INCLUDEDIR@|$(call rs_idc_sed_escape,$(call rs_idc_pc_rel,$(INSTALL_INCLUDEDIR)))|' \
	    -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@LIBS_PRIVATE@|$(RS_IDC_LIBS_PRIVATE)|' \
	    rs_idc.pc.in > $@.tmp
	mv -f $@.tmp $@

# The .pc depends on PREFIX and friends, which make cannot see change.
.PHONY: FORCE_RS_IDC_PC
FORCE_RS_IDC_PC:

# The CMake package: the targets, with paths found from the file's location.
$(BUILD)/rs_idcConfig.cmake: cmake/rs_idcConfig.cmake.in Cargo.toml FORCE_RS_IDC_PC | $(BUILD)
	@test -n '$(VERSION_MAJOR)' || { echo 'no version found in Cargo.toml' >&2; exit 1; }
	sed -e 's|@PREFIX_FROM_HERE@|$(call rs_idc_sed_escape,$(rs_idc_cmake_prefix))|' \
	    -e 's|@PREFIX@|$(call rs_idc_sed_escape,$(PREFIX))|' \
	    -e 's|@CMAKEDIR@|$(call rs_idc_sed_escape,$(INSTALL_CMAKEDIR))|' \
	    -e 's|@LIBDIR@|$(call rs_idc_sed_escape,$(call rs_idc_cmake_rel,$(INSTALL_LIBDIR)))|' \
	    -e 's|@INCLUDEDIR@|$(call rs_idc_sed_escape,$(call rs_idc_cmake_rel,$(INSTALL_INCLUDEDIR)))|' \
	    -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@VERSION_MAJOR@|$(VERSION_MAJOR)|g' \
	    -e 's|@LIBS_PRIVATE@|$(RS_IDC_LIBS_PRIVATE)|' \
	    -e 's|@LINK_OPTIONS_LIST@|$(rs_idc_cmake_link_options)|' \
	    -e 's|@LINK_LIBRARIES_LIST@|$(rs_idc_cmake_link_libraries)|' \
	    cmake/rs_idcConfig.cmake.in > $@.tmp
	mv -f $@.tmp $@

# Which versions find_package() accepts: SameMajorVersion.
$(BUILD)/rs_idcConfigVersion.cmake: cmake/rs_idcConfigVersion.cmake.in Cargo.toml | $(BUILD)
	@test -n '$(VERSION_MAJOR)' || { echo 'no version found in Cargo.toml' >&2; exit 1; }
	sed -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|@VERSION_MAJOR@|$(VERSION_MAJOR)|g' \
	    -e 's|@SIZEOF_VOID_P@|$(RS_IDC_SIZEOF_VOID_P)|g' \
	    cmake/rs_idcConfigVersion.cmake.in > $@.tmp
	mv -f $@.tmp $@

rs_idc_cmake_files := $(BUILD)/rs_idcConfig.cmake $(BUILD)/rs_idcConfigVersion.cmake

# The man pages: one per page of docs/api/ (README.md becomes rs_idc.3),
# made by tools/api_docs.py from the Markdown the pages are.
rs_idc_man_pages := $(patsubst docs/api/%.md,%.3,$(filter-out docs/api/README.md,$(sort $(wildcard docs/api/*.md)))) rs_idc.3
rs_idc_man_dir := $(BUILD)/man3

$(rs_idc_man_dir)/.made: $(wildcard docs/api/*.md) tools/api_docs.py Cargo.toml | $(BUILD)
	@test -n '$(VERSION)' || { echo 'no version found in Cargo.toml' >&2; exit 1; }
	python3 tools/api_docs.py man $(rs_idc_man_dir) --version $(VERSION)
	touch $@

# The shared library is copied, then renamed into place: a running program
# that maps the old one keeps it intact.
install: $(rs_idc_install_needs) $(BUILD)/rs_idc.pc $(rs_idc_cmake_files) $(rs_idc_man_dir)/.made
	@test -n '$(VERSION_MAJOR)' || { echo 'no version found in Cargo.toml' >&2; exit 1; }
	@for f in $(rs_idc_dist_files) include/rs_idc.h include/rs_idc.hpp; do \
	  test -f "$$f" || { echo "missing $$f: run 'make dist' first" >&2; exit 1; }; done
	$(INSTALL) -d '$(DESTDIR)$(INSTALL_LIBDIR)' '$(DESTDIR)$(INSTALL_INCLUDEDIR)' \
	  '$(DESTDIR)$(INSTALL_PCDIR)' '$(DESTDIR)$(INSTALL_CMAKEDIR)' '$(DESTDIR)$(INSTALL_MANDIR)/man3' \
	  '$(DESTDIR)$(INSTALL_BINDIR)'
	$(INSTALL) -m 0755 $(DISTDIR)/librs_idc.so '$(DESTDIR)$(INSTALL_LIBDIR)/.librs_idc.so.$(VERSION).tmp'
	mv -f '$(DESTDIR)$(INSTALL_LIBDIR)/.librs_idc.so.$(VERSION).tmp' \
	  '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so.$(VERSION)'
	ln -sfn librs_idc.so.$(VERSION) '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so.$(VERSION_MAJOR)'
	ln -sfn librs_idc.so.$(VERSION_MAJOR) '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so'
	$(INSTALL) -m 0644 $(DISTDIR)/librs_idc.a '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.a'
	$(INSTALL) -m 0644 include/rs_idc.h include/rs_idc.hpp '$(DESTDIR)$(INSTALL_INCLUDEDIR)/'
	$(INSTALL) -m 0644 $(BUILD)/rs_idc.pc '$(DESTDIR)$(INSTALL_PCDIR)/rs_idc.pc'
	$(INSTALL) -m 0644 $(rs_idc_cmake_files) '$(DESTDIR)$(INSTALL_CMAKEDIR)/'
	$(INSTALL) -m 0644 $(addprefix $(rs_idc_man_dir)/,$(rs_idc_man_pages)) \
	  '$(DESTDIR)$(INSTALL_MANDIR)/man3/'
	$(INSTALL) -m 0755 $(DISTDIR)/rs-idc-token '$(DESTDIR)$(INSTALL_BINDIR)/rs-idc-token'

# Removes the installed files, then the CMake package's directory and the
# cmake directory above it, and the man3 directory, when they are empty.
uninstall:
	rm -f '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so.$(VERSION)' \
	      '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so.$(VERSION_MAJOR)' \
	      '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.so' \
	      '$(DESTDIR)$(INSTALL_LIBDIR)/librs_idc.a' \
	      '$(DESTDIR)$(INSTALL_INCLUDEDIR)/rs_idc.h' \
	      '$(DESTDIR)$(INSTALL_INCLUDEDIR)/rs_idc.hpp' \
	      '$(DESTDIR)$(INSTALL_PCDIR)/rs_idc.pc' \
	      '$(DESTDIR)$(INSTALL_CMAKEDIR)/rs_idcConfig.cmake' \
	      '$(DESTDIR)$(INSTALL_CMAKEDIR)/rs_idcConfigVersion.cmake' \
	      '$(DESTDIR)$(INSTALL_BINDIR)/rs-idc-token' \
	      $(addprefix '$(DESTDIR)$(INSTALL_MANDIR)/man3/,$(addsuffix ',$(rs_idc_man_pages)))
	rmdir '$(DESTDIR)$(INSTALL_MANDIR)/man3' 2>/dev/null; \
	rmdir '$(DESTDIR)$(INSTALL_CMAKEDIR)' 2>/dev/null; \
	  parent=$$(dirname '$(DESTDIR)$(INSTALL_CMAKEDIR)'); \
	  case "$$parent" in */cmake) rmdir "$$parent" 2>/dev/null ;; esac; true

# Installs into temporary prefixes, then builds and runs examples-c/get_token.c
# with nothing but pkg-config's flags, shared and static, under the fake, and
# the CMake project tests/install/cmake with find_package(rs_idc) (needs cmake);
# checks the man pages and that docs/api/ is up to date, and builds the pages'
# examples against the installed library.
test-install: lib dist
	MAKE='$(MAKE)' CC='$(CC)' CXX='$(CXX)' FAKE='$(abspath $(FAKE))' \
	  VERSION='$(VERSION)' VERSION_MAJOR='$(VERSION_MAJOR)' \
	  bash tests/install/test_install.sh

EXTRA_TESTS += test-install
