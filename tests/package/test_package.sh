#!/usr/bin/env bash
# test_package.sh - what `make package` made, each used the way its user
# installs it.
#
# 1. The files: the archive, the Debian package, the wheel and the crate,
#    and SHA256SUMS, which `sha256sum -c` accepts.
# 2. The glibc baseline: librs_idc.so and rs-idc-token of the dist build
#    need no glibc symbol newer than GLIBC_$DIST_GLIBC (objdump -T), and no
#    library but the C library's own (objdump -p); the archive,
#    the Debian package and the wheel carry that very build.
# 3. The release archive, unpacked into a random folder: its layout; the
#    .pc file names no absolute path; examples-c/get_token.c built with only
#    its .pc (PKG_CONFIG_PATH=<folder>/lib/pkgconfig), shared, static and as
#    a plug-in, runs under the fake; the CMake project tests/install/cmake
#    with find_package(rs_idc) and CMAKE_PREFIX_PATH=<folder> builds and
#    runs; its bin/rs-idc-token gets a token.
# 4. The Debian package: its fields (Depends: the C library, version
#    $DIST_GLIBC or older) and files; `dpkg -i`; pkg-config and CMake find
#    it with no path given, the programs run, ldconfig knows the library,
#    rs-idc-token is on PATH; `man` finds its pages.
# 5. The wheel (while the Debian package is installed, so another
#    librs_idc.so is on the loader's path): what it holds
#    (wheel_check.py contents); `auditwheel show` accepts its tag; in a
#    fresh venv with nothing but the venv on PATH (no Rust), `pip install`
#    and wheel_check.py use under the fake: the module loads the library
#    it carries, gets a token, a Serverless token, a user's token, a host
#    name's token, and raises RsIdcError.
# 6. `dpkg -r`: every file the package installed is gone, and ldconfig no
#    longer knows the library.
# 7. The crate: `cargo package --list` and the .crate hold what builds the
#    library, the headers and the documents, and no tests.
#
# Run from the project's top directory by `make test-package`, which sets
# the variables read below. Needs root for dpkg -i (CI runs as root).
# Tokens are never printed, only their lengths.
# Ends with "N passed, M failed"; exits non-zero when a check failed.

set -u

CC=${CC:-cc}
CXX=${CXX:-g++}
FAKE=${FAKE:-$PWD/target/release/rs-idc-fake}
CARGO=${CARGO:-cargo}
CARGO_VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
VERSION=${VERSION:-$CARGO_VERSION}
VERSION_MAJOR=${VERSION_MAJOR:-${VERSION%%.*}}
DIST_GLIBC=${DIST_GLIBC:-2.28}
DEB_MULTIARCH=${DEB_MULTIARCH:-x86_64-linux-gnu}
: "${PKGDIR:?}" "${DISTDIR:?}" "${PKG_NAME:?}" "${PKG_TARBALL:?}" "${PKG_DEB:?}" \
    "${PKG_WHEEL:?}" "${PKG_CRATE:?}" "${AUDITWHEEL:?}"

# shellcheck source=tests/install/checks.sh
. tests/install/checks.sh

need_tools pkg-config readelf nm ldd objdump sha256sum dpkg dpkg-deb python3 cmake "$CC" "$CXX"

work=$(mktemp -d "${TMPDIR:-/tmp}/rs-idc-package.XXXXXX") || exit 1
log=$work/log
deb_installed=0
# A failure half-way must not leave the package installed.
cleanup() {
    if [ "$deb_installed" -eq 1 ]; then dpkg -r rs-idc >/dev/null 2>&1; fi
    rm -rf "$work"
}
trap cleanup EXIT

# run_counted DESCRIPTION COMMAND...: runs a checking program that prints
# "ok   ..." and "FAIL ..." lines (wheel_check.py); each line counts.
run_counted() {
    local what=$1
    shift
    echo "== $what"
    "$@" >"$log" 2>&1
    local rc=$?
    cat "$log"
    passed=$((passed + $(grep -c '^ok   ' "$log")))
    failed=$((failed + $(grep -c '^FAIL ' "$log")))
    check_eq "$what exits 0" "$rc" 0
}

# expect_cli_token WHAT PROGRAM: PROGRAM --cluster-id my-cluster, under the
# fake, prints a token (its length is shown, never the token).
expect_cli_token() {
    local out rc
    out=$("$FAKE" run -- "$2" --cluster-id my-cluster 2>"$log")
    rc=$?
    check_eq "$1: rs-idc-token exits 0" "$rc" 0
    if [ "$rc" -ne 0 ]; then sed 's/^/    /' "$log" >&2; fi
    echo "   rs-idc-token printed ${#out} characters"
    check "$1: rs-idc-token prints a token" test "${#out}" -ge 100
}

