# checks.sh - what the shell tests of installed files share: counting
# checks, running a step with its output kept, building examples-c/get_token.c
# with pkg-config's flags, and the CMake project tests/install/cmake.
# Sourced by tests/install/test_install.sh (`make install`) and
# tests/package/test_package.sh (the release archive and the Debian package).
#
# The sourcing script sets CC, CXX, FAKE (path of rs-idc-fake), VERSION,
# VERSION_MAJOR and CARGO_VERSION, then, once it has a temporary directory,
# `work` (scratch space) and `log` (a file there). Run from the project's
# top directory. Tokens are never printed: the programs print lengths only.

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

# need_tools TOOL...: a prerequisite that is missing ends the test as a
# failure, with a reason.
need_tools() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            fail "$tool is installed (needed by this test)"
            summary
        fi
    done
    if [ ! -x "$FAKE" ]; then
        fail "the fake endpoint $FAKE is built (make lib)"
        summary
    fi
}

# needed_of FILE: the NEEDED entries of an ELF file, on one line.
needed_of() {
    readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | tr '\n' ' '
}

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

# --- Programs built with pkg-config's flags ---------------------------------
# pkg_config_builds LABEL LIBDIR [VAR=VALUE...]: with the rs_idc.pc that
# PKG_CONFIG_PATH (or pkg-config's own path) finds, builds
# examples-c/get_token.c shared, static, static without the compiler's
# default libraries, and tests/life/static_driver.c as a static plug-in;
# the programs run under the fake with VAR=VALUE... in their environment
# (LD_LIBRARY_PATH for a library outside the loader's path). LIBDIR is where
# the shared library is installed; LABEL (may be empty) starts each check.
pkg_config_builds() {
    local p=${1:+$1: } lib=$2
    shift 2
    local needed resolved word plugin flags
    # --- Shared: only pkg-config's flags ------------------------------------
    echo "== ${p}shared link: $CC examples-c/get_token.c \$(pkg-config --cflags --libs rs_idc)"
    # shellcheck disable=SC2046 # pkg-config's output is a list of words
    if run_logged "${p}shared build with pkg-config's flags" \
        "$CC" "${CFLAGS_STRICT[@]}" examples-c/get_token.c -o "$work/bin" \
        $(pkg-config --cflags --libs rs_idc); then
        needed=$(needed_of "$work/bin")
        check_has "${p}the program records the SONAME" "$needed" "librs_idc.so.$VERSION_MAJOR"
        resolved=$(env "$@" ldd "$work/bin" | awk '/librs_idc/ {print $3}')
        echo "   ldd: librs_idc.so.$VERSION_MAJOR => $resolved"
        check "${p}ldd finds the installed library" \
            test -n "$resolved" -a "$resolved" -ef "$lib/librs_idc.so.$VERSION_MAJOR"
        expect_token_line "${p}shared build" "$@"
    fi

    # --- Static: librs_idc.a and Libs.private --------------------------------
    # The prefix holds both libraries and -lrs_idc would pick the shared one, so
    # -lrs_idc is wrapped in -Bstatic/-Bdynamic; the rest is pkg-config's.
    local static_flags=()
    for word in $(pkg-config --static --cflags --libs rs_idc); do
        if [ "$word" = "-lrs_idc" ]; then
            static_flags+=(-Wl,-Bstatic -lrs_idc -Wl,-Bdynamic)
        else
            static_flags+=("$word")
        fi
    done
    echo "== ${p}static link: $CC examples-c/get_token.c ${static_flags[*]}"
    rm -f "$work/bin"
    if run_logged "${p}static build with pkg-config --static" \
        "$CC" "${CFLAGS_STRICT[@]}" examples-c/get_token.c -o "$work/bin" "${static_flags[@]}"; then
        check_lacks "${p}ldd: the static build does not need librs_idc.so" \
            "$(env "$@" ldd "$work/bin")" "librs_idc"
        check_lacks "${p}readelf: no NEEDED librs_idc" "$(needed_of "$work/bin")" "librs_idc"
        check "${p}the static build defines rs_idc_get_token" \
            bash -c "nm '$work/bin' | grep -q ' T rs_idc_get_token\$'"
        expect_token_line "${p}static build"
    fi

    # Libs.private alone must satisfy librs_idc.a: no libraries from the driver.
    echo "== ${p}static link without the compiler's default libraries (-nodefaultlibs)"
    rm -f "$work/bin"
    if run_logged "${p}static build with -nodefaultlibs and Libs.private only" \
        "$CC" "${CFLAGS_STRICT[@]}" examples-c/get_token.c -o "$work/bin" -nodefaultlibs \
        "${static_flags[@]}"; then
        expect_token_line "${p}-nodefaultlibs build"
    fi

    # A plug-in that links librs_idc.a must never be unmapped by dlclose(): the
    # library's threads and fork handlers point into it. Libs.private says so.
    echo "== ${p}static plug-in: $CC -fPIC -shared tests/life/static_driver.c ${static_flags[*]}"
    plugin=$work/static_driver.so
    if run_logged "${p}plug-in build with pkg-config --static" \
        "$CC" "${CFLAGS_STRICT[@]}" -fPIC -shared tests/life/static_driver.c -o "$plugin" \
        "${static_flags[@]}"; then
        flags=$(readelf -d "$plugin" | sed -n 's/.*(FLAGS_1).*Flags: *//p')
        check_has "${p}the plug-in is marked NODELETE" "$flags" "NODELETE"
        check_lacks "${p}readelf: the plug-in does not need librs_idc.so" \
            "$(needed_of "$plugin")" "librs_idc"
        check "${p}the plug-in defines driver_connect" \
            bash -c "nm -D '$plugin' | grep -q ' T driver_connect\$'"
    fi
}

