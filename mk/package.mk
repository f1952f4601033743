# Packages: rs-idc for those without a Rust toolchain. `make package` leaves
# in $(PKGDIR):
#
#   rs-idc-VERSION-x86_64-linux-gnu.tar.gz   the release archive: one folder
#       with lib/ (librs_idc.so and its links, librs_idc.a, pkgconfig/rs_idc.pc,
#       cmake/rs_idc/), include/, bin/rs-idc-token, share/man/man3/, README.md,
#       CHANGELOG.md, LICENSE; usable wherever it is unpacked (the .pc names
#       its prefix from its own place, the CMake files from theirs)
#   rs-idc_VERSION_amd64.deb                 the Debian package (packaging/deb/):
#       the library in /usr/lib/x86_64-linux-gnu, the rest under /usr
#   rs_idc-VERSION-py3-none-manylinux_2_28_x86_64.whl   the Python wheel
#       (tools/make_wheel.py): the ctypes binding with the library inside
#   rs-idc-VERSION.crate                     the Rust crate (`cargo package`)
#   SHA256SUMS                               the sha256 of each of the four
#
# All of them hold the one build of `make dist` (mk/dist.mk, glibc 2.28),
# and the archive and the Debian package are staged by `make install
# DESTDIR=...` itself, each in a folder of $(PKG_STAGE) with its own BUILD
# folder, so their layout is the install's. Needs dpkg-deb, objdump
# (binutils), tar, gzip, python3; `.ci/run` installs what is missing.
# Each file gets the time of the last commit (or $SOURCE_DATE_EPOCH), and
# the files are packed in a fixed order with fixed owners, so packing one
# build twice gives the same archive, package and wheel.
#
#   make package        the four files and SHA256SUMS
#   make test-package   tests/package/test_package.sh: each used the way its
#                       user installs it (also part of `make test`)

PKGDIR         := target/package
PKG_STAGE      := $(BUILD)/package
PKG_NAME       := rs-idc-$(VERSION)-x86_64-linux-gnu
PKG_TARBALL    := $(PKGDIR)/$(PKG_NAME).tar.gz
PKG_DEB        := $(PKGDIR)/rs-idc_$(VERSION)_amd64.deb
PKG_WHEEL_TAG  := manylinux_2_28_x86_64
PKG_WHEEL      := $(PKGDIR)/rs_idc-$(VERSION)-py3-none-$(PKG_WHEEL_TAG).whl
PKG_CRATE      := $(PKGDIR)/rs-idc-$(VERSION).crate
PKG_FILES      := $(PKG_TARBALL) $(PKG_DEB) $(PKG_WHEEL) $(PKG_CRATE)
DEB_MULTIARCH  := x86_64-linux-gnu
# The Maintainer field of the Debian package.
DEB_MAINTAINER ?= rs-idc maintainers <rs-idc@invalid>
# Every file's time: $SOURCE_DATE_EPOCH when set, else the last commit's.
PKG_EPOCH       = $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),0)
# The auditwheel that tests the wheel's platform tag, in the project venv.
AUDITWHEEL     := auditwheel==6.8.2
AUDITWHEEL_STAMP := $(VENV)/.$(subst ==,-,$(AUDITWHEEL))

.PHONY: package package-archive package-deb package-wheel package-crate test-package
EXTRA_TESTS += test-package

# pkg_stage STAGE: an empty $(PKG_STAGE)/STAGE. pkg_install_into STAGE:
# the arguments of `make install` into $(PKG_STAGE)/STAGE/root, with its
# generated files in $(PKG_STAGE)/STAGE/build.
pkg_stage = rm -rf $(PKG_STAGE)/$(1) && mkdir -p $(PKG_STAGE)/$(1)/root $(PKGDIR)
pkg_install_into = DESTDIR=$(abspath $(PKG_STAGE)/$(1)/root) BUILD=$(PKG_STAGE)/$(1)/build

package: package-archive package-deb package-wheel package-crate
	cd $(PKGDIR) && sha256sum $(notdir $(PKG_FILES)) > SHA256SUMS
	@cd $(PKGDIR) && ls -l $(notdir $(PKG_FILES)) SHA256SUMS

# The archive's prefix is its top folder; the .pc file finds it from its
# own place ($${pcfiledir} is lib/pkgconfig).
package-archive: dist
	$(call pkg_stage,archive)
	$(MAKE) --no-print-directory install $(call pkg_install_into,archive) \
	  PREFIX=/$(PKG_NAME) INSTALL_PC_PREFIX='$$$${pcfiledir}/../..'
	install -m 0644 README.md CHANGELOG.md LICENSE $(PKG_STAGE)/archive/root/$(PKG_NAME)/
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(PKG_EPOCH) \
	  -C $(PKG_STAGE)/archive/root -cf - $(PKG_NAME) | gzip -9n > $(PKG_TARBALL).part
	mv -f $(PKG_TARBALL).part $(PKG_TARBALL)

package-deb: dist
	$(call pkg_stage,deb)
	$(MAKE) --no-print-directory install $(call pkg_install_into,deb) \
	  PREFIX=/usr INSTALL_LIBDIR=/usr/lib/$(DEB_MULTIARCH)
	SOURCE_DATE_EPOCH=$(PKG_EPOCH) bash packaging/deb/build_deb.sh $(PKG_STAGE)/deb/root $(PKG_DEB) $(VERSION) '$(DEB_MAINTAINER)'

package-wheel: dist
	SOURCE_DATE_EPOCH=$(PKG_EPOCH) python3 tools/make_wheel.py --library $(DISTDIR)/librs_idc.so \
	  --module bindings/python/rs_idc.py --version $(VERSION) \
	  --platform $(PKG_WHEEL_TAG) --license LICENSE --out $(PKGDIR)

# Sources only: `cargo package` without its verification build (that
# would build the AWS SDK once more); test-package checks the list.
package-crate:
	$(CARGO) package --no-verify --allow-dirty --quiet -p rs-idc

$(AUDITWHEEL_STAMP):
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(AUDITWHEEL)
	touch $@

# Needs root (dpkg -i and dpkg -r), cmake, and the fake (`make lib`).
test-package: lib package $(AUDITWHEEL_STAMP)
	MAKE='$(MAKE)' CC='$(CC)' CXX='$(CXX)' FAKE='$(abspath $(FAKE))' \
	  VERSION='$(VERSION)' VERSION_MAJOR='$(VERSION_MAJOR)' PKGDIR='$(PKGDIR)' \
	  DISTDIR='$(DISTDIR)' DIST_GLIBC='$(DIST_GLIBC)' PKG_NAME='$(PKG_NAME)' \
	  PKG_WHEEL='$(PKG_WHEEL)' PKG_DEB='$(PKG_DEB)' PKG_TARBALL='$(PKG_TARBALL)' \
	  PKG_CRATE='$(PKG_CRATE)' CARGO='$(CARGO)' DEB_MULTIARCH='$(DEB_MULTIARCH)' \
	  AUDITWHEEL='$(abspath $(VENV))/bin/auditwheel' \
	  bash tests/package/test_package.sh
