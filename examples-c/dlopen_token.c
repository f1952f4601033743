/*
 * dlopen_token.c - load rs-idc at run time with dlopen() and get an Amazon
 * Redshift IAM Identity Center auth token, as a driver with an optional
 * IAM plugin would.
 *
 *     usage: dlopen_token /path/to/librs_idc.so CLUSTER_ID...
 *
 * Build (no link-time dependency on the library, only on libdl):
 *
 *     cc -std=c11 -Iinclude examples-c/dlopen_token.c -o dlopen_token -ldl
 *
 * rs_idc.h supplies the status macros and the prototypes; the function
 * pointer types below are checked against those prototypes at compile
 * time. Configuration comes from the environment, as for get_token.c.
 * The token is never printed: only its length and expiry.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* for gmtime_r() */
#endif

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rs_idc.h"

/* Pointer types of the four functions used here. */
typedef int (*rs_idc_get_token_fn)(const char **ids, size_t n, char **out, int64_t *exp);
typedef void (*rs_idc_free_token_fn)(char *token);
typedef const char *(*rs_idc_status_str_fn)(int status);
typedef const char *(*rs_idc_last_error_fn)(void);

/*
 * The types must match the header's prototypes exactly. _Generic does not
 * evaluate its operand, so these checks add no reference to the library.
 */
_Static_assert(_Generic(rs_idc_get_token, rs_idc_get_token_fn: 1, default: 0),
               "rs_idc_get_token_fn matches rs_idc.h");
_Static_assert(_Generic(rs_idc_free_token, rs_idc_free_token_fn: 1, default: 0),
               "rs_idc_free_token_fn matches rs_idc.h");
_Static_assert(_Generic(rs_idc_status_str, rs_idc_status_str_fn: 1, default: 0),
               "rs_idc_status_str_fn matches rs_idc.h");
_Static_assert(_Generic(rs_idc_last_error, rs_idc_last_error_fn: 1, default: 0),
               "rs_idc_last_error_fn matches rs_idc.h");

/*
 * Looks up `name` and stores it in the function pointer at `fn` (of
 * `size` bytes). ISO C has no conversion from dlsym()'s `void *` to a
 * function pointer, so the bytes are copied: POSIX guarantees that they
 * have the same representation.
 */
static int lookup(void *library, const char *name, void *fn, size_t size)
{
    dlerror(); /* clear any earlier error */
    void *symbol = dlsym(library, name);
    const char *error = dlerror();
    if (error != NULL || symbol == NULL || size != sizeof symbol) {
        fprintf(stderr, "error: %s not found: %s\n", name, error ? error : "NULL symbol");
        return -1;
    }
    memcpy(fn, &symbol, size);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s /path/to/librs_idc.so CLUSTER_ID...\n", argv[0]);
        return 2;
    }

    /* RTLD_NOW: fail here, not later, if anything is missing. RTLD_LOCAL:
     * keep the library's symbols out of the global namespace. */
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        fprintf(stderr, "error: cannot load %s: %s\n", argv[1], dlerror());
        return 1;
    }

    rs_idc_get_token_fn get_token = NULL;
    rs_idc_free_token_fn free_token = NULL;
    rs_idc_status_str_fn status_str = NULL;
    rs_idc_last_error_fn last_error = NULL;
    if (lookup(library, "rs_idc_get_token", &get_token, sizeof get_token) != 0 ||
        lookup(library, "rs_idc_free_token", &free_token, sizeof free_token) != 0 ||
        lookup(library, "rs_idc_status_str", &status_str, sizeof status_str) != 0 ||
        lookup(library, "rs_idc_last_error", &last_error, sizeof last_error) != 0) {
        dlclose(library);
        return 1;
    }

    /* The call itself is the same as in get_token.c. */
    const char **ids = (const char **)(argv + 2); /* the cast only adds const */
    size_t n = (size_t)(argc - 2);
    char *token = NULL;
    int64_t expires = 0;
    int status = get_token(ids, n, &token, &expires);
    int exit_code = 0;
    if (status != RS_IDC_OK) {
        /* The strings belong to the library: use them before dlclose(). */
        fprintf(stderr, "error: %s: %s\n", status_str(status), last_error());
        exit_code = 1;
    } else {
        size_t length = strlen(token);
        time_t at = (time_t)expires;
        struct tm utc;
        char when[32] = "?";
        if (gmtime_r(&at, &utc) != NULL) {
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
        }
        long long left = (long long)(expires - (int64_t)time(NULL));
        printf("token: %zu bytes, expires %s (in %lld s)\n", length, when, left);
        free_token(token); /* wipes and frees; never print the token */
    }

    /* The library is linked with -z nodelete, so closing it is always safe;
     * it stays mapped, with its runtime, until the process ends. */
    dlclose(library);
    return exit_code;
}
