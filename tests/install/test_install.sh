#!/usr/bin/env bash
# test_install.sh - `make install` and `make uninstall`, checked the way a
# user of the installed library sees them.
#
# 1. `make install PREFIX=<temporary directory>`: the files, the links, the
#    SONAME, the .pc file and bin/rs-idc-token are as documented.
# 2. examples-c/get_token.c built with nothing but
#    `pkg-config --cflags --libs rs_idc` (shared), run against the fake with
#    LD_LIBRARY_PATH=<prefix>/lib: it prints its token line.
# 3. The same built with `pkg-config --static --cflags --libs rs_idc` against
#    librs_idc.a only: it does not need librs_idc.so and prints its token
#    line; Libs.private is complete even without the compiler's default
#    libraries (-nodefaultlibs). A driver plug-in (tests/life/static_driver.c)
#    linked with the same flags is marked NODELETE (-Wl,-z,nodelete from
#    Libs.private), so dlclose() never unmaps the library's code.
# 4. examples-c/cpp_token.cpp built against the installed rs_idc.hpp.
# 5. The CMake package (lib/cmake/rs_idc): tests/install/cmake, a CMake
#    project that does find_package(rs_idc 0.1 REQUIRED), configured with
#    -DCMAKE_PREFIX_PATH=<prefix>. Its imported targets name the installed
#    files; its C and C++ programs linked with rs_idc::rs_idc and with
#    rs_idc::rs_idc_static check the version and status names and print
#    their token line under the fake; its plug-in linked with
#    rs_idc::rs_idc_static is NODELETE. find_package(rs_idc 0.1.0 EXACT)
#    finds the package; 0.1 EXACT (not the exact version string), 0.2 and
#    1.0 do not.
# 6. `make install DESTDIR=... PREFIX=/opt/...`: files land under DESTDIR, the
#    .pc file, the CMake files and the links do not mention DESTDIR; `make
#    uninstall` removes every file again.
# 7. A DESTDIR-staged tree moved to another directory: the CMake project
#    finds it there, builds and runs; `make uninstall PREFIX=<new place>`
#    removes it.
# 8. The man pages: share/man/man3 has one per page of docs/api/ (and
#    rs_idc.3), each starting with a valid .TH line and naming its function;
#    with man (or groff) installed, `man rs_idc_get_token` finds the
#    installed page and it renders without warnings (skipped, and said so,
#    without them). docs/api/ is up to date with the header
#    (tools/api_docs.py check), and every example of docs/api/examples/
#    builds with pkg-config's flags against the installed library; those
#    that need no argument, browser, device code or web token run under
#    the fake.
#
# Run from the project's top directory by `make test-install`, which sets
# MAKE, CC, CXX, FAKE (path of rs-idc-fake), VERSION and VERSION_MAJOR. The
# checks and the builds it shares with tests/package are in checks.sh.
# Tokens are never printed: get_token prints only length and expiry.
# Without cmake the CMake checks (5 and 7) fail, with the reason, and the
# others still run.
# Ends with "N passed, M failed"; exits non-zero when a check failed.

set -u

MAKE=${MAKE:-make}
CC=${CC:-cc}
CXX=${CXX:-g++}
FAKE=${FAKE:-$PWD/target/release/rs-idc-fake}
CARGO_VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
VERSION=${VERSION:-$CARGO_VERSION}
VERSION_MAJOR=${VERSION_MAJOR:-${VERSION%%.*}}

# shellcheck source=tests/install/checks.sh
. tests/install/checks.sh

need_tools pkg-config readelf nm ldd "$CC" "$CXX"
have_cmake=1
if ! command -v cmake >/dev/null 2>&1; then
    fail "cmake is installed (needed by the CMake package checks, which are skipped; .ci/run installs it)"
    have_cmake=0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rs-idc-install.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
lib=$prefix/lib
log=$work/log

echo "== make install PREFIX=$prefix"
run_logged "make install PREFIX=<tmp>" "$MAKE" --no-print-directory install PREFIX="$prefix" || summary

# --- The files and links -------------------------------------------------
real=$lib/librs_idc.so.$VERSION
check "librs_idc.so.$VERSION is a regular file" test -f "$real" -a ! -L "$real"
check "librs_idc.so.$VERSION is executable" test -x "$real"
check_eq "librs_idc.so.$VERSION_MAJOR links to librs_idc.so.$VERSION" \
    "$(readlink "$lib/librs_idc.so.$VERSION_MAJOR")" "librs_idc.so.$VERSION"
check_eq "librs_idc.so links to librs_idc.so.$VERSION_MAJOR" \
    "$(readlink "$lib/librs_idc.so")" "librs_idc.so.$VERSION_MAJOR"
