/*
 * test_requests.c - non-blocking requests, as an event loop uses them.
 *
 * rs_idc_client_start_token() starts a token call, rs_idc_request_fd()
 * gives a descriptor that turns readable once the outcome is there, and
 * rs_idc_request_finish() hands it out: RS_IDC_EAGAIN before, then exactly
 * what the blocking call gives. Checked here:
 *
 *  1. bad input fails in start, with no request to the fake; the NULL
 *     cases of fd, finish and free;
 *  2. a cached token: the descriptor is readable at once, the same token
 *     as the blocking call, no request;
 *  3. an uncached token (slow-N): EAGAIN first, a poll() loop that keeps
 *     ticking until the descriptor turns readable, then the token and its
 *     expiry, and a new copy on each further finish;
 *  4. errors are the blocking call's (err-notfound: RS_IDC_ENOTFOUND);
 *  5. concurrent requests for one set share one flight;
 *  6. requests freed before they finish leak no descriptors (a burst of
 *     them first lets the connection pool grow; then start/free cycles
 *     must not raise the count), and the calls they started still fill
 *     the cache;
 *  7. the handle may be freed before an unfinished request;
 *  8. after fork() the child starts and finishes requests of its own,
 *     while the parent finishes the request it started before the fork.
 *
 * Under valgrind the counts are smaller and the pauses longer. Tokens are
 * compared, never printed.
 */

#include "harness.h"

#include <limits.h>

#define MAX_CONCURRENT 10
#define MAX_CYCLES 100

static const char *fake_keys = "RS_IDC_TEST_IDC";

/* The pause of the fake's slow-N identifiers here, in ms: long enough that
 * a request is still running when the test looks at it, also under valgrind. */
static int slow_ms(int plain)
{
    return under_valgrind() ? plain * 5 : plain;
}

/*
 * A slow-N identifier alone. The fake's answer follows the first identifier
 * of the set the library sends, and the library normalises sets (order does
 * not matter to it), so the order it sends need not be the caller's: each
 * part uses a slow-N of its own (a different N), not a second identifier.
 */
struct slow_id {
    char name[32];
    const char *ids[1];
};

static void slow_id(struct slow_id *s, int ms)
{
    snprintf(s->name, sizeof s->name, "slow-%d", ms);
    s->ids[0] = s->name;
}

/* Starts a request and checks the call itself; the request, or NULL. */
static rs_idc_request *start(rs_idc_client *client, const char **ids, size_t n)
{
    rs_idc_request *request = NULL;
    int got = rs_idc_client_start_token(client, ids, n, &request);
    EXPECT_STATUS(got, RS_IDC_OK);
    EXPECT(got != RS_IDC_OK || request != NULL, "a started request is not NULL");
    EXPECT(got != RS_IDC_OK || rs_idc_request_fd(request) >= 0,
           "a started request has a descriptor");
    return got == RS_IDC_OK ? request : NULL;
}

/* ---------------------------------------------------------------- 1 */

/* One start with bad input: EINVAL, *out NULL, a last error. */
static void expect_start_refused(const char *what, rs_idc_client *client, const char **ids,
                                 size_t n, const char *error_part)
{
    static char marker; /* *out starts non-NULL, to see that a refusal clears it */
    rs_idc_request *request = (rs_idc_request *)(void *)&marker;
    int got = rs_idc_client_start_token(client, ids, n, &request);
    EXPECT(got == RS_IDC_EINVAL, "%s: status %s, expected RS_IDC_EINVAL", what,
           rs_idc_status_str(got));
    EXPECT(request == NULL, "%s: *out is NULL after a refused start", what);
    EXPECT(rs_idc_last_error()[0] != '\0', "%s: a last error is left", what);
    if (error_part != NULL) {
        EXPECT_LAST_ERROR(error_part);
    }
    if (got == RS_IDC_OK && request != (rs_idc_request *)(void *)&marker) {
        rs_idc_request_free(request);
    }
}