# version_at_most A B: A <= B as versions.
version_at_most() {
    [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n 1)" = "$2" ]
}

# --- 1. The files ----------------------------------------------------------
echo "== the files in $PKGDIR"
for f in "$PKG_TARBALL" "$PKG_DEB" "$PKG_WHEEL" "$PKG_CRATE"; do
    check "$(basename "$f") exists" test -s "$f"
    [ -f "$f" ] && echo "   $(basename "$f"): $(($(stat -c %s "$f") / 1024)) KiB"
done
check_eq "SHA256SUMS names the four files" \
    "$(awk '{print $2}' "$PKGDIR/SHA256SUMS" | sort | tr '\n' ' ')" \
    "$(for f in "$PKG_TARBALL" "$PKG_DEB" "$PKG_WHEEL" "$PKG_CRATE"; do basename "$f"; done |
        sort | tr '\n' ' ')"
run_logged "sha256sum -c SHA256SUMS" bash -c "cd '$PKGDIR' && sha256sum -c SHA256SUMS"

# --- 2. The glibc baseline -------------------------------------------------
# The C library's own libraries (Debian's libc6). Not even libgcc_s: zig
# links the unwinder of Rust's panics into the library.
base_libraries=" libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1 \
ld-linux-x86-64.so.2 "
for f in "$DISTDIR/librs_idc.so" "$DISTDIR/rs-idc-token"; do
    name=$(basename "$f")
    versions=$(objdump -T "$f" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV)
    highest=$(tail -n 1 <<<"$versions")
    echo "   $name: highest glibc symbol version GLIBC_$highest"
    check "$name: objdump -T finds glibc symbols" test -n "$highest"
    check "$name: no glibc symbol newer than GLIBC_$DIST_GLIBC (objdump -T)" \
        version_at_most "${highest:-99}" "$DIST_GLIBC"
    needed=$(objdump -p "$f" | awk '$1 == "NEEDED" {print $2}' | tr '\n' ' ')
    echo "   $name needs: $needed"
    others=""
    for n in $needed; do
        case "$base_libraries" in *" $n "*) ;; *) others="$others $n" ;; esac
    done
    check_eq "$name: needs the C library only (objdump -p)" "$others" ""
done

# --- 3. The release archive ------------------------------------------------
unpacked=$(mktemp -d "$work/archive.XXXXXX")
top=$unpacked/$PKG_NAME
echo "== the release archive, unpacked in $unpacked"
outside=$(tar -tzf "$PKG_TARBALL" | grep -v "^$PKG_NAME/" || true)
check_eq "every path of the archive is below $PKG_NAME/" "$outside" ""
owners=$(tar -tvzf "$PKG_TARBALL" --numeric-owner | awk '{print $2}' | sort -u | tr '\n' ' ')
check_eq "the archive's files belong to 0/0" "$owners" "0/0 "
run_logged "tar -xzf" tar -xzf "$PKG_TARBALL" -C "$unpacked"
for f in lib/librs_idc.so.$VERSION lib/librs_idc.a include/rs_idc.h include/rs_idc.hpp \
    lib/pkgconfig/rs_idc.pc lib/cmake/rs_idc/rs_idcConfig.cmake \
    lib/cmake/rs_idc/rs_idcConfigVersion.cmake bin/rs-idc-token share/man/man3/rs_idc.3 \
    share/man/man3/rs_idc_get_token.3 README.md CHANGELOG.md LICENSE; do
    check "archive: $f" test -f "$top/$f" -a ! -L "$top/$f"
done
check_eq "archive: lib/librs_idc.so.$VERSION_MAJOR links to librs_idc.so.$VERSION" \
    "$(readlink "$top/lib/librs_idc.so.$VERSION_MAJOR")" "librs_idc.so.$VERSION"
check_eq "archive: lib/librs_idc.so links to librs_idc.so.$VERSION_MAJOR" \
    "$(readlink "$top/lib/librs_idc.so")" "librs_idc.so.$VERSION_MAJOR"
check_eq "archive: a man page for each page of docs/api/" \
    "$(find "$top/share/man/man3" -name '*.3' | wc -l)" "$(find docs/api -maxdepth 1 -name '*.md' | wc -l)"
check "archive: the library is the dist build's" cmp -s "$DISTDIR/librs_idc.so" "$top/lib/librs_idc.so.$VERSION"
check "archive: rs-idc-token is the dist build's" cmp -s "$DISTDIR/rs-idc-token" "$top/bin/rs-idc-token"
check "archive: the static library is the dist build's" cmp -s "$DISTDIR/librs_idc.a" "$top/lib/librs_idc.a"
check "archive: the static library has no debug information and no LLVM bitcode" \
    bash -c "! objdump -h '$top/lib/librs_idc.a' | grep -Eq '\.debug_info|\.llvmbc'"