check "librs_idc.so resolves to the real file" test "$lib/librs_idc.so" -ef "$real"
check "librs_idc.a installed" test -f "$lib/librs_idc.a" -a ! -L "$lib/librs_idc.a"
check "rs_idc.h installed" test -f "$prefix/include/rs_idc.h"
check "rs_idc.hpp installed" test -f "$prefix/include/rs_idc.hpp"
check "rs_idc.pc installed" test -f "$lib/pkgconfig/rs_idc.pc"
check "rs_idcConfig.cmake installed" test -f "$lib/cmake/rs_idc/rs_idcConfig.cmake"
check "rs_idcConfigVersion.cmake installed" test -f "$lib/cmake/rs_idc/rs_idcConfigVersion.cmake"
check "the installed header is the project's" cmp -s include/rs_idc.h "$prefix/include/rs_idc.h"
check "bin/rs-idc-token installed, executable" test -f "$prefix/bin/rs-idc-token" -a -x "$prefix/bin/rs-idc-token"
check_eq "bin/rs-idc-token --version" "$("$prefix/bin/rs-idc-token" --version 2>&1)" \
    "rs-idc-token $CARGO_VERSION"

# --- Man pages ---------------------------------------------------------------
man3=$prefix/share/man/man3
pages=(rs_idc)
for page in docs/api/rs_idc_*.md; do
    pages+=("$(basename "$page" .md)")
done
missing=""
for page in "${pages[@]}"; do
    test -f "$man3/$page.3" || missing="$missing $page.3"
done
check_eq "a man page for each page of docs/api/ (${#pages[@]})" "$missing" ""
extra=$(cd "$man3" && ls | grep -v -x -F "$(printf '%s.3\n' "${pages[@]}")" || true)
check_eq "no other man pages" "$extra" ""
# .TH title section [footer-middle [footer-inside [header-middle]]]
for page in rs_idc_get_token rs_idc rs_idc_client_get_user_token; do
    check_eq "$page.3 starts with a valid .TH line" "$(head -n 1 "$man3/$page.3" 2>/dev/null)" \
        ".TH $page 3 \"\" \"rs-idc $CARGO_VERSION\" \"rs-idc Library Functions\""
done
check "rs_idc_get_token.3 names its function (NAME)" \
    grep -qx 'rs_idc_get_token \\- gets an IAM .*' "$man3/rs_idc_get_token.3"
check "rs_idc_get_token.3 has the header's declaration" \
    grep -qxF 'int rs_idc_get_token(const char **ids, size_t n, char **out, int64_t *exp);' \
    "$man3/rs_idc_get_token.3"
if command -v man >/dev/null 2>&1; then
    check_eq "man -w rs_idc_get_token finds the installed page" \
        "$(MANPATH=$prefix/share/man man -w rs_idc_get_token 2>&1)" "$man3/rs_idc_get_token.3"
    rendered=$(MANPATH=$prefix/share/man MANWIDTH=80 MAN_KEEP_FORMATTING= \
        man --warnings rs_idc_get_token 2>"$log")
    check_has "man rs_idc_get_token renders its synopsis" "$rendered" \
        "int rs_idc_get_token(const char **ids, size_t n, char **out, int64_t *exp);"
    check_has "man rs_idc_get_token renders its sections" "$rendered" "RETURN VALUE"
    check_eq "man rs_idc_get_token renders without warnings" "$(cat "$log")" ""
else
    echo "   skipped: man is not installed (man-db), so man rs_idc_get_token is not tried"
fi
if command -v groff >/dev/null 2>&1; then
    : >"$log"
    for page in "${pages[@]}"; do
        groff -man -Tutf8 -ww -z "$man3/$page.3" >>"$log" 2>&1
    done
    check_eq "groff renders every man page without warnings" "$(cat "$log")" ""
else
    echo "   skipped: groff is not installed (groff-base), so the pages are not rendered"
fi

# --- docs/api/ -------------------------------------------------------------
run_logged "docs/api/ is up to date with the header (python3 tools/api_docs.py check)" \
    python3 tools/api_docs.py check

# Only the C API is exported, and the installed library is stripped.
others=$(nm -D --defined-only "$real" | awk '{print $3}' | grep -v '^rs_idc_' | grep -v '^$' || true)
check_eq "the installed library exports rs_idc_* symbols only" "$others" ""
check "the installed library is stripped (no symbol table)" \
    bash -c "[ -z \"\$(nm '$real' 2>/dev/null)\" ]"
echo "installed librs_idc.so: $(($(stat -c %s "$real") / 1024)) KiB"

