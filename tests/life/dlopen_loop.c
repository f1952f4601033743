/*
 * dlopen_loop.c - load and unload rs-idc 200 times, as a driver manager
 * that opens and closes a driver (and its IAM plugin) per connection would.
 *
 *     usage: dlopen_loop [/path/to/librs_idc.so]    (default: $RS_IDC_LIBRARY)
 *
 * Each round dlopen()s the library, looks up rs_idc_get_token,
 * rs_idc_free_token and rs_idc_last_error, gets one token, frees it and
 * dlclose()s the library. Most rounds ask for the same cluster (a cache
 * hit); every tenth asks for a new one, so the library's runtime and HTTP
 * client do real work, and every fiftieth makes a call that fails, so the
 * thread's last error is read through the looked-up function.
 *
 * The library is linked with -z nodelete: dlclose() leaves it mapped, and
 * its runtime threads live on. What must not happen is a crash, or file
 * descriptors and threads that pile up round after round. The counts are
 * printed before the first round, after round 20 and at the end; the end
 * may hold at most 4 threads and 16 descriptors more than the start (the
 * runtime's workers, its event descriptors, pooled connections) and at
 * most 2 of each more than after round 20.
 *
 * This program is not linked with the library; it only needs libdl. Run
 * it under `rs-idc-fake run --`. It prints "N passed, M failed".
 */

#include "life.h"

#define ROUNDS 200

typedef int (*get_token_fn)(const char **ids, size_t n, char **out, int64_t *exp);
typedef void (*free_token_fn)(char *token);
typedef const char *(*last_error_fn)(void);

_Static_assert(_Generic(rs_idc_get_token, get_token_fn: 1, default: 0),
               "get_token_fn matches rs_idc.h");
_Static_assert(_Generic(rs_idc_free_token, free_token_fn: 1, default: 0),
               "free_token_fn matches rs_idc.h");
_Static_assert(_Generic(rs_idc_last_error, last_error_fn: 1, default: 0),
               "last_error_fn matches rs_idc.h");

/* One round; returns 0 when the library could not be used at all. */
static int one_round(const char *path, int round)
{
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!EXPECT(library != NULL, "round %d: dlopen(%s): %s", round, path,
                library == NULL ? dlerror() : "")) {
        return 0;
    }
    get_token_fn get_token = NULL;
    free_token_fn free_token = NULL;
    last_error_fn last_error = NULL;
    if (lookup(library, "rs_idc_get_token", &get_token, sizeof get_token) != 0 ||
        lookup(library, "rs_idc_free_token", &free_token, sizeof free_token) != 0 ||
        lookup(library, "rs_idc_last_error", &last_error, sizeof last_error) != 0) {
        dlclose(library);
        return 0;
    }

    char fresh[48];
    snprintf(fresh, sizeof fresh, "dl-%ld-%d", (long)getpid(), round);
    const char *ids[] = {round % 10 == 0 ? fresh : "dlopen-cached"};
    char *token = NULL;
    int64_t exp = 0;
    int status = get_token(ids, 1, &token, &exp);
    if (!EXPECT(status == RS_IDC_OK && token != NULL && token[0] != '\0' &&
                    exp > (int64_t)time(NULL),
                "round %d (%s): status %d, a token and a future expiry; last error \"%s\"",
                round, ids[0], status, status != RS_IDC_OK ? last_error() : "")) {
        free_token(token);
        dlclose(library);
        return 1;
    }
    free_token(token);

    if (round % 50 == 0) {
        const char *bad[] = {"not_valid"};
        token = NULL;
        status = get_token(bad, 1, &token, NULL);
        EXPECT(status == RS_IDC_EINVAL && token == NULL, "round %d: a bad identifier gives %d",
               round, status);
        const char *message = last_error();
        EXPECT(message != NULL && strstr(message, "ids[0]") != NULL,
               "round %d: the last error names the bad identifier: \"%s\"", round,
               message != NULL ? message : "(null)");
    }

    EXPECT(dlclose(library) == 0, "round %d: dlclose: %s", round, dlerror());
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : getenv("RS_IDC_LIBRARY");
    if (path == NULL || path[0] == '\0' || argc > 2) {
        fprintf(stderr, "usage: %s [/path/to/librs_idc.so] (or set RS_IDC_LIBRARY)\n", argv[0]);
        return 2;
    }
    long requests_before = fake_requests();
    EXPECT(requests_before >= 0, "the fake's stats are readable");

    struct counts start = take_counts("before round 1");
    struct counts settled = start;
    double started = now_seconds();
    for (int round = 1; round <= ROUNDS; round++) {
        if (!one_round(path, round)) {
            break;
        }
        if (round == 20) {
            settled = take_counts("after round 20");
        }
    }
    double took = now_seconds() - started;
    struct counts end = take_counts("after round 200");
    printf("%d rounds in %.2f s\n", ROUNDS, took);

    EXPECT(end.threads <= start.threads + 4, "threads: %ld at the end, %ld at the start",
           end.threads, start.threads);
    EXPECT(end.fds <= start.fds + 16, "open fds: %ld at the end, %ld at the start", end.fds,
           start.fds);
    EXPECT(end.threads <= settled.threads + 2, "threads: %ld at the end, %ld after round 20",
           end.threads, settled.threads);
    EXPECT(end.fds <= settled.fds + 2, "open fds: %ld at the end, %ld after round 20", end.fds,
           settled.fds);

    /* Every tenth round asked for a new cluster: the runtime did real work. */
    long made = fake_requests() - requests_before;
    EXPECT(made >= ROUNDS / 10, "the fake saw %ld requests, expected at least %d", made,
           ROUNDS / 10);
    return test_summary();
}
