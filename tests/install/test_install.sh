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
#    that need no argument, browser or web token run under the fake.
#
# Run from the project's top directory by `make test-install`, which sets
# MAKE, CC, CXX, FAKE (path of rs-idc-fake), VERSION and VERSION_MAJOR.
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
check "rs_idcConfig.cmake installed" test -f "$lib/cmake/rs_idc/rs_idcConfig.cmake"
check "rs_idcConfigVersion.cmake installed" test -f "$lib/cmake/rs_idc/rs_idcConfigVersion.cmake"
check "the installed header is the project's" cmp -s include/rs_idc.h "$prefix/include/rs_idc.h"

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

# --- The examples of docs/api/ ---------------------------------------------
# Each builds with pkg-config's flags only; those that need no argument, no
# browser and no web token run under the fake and succeed.
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
    case $name in *browser* | *user*) continue ;; esac
    if LD_LIBRARY_PATH=$lib "$FAKE" run -- "$program" >"$log" 2>&1; then
        ran=$((ran + 1))
    else
        failed_runs="$failed_runs $name"
        sed 's/^/    /' "$log" >&2
    fi
done
check_eq "the examples run under the fake ($ran)" "$failed_runs" ""

# --- CMake: find_package(rs_idc) -------------------------------------------
cmake_project=$PWD/tests/install/cmake

# cmake_configure BUILD_DIR PREFIX [FIND_ARGS]: configures tests/install/cmake
# in BUILD_DIR with find_package(rs_idc FIND_ARGS) (default 0.1), searching
# PREFIX only (no system directories, no package registry); the output goes
# to the log. Make's variables are not passed on to CMake's own make.
cmake_configure() {
    local dir=$1 where=$2
    local find_args=${3-0.1}
    rm -rf "$dir"
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CMAKE_PREFIX_PATH \
        cmake -S "$cmake_project" -B "$dir" \
        -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
        -DCMAKE_PREFIX_PATH="$where" -DRS_IDC_FIND_ARGS="$find_args" \
        -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
        -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF >"$log" 2>&1
}

# cmake_property BUILD_DIR NAME: one line of the project's rs_idc_properties.txt.
cmake_property() {
    sed -n "s|^$2=||p" "$1/rs_idc_properties.txt"
}

# expect_cmake_program WHAT PROGRAM LANGUAGE KIND: runs a program of the
# CMake project under the fake; it prints its checks' line, then its token line.
expect_cmake_program() {
    local what=$1 program=$2 language=$3 kind=$4
    local out
    out=$("$FAKE" run -- "$program" my-cluster 2>"$log")
    local rc=$?
    echo "$out" | sed 's/^/   /'
    check_eq "$what exits 0" "$rc" 0
    if [ "$rc" -ne 0 ]; then sed 's/^/    /' "$log" >&2; fi
    check_eq "$what: version and status names" "$(sed -n 1p <<<"$out")" \
        "$language, $kind: version $CARGO_VERSION, status names ok"
    check "$what prints its token line" \
        grep -Eq '^token: [1-9][0-9]* bytes, expires in [0-9]+ s$' <<<"$(sed -n 2p <<<"$out")"
}