static void bad_input_fails_in_start(rs_idc_client *client)
{
    long before = fake_requests();
    const char *one[] = {"bad-input-ok"};
    const char *bad_id[] = {"-not-an-identifier"};
    const char *with_null[] = {"bad-input-ok", NULL};
    const char *many[RS_IDC_MAX_IDENTIFIERS + 1];
    char names[RS_IDC_MAX_IDENTIFIERS + 1][24];
    for (int i = 0; i <= RS_IDC_MAX_IDENTIFIERS; i++) {
        snprintf(names[i], sizeof names[i], "many-%d", i);
        many[i] = names[i];
    }
    expect_start_refused("NULL client", NULL, one, 1, "client");
    expect_start_refused("NULL ids", client, NULL, 1, NULL);
    expect_start_refused("n = 0", client, one, 0, NULL);
    expect_start_refused("n = 21", client, many, RS_IDC_MAX_IDENTIFIERS + 1, NULL);
    expect_start_refused("a malformed identifier", client, bad_id, 1, NULL);
    expect_start_refused("a NULL identifier", client, with_null, 2, NULL);

    int got = rs_idc_client_start_token(client, one, 1, NULL);
    EXPECT(got == RS_IDC_EINVAL, "NULL out: status %s, expected RS_IDC_EINVAL",
           rs_idc_status_str(got));

    EXPECT(rs_idc_request_fd(NULL) == -1, "rs_idc_request_fd(NULL) is -1");
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    EXPECT_STATUS(rs_idc_request_finish(NULL, &out, &exp), RS_IDC_EINVAL);
    EXPECT(out == NULL, "finish(NULL) sets *out to NULL");
    EXPECT(exp == H_EXP_SENTINEL, "finish(NULL) leaves *exp alone");
    rs_idc_request_free(NULL);

    long made = fake_requests() - before;
    EXPECT(made == 0, "refused starts make no request (the fake saw %ld)", made);
}

/* ---------------------------------------------------------------- 2 */

static void a_cached_token_is_ready_at_once(rs_idc_client *client)
{
    const char *ids[] = {"req-cached"};
    char *blocking = NULL;
    int64_t blocking_exp = 0;
    expect_client_token(client, H_CLUSTER, ids, 1, RS_IDC_OK, &blocking, &blocking_exp);

    long before = fake_requests();
    rs_idc_request *request = start(client, ids, 1);
    if (request == NULL) {
        rs_idc_free_token(blocking);
        return;
    }
    EXPECT(fd_readable(rs_idc_request_fd(request), 0),
           "a cached token makes the descriptor readable at once");
    char *token = NULL;
    int64_t exp = 0;
    EXPECT_STATUS(rs_idc_request_finish(request, &token, &exp), RS_IDC_OK);
    EXPECT(same_token(token, blocking), "finish gives the blocking call's token");
    EXPECT(exp == blocking_exp, "finish gives the blocking call's expiry (%lld, %lld)",
           (long long)exp, (long long)blocking_exp);
    EXPECT(fake_requests() - before == 0, "a cached token makes no request (made %ld)",
           fake_requests() - before);
    rs_idc_free_token(token);
    rs_idc_request_free(request);
    rs_idc_free_token(blocking);
}

/* ---------------------------------------------------------------- 3 */

