#!/usr/bin/env bash
# test_install.sh - `make install` and `make uninstall`, checked the way a
# user of the installed library sees them.
#
# 1. `make install PREFIX=<temporary directory>`: the files, the links, the
#    SONAME and the .pc file are as documented.
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
# 5. `make install DESTDIR=... PREFIX=/opt/...`: files land under DESTDIR, the
#    .pc file and the links do not mention DESTDIR; `make uninstall` removes
#    every file again.
#
# Run from the project's top directory by `make test-install`, which sets
# MAKE, CC, CXX, FAKE (path of rs-idc-fake), VERSION and VERSION_MAJOR.
# Tokens are never printed: get_token prints only length and expiry.
# Ends with "N passed, M failed"; exits non-zero when a check failed.

set -u

MAKE=${MAKE:-make}
CC=${CC:-cc}
CXX=${CXX:-g++}
FAKE=${FAKE:-$PWD/target/release/rs-idc-fake}
CARGO_VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
VERSION=${VERSION:-$CARGO_VERSION}
VERSION_MAJOR=${VERSION_MAJOR:-${VERSION%%.*}}
CFLAGS_STRICT=(-std=c11 -O1 -Wall -Wextra -Werror -pedantic)
CXXFLAGS_STRICT=(-std=c++17 -O1 -Wall -Wextra -Werror -pedantic)

passed=0
failed=0

pass() {
    passed=$((passed + 1))
    echo "ok   $1"
}

fail() {
    failed=$((failed + 1))
    echo "FAIL $1" >&2
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# check_eq DESCRIPTION GOT WANT
check_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1: got '$2', expected '$3'"
    fi
}

# check_has DESCRIPTION TEXT PART: TEXT contains PART.
check_has() {
    case "$2" in
    *"$3"*) pass "$1" ;;
    *) fail "$1: '$2' does not contain '$3'" ;;
    esac
}

# check_lacks DESCRIPTION TEXT PART: TEXT does not contain PART.
check_lacks() {
    case "$2" in
    *"$3"*) fail "$1: '$2' contains '$3'" ;;
    *) pass "$1" ;;
    esac
}

summary() {
    echo "$passed passed, $failed failed"
    if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then exit 0; fi
    exit 1
}

# A prerequisite that is missing ends the test as a failure, with a reason.
for tool in pkg-config readelf nm ldd "$CC" "$CXX"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        fail "$tool is installed (needed by this test)"
        summary
    fi
done
if [ ! -x "$FAKE" ]; then
    fail "the fake endpoint $FAKE is built (make lib)"
    summary
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rs-idc-install.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
lib=$prefix/lib
log=$work/log

# run_logged DESCRIPTION COMMAND...: runs COMMAND with its output in the log;
# passes when it succeeds, otherwise shows the log.
run_logged() {
    local what=$1
    shift
    if "$@" >"$log" 2>&1; then
        pass "$what"
        return 0
    fi
    fail "$what"
    sed 's/^/    /' "$log" >&2
    return 1
}

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
check "the installed header is the project's" cmp -s include/rs_idc.h "$prefix/include/rs_idc.h"

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

# Runs a built get_token under the fake (with extra environment from the
# arguments before the program) and checks its token line.
expect_token_line() {
    local what=$1
    shift
    local out
    out=$(env "$@" "$FAKE" run -- "$work/bin" my-cluster 2>"$log")
    local rc=$?
    # get_token prints "token: N bytes, expires ... (in S s)": lengths only.
    echo "   $out"
    check_eq "$what exits 0" "$rc" 0
    if [ "$rc" -ne 0 ]; then sed 's/^/    /' "$log" >&2; fi
    check "$what prints its token line" grep -Eq '^token: [1-9][0-9]* bytes, expires ' <<<"$out"
}