# cmake_checks LABEL PREFIX: find_package(rs_idc 0.1 REQUIRED) with
# CMAKE_PREFIX_PATH=PREFIX; the imported targets name the files under
# PREFIX; the programs build, link as their target says and run.
cmake_checks() {
    local label=$1 where=$2
    local dir=$work/cmake-$label
    local plib=$where/lib
    echo "== CMake ($label): find_package(rs_idc 0.1 REQUIRED) with CMAKE_PREFIX_PATH=$where"
    if ! cmake_configure "$dir" "$where"; then
        fail "$label: cmake configures tests/install/cmake"
        sed 's/^/    /' "$log" >&2
        return
    fi
    pass "$label: cmake configures tests/install/cmake"
    check_eq "$label: rs_idc_VERSION" "$(cmake_property "$dir" rs_idc_VERSION)" "$CARGO_VERSION"
    check_eq "$label: rs_idc_DIR" "$(cmake_property "$dir" rs_idc_DIR)" "$plib/cmake/rs_idc"
    local t=rs_idc::rs_idc s=rs_idc::rs_idc_static
    check_eq "$label: $t is a shared library" "$(cmake_property "$dir" "$t TYPE")" SHARED_LIBRARY
    check_eq "$label: $t is imported" "$(cmake_property "$dir" "$t IMPORTED")" TRUE
    check_eq "$label: $t IMPORTED_LOCATION (the real file)" \
        "$(cmake_property "$dir" "$t IMPORTED_LOCATION")" "$plib/librs_idc.so.$VERSION"
    check_eq "$label: $t IMPORTED_SONAME" \
        "$(cmake_property "$dir" "$t IMPORTED_SONAME")" "librs_idc.so.$VERSION_MAJOR"
    check_eq "$label: $t INTERFACE_INCLUDE_DIRECTORIES" \
        "$(cmake_property "$dir" "$t INTERFACE_INCLUDE_DIRECTORIES")" "$where/include"
    check_eq "$label: $t has no link libraries" \
        "$(cmake_property "$dir" "$t INTERFACE_LINK_LIBRARIES")" "value-NOTFOUND"
    check_eq "$label: $s is a static library" "$(cmake_property "$dir" "$s TYPE")" STATIC_LIBRARY
    check_eq "$label: $s is imported" "$(cmake_property "$dir" "$s IMPORTED")" TRUE
    check_eq "$label: $s IMPORTED_LOCATION" \
        "$(cmake_property "$dir" "$s IMPORTED_LOCATION")" "$plib/librs_idc.a"
    check_eq "$label: $s INTERFACE_INCLUDE_DIRECTORIES" \
        "$(cmake_property "$dir" "$s INTERFACE_INCLUDE_DIRECTORIES")" "$where/include"
    # Libs.private of the .pc file, split into options and libraries.
    local private options libraries
    private=$(sed -n 's/^Libs.private: //p' "$plib/pkgconfig/rs_idc.pc")
    options=$(tr ' ' '\n' <<<"$private" | grep -v '^-l' | paste -sd ';')
    libraries=$(tr ' ' '\n' <<<"$private" | grep '^-l' | paste -sd ';')
    check_eq "$label: $s INTERFACE_LINK_OPTIONS (Libs.private's options)" \
        "$(cmake_property "$dir" "$s INTERFACE_LINK_OPTIONS")" "$options"
    check_eq "$label: $s INTERFACE_LINK_LIBRARIES (Libs.private's libraries)" \
        "$(cmake_property "$dir" "$s INTERFACE_LINK_LIBRARIES")" "$libraries"

    if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL cmake --build "$dir" >"$log" 2>&1; then
        fail "$label: cmake --build (C and C++, shared and static, plug-in)"
        sed 's/^/    /' "$log" >&2
        return
    fi
    pass "$label: cmake --build (C and C++, shared and static, plug-in)"

    local needed
    needed=$(readelf -d "$dir/c_shared" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
    check_has "$label: c_shared records the SONAME" "$needed" "librs_idc.so.$VERSION_MAJOR"
    check_has "$label: ldd finds the library under the prefix (CMake's build RPATH)" \
        "$(ldd "$dir/c_shared" | grep librs_idc)" "$plib/librs_idc.so.$VERSION_MAJOR"
    needed=$(readelf -d "$dir/c_static" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
    check_lacks "$label: c_static does not need librs_idc.so" "$needed" "librs_idc"
    check "$label: c_static defines rs_idc_get_token" \
        bash -c "nm '$dir/c_static' | grep -q ' T rs_idc_get_token\$'"
    needed=$(readelf -d "$dir/cpp_static" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' ')
    check_lacks "$label: cpp_static does not need librs_idc.so" "$needed" "librs_idc"
    local flags
    flags=$(readelf -d "$dir/libstatic_driver.so" | sed -n 's/.*(FLAGS_1).*Flags: *//p')
    check_has "$label: the plug-in is marked NODELETE (INTERFACE_LINK_OPTIONS)" "$flags" "NODELETE"

    expect_cmake_program "$label: c_shared" "$dir/c_shared" C shared
    expect_cmake_program "$label: c_static" "$dir/c_static" C static
    expect_cmake_program "$label: cpp_shared" "$dir/cpp_shared" C++ shared
    expect_cmake_program "$label: cpp_static" "$dir/cpp_static" C++ static
}

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
