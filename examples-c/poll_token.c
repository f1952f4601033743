/*
 * poll_token.c - get an Amazon Redshift IAM Identity Center auth token from
 * an event loop, without blocking it: the way a driver with libpq-style
 * connect polling, or a program built on poll(), epoll, libuv or the like,
 * uses rs-idc.
 *
 *     usage: poll_token [-o KEY=VALUE]... CLUSTER_ID...
 *
 * Each -o gives one rs_idc_option (region=us-east-1, timeout_ms=20000,
 * endpoint_url=..., see rs_idc.h); settings not given come from the
 * environment, as for get_token: AWS_REGION, the AWS credential chain,
 * AWS_ENDPOINT_URL, RS_IDC_TIMEOUT_MS, and so on. For example, against the
 * project's local fake endpoint, whose slow-N identifiers answer after
 * N milliseconds:
 *
 *     rs-idc-fake run -- poll_token slow-300
 *     rs-idc-fake run -- poll_token -o timeout_ms=5000 my-cluster
 *
 * Build (from the project's top directory, after `cargo build --release`):
 *
 *     cc -std=c11 -Iinclude examples-c/poll_token.c -o poll_token \
 *        -Ltarget/release -Wl,-rpath,$PWD/target/release -lrs_idc
 *
 * The steps:
 *
 *   rs_idc_client_new()          once, e.g. when the driver loads
 *   rs_idc_client_start_token()  returns at once with a request
 *   rs_idc_request_fd()          a descriptor to put in the event loop
 *   ... the loop runs; the descriptor turns readable (POLLIN) ...
 *   rs_idc_request_finish()      the token, or the failure, exactly as
 *                                rs_idc_client_get_token() gives it
 *   rs_idc_request_free()        also fine before the outcome is there
 *
 * A cached token makes the request ready at once, so the first poll()
 * returns immediately; otherwise the call runs on a thread of the
 * library's, bounded by the handle's time bound (timeout_ms), so the
 * descriptor always turns readable in the end.
 *
 * When the database refuses the token (the login fails with an
 * authentication error although the token has not expired), the cached
 * token is no good: forget it, get a new one and retry the login once.
 *
 *     if (login(conn, token) == LOGIN_REFUSED) {
 *         rs_idc_forget_token(token);   // the next call fetches a new one
 *         rs_idc_free_token(token);
 *         token = NULL;
 *         ... start a request again (or call rs_idc_client_get_token()) ...
 *         ... and log in once more with the new token; if that fails too,
 *             report the failure instead of looping ...
 *     }
 *
 * The token is a secret: this program prints only its length and expiry.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* for gmtime_r() */
#endif

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rs_idc.h"

/* How long one turn of the loop waits before it does its other work. */
#define TICK_MS 100

static void usage(const char *program)
{
    fprintf(stderr, "usage: %s [-o KEY=VALUE]... CLUSTER_ID...\n", program);
}

int main(int argc, char **argv)
{
    /*
     * The options: -o KEY=VALUE, cut in place at the '='. The values stay in
     * argv; a secret given this way shows in the process list, so a real
     * driver takes secrets from its configuration, not its command line.
     */
    rs_idc_option options[RS_IDC_MAX_OPTIONS];
    size_t n_options = 0;
    int first_id = 1;
    while (first_id < argc && strcmp(argv[first_id], "-o") == 0) {
        if (first_id + 1 >= argc || n_options == RS_IDC_MAX_OPTIONS) {
            usage(argv[0]);
            return 2;
        }
        char *pair = argv[first_id + 1];
        char *equals = strchr(pair, '=');
        if (equals == NULL) {
            fprintf(stderr, "error: -o wants KEY=VALUE\n");
            return 2;
        }
        *equals = '\0';
        options[n_options].key = pair;
        options[n_options].value = equals + 1;
        n_options++;
        first_id += 2;
    }
    if (first_id >= argc) {
        usage(argv[0]);
        return 2;
    }
    /* The cluster identifiers: the library checks them (1 to 20 of them). */
    const char **ids = (const char **)(argv + first_id);
    size_t n_ids = (size_t)(argc - first_id);

    int status = 1;
    rs_idc_client *client = NULL;
    rs_idc_request *request = NULL;
    char *token = NULL;

    /* 1. The handle: every option is checked here, nothing is contacted yet. */
    int got = rs_idc_client_new(n_options > 0 ? options : NULL, n_options, &client);
    if (got != RS_IDC_OK) {
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(got), rs_idc_last_error());
        goto done;
    }

    /*
     * 2. Start the request. This never blocks; bad identifiers fail here,
     *    before any network traffic.
     */
    got = rs_idc_client_start_token(client, ids, n_ids, &request);
    if (got != RS_IDC_OK) {
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(got), rs_idc_last_error());
        goto done;
    }

    /*
     * 3. The event loop. A real one watches its sockets and timers too; this
     *    one has the request's descriptor only, and a tick to show that the
     *    loop stays free while the token is on its way. Read nothing from the
     *    descriptor and never close it: it belongs to the request.
     */
    struct pollfd watched = {rs_idc_request_fd(request), POLLIN, 0};
    long ticks = 0;
    int64_t expires = 0;
    for (;;) {
        watched.revents = 0;
        int ready = poll(&watched, 1, TICK_MS);
        if (ready < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("poll");
            goto done;
        }
        if (ready == 0) {
            /* A timeout: the loop is free for other work meanwhile. */
            ticks++;
            printf("tick %ld: the loop is free, the token is on its way\n", ticks);
            continue;
        }
        /*
         * 4. Readable: finish. RS_IDC_EAGAIN would mean "not yet" (it cannot
         *    happen once the descriptor is readable, but a loop that calls
         *    finish on other occasions simply keeps waiting).
         */
        got = rs_idc_request_finish(request, &token, &expires);
        if (got == RS_IDC_EAGAIN) {
            continue;
        }
        break;
    }
    if (got != RS_IDC_OK) {
        /* The same statuses and messages as the blocking calls; never a secret. */
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(got), rs_idc_last_error());
        goto done;
    }

    /* 5. The length and expiry only, never the token itself. */
    time_t at = (time_t)expires;
    struct tm utc;
    char when[32] = "?";
    if (gmtime_r(&at, &utc) != NULL) {
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    }
    printf("token: %zu bytes, expires %s (in %lld s), after %ld loop tick%s\n", strlen(token),
           when, (long long)(expires - (int64_t)time(NULL)), ticks, ticks == 1 ? "" : "s");
    /*
     * A driver now sends the token to the server (token_type=SUBJECT_TOKEN).
     * If the server refuses it, see the forget-and-retry recipe at the top.
     */
    status = 0;

done:
    /* 6. Release everything; each of these takes NULL. */
    rs_idc_free_token(token);
    rs_idc_request_free(request);
    rs_idc_client_free(client);
    return status;
}