# --- CMake: find_package(rs_idc) -------------------------------------------
cmake_project=$PWD/tests/install/cmake

# cmake_configure BUILD_DIR PREFIX [FIND_ARGS]: configures tests/install/cmake
# in BUILD_DIR with find_package(rs_idc FIND_ARGS) (default 0.1), searching
# PREFIX only (no system directories), or, with an empty PREFIX, CMake's
# system directories only, as a project does by default; never a package
# registry. The output goes to the log. Make's variables are not passed on
# to CMake's own make.
cmake_configure() {
    local dir=$1 where=$2
    local find_args=${3-0.1}
    local search=(-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF)
    if [ -n "$where" ]; then
        search+=(-DCMAKE_PREFIX_PATH="$where" -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF)
    fi
    rm -rf "$dir"
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CMAKE_PREFIX_PATH \
        cmake -S "$cmake_project" -B "$dir" \
        -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
        -DRS_IDC_FIND_ARGS="$find_args" "${search[@]}" >"$log" 2>&1
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

# cmake_checks LABEL PREFIX [LIBDIR]: find_package(rs_idc 0.1 REQUIRED) with
# CMAKE_PREFIX_PATH=PREFIX, the library in PREFIX/lib; or, given LIBDIR
# (a system installation), with CMake's system directories, the library in
# LIBDIR. The imported targets name the files under PREFIX; the programs
# build, link as their target says and run.
cmake_checks() {
    local label=$1 where=$2
    local dir=$work/cmake-$label
    local plib=${3:-$where/lib} search=$where how="CMAKE_PREFIX_PATH=$where"
    if [ -n "${3:-}" ]; then
        search=""
        how="CMake's system directories"
    fi
    echo "== CMake ($label): find_package(rs_idc 0.1 REQUIRED) with $how"
    if ! cmake_configure "$dir" "$search"; then
        fail "$label: cmake configures tests/install/cmake"
        sed 's/^/    /' "$log" >&2
        return
    fi
    pass "$label: cmake configures tests/install/cmake"
    check_eq "$label: rs_idc_VERSION" "$(cmake_property "$dir" rs_idc_VERSION)" "$CARGO_VERSION"
    check_eq "$label: rs_idc_DIR" "$(cmake_property "$dir" rs_idc_DIR)" "$plib/cmake/rs_idc"
    # Libs.private of the .pc file, split into options and libraries.
    local private options libraries
    private=$(sed -n 's/^Libs.private: //p' "$plib/pkgconfig/rs_idc.pc")
    options=$(tr ' ' '\n' <<<"$private" | grep -v '^-l' | paste -sd ';')
    libraries=$(tr ' ' '\n' <<<"$private" | grep '^-l' | paste -sd ';')
    # The imported targets: TARGET PROPERTY|expected value.
    local t=rs_idc::rs_idc s=rs_idc::rs_idc_static property want
    while IFS='|' read -r property want; do
        check_eq "$label: $property" "$(cmake_property "$dir" "$property")" "$want"
    done <<EOF
$t TYPE|SHARED_LIBRARY
$t IMPORTED|TRUE
$t IMPORTED_LOCATION|$plib/librs_idc.so.$VERSION
$t IMPORTED_SONAME|librs_idc.so.$VERSION_MAJOR
$t INTERFACE_INCLUDE_DIRECTORIES|$where/include
$t INTERFACE_LINK_LIBRARIES|value-NOTFOUND
$s TYPE|STATIC_LIBRARY
$s IMPORTED|TRUE
$s IMPORTED_LOCATION|$plib/librs_idc.a
$s INTERFACE_INCLUDE_DIRECTORIES|$where/include
$s INTERFACE_LINK_OPTIONS|$options
$s INTERFACE_LINK_LIBRARIES|$libraries
EOF

    if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL cmake --build "$dir" >"$log" 2>&1; then
        fail "$label: cmake --build (C and C++, shared and static, plug-in)"
        sed 's/^/    /' "$log" >&2
        return
    fi
    pass "$label: cmake --build (C and C++, shared and static, plug-in)"

    local needed
    needed=$(needed_of "$dir/c_shared")
    check_has "$label: c_shared records the SONAME" "$needed" "librs_idc.so.$VERSION_MAJOR"
    local resolved
    resolved=$(ldd "$dir/c_shared" | awk '/librs_idc/ {print $3}')
    check "$label: ldd finds the library under the prefix (CMake's build RPATH, or the loader's path)" \
        test -n "$resolved" -a "$resolved" -ef "$plib/librs_idc.so.$VERSION_MAJOR"
    needed=$(needed_of "$dir/c_static")
    check_lacks "$label: c_static does not need librs_idc.so" "$needed" "librs_idc"
    check "$label: c_static defines rs_idc_get_token" \
        bash -c "nm '$dir/c_static' | grep -q ' T rs_idc_get_token\$'"
    needed=$(needed_of "$dir/cpp_static")
    check_lacks "$label: cpp_static does not need librs_idc.so" "$needed" "librs_idc"
    local flags
    flags=$(readelf -d "$dir/libstatic_driver.so" | sed -n 's/.*(FLAGS_1).*Flags: *//p')
    check_has "$label: the plug-in is marked NODELETE (INTERFACE_LINK_OPTIONS)" "$flags" "NODELETE"

    expect_cmake_program "$label: c_shared" "$dir/c_shared" C shared
    expect_cmake_program "$label: c_static" "$dir/c_static" C static
    expect_cmake_program "$label: cpp_shared" "$dir/cpp_shared" C++ shared
    expect_cmake_program "$label: cpp_static" "$dir/cpp_static" C++ static
}
