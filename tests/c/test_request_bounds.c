/*
 * test_request_bounds.c - what non-blocking requests may hold.
 *
 * An event loop (a connection pool, a proxy) may start many requests at
 * once and drop them again. The threads and descriptors the library holds
 * for them must stay bounded:
 *
 *  6. threads: with one request pending for a slow cluster (slow-N), a
 *     thousand more requests for that cluster (two hundred under
 *     valgrind) add at most 16 threads to the process; then every one of
 *     them finishes with the one token;
 *  7. descriptors: a hundred requests for distinct slow clusters (forty
 *     under valgrind), freed at once without being finished; once the
 *     fake has answered them all, the process's open descriptors come
 *     back to within 16 of what they were before.
 *
 * Waits are for events (the fake's counters, readable descriptors), each
 * with a generous bound. Tokens are compared, never printed.
 */

#include "harness.h"

#include <sys/resource.h>

#define MAX_STARTS 1000
#define MAX_DROPPED 100
/* What the library may add, in threads or descriptors, however many requests. */
#define SLACK 16

/* Raises the soft limit of open descriptors (each live request holds one) towards `want`. */
static void room_for_descriptors(rlim_t want)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < want) {
        limit.rlim_cur = limit.rlim_max == RLIM_INFINITY || limit.rlim_max > want
                             ? want
                             : limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

/* Starts a request for the single cluster `id`; the request, or NULL (reported). */
static rs_idc_request *h_start(const char *file, int line, rs_idc_client *client, const char *id)
{
    const char *ids[] = {id};
    rs_idc_request *request = NULL;
    int got = rs_idc_client_start_token(client, ids, 1, &request);
    h_expect_status(file, line, got, RS_IDC_OK);
    if (got != RS_IDC_OK) {
        return NULL;
    }
    h_record(request != NULL && rs_idc_request_fd(request) >= 0, file, line,
             "a started request (%s) has a descriptor", id);
    return request;
}
#define start(client, id) h_start(__FILE__, __LINE__, (client), (id))

/* Makes a request for `id` and finishes it (the library's threads are all made then). */
static void warm_up(rs_idc_client *client, const char *id)
{
    rs_idc_request *request = start(client, id);
    if (request == NULL) {
        return;
    }
    EXPECT(wait_readable(rs_idc_request_fd(request), 20.0 * slow_factor(), NULL),
           "the warm-up request finishes");
    char *token = NULL;
    EXPECT_STATUS(rs_idc_request_finish(request, &token, NULL), RS_IDC_OK);
    rs_idc_free_token(token);
    rs_idc_request_free(request);
}

/* ---------------------------------------------------------------- 6 */

static rs_idc_request *requests[MAX_STARTS + 1];
static struct pollfd polled[MAX_STARTS + 1];

static void threads_stay_bounded(rs_idc_client *client)
{
    int count = under_valgrind() ? 200 : MAX_STARTS;
    int slow_ms = under_valgrind() ? 12000 : 4000;
    char slow[32];
    snprintf(slow, sizeof slow, "slow-%d", slow_ms);

    warm_up(client, "bounds-warm");
    long baseline = thread_count();
    long requests_before = fake_requests();

    /* One call pending at the fake... */
    requests[0] = start(client, slow);
    double deadline = now_seconds() + 20.0 * slow_factor();
    while (fake_requests() <= requests_before && now_seconds() < deadline) {
        pause_seconds(0.005);
    }
    EXPECT(fake_requests() > requests_before, "the slow call reached the fake");

    /* ...and many more requests for the same cluster. */
    int started = 1;
    double t0 = now_seconds();
    for (int i = 1; i <= count; i++) {
        requests[i] = start(client, slow);
        if (requests[i] == NULL) {
            break;
        }
        started++;
    }
    long threads = thread_count();
    double took = now_seconds() - t0;
    int pending = requests[0] != NULL && !fd_readable(rs_idc_request_fd(requests[0]), 0);
    printf("  threads: %ld before, %ld with %d requests pending (started in %.2f s)\n", baseline,
           threads, started, took);
    EXPECT(started == count + 1, "all %d requests started (%d did)", count + 1, started);
    EXPECT(pending, "the slow call was still pending when the threads were counted (%s)", slow);
    EXPECT(baseline > 0 && threads > 0 && threads <= baseline + SLACK,
           "%d pending requests add at most %d threads (%ld before, %ld with them: %+ld)",
           started, SLACK, baseline, threads, threads - baseline);

    /* Every request finishes, with the one token of the one call. */
    for (int i = 0; i < started; i++) {
        polled[i].fd = requests[i] != NULL ? rs_idc_request_fd(requests[i]) : -1;
        polled[i].events = POLLIN;
    }
    int left = wait_all_readable(polled, started, slow_ms / 1000.0 + 60.0 * slow_factor());
    EXPECT(left == 0, "every request's descriptor turned readable (%d left)", left);
    char *first = NULL;
    int ok = 0, same = 0, failures = 0;
    for (int i = 0; i < started; i++) {
        char *token = NULL;
        int got = requests[i] != NULL ? rs_idc_request_finish(requests[i], &token, NULL)
                                      : RS_IDC_EINVAL;
        if (got == RS_IDC_OK) {
            ok++;
            if (first == NULL) {
                first = token;
                token = NULL;
            }
            same += token == NULL || same_token(first, token);
        } else if (failures++ < 3) {
            EXPECT_STATUS(got, RS_IDC_OK); /* the first few failures, with their reason */
        }
        rs_idc_free_token(token);
        rs_idc_request_free(requests[i]);
        requests[i] = NULL;
    }
    EXPECT(ok == started, "every request finished with RS_IDC_OK (%d of %d)", ok, started);
    EXPECT(same == started, "every request got the same token (%d of %d)", same, started);
    long made = fake_requests() - requests_before;
    EXPECT(made == 1, "the requests for one cluster made one request to the fake (%ld)", made);
    rs_idc_free_token(first);
}

/* ---------------------------------------------------------------- 7 */

static void descriptors_stay_bounded(rs_idc_client *client)
{
    int count = under_valgrind() ? 40 : MAX_DROPPED;
    long baseline = open_fds();
    long answered_before = fake_stat(FAKE_OP_GET_TOKEN);
    long peak = baseline;
    /* Distinct clusters, each a little slow, so that the calls run side by side. */
    for (int i = 0; i < count; i++) {
        char name[32];
        snprintf(name, sizeof name, "slow-%d", 500 + i);
        rs_idc_request *request = start(client, name);
        long now = open_fds();
        peak = now > peak ? now : peak;
        rs_idc_request_free(request);
    }

    /* The event: the fake has answered all of them. */
    double deadline = now_seconds() + 60.0 * slow_factor();
    long answered = 0;
    while ((answered = fake_stat(FAKE_OP_GET_TOKEN) - answered_before) < count &&
           now_seconds() < deadline) {
        pause_seconds(0.02);
    }
    EXPECT(answered >= count, "the fake answered the %d freed requests' calls (%ld)", count,
           answered);

    /* Then the descriptors must come back to within SLACK of the baseline. */
    deadline = now_seconds() + 10.0 * slow_factor();
    long fds = open_fds();
    while (fds > baseline + SLACK && now_seconds() < deadline) {
        pause_seconds(0.05);
        fds = open_fds();
    }
    printf("  descriptors: %ld before, at least %ld while starting, %ld after %d freed "
           "requests were answered (%ld sockets, %ld eventfds)\n",
           baseline, peak, fds, count, open_fds_of("socket:"),
           open_fds_of("anon_inode:[eventfd]"));
    EXPECT(baseline > 0 && fds > 0 && fds <= baseline + SLACK,
           "%d freed requests leave at most %d more descriptors open once answered (%ld "
           "before, %ld after: %+ld)",
           count, SLACK, baseline, fds, fds - baseline);
}

int main(void)
{
    EXPECT(fake_requests() >= 0, "the fake's stats are readable at 127.0.0.1:$RS_IDC_FAKE_PORT");
    room_for_descriptors(4096);
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", (int)(60000 * slow_factor()));
    rs_idc_client *client = test_handle("RS_IDC_TEST_IDC", timeout, NULL, 0);
    if (client == NULL) {
        return test_summary();
    }
    double started = now_seconds();
    threads_stay_bounded(client);
    printf("6. threads stay bounded: %.2f s\n", now_seconds() - started);
    started = now_seconds();
    descriptors_stay_bounded(client);
    printf("7. descriptors stay bounded: %.2f s\n", now_seconds() - started);
    rs_idc_client_free(client);
    return test_summary();
}