check "archive: the header is the project's" cmp -s include/rs_idc.h "$top/include/rs_idc.h"
check_eq "archive: the .pc file's prefix is its own place" \
    "$(sed -n 's/^prefix=//p' "$top/lib/pkgconfig/rs_idc.pc")" '${pcfiledir}/../..'
check_eq "archive: the .pc file names no absolute path" \
    "$(grep -E '=/|-[IL]/' "$top/lib/pkgconfig/rs_idc.pc")" ""

export PKG_CONFIG_PATH=$top/lib/pkgconfig
check "archive: pkg-config --validate rs_idc" pkg-config --validate rs_idc
check_eq "archive: pkg-config --modversion" "$(pkg-config --modversion rs_idc)" "$VERSION"
check "archive: pkg-config libdir is the archive's lib/" \
    test "$(pkg-config --variable=libdir rs_idc)" -ef "$top/lib"
check "archive: pkg-config includedir is the archive's include/" \
    test "$(pkg-config --variable=includedir rs_idc)" -ef "$top/include"
pkg_config_builds archive "$top/lib" LD_LIBRARY_PATH="$top/lib"
unset PKG_CONFIG_PATH
cmake_checks archive "$top"
expect_cli_token "archive" "$top/bin/rs-idc-token"

# --- 4. The Debian package -------------------------------------------------
echo "== the Debian package $(basename "$PKG_DEB")"
field() { dpkg-deb -f "$PKG_DEB" "$1"; }
check_eq "deb: Package" "$(field Package)" rs-idc
check_eq "deb: Version" "$(field Version)" "$VERSION"
check_eq "deb: Architecture" "$(field Architecture)" amd64
depends=$(field Depends)
echo "   Depends: $depends"
libc=$(sed -n 's/.*libc6 (>= \([0-9.]*\)).*/\1/p' <<<"$depends")
check "deb: Depends asks for libc6 $DIST_GLIBC or older: '$depends'" \
    version_at_most "${libc:-99}" "$DIST_GLIBC"
check_eq "deb: Depends names libc6 and nothing else" \
    "$(tr ',' '\n' <<<"$depends" | awk '{print $1}' | tr '\n' ' ')" "libc6 "
contents=$(dpkg-deb -c "$PKG_DEB")
for f in ./usr/lib/$DEB_MULTIARCH/librs_idc.so.$VERSION ./usr/lib/$DEB_MULTIARCH/librs_idc.a \
    ./usr/lib/$DEB_MULTIARCH/pkgconfig/rs_idc.pc ./usr/lib/$DEB_MULTIARCH/cmake/rs_idc/rs_idcConfig.cmake \
    ./usr/include/rs_idc.h ./usr/include/rs_idc.hpp ./usr/bin/rs-idc-token \
    ./usr/share/man/man3/rs_idc_get_token.3.gz ./usr/share/doc/rs-idc/copyright; do
    check_has "deb: holds $f" "$contents" " $f"
done
check_eq "deb: every file belongs to root/root" \
    "$(awk '{print $2}' <<<"$contents" | sort -u)" "root/root"

installed_before=$(dpkg-query -W -f='${Status}' rs-idc 2>/dev/null)
if [ "$(id -u)" -ne 0 ]; then
    fail "deb: dpkg -i needs root (the install, use and removal checks did not run)"
elif [ "$installed_before" = "install ok installed" ]; then
    fail "deb: rs-idc is installed already (remove it with 'dpkg -r rs-idc'; the install checks did not run)"
elif run_logged "deb: dpkg -i" dpkg -i "$PKG_DEB"; then
    deb_installed=1
    libdir=/usr/lib/$DEB_MULTIARCH
    check_eq "deb: dpkg-query says installed" \
        "$(dpkg-query -W -f='${Status}' rs-idc 2>/dev/null)" "install ok installed"
    check "deb: the library is the dist build's" cmp -s "$DISTDIR/librs_idc.so" "$libdir/librs_idc.so.$VERSION"
    check_eq "deb: librs_idc.so.$VERSION_MAJOR links to librs_idc.so.$VERSION" \
        "$(readlink "$libdir/librs_idc.so.$VERSION_MAJOR")" "librs_idc.so.$VERSION"
    check_has "deb: ldconfig knows librs_idc.so.$VERSION_MAJOR (the trigger ran)" \
        "$(ldconfig -p)" "librs_idc.so.$VERSION_MAJOR"
    check_eq "deb: pkg-config --modversion, no path given" \
        "$(env -u PKG_CONFIG_PATH pkg-config --modversion rs_idc 2>&1)" "$VERSION"
    check_eq "deb: pkg-config libdir" "$(pkg-config --variable=libdir rs_idc)" "$libdir"
    pkg_config_builds deb "$libdir"
    cmake_checks deb /usr "$libdir"
    check_eq "deb: rs-idc-token is on PATH" "$(command -v rs-idc-token)" /usr/bin/rs-idc-token
    expect_cli_token "deb" rs-idc-token
    if command -v man >/dev/null 2>&1; then
        check_eq "deb: man -w rs_idc_get_token" "$(man -w rs_idc_get_token 2>&1)" \
            /usr/share/man/man3/rs_idc_get_token.3.gz
    else
        echo "   skipped: man is not installed (man-db), so man rs_idc_get_token is not tried"
    fi
