/*
 * test_domains.c - custom domain names seen from C.
 *
 * rs_idc_client_get_token_for_host() with a DNS name that is not an AWS
 * Redshift name asks the services which cluster or workgroup it is: the
 * fake maps NAME.clusters.rs-idc.test to the cluster NAME and
 * NAME.workgroups.rs-idc.test to the workgroup NAME. The mapping is kept,
 * so many calls make one lookup; an unknown name is RS_IDC_ENOTFOUND and
 * is asked again; IP addresses and names with a port or scheme are
 * RS_IDC_EINVAL without a request. Tokens are compared, never printed.
 */

#include "harness.h"

#include <pthread.h>

#define THREADS 16

static char *host_token(rs_idc_client *client, const char *host, int want)
{
    char *token = NULL;
    int64_t exp = 0;
    int got = rs_idc_client_get_token_for_host(client, host, &token, &exp);
    EXPECT(got == want, "%s: status %s, expected %s (%s)", host, rs_idc_status_str(got),
           rs_idc_status_str(want), got == RS_IDC_OK ? "" : rs_idc_last_error());
    if (got == RS_IDC_OK) {
        EXPECT(token != NULL && exp > 0, "%s: a token and an expiry", host);
    } else {
        EXPECT(token == NULL, "%s: *out is NULL on failure", host);
    }
    return token;
}

struct shared {
    rs_idc_client *client;
    pthread_barrier_t start;
    char *tokens[THREADS];
};

static void *ask(void *arg)
{
    struct shared *shared = arg;
    static atomic_int next;
    int me = atomic_fetch_add(&next, 1);
    pthread_barrier_wait(&shared->start);
    for (int i = 0; i < 50; i++) {
        char *token = host_token(shared->client, "reports.clusters.rs-idc.test", RS_IDC_OK);
        if (i == 0) {
            shared->tokens[me] = token;
        } else {
            rs_idc_free_token(token);
        }
    }
    return NULL;
}

static void a_cluster_domain_is_looked_up_once(rs_idc_client *client)
{
    long describe = fake_stat(FAKE_OP_DESCRIBE_DOMAINS);
    long list = fake_stat(FAKE_OP_LIST_DOMAINS);
    long tokens = fake_stat(FAKE_OP_GET_TOKEN);
    struct shared shared = {.client = client};
    pthread_barrier_init(&shared.start, NULL, THREADS);
    pthread_t threads[THREADS];
    for (size_t i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&threads[i], NULL, ask, &shared) == 0);
    }
    for (size_t i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_barrier_destroy(&shared.start);
    EXPECT(fake_stat(FAKE_OP_DESCRIBE_DOMAINS) - describe == 1,
           "%d threads x 50 calls: one Redshift lookup", THREADS);
    EXPECT(fake_stat(FAKE_OP_LIST_DOMAINS) - list == 0, "the cluster was found first");
    EXPECT(fake_stat(FAKE_OP_GET_TOKEN) - tokens == 1, "and one token");
    for (size_t i = 1; i < THREADS; i++) {
        EXPECT(same_token(shared.tokens[0], shared.tokens[i]), "thread %zu got the same token",
               i);
    }
    const char *ids[] = {"reports"};
    char *by_id = NULL;
    EXPECT_STATUS(rs_idc_client_get_token(client, ids, 1, &by_id, NULL), RS_IDC_OK);
    EXPECT(same_token(shared.tokens[0], by_id), "the identifier's token is the domain's");
    rs_idc_free_token(by_id);
    for (size_t i = 0; i < THREADS; i++) {
        rs_idc_free_token(shared.tokens[i]);
    }
}

static void a_workgroup_domain_asks_both_services(rs_idc_client *client)
{
    long describe = fake_stat(FAKE_OP_DESCRIBE_DOMAINS);
    long list = fake_stat(FAKE_OP_LIST_DOMAINS);
    char *first = host_token(client, "Sales.Workgroups.rs-idc.test.", RS_IDC_OK);
    char *second = host_token(client, "sales.workgroups.rs-idc.test", RS_IDC_OK);
    EXPECT(same_token(first, second), "one workgroup, one token");
    EXPECT(fake_stat(FAKE_OP_DESCRIBE_DOMAINS) - describe == 1 &&
               fake_stat(FAKE_OP_LIST_DOMAINS) - list == 1,
           "Redshift, then Redshift Serverless, once");
    const char *workgroups[] = {"sales"};
    char *by_name = NULL;
    EXPECT_STATUS(rs_idc_client_get_serverless_token(client, workgroups, 1, &by_name, NULL),
                  RS_IDC_OK);
    EXPECT(same_token(first, by_name), "the workgroup's token is the domain's");
    rs_idc_free_token(first);
    rs_idc_free_token(second);
    rs_idc_free_token(by_name);
}

static void unknown_refused_and_malformed_hosts(rs_idc_client *client)
{
    long describe = fake_stat(FAKE_OP_DESCRIBE_DOMAINS);
    for (int i = 0; i < 2; i++) {
        host_token(client, "db.example.com", RS_IDC_ENOTFOUND);
        EXPECT_LAST_ERROR("db.example.com");
    }
    EXPECT(fake_stat(FAKE_OP_DESCRIBE_DOMAINS) - describe == 2,
           "a name nobody knows is asked again");
    host_token(client, "denied.clusters.rs-idc.test", RS_IDC_EDENIED);
    long before = fake_requests();
    const char *malformed[] = {"10.0.0.1", "db.example.com:5439", "https://db.example.com",
                               "db.example.com/dev", "localhost", ""};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        host_token(client, malformed[i], RS_IDC_EINVAL);
    }
    EXPECT(fake_requests() == before, "malformed hosts make no request");
}

int main(void)
{
    rs_idc_client *client = test_handle("RS_IDC_TEST_IDC", "20000", NULL, 0);
    if (client == NULL) {
        return test_summary();
    }
    a_cluster_domain_is_looked_up_once(client);
    a_workgroup_domain_asks_both_services(client);
    unknown_refused_and_malformed_hosts(client);
    rs_idc_client_free(client);
    return test_summary();
}