soname=$(readelf -d "$real" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
check_eq "SONAME of the installed library" "$soname" "librs_idc.so.$VERSION_MAJOR"
header_version=$(sed -n 's/^#define RS_IDC_VERSION "\(.*\)"/\1/p' "$prefix/include/rs_idc.h")
check_eq "RS_IDC_VERSION in the installed header" "$header_version" "$CARGO_VERSION"

# --- pkg-config ------------------------------------------------------------
export PKG_CONFIG_PATH=$lib/pkgconfig
check "pkg-config --exists rs_idc" pkg-config --exists rs_idc
check "pkg-config --validate rs_idc" pkg-config --validate rs_idc
check_eq "pkg-config --modversion (Cargo.toml's version)" \
    "$(pkg-config --modversion rs_idc)" "$CARGO_VERSION"
check_eq "pkg-config prefix" "$(pkg-config --variable=prefix rs_idc)" "$prefix"
check_eq "pkg-config libdir" "$(pkg-config --variable=libdir rs_idc)" "$lib"
check_eq "pkg-config includedir" "$(pkg-config --variable=includedir rs_idc)" "$prefix/include"
pc_libs=$(pkg-config --libs rs_idc)
pc_static=$(pkg-config --static --libs rs_idc)
pc_cflags=$(pkg-config --cflags rs_idc)
echo "   cflags:       $pc_cflags"
echo "   libs:         $pc_libs"
echo "   static libs:  $pc_static"
check_has "Cflags names the include directory" "$pc_cflags" "-I$prefix/include"
check_has "Libs names the library directory" "$pc_libs" "-L$lib"
check_has "Libs links -lrs_idc" "$pc_libs" "-lrs_idc"
check_lacks "Libs has no private libraries" "$pc_libs" "-lgcc_s"
for l in -lgcc_s -lpthread -lm -ldl -Wl,-z,nodelete; do
    check_has "static Libs has $l" "$pc_static" "$l"
done
check_lacks "Libs has no -z nodelete (librs_idc.so carries its own)" "$pc_libs" "nodelete"

pkg_config_builds "" "$lib" LD_LIBRARY_PATH="$lib"

# --- C++: the installed wrapper -------------------------------------------
if [ -f examples-c/cpp_token.cpp ]; then
    echo "== C++: $CXX examples-c/cpp_token.cpp \$(pkg-config --cflags --libs rs_idc)"
    rm -f "$work/bin"
    # shellcheck disable=SC2046
    if run_logged "C++ build against the installed rs_idc.hpp" \
        "$CXX" "${CXXFLAGS_STRICT[@]}" examples-c/cpp_token.cpp -o "$work/bin" \
        $(pkg-config --cflags --libs rs_idc); then
        expect_token_line "C++ build" LD_LIBRARY_PATH="$lib"
    fi
fi

# --- The examples of docs/api/ ---------------------------------------------
# Each builds with pkg-config's flags only; those that need no argument, no
# browser, no device code (someone to confirm it) and no web token run under
# the fake and succeed.
echo "== docs/api/examples: $CC \$(pkg-config --cflags --libs rs_idc)"
built=0
broken=""
for example in docs/api/examples/*.c; do
    name=$(basename "$example" .c)
    # shellcheck disable=SC2046
    if "$CC" "${CFLAGS_STRICT[@]}" "$example" -o "$work/$name" \
        $(pkg-config --cflags --libs rs_idc) >"$log" 2>&1; then
        built=$((built + 1))
    else
        broken="$broken $name"
        sed 's/^/    /' "$log" >&2
    fi
done
check_eq "every example of docs/api/ builds ($built)" "$broken" ""
failed_runs=""
ran=0
for program in "$work"/rs_idc_*; do
    name=$(basename "$program")
    case $name in *browser* | *device* | *user*) continue ;; esac
    if LD_LIBRARY_PATH=$lib "$FAKE" run -- "$program" >"$log" 2>&1; then
        ran=$((ran + 1))
    else
        failed_runs="$failed_runs $name"
        sed 's/^/    /' "$log" >&2
    fi
done
check_eq "the examples run under the fake ($ran)" "$failed_runs" ""

# --- CMake: find_package(rs_idc) -------------------------------------------
# expect_find WHAT FIND_ARGS found|not-found [MESSAGE]: what
# find_package(rs_idc FIND_ARGS REQUIRED) does with the prefix; a refusal
# names MESSAGE.
expect_find() {
    local what=$1 find_args=$2 want=$3 message=${4:-}
    local dir=$work/cmake-find
    if cmake_configure "$dir" "$prefix" "$find_args"; then
        if [ "$want" = found ]; then
            pass "$what"
        else
            fail "$what: the package was found"
        fi
    elif [ "$want" = found ]; then
        fail "$what: not found"
        sed 's/^/    /' "$log" >&2
    else
        # CMake wraps its message: compare without the line breaks.
        check_has "$what" "$(tr -s ' \n' ' ' <"$log")" "$message"
    fi
}

if [ "$have_cmake" -eq 1 ]; then
    echo "   $(cmake --version | head -n 1)"
    cmake_checks installed "$prefix"

    echo "== CMake: which versions find_package(rs_idc ...) accepts"
    expect_find "find_package(rs_idc 0.1.0 EXACT) finds $CARGO_VERSION" "0.1.0;EXACT" found
    expect_find "find_package(rs_idc) without a version finds it" "" found
    expect_find "find_package(rs_idc 0.1 EXACT) does not (EXACT compares the whole version)" \
        "0.1;EXACT" not-found 'exactly matches requested version "0.1"'
    expect_find "find_package(rs_idc 0.2) does not (newer than installed)" \
        "0.2" not-found 'compatible with requested version "0.2"'
    expect_find "find_package(rs_idc 1.0) does not (another major version)" \
        "1.0" not-found 'compatible with requested version "1.0"'
fi

# --- Uninstall -------------------------------------------------------------
echo "== make uninstall PREFIX=$prefix"
run_logged "make uninstall PREFIX=<tmp>" "$MAKE" --no-print-directory uninstall PREFIX="$prefix"
left=$(find "$prefix" \( -type f -o -type l \) | sed "s|^$prefix/||" | tr '\n' ' ')
check_eq "uninstall leaves no file behind" "$left" ""
check "uninstall removes lib/cmake/rs_idc and lib/cmake" test ! -e "$lib/cmake"

# --- DESTDIR -------------------------------------------------------------
stage=$work/stage
staged_prefix=/opt/rs-idc-test
echo "== make install DESTDIR=$stage PREFIX=$staged_prefix"
if run_logged "make install DESTDIR=<tmp> PREFIX=$staged_prefix" \
    "$MAKE" --no-print-directory install DESTDIR="$stage" PREFIX="$staged_prefix"; then
    slib=$stage$staged_prefix/lib
    check "staged: librs_idc.so.$VERSION" test -f "$slib/librs_idc.so.$VERSION"
    check "staged: librs_idc.a" test -f "$slib/librs_idc.a"
    check "staged: rs_idc.h" test -f "$stage$staged_prefix/include/rs_idc.h"
    check "staged: rs_idcConfig.cmake" test -f "$slib/cmake/rs_idc/rs_idcConfig.cmake"
    check "staged: rs_idcConfigVersion.cmake" test -f "$slib/cmake/rs_idc/rs_idcConfigVersion.cmake"
    check "staged: rs_idc_get_token.3" test -f "$stage$staged_prefix/share/man/man3/rs_idc_get_token.3"
    check "staged: bin/rs-idc-token" test -x "$stage$staged_prefix/bin/rs-idc-token"
    check "staged: the CMake files do not mention DESTDIR" \
        bash -c "! grep -q '$stage' '$slib/cmake/rs_idc/'*.cmake"
    check_eq "staged: the SONAME link is relative" \
        "$(readlink "$slib/librs_idc.so.$VERSION_MAJOR")" "librs_idc.so.$VERSION"
    check_eq "staged: the .pc names PREFIX, not DESTDIR" \
        "$(sed -n 's/^prefix=//p' "$slib/pkgconfig/rs_idc.pc")" "$staged_prefix"
    check "staged: nothing was written to PREFIX itself" test ! -e "$staged_prefix"
    run_logged "make uninstall DESTDIR=<tmp> PREFIX=$staged_prefix" \
        "$MAKE" --no-print-directory uninstall DESTDIR="$stage" PREFIX="$staged_prefix"
    left=$(find "$stage" \( -type f -o -type l \) | sed "s|^$stage/||" | tr '\n' ' ')
    check_eq "staged: uninstall leaves no file behind" "$left" ""
fi

# --- A staged tree, moved -------------------------------------------------
# The CMake files find everything from their own location: a DESTDIR tree
# moved anywhere (a package unpacked elsewhere) works where it lands.
if [ "$have_cmake" -eq 1 ]; then
    stage=$work/stage-moved
    moved=$work/moved
    echo "== make install DESTDIR=$stage PREFIX=$staged_prefix, then moved to $moved"
    if run_logged "make install DESTDIR=<tmp> PREFIX=$staged_prefix (to move)" \
        "$MAKE" --no-print-directory install DESTDIR="$stage" PREFIX="$staged_prefix" &&
        run_logged "move the staged tree" mv "$stage$staged_prefix" "$moved"; then
        cmake_checks moved "$moved"
        run_logged "make uninstall PREFIX=<moved tree>" \
            "$MAKE" --no-print-directory uninstall PREFIX="$moved"
        left=$(find "$moved" \( -type f -o -type l \) | sed "s|^$moved/||" | tr '\n' ' ')
        check_eq "moved: uninstall leaves no file behind" "$left" ""
        check "moved: uninstall removes lib/cmake" test ! -e "$moved/lib/cmake"
    fi
fi

summary