static void an_uncached_token_arrives_through_the_descriptor(rs_idc_client *client)
{
    struct slow_id s;
    slow_id(&s, slow_ms(300));
    long before = fake_requests();
    double started = now_seconds();
    rs_idc_request *request = start(client, s.ids, 1);
    if (request == NULL) {
        return;
    }
    int fd = rs_idc_request_fd(request);

    /* At once: not finished. */
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    EXPECT_STATUS(rs_idc_request_finish(request, &out, &exp), RS_IDC_EAGAIN);
    EXPECT(out == NULL, "EAGAIN sets *out to NULL");
    EXPECT(exp == H_EXP_SENTINEL, "EAGAIN leaves *exp alone");
    EXPECT_LAST_ERROR("not finished");
    EXPECT(!fd_readable(fd, 0), "the descriptor is not readable while the call runs");
    EXPECT(fd == rs_idc_request_fd(request), "the descriptor stays the same");

    /* The event loop: poll() with a timeout, free between ticks. */
    long ticks = 0;
    int ready = wait_readable(fd, 20.0 * slow_factor(), &ticks);
    double waited = now_seconds() - started;
    EXPECT(ready, "the descriptor turns readable (after %.2f s)", waited);
    EXPECT(ticks > 0, "the loop ticked while the call ran (%ld ticks)", ticks);
    EXPECT(waited >= slow_ms(300) / 1000.0 * 0.9,
           "the outcome is not ready before the fake answered (%.2f s)", waited);
    printf("uncached: readable after %.2f s, %ld loop ticks\n", waited, ticks);

    char *first = NULL;
    int64_t first_exp = 0;
    EXPECT_STATUS(rs_idc_request_finish(request, &first, &first_exp), RS_IDC_OK);
    EXPECT(first != NULL && first[0] != '\0', "finish gives a non-empty token");
    EXPECT(first_exp > (int64_t)time(NULL), "finish gives an expiry in the future");
    EXPECT(fd_readable(fd, 0), "the descriptor stays readable after finish");

    char *second = NULL;
    int64_t second_exp = 0;
    EXPECT_STATUS(rs_idc_request_finish(request, &second, &second_exp), RS_IDC_OK);
    EXPECT(same_token(first, second), "finish again gives the same token");
    EXPECT(first != second, "finish again gives a new copy");
    EXPECT(second_exp == first_exp, "finish again gives the same expiry");
    /* A NULL exp is fine, as for the blocking calls. */
    char *third = NULL;
    EXPECT_STATUS(rs_idc_request_finish(request, &third, NULL), RS_IDC_OK);
    EXPECT(same_token(first, third), "finish with exp NULL gives the token");
    rs_idc_free_token(third);
    rs_idc_free_token(second);
    rs_idc_request_free(request);

    EXPECT(fake_requests() - before == 1, "one request for the uncached token (made %ld)",
           fake_requests() - before);

    /* The blocking call now gets the same token from the cache. */
    char *blocking = NULL;
    before = fake_requests();
    expect_client_token(client, H_CLUSTER, s.ids, 1, RS_IDC_OK, &blocking, NULL);
    EXPECT(same_token(blocking, first), "the blocking call gets the request's token");
    EXPECT(fake_requests() - before == 0, "from the cache");
    rs_idc_free_token(blocking);
    rs_idc_free_token(first);
}

/* ---------------------------------------------------------------- 4 */

static void errors_are_the_blocking_calls(rs_idc_client *client)
{
    const char *ids[] = {"err-notfound"};
    long before = fake_requests();
    rs_idc_request *request = start(client, ids, 1);
    if (request == NULL) {
        return;
    }
    EXPECT(wait_readable(rs_idc_request_fd(request), 20.0 * slow_factor(), NULL),
           "a failing call makes the descriptor readable too");
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    EXPECT_STATUS(rs_idc_request_finish(request, &out, &exp), RS_IDC_ENOTFOUND);
    EXPECT(out == NULL, "a failure sets *out to NULL");
    EXPECT(exp == H_EXP_SENTINEL, "a failure leaves *exp alone");
    EXPECT_LAST_ERROR("ClusterNotFound");
    /* The same failure again. */
    out = sentinel;
    EXPECT_STATUS(rs_idc_request_finish(request, &out, &exp), RS_IDC_ENOTFOUND);
    EXPECT(out == NULL, "a failure again sets *out to NULL");
    rs_idc_request_free(request);
    EXPECT(fake_requests() - before >= 1, "the failing call reached the fake");

    /* The blocking call for the same set fails the same way. */
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_ENOTFOUND);
    EXPECT_LAST_ERROR("ClusterNotFound");
}

/* ---------------------------------------------------------------- 5 */