# --- Shared: only pkg-config's flags ------------------------------------
echo "== shared link: $CC examples-c/get_token.c \$(pkg-config --cflags --libs rs_idc)"
# shellcheck disable=SC2046 # pkg-config's output is a list of words
if run_logged "shared build with pkg-config's flags" \
    "$CC" "${CFLAGS_STRICT[@]}" examples-c/get_token.c -o "$work/bin" \
    $(pkg-config --cflags --libs rs_idc); then
    needed=$(readelf -d "$work/bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
    check_has "the program records the SONAME" "$needed" "librs_idc.so.$VERSION_MAJOR"
    resolved=$(LD_LIBRARY_PATH=$lib ldd "$work/bin" | grep librs_idc)
    check_has "ldd finds the installed library" "$resolved" "$lib/librs_idc.so.$VERSION_MAJOR"
    expect_token_line "shared build" LD_LIBRARY_PATH="$lib"
fi

# --- Static: librs_idc.a and Libs.private --------------------------------
# The prefix holds both libraries and -lrs_idc would pick the shared one, so
# -lrs_idc is wrapped in -Bstatic/-Bdynamic; the rest is pkg-config's.
static_flags=()
for word in $(pkg-config --static --cflags --libs rs_idc); do
    if [ "$word" = "-lrs_idc" ]; then
        static_flags+=(-Wl,-Bstatic -lrs_idc -Wl,-Bdynamic)
    else
        static_flags+=("$word")
    fi
done
echo "== static link: $CC examples-c/get_token.c ${static_flags[*]}"
rm -f "$work/bin"
if run_logged "static build with pkg-config --static" \
    "$CC" "${CFLAGS_STRICT[@]}" examples-c/get_token.c -o "$work/bin" "${static_flags[@]}"; then
    deps=$(LD_LIBRARY_PATH=$lib ldd "$work/bin")
    check_lacks "ldd: the static build does not need librs_idc.so" "$deps" "librs_idc"
    needed=$(readelf -d "$work/bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
    check_lacks "readelf: no NEEDED librs_idc" "$needed" "librs_idc"
    check "the static build defines rs_idc_get_token" \
        bash -c "nm '$work/bin' | grep -q ' T rs_idc_get_token\$'"
    expect_token_line "static build"
fi

# Libs.private alone must satisfy librs_idc.a: no libraries from the driver.
echo "== static link without the compiler's default libraries (-nodefaultlibs)"
rm -f "$work/bin"
if run_logged "static build with -nodefaultlibs and Libs.private only" \
    "$CC" "${CFLAGS_STRICT[@]}" examples-c/get_token.c -o "$work/bin" -nodefaultlibs \
    "${static_flags[@]}"; then
    expect_token_line "-nodefaultlibs build"
fi

# A plug-in that links librs_idc.a must never be unmapped by dlclose(): the
# library's threads and fork handlers point into it. Libs.private says so.
echo "== static plug-in: $CC -fPIC -shared tests/life/static_driver.c ${static_flags[*]}"
plugin=$work/static_driver.so
if run_logged "plug-in build with pkg-config --static" \
    "$CC" "${CFLAGS_STRICT[@]}" -fPIC -shared tests/life/static_driver.c -o "$plugin" \
    "${static_flags[@]}"; then
    flags=$(readelf -d "$plugin" | sed -n 's/.*(FLAGS_1).*Flags: *//p')
    check_has "the plug-in is marked NODELETE" "$flags" "NODELETE"
    needed=$(readelf -d "$plugin" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
    check_lacks "readelf: the plug-in does not need librs_idc.so" "$needed" "librs_idc"
    check "the plug-in defines driver_connect" \
        bash -c "nm -D '$plugin' | grep -q ' T driver_connect\$'"
fi

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

# --- Uninstall -------------------------------------------------------------
echo "== make uninstall PREFIX=$prefix"
run_logged "make uninstall PREFIX=<tmp>" "$MAKE" --no-print-directory uninstall PREFIX="$prefix"
left=$(find "$prefix" \( -type f -o -type l \) | sed "s|^$prefix/||" | tr '\n' ' ')
check_eq "uninstall leaves no file behind" "$left" ""

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

summary
