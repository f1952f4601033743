/*
 * main.c - a C program built by CMake with the installed rs_idc package
 * (tests/install/cmake/CMakeLists.txt).
 *
 *     usage: c_shared CLUSTER_ID...   (or c_static)
 *
 * Checks that the library is the version find_package() found and the
 * header's, and the names of a few statuses; then gets a token and prints
 * its length and expiry, never the token itself.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rs_idc.h"

static int failures = 0;

static void expect_str(const char *what, const char *got, const char *want)
{
    if (got == NULL || strcmp(got, want) != 0) {
        fprintf(stderr, "%s: got \"%s\", expected \"%s\"\n", what, got ? got : "(null)", want);
        failures++;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CLUSTER_ID...\n", argv[0]);
        return 2;
    }

    expect_str("rs_idc_version() and RS_IDC_VERSION", rs_idc_version(), RS_IDC_VERSION);
    expect_str("rs_idc_version() and rs_idc_VERSION", rs_idc_version(), FOUND_VERSION);
    expect_str("rs_idc_status_str(RS_IDC_OK)", rs_idc_status_str(RS_IDC_OK), "RS_IDC_OK");
    expect_str("rs_idc_status_str(RS_IDC_ENOTFOUND)", rs_idc_status_str(RS_IDC_ENOTFOUND),
               "RS_IDC_ENOTFOUND");
    expect_str("rs_idc_status_str(-9999)", rs_idc_status_str(-9999), "RS_IDC_UNKNOWN");
    if (failures != 0) {
        return 1;
    }
    printf("C, %s: version %s, status names ok\n", LINK_KIND, rs_idc_version());

    char *token = NULL;
    int64_t expires = 0;
    int status = rs_idc_get_token((const char **)(argv + 1), (size_t)(argc - 1), &token, &expires);
    if (status != RS_IDC_OK) {
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
        return 1;
    }
    printf("token: %zu bytes, expires in %lld s\n", strlen(token),
           (long long)(expires - (int64_t)time(NULL)));
    rs_idc_free_token(token);
    return 0;
}
