/*
 * get_token.c - get an Amazon Redshift IAM Identity Center auth token with
 * rs-idc, the way a C database driver would.
 *
 *     usage: get_token CLUSTER_ID...
 *
 * Build (from the project's top directory, after `cargo build --release`):
 *
 *     cc -std=c11 -Iinclude examples-c/get_token.c -o get_token \
 *        -Ltarget/release -Wl,-rpath,$PWD/target/release -lrs_idc
 *
 * The library reads its configuration from the environment, like every AWS
 * SDK: AWS_REGION, the AWS credential chain (AWS_ACCESS_KEY_ID and friends,
 * AWS_PROFILE, ...), AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS, and its own
 * RS_IDC_TIMEOUT_MS (whole call, retries included, default 20000).
 *
 * The token is a secret: it grants access to the database. This program
 * prints only its length and expiry. A driver hands the token to the
 * server (with token_type=SUBJECT_TOKEN) and never logs it.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* for gmtime_r() */
#endif

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rs_idc.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CLUSTER_ID...\n", argv[0]);
        return 2;
    }

    /*
     * The cluster identifiers: 1 to RS_IDC_MAX_IDENTIFIERS of them. The
     * library checks them (and the count) before any network traffic, so
     * there is no need to validate them here. The cast only adds `const`:
     * the library never writes through these pointers.
     */
    const char **ids = (const char **)(argv + 1);
    size_t n = (size_t)(argc - 1);

    char *token = NULL;  /* set by the library: the token, or NULL on failure */
    int64_t expires = 0; /* set on success: expiry in Unix seconds, UTC */

    int status = rs_idc_get_token(ids, n, &token, &expires);
    if (status != RS_IDC_OK) {
        /*
         * On failure `token` is NULL and `expires` is left alone. The
         * status name suits a program's logic and logs; the last error is
         * the detailed message for people (AWS error code and request id
         * where there is one). Neither ever holds a token or a secret key.
         */
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
        return 1;
    }

    /* Show the length and the expiry only, never the token itself. */
    size_t length = strlen(token);
    time_t at = (time_t)expires;
    struct tm utc;
    char when[32] = "?";
    if (gmtime_r(&at, &utc) != NULL) {
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    }
    long long left = (long long)(expires - (int64_t)time(NULL));
    printf("token: %zu bytes, expires %s (in %lld s)\n", length, when, left);

    /*
     * Release the token with rs_idc_free_token(): it wipes the memory
     * before freeing it (plain free() also works, without the wipe).
     * Tokens are valid until `expires`; ask again for a new one before
     * then. Repeated calls are cheap: the library keeps one client per
     * process and reuses its connections.
     */
    rs_idc_free_token(token);
    return 0;
}