static void concurrent_requests_share_one_flight(rs_idc_client *client)
{
    int count = under_valgrind() ? 4 : MAX_CONCURRENT;
    struct slow_id s;
    slow_id(&s, slow_ms(400));
    long before = fake_requests();
    rs_idc_request *requests[MAX_CONCURRENT] = {NULL};
    struct pollfd fds[MAX_CONCURRENT];
    for (int i = 0; i < count; i++) {
        requests[i] = start(client, s.ids, 1);
        fds[i].fd = requests[i] != NULL ? rs_idc_request_fd(requests[i]) : -1;
        fds[i].events = POLLIN;
    }
    /* One poll() over all the descriptors, until each is readable. */
    int left = wait_all_readable(fds, count, 20.0 * slow_factor());
    EXPECT(left == 0, "every descriptor turned readable (%d left)", left);
    char *first = NULL;
    int identical = 1;
    for (int i = 0; i < count; i++) {
        char *token = NULL;
        if (requests[i] == NULL) {
            identical = 0;
            continue;
        }
        EXPECT_STATUS(rs_idc_request_finish(requests[i], &token, NULL), RS_IDC_OK);
        if (first == NULL) {
            first = token;
        } else {
            identical &= same_token(first, token);
            rs_idc_free_token(token);
        }
        rs_idc_request_free(requests[i]);
    }
    EXPECT(first != NULL && identical, "the %d requests got the same token", count);
    rs_idc_free_token(first);
    long made = fake_requests() - before;
    EXPECT(made == 1, "%d concurrent requests make one request (made %ld)", count, made);
}

/* ---------------------------------------------------------------- 6 */

/* Starts and frees `count` requests for uncached sets prefix-0, prefix-1, ... */
static void start_and_free(rs_idc_client *client, const char *prefix, int count)
{
    for (int i = 0; i < count; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s-%d", prefix, i);
        const char *ids[] = {name};
        rs_idc_request *request = start(client, ids, 1);
        rs_idc_request_free(request);
    }
}

#define EVENTFD "anon_inode:[eventfd]"

/*
 * Waits until the freed requests' calls are over and their connections are
 * back in the pool or closed: their threads close the requests' eventfds
 * when they end, and a call closes the connections beyond the pool's bound
 * before it returns. So until at most `events` eventfds and `fds`
 * descriptors are open, for at most 10 s (a leak never gets there, and the
 * checks after this say by how much).
 */
static long runtime_events; /* eventfds open with no request alive (main sets it) */

static void settle_requests(long events, long fds)
{
    double deadline = now_seconds() + 10.0 * slow_factor();
    while ((open_fds_of(EVENTFD) > events || open_fds() > fds) && now_seconds() < deadline) {
        pause_seconds(0.02);
    }
}