fi

# --- 5. The wheel ----------------------------------------------------------
run_counted "the wheel's contents" \
    python3 tests/package/wheel_check.py contents "$PKG_WHEEL" "$DISTDIR/librs_idc.so" \
    "$VERSION" "$(basename "$PKG_WHEEL" .whl | sed 's/.*-py3-none-//')"
echo "== auditwheel show $(basename "$PKG_WHEEL")"
shown=$("$AUDITWHEEL" show "$PKG_WHEEL" 2>&1)
rc=$?
sed 's/^/   /' <<<"$shown"
check_eq "auditwheel show exits 0" "$rc" 0
platform=$(tr -s ' \n' ' ' <<<"$shown" | sed -n 's/.*consistent with the following platform tag: "\([^"]*\)".*/\1/p')
policy_glibc=$(sed -n 's/^manylinux_\([0-9]*\)_\([0-9]*\)_x86_64$/\1.\2/p' <<<"$platform")
check "auditwheel: the wheel is consistent with manylinux_2_28 (it says $platform)" \
    version_at_most "${policy_glibc:-99}" 2.28

venv=$work/venv
if run_logged "python3 -m venv <tmp>" python3 -m venv "$venv" &&
    run_logged "pip install the wheel into the fresh venv" \
        "$venv/bin/pip" install --no-index --disable-pip-version-check "$PKG_WHEEL"; then
    check_eq "pip show: the installed version" \
        "$("$venv/bin/pip" show rs-idc 2>/dev/null | sed -n 's/^Version: //p')" "$VERSION"
    # Nothing but the venv on PATH: no cargo, no rustc.
    run_counted "the wheel in use (wheel_check.py use)" \
        env -u RS_IDC_LIBRARY -u PYTHONPATH PATH="$venv/bin" \
        "$FAKE" run -- "$venv/bin/python" -I tests/package/wheel_check.py use "$VERSION"
fi

# --- 6. dpkg -r ------------------------------------------------------------
if [ "$deb_installed" -eq 1 ]; then
    files=$(dpkg -L rs-idc | while read -r f; do if [ -f "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done)
    echo "   the package installed $(wc -l <<<"$files") files"
    if run_logged "deb: dpkg -r rs-idc" dpkg -r rs-idc; then
        deb_installed=0
        left=$(while read -r f; do if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done <<<"$files")
        check_eq "deb: dpkg -r removes every file it installed" "$left" ""
        check "deb: dpkg-query no longer says installed" \
            bash -c "[ \"\$(dpkg-query -W -f='\${Status}' rs-idc 2>/dev/null)\" != 'install ok installed' ]"
        check_lacks "deb: ldconfig no longer knows librs_idc" "$(ldconfig -p)" "librs_idc"
    fi
fi

# --- 7. The crate ----------------------------------------------------------
echo "== the crate: cargo package --list"
if listed=$("$CARGO" package --list --allow-dirty -p rs-idc 2>"$log"); then
    pass "cargo package --list"
    for f in Cargo.toml Cargo.lock build.rs cbindgen.toml src/lib.rs src/ffi/mod.rs \
        include/rs_idc.h include/rs_idc.hpp README.md CHANGELOG.md LICENSE; do
        check "crate: lists $f" grep -qxF "$f" <<<"$listed"
    done
    check_eq "crate: no tests, examples, benchmarks, fuzzing or packaging" \
        "$(grep -E '^(tests|examples-c|bench|fuzz|soak|packaging|docs|mk|tools|bindings|\.ci)/' <<<"$listed")" ""
    in_crate=$(tar -tzf "$PKG_CRATE" | sed -n "s|^rs-idc-$VERSION/||p" | grep -v '^$' | sort)
    check_eq "crate: $(basename "$PKG_CRATE") holds what cargo package --list lists" \
        "$in_crate" "$(sort <<<"$listed")"
else
    fail "cargo package --list"
    sed 's/^/    /' "$log" >&2
fi

summary
