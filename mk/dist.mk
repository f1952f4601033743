# The distribution build: the one build of the library and of rs-idc-token
# that `make install` installs and `make package` packs (the release
# archive, the Debian package, the wheel). The tests use the release
# profile (`make lib`); this is cargo's dist profile: LTO, optimised,
# stripped.
#
#   make dist   $(DISTDIR)/librs_idc.so, librs_idc.a and rs-idc-token
#
# It links against glibc $(DIST_GLIBC), whatever glibc this machine has, so
# that one build runs on every maintained Linux distribution (RHEL 8 and
# later, Debian 10 and later, Ubuntu 20.04 and later, Amazon Linux 2023):
# cargo-zigbuild makes zig the C compiler and linker of the build, and zig
# links against the stubs of the glibc version named in the target
# ($(DIST_TARGET).$(DIST_GLIBC)). It is the maintained way to pick a glibc
# version for a Rust build without a container or an old sysroot (maturin
# uses it for wheels), and zig comes from PyPI (ziglang). Both are
# installed on first use, pinned, into the project venv with pip (both
# are published there as built wheels). tests/package checks with
# objdump that no symbol newer than GLIBC_$(DIST_GLIBC) is needed.
#
# cargo strips linked files (librs_idc.so, rs-idc-token), not archives:
# librs_idc.a comes with debug information and with the LLVM bitcode that
# rustc embeds in each object for its own link-time optimisation, which a
# C or C++ linker never reads. objcopy removes both, which halves the
# archive (from about 235 MB to about 107 MB; 56 MB to 19 MB compressed);
# the code and the symbols a program links against stay. The archive keeps
# its time: were it newer than rs-idc-token, cargo would link that again.
#
# Read before mk/install.mk (the files are included in name order), which
# installs from $(DISTDIR).

DIST_TARGET     := x86_64-unknown-linux-gnu
DIST_GLIBC      := 2.28
DISTDIR         := target/$(DIST_TARGET)/dist
ZIG_VERSION     := 0.15.2
ZIGBUILD_VERSION := 0.24.1
ZIG_STAMP       := $(VENV)/.ziglang-$(ZIG_VERSION)-cargo-zigbuild-$(ZIGBUILD_VERSION)

$(ZIG_STAMP):
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --only-binary :all: \
	  ziglang==$(ZIG_VERSION) cargo-zigbuild==$(ZIGBUILD_VERSION)
	touch $@

.PHONY: dist
dist: $(ZIG_STAMP)
	CARGO_ZIGBUILD_PYTHON_PATH=$(abspath $(VENV))/bin/python \
	  $(VENV)/bin/cargo-zigbuild zigbuild --profile dist -p rs-idc --lib --bin rs-idc-token \
	  --target $(DIST_TARGET).$(DIST_GLIBC)
	objcopy --preserve-dates --strip-debug --remove-section=.llvmbc --remove-section=.llvmcmd \
	  $(DISTDIR)/librs_idc.a