static void freed_requests_leak_no_descriptors(rs_idc_client *client)
{
    /* Under valgrind, no more than the worker threads run at once: a request
     * that waits its turn there could run out of its time bound first. */
    int count = under_valgrind() ? RS_IDC_MAX_WORKER_THREADS : MAX_CYCLES;
    /* The threads of the requests of the parts before end a moment after
     * their outcome: wait until their eventfds are closed. */
    settle_requests(runtime_events, LONG_MAX);
    long events_before = open_fds_of(EVENTFD);
    long fds_before = open_fds();
    /* Idle connections are bounded: no more than the worker threads use at once. */
    long fds_bound = fds_before + RS_IDC_MAX_WORKER_THREADS;
    long before = fake_requests();

    /*
     * First round: `count` slow requests at once (slow-100, slow-101, ...,
     * or slow-3000, ... under valgrind: each a set of its own, and none that
     * another part uses, the forked child's included), then all freed
     * unfinished. Their calls run on the library's few worker threads, a
     * few at a time.
     */
    int burst_ms = under_valgrind() ? 3000 : 100;
    rs_idc_request *held[MAX_CYCLES] = {NULL};
    for (int i = 0; i < count; i++) {
        char name[48];
        snprintf(name, sizeof name, "slow-%d", burst_ms + i);
        const char *ids[] = {name};
        held[i] = start(client, ids, 1);
    }
    long events_held = open_fds_of(EVENTFD);
    EXPECT(events_held >= count,
           "each live request has a descriptor (%ld eventfds before, %ld with %d requests)",
           events_before, events_held, count);
    for (int i = 0; i < count; i++) {
        rs_idc_request_free(held[i]);
    }
    /* The event: the fake has seen every freed request's call, or their
     * threads have ended (closing the requests' eventfds), after which no
     * call can come. */
    double answered_by = now_seconds() + 60.0 * slow_factor();
    while (fake_requests() - before < count && open_fds_of(EVENTFD) > events_before &&
           now_seconds() < answered_by) {
        pause_seconds(0.02);
    }
    settle_requests(events_before, fds_bound);
    long first = open_fds();
    long first_events = open_fds_of(EVENTFD);
    long made = fake_requests() - before;

    /* Second round: start/free cycles on other uncached sets. */
    start_and_free(client, "fd-second", count);
    settle_requests(events_before, fds_bound);
    long second = open_fds();
    long second_events = open_fds_of(EVENTFD);
    printf("descriptors: %ld (%ld eventfds) after a burst of %d freed requests, %ld (%ld "
           "eventfds) after %d start/free cycles; %ld eventfds before, %ld with the burst "
           "live\n",
           first, first_events, count, second, second_events, count, events_before,
           events_held);
    EXPECT(first > 0 && second > 0 && events_before >= 0, "the descriptors can be counted");
    EXPECT(first <= fds_bound && second <= fds_bound,
           "start/free cycles leave at most %d more descriptors (%ld before, %ld after the "
           "first round, %ld after the second)",
           RS_IDC_MAX_WORKER_THREADS, fds_before, first, second);
    EXPECT(first_events <= events_before && second_events <= events_before,
           "freed requests leave no eventfd behind (%ld before, %ld and %ld after)",
           events_before, first_events, second_events);

    /* The calls the freed requests started still reached the fake and filled the cache. */
    EXPECT(made == count, "the %d freed requests' calls reached the fake (made %ld)", count,
           made);
    char first_name[32];
    snprintf(first_name, sizeof first_name, "slow-%d", burst_ms);
    const char *ids[] = {first_name};
    long at = fake_requests();
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
    EXPECT(fake_requests() - at == 0,
           "a freed request's call filled the cache (the blocking call made %ld requests)",
           fake_requests() - at);
}

/* ---------------------------------------------------------------- 7 */

static void the_handle_may_go_first(void)
{
    rs_idc_client *client = test_handle(fake_keys, "20000", NULL, 0);
    if (client == NULL) {
        return;
    }
    struct slow_id s;
    slow_id(&s, slow_ms(300) + 1);
    rs_idc_request *request = start(client, s.ids, 1);
    rs_idc_client_free(client);
    if (request == NULL) {
        return;
    }
    EXPECT(wait_readable(rs_idc_request_fd(request), 20.0 * slow_factor(), NULL),
           "a request outlives its handle: the descriptor turns readable");
    char *token = NULL;
    int64_t exp = 0;
    EXPECT_STATUS(rs_idc_request_finish(request, &token, &exp), RS_IDC_OK);
    EXPECT(token != NULL && token[0] != '\0', "and finish gives the token");
    EXPECT(exp > (int64_t)time(NULL), "with an expiry in the future");
    rs_idc_free_token(token);
    rs_idc_request_free(request);
}

/* ---------------------------------------------------------------- 8 */

