/*
 * main.cpp - a C++ program built by CMake with the installed rs_idc
 * package and its wrapper rs_idc.hpp (tests/install/cmake/CMakeLists.txt).
 *
 *     usage: cpp_shared CLUSTER_ID...   (or cpp_static)
 *
 * The checks of main.c through the wrapper: version, status names, then a
 * token, of which it prints the length and expiry only.
 */

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "rs_idc.hpp"

namespace {

int failures = 0;

void expect_str(const char *what, const char *got, const char *want)
{
    if (got == nullptr || std::strcmp(got, want) != 0) {
        std::fprintf(stderr, "%s: got \"%s\", expected \"%s\"\n", what,
                     got != nullptr ? got : "(null)", want);
        failures++;
    }
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CLUSTER_ID...\n", argv[0]);
        return 2;
    }

    expect_str("rs_idc::version() and RS_IDC_VERSION", rs_idc::version(), RS_IDC_VERSION);
    expect_str("rs_idc::version() and rs_idc_VERSION", rs_idc::version(), FOUND_VERSION);
    expect_str("rs_idc::status_name(RS_IDC_OK)", rs_idc::status_name(RS_IDC_OK), "RS_IDC_OK");
    expect_str("rs_idc::status_name(RS_IDC_ENOTFOUND)", rs_idc::status_name(RS_IDC_ENOTFOUND),
               "RS_IDC_ENOTFOUND");
    expect_str("rs_idc::status_name(-9999)", rs_idc::status_name(-9999), "RS_IDC_UNKNOWN");
    if (failures != 0) {
        return 1;
    }
    std::printf("C++, %s: version %s, status names ok\n", LINK_KIND, rs_idc::version());

    try {
        rs_idc::token t = rs_idc::get_token(std::vector<std::string>(argv + 1, argv + argc));
        std::printf("token: %zu bytes, expires in %lld s\n", t.size(),
                    static_cast<long long>(t.expires_at() - std::time(nullptr)));
    } catch (const rs_idc::error &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
