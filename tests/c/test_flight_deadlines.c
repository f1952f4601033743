/*
 * test_flight_deadlines.c - time bounds of host calls with custom domains.
 *
 * rs_idc_client_get_token_for_host() with a custom domain name first asks
 * the services which cluster it is (DescribeCustomDomainAssociations),
 * then gets the token. The fake maps NAME.clusters.rs-idc.test to the
 * cluster NAME, and a second label slow-N makes the lookup of that name
 * wait N ms (NAME.slow-N.clusters.rs-idc.test); a cluster named slow-N
 * gets its token after N ms. Checked here:
 *
 *  4. the lookup's single flight is shared only by calls whose
 *     outcome-changing settings match: a handle with a short time bound
 *     (A) and one with a long one (B), otherwise alike, ask for one host
 *     while its lookup is slow; A's lookup is in flight when B starts. A
 *     runs out of time, B gets its token;
 *  5. one deadline per call: a lookup that takes about 0.7 T and a token
 *     request that takes about 0.7 T (T = the handle's timeout_ms) make a
 *     host call that runs out of time, although each step alone fits in T.
 *
 * The delays scale with slow_factor() (under valgrind). Statuses are
 * checked, not elapsed times; tokens are never printed.
 */

#include "harness.h"

#include <pthread.h>

/* A host call on another thread. */
struct host_call {
    rs_idc_client *client;
    const char *host;
    int status;
    char *token;
    atomic_int done;
};

static void *call_host(void *arg)
{
    struct host_call *c = arg;
    c->status = rs_idc_client_get_token_for_host(c->client, c->host, &c->token, NULL);
    atomic_store(&c->done, 1);
    return NULL;
}

/* A handle of the fake's first identity-enhanced keys with time bound `ms`, made ready:
 * one uncached cluster call (`warm_id`) builds its clients before the checks. */
static rs_idc_client *h_ready_handle(const char *file, int line, int ms, const char *warm_id)
{
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", ms);
    rs_idc_client *client = h_test_handle(file, line, "RS_IDC_TEST_IDC", timeout, NULL, 0);
    if (client != NULL) {
        const char *ids[] = {warm_id};
        h_expect_client(file, line, client, H_CLUSTER, ids, 1, RS_IDC_OK, NULL, NULL);
    }
    return client;
}
#define ready_handle(ms, warm_id) h_ready_handle(__FILE__, __LINE__, (ms), (warm_id))

/* ---------------------------------------------------------------- 4 */

static void the_lookup_flight_is_shared_only_with_the_same_time_bound(void)
{
    double f = slow_factor();
    int short_ms = (int)(400 * f);   /* A's bound: runs out during the lookup */
    int lookup_ms = (int)(2000 * f); /* the lookup's pause at the fake */
    int long_ms = (int)(8000 * f);   /* B's bound: room for the lookup and the token */
    rs_idc_client *a = ready_handle(short_ms, "deadline-warm-a");
    rs_idc_client *b = ready_handle(long_ms, "deadline-warm-b");
    if (a == NULL || b == NULL) {
        rs_idc_client_free(a);
        rs_idc_client_free(b);
        return;
    }
    char host[128];
    snprintf(host, sizeof host, "shared-lookup.slow-%d.clusters.rs-idc.test", lookup_ms);
    const char *hosts[] = {host};

    long before = fake_requests();
    static struct host_call first;
    memset(&first, 0, sizeof first);
    first.client = a;
    first.host = host;
    pthread_t thread;
    if (!CHECK(pthread_create(&thread, NULL, call_host, &first) == 0)) {
        rs_idc_client_free(a);
        rs_idc_client_free(b);
        return;
    }
    /* The event: A's lookup reached the fake (counted in requests as soon as it is read). */
    double deadline = now_seconds() + 20.0 * f;
    while (fake_requests() <= before && !atomic_load(&first.done) && now_seconds() < deadline) {
        pause_seconds(0.002);
    }
    EXPECT(fake_requests() > before, "A's lookup reached the fake");
    EXPECT(!atomic_load(&first.done), "A's call is still running when B starts");

    /* B asks for the same host now, with its own time bound. */
    int b_status = expect_client(b, H_HOST, hosts, 1, RS_IDC_OK);
    pthread_join(thread, NULL);
    EXPECT(first.status == RS_IDC_ETIMEOUT,
           "A (timeout_ms %d, lookup %d ms): status %s, expected RS_IDC_ETIMEOUT", short_ms,
           lookup_ms, rs_idc_status_str(first.status));
    EXPECT(first.status == RS_IDC_OK || first.token == NULL, "A's failure hands out no token");
    printf("  A (timeout_ms %d): %s; B (timeout_ms %d): %s; lookup %d ms\n", short_ms,
           rs_idc_status_str(first.status), long_ms, rs_idc_status_str(b_status), lookup_ms);
    rs_idc_free_token(first.token);
    rs_idc_client_free(a);
    rs_idc_client_free(b);
}

/* ---------------------------------------------------------------- 5 */

static void one_deadline_for_the_lookup_and_the_token(void)
{
    double f = slow_factor();
    int t_ms = (int)(1500 * f);
    int step_ms = t_ms * 7 / 10;
    rs_idc_client *c = ready_handle(t_ms, "deadline-warm-c");
    if (c == NULL) {
        return;
    }
    /* The cluster slow-STEP (its token takes STEP ms), whose lookup takes STEP ms too. */
    char host[128];
    snprintf(host, sizeof host, "slow-%d.slow-%d.clusters.rs-idc.test", step_ms, step_ms);
    const char *hosts[] = {host};
    double started = now_seconds();
    int got = expect_client(c, H_HOST, hosts, 1, RS_IDC_ETIMEOUT);
    printf("  timeout_ms %d, lookup %d ms + token %d ms: %s after %.2f s\n", t_ms, step_ms,
           step_ms, rs_idc_status_str(got), now_seconds() - started);

    /* Each step alone fits in T: a slow lookup of a fast cluster, and a slow
     * cluster by its identifier. */
    char lookup_only[128];
    snprintf(lookup_only, sizeof lookup_only, "deadline-fast.slow-%d.clusters.rs-idc.test",
             step_ms);
    const char *lookup_hosts[] = {lookup_only};
    expect_client(c, H_HOST, lookup_hosts, 1, RS_IDC_OK);
    char token_only[32];
    snprintf(token_only, sizeof token_only, "slow-%d", step_ms - 1);
    const char *ids[] = {token_only};
    expect_client(c, H_CLUSTER, ids, 1, RS_IDC_OK);
    rs_idc_client_free(c);
}

int main(void)
{
    EXPECT(fake_requests() >= 0, "the fake's stats are readable at 127.0.0.1:$RS_IDC_FAKE_PORT");
    double started = now_seconds();
    the_lookup_flight_is_shared_only_with_the_same_time_bound();
    printf("4. the lookup flight and time bounds: %.2f s\n", now_seconds() - started);
    started = now_seconds();
    one_deadline_for_the_lookup_and_the_token();
    printf("5. one deadline per call: %.2f s\n", now_seconds() - started);
    return test_summary();
}