/* In a forked child: a request of its own on the parent's handle. */
static void child_request(void *arg)
{
    rs_idc_client *client = arg;
    /* A set no cache inherited from the parent holds. */
    struct slow_id s;
    slow_id(&s, slow_ms(200) + 1 + (int)(getpid() % 97));
    rs_idc_request *request = start(client, s.ids, 1);
    if (request == NULL) {
        return;
    }
    char *out = NULL;
    EXPECT_STATUS(rs_idc_request_finish(request, &out, NULL), RS_IDC_EAGAIN);
    EXPECT(wait_readable(rs_idc_request_fd(request), 20.0 * slow_factor(), NULL),
           "the child's descriptor turns readable");
    int64_t exp = 0;
    EXPECT_STATUS(rs_idc_request_finish(request, &out, &exp), RS_IDC_OK);
    EXPECT(out != NULL && out[0] != '\0', "the child gets a token");
    EXPECT(exp > (int64_t)time(NULL), "with an expiry in the future");
    rs_idc_free_token(out);
    rs_idc_request_free(request);

    /* And a token the parent had cached before the fork: ready at once. */
    const char *cached[] = {"req-cached"};
    request = start(client, cached, 1);
    if (request != NULL) {
        EXPECT(fd_readable(rs_idc_request_fd(request), 0),
               "an inherited cached token is ready at once in the child");
        EXPECT_STATUS(rs_idc_request_finish(request, &out, NULL), RS_IDC_OK);
        rs_idc_free_token(out);
        rs_idc_request_free(request);
    }
}

static void requests_after_fork(rs_idc_client *client)
{
    /* A request of the parent's, still running across the fork. */
    struct slow_id s;
    slow_id(&s, slow_ms(500));
    rs_idc_request *mine = start(client, s.ids, 1);

    long before = fake_requests();
    struct child c = start_child(child_request, client);
    EXPECT(finish_child(c, 60.0 * slow_factor(), "request child"),
           "the child started and finished a request of its own");
    EXPECT(fake_requests() - before >= 1, "the child's request reached the fake");

    if (mine != NULL) {
        EXPECT(wait_readable(rs_idc_request_fd(mine), 20.0 * slow_factor(), NULL),
               "the parent's request finishes after the fork");
        char *token = NULL;
        EXPECT_STATUS(rs_idc_request_finish(mine, &token, NULL), RS_IDC_OK);
        EXPECT(token != NULL && token[0] != '\0', "and gives the parent its token");
        rs_idc_free_token(token);
        rs_idc_request_free(mine);
    }
}

int main(void)
{
    EXPECT(fake_requests() >= 0, "the fake's stats are readable at 127.0.0.1:$RS_IDC_FAKE_PORT");
    /* A bound that no call here should reach: under valgrind with the
     * other core busy a call takes many times its usual time, and a freed
     * request's call that runs out of its bound never reaches the fake
     * (part 6 counts them). */
    char timeout_ms[24];
    snprintf(timeout_ms, sizeof timeout_ms, "%.0f", 20000 * slow_factor());
    rs_idc_client *client = test_handle(fake_keys, timeout_ms, NULL, 0);
    if (client == NULL) {
        return test_summary();
    }
    /* The runtime's own eventfds, before any request exists. */
    const char *first[] = {"events-baseline"};
    expect_client(client, H_CLUSTER, first, 1, RS_IDC_OK);
    runtime_events = open_fds_of(EVENTFD);
    struct {
        const char *name;
        void (*run)(rs_idc_client *);
    } parts[] = {
        {"bad input fails in start", bad_input_fails_in_start},
        {"a cached token is ready at once", a_cached_token_is_ready_at_once},
        {"an uncached token arrives through the descriptor",
         an_uncached_token_arrives_through_the_descriptor},
        {"errors are the blocking call's", errors_are_the_blocking_calls},
        {"concurrent requests share one flight", concurrent_requests_share_one_flight},
        {"freed requests leak no descriptors", freed_requests_leak_no_descriptors},
        {"requests after fork()", requests_after_fork},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        double started = now_seconds();
        parts[i].run(client);
        printf("%s: %.2f s\n", parts[i].name, now_seconds() - started);
    }
    double started = now_seconds();
    the_handle_may_go_first();
    printf("the handle may be freed first: %.2f s\n", now_seconds() - started);
    rs_idc_client_free(client);
    return test_summary();
}
