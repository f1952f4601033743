/*
 * test_handles.c - client handles made from options, against the fake.
 *
 * One handle made from explicit options (region, endpoint, the
 * identity-enhanced keys, a time bound, two attempts) gets cluster tokens,
 * Serverless tokens and tokens by host name (a host name and the
 * identifier it names share one cache entry); every error and fault of the
 * fake maps onto its status through both APIs; bad workgroups, bad host
 * names and NULL arguments are refused before any request; `cache=off`
 * makes a request per call; a second identity gets a token of its own; 16
 * threads share one handle; a handle made from the environment alone
 * works; and a forked child can use a handle made by its parent.
 *
 * Tokens are compared, never printed.
 */

#include "harness.h"

#include <pthread.h>

#define N_OF(array) (sizeof(array) / sizeof((array)[0]))

/* `text` begins with `prefix`; `what` names the text in the failure. Never use with a token. */
static int h_expect_starts(const char *file, int line, const char *what, const char *text,
                           const char *prefix)
{
    int ok = text != NULL && prefix != NULL && strncmp(text, prefix, strlen(prefix)) == 0;
    return h_record(ok, file, line, "%s \"%s\" should start with \"%s\"", what,
                    text ? text : "(null)", prefix ? prefix : "(null)");
}
/* EXPECT_LAST_ERROR_STARTS(prefix): this thread's last error begins with `prefix`. */
#define EXPECT_LAST_ERROR_STARTS(prefix) \
    h_expect_starts(__FILE__, __LINE__, "last error", rs_idc_last_error(), (prefix))

/* The region of the host names used here (the fake accepts any region). */
#define REGION "us-east-1"
#define POOL_HOST "pool-cluster.abc123." REGION ".redshift.amazonaws.com"
#define WG_HOST "wg-one.123456789012." REGION ".redshift-serverless.amazonaws.com"
/* The hint every refused host name carries. */
#define PASS_ID "pass the cluster identifier or workgroup name instead"

/* How long a forked child may take for its tokens. */
static double child_limit(void)
{
    return 30.0 * slow_factor();
}

/* Whole-call bound of the main handle, in ms: generous, it is not under test. */
static void main_timeout(char *text, size_t size)
{
    snprintf(text, size, "%d", (int)(10000 * slow_factor()));
}

/*
 * A handle with the fake's endpoint and one identity's keys (`prefix` is
 * RS_IDC_TEST_IDC or RS_IDC_TEST_IDC2), plus `extra` options (at most 15).
 * NULL on failure (reported).
 */
static rs_idc_client *handle_for(const char *prefix, const char *timeout_ms,
                                 const rs_idc_option *extra, size_t n_extra)
{
    rs_idc_option options[16] = {{"endpoint_url", need_env("AWS_ENDPOINT_URL")}};
    size_t n = 1;
    for (size_t i = 0; i < n_extra && n < N_OF(options); i++) {
        options[n++] = extra[i];
    }
    return test_handle(prefix, timeout_ms, options, n);
}

/* Cluster, Serverless and host-name tokens; a host shares its identifier's entry. */
static void tokens_by_id_workgroup_and_host(rs_idc_client *client)
{
    const char *pool[] = {"pool-cluster"};
    const char *pool_host[] = {POOL_HOST};
    const char *pool_host_upper[] = {"POOL-CLUSTER.ABC123.US-EAST-1.REDSHIFT.AMAZONAWS.COM"};
    const char *china_host[] = {"pool-cluster.abc123.cn-north-1.redshift.amazonaws.com.cn"};
    const char *workgroups[] = {"wg-one", "wg-two"};
    const char *wg_one[] = {"wg-one"};
    const char *wg_host[] = {WG_HOST};

    char *by_id = NULL, *by_host = NULL, *by_upper_host = NULL, *by_china_host = NULL;
    int64_t exp_id = 0, exp_host = 0;
    long before = fake_requests();
    expect_client_token(client, H_CLUSTER, pool, 1, RS_IDC_OK, &by_id, &exp_id);
    EXPECT(fake_requests() - before == 1, "the first cluster token takes one request (made %ld)",
           fake_requests() - before);

    before = fake_requests();
    expect_client_token(client, H_HOST, pool_host, 0, RS_IDC_OK, &by_host, &exp_host);
    expect_client_token(client, H_HOST, pool_host_upper, 0, RS_IDC_OK, &by_upper_host, NULL);
    /* The handle's region option wins over the host's: same endpoint, same entry. */
    expect_client_token(client, H_HOST, china_host, 0, RS_IDC_OK, &by_china_host, NULL);
    EXPECT(fake_requests() - before == 0,
           "host names of a cached cluster are served from the cache (made %ld)",
           fake_requests() - before);
    EXPECT(same_token(by_id, by_host), "the host name and its identifier get the same token");
    EXPECT(same_token(by_id, by_upper_host), "host names are read case-insensitively");
    EXPECT(same_token(by_id, by_china_host), "an amazonaws.com.cn host names the same cluster");
    EXPECT(exp_id == exp_host, "same entry, same expiry (%lld, %lld)", (long long)exp_id,
           (long long)exp_host);

    char *serverless = NULL, *wg_by_host = NULL, *wg_by_name = NULL;
    before = fake_requests();
    expect_client_token(client, H_SERVERLESS, workgroups, 2, RS_IDC_OK, &serverless, NULL);
    EXPECT(fake_requests() - before == 1, "a Serverless token takes one request (made %ld)",
           fake_requests() - before);
    EXPECT(serverless != NULL && !same_token(serverless, by_id),
           "the Serverless token is not the cluster's");

    before = fake_requests();
    expect_client_token(client, H_HOST, wg_host, 0, RS_IDC_OK, &wg_by_host, NULL);
    EXPECT(fake_requests() - before == 1,
           "a workgroup host name asks the Serverless API once (made %ld)",
           fake_requests() - before);
    before = fake_requests();
    expect_client_token(client, H_SERVERLESS, wg_one, 1, RS_IDC_OK, &wg_by_name, NULL);
    EXPECT(fake_requests() - before == 0,
           "the workgroup name shares the host name's entry (made %ld)",
           fake_requests() - before);
    EXPECT(same_token(wg_by_host, wg_by_name), "the workgroup host and its name get one token");
    EXPECT(wg_by_host != NULL && !same_token(wg_by_host, serverless),
           "{wg-one} and {wg-one, wg-two} are different sets");

    /* The cluster and Serverless caches are apart: same name, two APIs. */
    const char *shared_name[] = {"shared-name"};
    char *as_cluster = NULL, *as_workgroup = NULL;
    before = fake_requests();
    expect_client_token(client, H_CLUSTER, shared_name, 1, RS_IDC_OK, &as_cluster, NULL);
    expect_client_token(client, H_SERVERLESS, shared_name, 1, RS_IDC_OK, &as_workgroup, NULL);
    EXPECT(fake_requests() - before == 2, "one name, two APIs: two requests (made %ld)",
           fake_requests() - before);
    EXPECT(as_cluster != NULL && as_workgroup != NULL && !same_token(as_cluster, as_workgroup),
           "a cluster and a workgroup of one name get different tokens");

    rs_idc_free_token(by_id);
    rs_idc_free_token(by_host);
    rs_idc_free_token(by_upper_host);
    rs_idc_free_token(by_china_host);
    rs_idc_free_token(serverless);
    rs_idc_free_token(wg_by_host);
    rs_idc_free_token(wg_by_name);
    rs_idc_free_token(as_cluster);
    rs_idc_free_token(as_workgroup);
}

struct error_case {
    const char *name;      /* first identifier or workgroup: picks the fake's behaviour */
    int cluster_status;    /* through rs_idc_client_get_token */
    int serverless_status; /* through rs_idc_client_get_serverless_token */
    const char *cluster_words;    /* the last error holds these, or NULL */
    const char *serverless_words; /* likewise */
};

static const struct error_case error_cases[] = {
    {"err-notfound", RS_IDC_ENOTFOUND, RS_IDC_ENOTFOUND, "ClusterNotFound",
     "ResourceNotFoundException"},
    {"err-state", RS_IDC_ESTATE, RS_IDC_ESTATE, "InvalidClusterState", "ConflictException"},
    {"err-invalid", RS_IDC_EINVAL, RS_IDC_EINVAL, "RedshiftInvalidParameter",
     "ValidationException"},
    /* The Serverless API answers this one with ValidationException. */
    {"err-unsupported", RS_IDC_EUNSUPPORTED, RS_IDC_EINVAL, "UnsupportedOperation",
     "ValidationException"},
    {"err-denied", RS_IDC_EDENIED, RS_IDC_EDENIED, "AccessDenied", "AccessDeniedException"},
    {"fault-throttle", RS_IDC_ETHROTTLED, RS_IDC_ETHROTTLED, "Throttling", "ThrottlingException"},
    {"fault-500", RS_IDC_ESERVICE, RS_IDC_ESERVICE, "InternalFailure", "InternalServerException"},
    {"fault-truncated", RS_IDC_EBADRESPONSE, RS_IDC_EBADRESPONSE, NULL, NULL},
    {"fault-noexpiry", RS_IDC_EBADRESPONSE, RS_IDC_EBADRESPONSE, "no expiry", "no expiry"},
};

static void one_error(rs_idc_client *client, enum h_client_call call, const char *name, int want,
                      const char *words)
{
    /* A second, normal name shows that only the first one matters. */
    const char *names[] = {name, "wg-normal"};
    long before = fake_requests();
    double started = now_seconds();
    int got = expect_client(client, call, names, 2, want);
    double took = now_seconds() - started;
    long made = fake_requests() - before;
    printf("%-34s %-16s -> %-20s %.2f s, %ld request(s)\n", h_call_name(call), name,
           rs_idc_status_str(got), took, made);
    if (words != NULL) {
        EXPECT(strstr(rs_idc_last_error(), words) != NULL,
               "%s %s: last error \"%s\" should contain \"%s\"", h_call_name(call), name,
               rs_idc_last_error(), words);
    }
    /* The request reached the fake; two attempts at most. */
    EXPECT(made >= 1 && made <= 2, "%s %s: 1 or 2 requests expected, the fake saw %ld",
           h_call_name(call), name, made);
    /* Nothing gets anywhere near the handle's whole-call bound. */
    EXPECT(took < 10.0 * slow_factor(), "%s %s: took %.2f s", h_call_name(call), name, took);
}

static void errors_through_both_apis(rs_idc_client *client)
{
    for (size_t i = 0; i < N_OF(error_cases); i++) {
        const struct error_case *c = &error_cases[i];
        one_error(client, H_CLUSTER, c->name, c->cluster_status, c->cluster_words);
        one_error(client, H_SERVERLESS, c->name, c->serverless_status, c->serverless_words);
    }
    /* The handle still works after all of them. */
    const char *ids[] = {"after-errors"};
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
    expect_client(client, H_SERVERLESS, ids, 1, RS_IDC_OK);
}

/* fault-hang: a handle with timeout_ms=2000 gives up within its bound, through both APIs. */
static void hang_ends_at_the_bound(void)
{
    rs_idc_client *client = handle_for("RS_IDC_TEST_IDC", "2000", NULL, 0);
    if (client == NULL) {
        return;
    }
    const char *names[] = {"fault-hang"};
    enum h_client_call calls[] = {H_CLUSTER, H_SERVERLESS};
    for (size_t i = 0; i < N_OF(calls); i++) {
        double started = now_seconds();
        int got = expect_client(client, calls[i], names, 1, RS_IDC_ETIMEOUT);
        double took = now_seconds() - started;
        double limit = 3.0 * slow_factor();
        printf("%-34s %-16s -> %-20s %.2f s\n", h_call_name(calls[i]), names[0],
               rs_idc_status_str(got), took);
        EXPECT(took < limit, "%s fault-hang: took %.2f s, bound %.2f s", h_call_name(calls[i]),
               took, limit);
        EXPECT_LAST_ERROR("time bound");
    }
    /* The handle recovers: the next call gets a token. */
    const char *ids[] = {"after-hang"};
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
    rs_idc_client_free(client);
}

/* Bad workgroups, identifiers and host names: refused before any request. */
static void bad_inputs_make_no_request(rs_idc_client *client)
{
    long before = fake_requests();

    /* Workgroups: 3-64 of [a-z0-9-]. */
    char wg65[66];
    memset(wg65, 'w', 65);
    wg65[65] = '\0';
    const char *bad_workgroups[][2] = {
        {"ab", "workgroups[0] "},
        {wg65, "workgroups[0] "},
        {"WG-Upper", "workgroups[0] "},
        {"wg_under", "workgroups[0] "},
        {"wg.dot", "workgroups[0] "},
        {"wg one", "workgroups[0] "},
        {"", "workgroups[0] "},
    };
    for (size_t i = 0; i < N_OF(bad_workgroups); i++) {
        const char *names[] = {bad_workgroups[i][0]};
        expect_client(client, H_SERVERLESS, names, 1, RS_IDC_EINVAL);
        EXPECT_LAST_ERROR_STARTS(bad_workgroups[i][1]);
    }
    const char *second_bad[] = {"wg-one", "x"};
    expect_client(client, H_SERVERLESS, second_bad, 2, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR_STARTS("workgroups[1] ");
    const char *null_second[] = {"wg-one", NULL};
    expect_client(client, H_SERVERLESS, null_second, 2, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR_STARTS("workgroups[1] ");
    const char *fine[] = {"wg-one"};
    expect_client(client, H_SERVERLESS, fine, 0, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("n must be from 1 to 20");
    const char *many[RS_IDC_MAX_IDENTIFIERS + 1];
    for (size_t i = 0; i < N_OF(many); i++) {
        many[i] = "wg-one";
    }
    expect_client(client, H_SERVERLESS, many, N_OF(many), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("n must be from 1 to 20");
    char *out = NULL;
    EXPECT_STATUS(rs_idc_client_get_serverless_token(client, NULL, 1, &out, NULL), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("workgroups is NULL");
    CHECK(out == NULL);

    /* Cluster identifiers through the handle are checked the same way as without one. */
    const char *bad_ids[] = {"1cluster", "a--b", "ends-", "has_underscore", ""};
    for (size_t i = 0; i < N_OF(bad_ids); i++) {
        const char *ids[] = {bad_ids[i]};
        expect_client(client, H_CLUSTER, ids, 1, RS_IDC_EINVAL);
        EXPECT_LAST_ERROR_STARTS("ids[0] ");
    }
    EXPECT_STATUS(rs_idc_client_get_token(client, NULL, 1, &out, NULL), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("ids is NULL");
    CHECK(out == NULL);

    /* Hosts that are neither Redshift's nor a DNS name (an address, a port,
     * scheme or path glued on): the message says to pass the identifier.
     * Other DNS names are custom domains (test_domains.c). */
    char long_host[300];
    memset(long_host, 'a', sizeof long_host - 1);
    long_host[sizeof long_host - 1] = '\0';
    const char *bad_hosts[] = {
        "10.1.2.3",
        "127.0.0.1",
        "[::1]",
        "localhost",
        POOL_HOST ":5439",
        "https://" POOL_HOST,
        "jdbc:redshift://" POOL_HOST ":5439/dev",
        POOL_HOST "/dev",
        POOL_HOST ".",
        " " POOL_HOST,
        "pool-cluster." REGION ".redshift.amazonaws.com",       /* no ID part */
        "x.pool-cluster.abc123." REGION ".redshift.amazonaws.com", /* one label too many */
        "pool-cluster.abc123." REGION ".s3.amazonaws.com",      /* another service */
        "pool-cluster.abc123.notaregion.redshift.amazonaws.com",
        "",
        long_host,
    };
    for (size_t i = 0; i < N_OF(bad_hosts); i++) {
        const char *hosts[] = {bad_hosts[i]};
        expect_client(client, H_HOST, hosts, 0, RS_IDC_EINVAL);
        EXPECT_LAST_ERROR(PASS_ID);
    }
    /* A Redshift-shaped host whose first label is not a valid name. */
    const char *bad_names[] = {
        "1cluster.abc123." REGION ".redshift.amazonaws.com",
        "a--b.abc123." REGION ".redshift.amazonaws.com",
        "ab.123456789012." REGION ".redshift-serverless.amazonaws.com",
    };
    for (size_t i = 0; i < N_OF(bad_names); i++) {
        const char *hosts[] = {bad_names[i]};
        expect_client(client, H_HOST, hosts, 0, RS_IDC_EINVAL);
        EXPECT_LAST_ERROR("host names a bad");
    }

    EXPECT(fake_requests() - before == 0, "refused inputs made no request (made %ld)",
           fake_requests() - before);
}

/* NULL handle, host and out: RS_IDC_EINVAL naming the argument, nothing sent. */
static void null_arguments(rs_idc_client *client)
{
    long before = fake_requests();
    const char *ids[] = {"pool-cluster"};
    const char *hosts[] = {POOL_HOST};
    expect_client(NULL, H_CLUSTER, ids, 1, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("client is NULL");
    expect_client(NULL, H_SERVERLESS, ids, 1, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("client is NULL");
    expect_client(NULL, H_HOST, hosts, 0, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("client is NULL");
    expect_client(NULL, H_HOST, NULL, 0, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("client is NULL");
    expect_client(client, H_HOST, NULL, 0, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("host is NULL");

    int64_t exp = H_EXP_SENTINEL;
    EXPECT_STATUS(rs_idc_client_get_token(client, ids, 1, NULL, &exp), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("out is NULL");
    EXPECT_STATUS(rs_idc_client_get_serverless_token(client, ids, 1, NULL, &exp), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("out is NULL");
    EXPECT_STATUS(rs_idc_client_get_token_for_host(client, POOL_HOST, NULL, &exp), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("out is NULL");
    CHECK(exp == H_EXP_SENTINEL);

    /* exp may be NULL on success. */
    char *out = NULL;
    EXPECT_STATUS(rs_idc_client_get_token_for_host(client, POOL_HOST, &out, NULL), RS_IDC_OK);
    CHECK(out != NULL && out[0] != '\0');
    rs_idc_free_token(out);

    EXPECT(fake_requests() - before == 0, "NULL arguments made no request (made %ld)",
           fake_requests() - before);
}

/* cache=off: every call reaches the fake. */
static void cache_off_asks_every_time(const char *timeout)
{
    rs_idc_option off = {"cache", "off"};
    rs_idc_client *client = handle_for("RS_IDC_TEST_IDC", timeout, &off, 1);
    if (client == NULL) {
        return;
    }
    const char *ids[] = {"pool-cluster"};
    const char *workgroups[] = {"wg-one"};
    const char *hosts[] = {POOL_HOST};
    long before = fake_requests();
    for (int i = 0; i < 3; i++) {
        expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
    }
    expect_client(client, H_SERVERLESS, workgroups, 1, RS_IDC_OK);
    expect_client(client, H_SERVERLESS, workgroups, 1, RS_IDC_OK);
    expect_client(client, H_HOST, hosts, 0, RS_IDC_OK);
    long made = fake_requests() - before;
    EXPECT(made == 6, "cache=off: six calls, six requests (made %ld)", made);
    rs_idc_client_free(client);
}

/* The second identity gets its own token, from the fake, not the first one's. */
static void second_identity_gets_its_own_token(rs_idc_client *first, const char *timeout)
{
    rs_idc_client *second = handle_for("RS_IDC_TEST_IDC2", timeout, NULL, 0);
    if (second == NULL) {
        return;
    }
    const char *ids[] = {"pool-cluster"};
    char *mine = NULL, *theirs = NULL, *theirs_again = NULL;
    expect_client_token(first, H_CLUSTER, ids, 1, RS_IDC_OK, &mine, NULL);
    long before = fake_requests();
    expect_client_token(second, H_CLUSTER, ids, 1, RS_IDC_OK, &theirs, NULL);
    EXPECT(fake_requests() - before == 1,
           "the second identity's first call reaches the fake (made %ld)",
           fake_requests() - before);
    EXPECT(mine != NULL && theirs != NULL && !same_token(mine, theirs),
           "two identities, two tokens for one cluster");
    before = fake_requests();
    expect_client_token(second, H_CLUSTER, ids, 1, RS_IDC_OK, &theirs_again, NULL);
    EXPECT(fake_requests() - before == 0, "the second identity's token is cached (made %ld)",
           fake_requests() - before);
    EXPECT(same_token(theirs, theirs_again), "the second identity gets its cached token");
    rs_idc_free_token(mine);
    rs_idc_free_token(theirs);
    rs_idc_free_token(theirs_again);
    rs_idc_client_free(second);
}

/*
 * Keys the fake refuses, as options: the plain and the expired keys have
 * no session token, and a handle takes all three parts or none, so they
 * go in with a made-up session token, which the fake answers with
 * InvalidClientTokenId (RS_IDC_EDENIED).
 */
static void refused_keys_as_options(const char *timeout)
{
    const char *prefixes[] = {"RS_IDC_TEST_PLAIN", "RS_IDC_TEST_EXPIRED"};
    for (size_t i = 0; i < N_OF(prefixes); i++) {
        char id_name[64], secret_name[64];
        snprintf(id_name, sizeof id_name, "%s_ACCESS_KEY_ID", prefixes[i]);
        snprintf(secret_name, sizeof secret_name, "%s_SECRET_ACCESS_KEY", prefixes[i]);
        rs_idc_option options[] = {
            {"region", REGION},
            {"endpoint_url", need_env("AWS_ENDPOINT_URL")},
            {"access_key_id", need_env(id_name)},
            {"secret_access_key", need_env(secret_name)},
            {"session_token", "made-up-session-token"},
            {"timeout_ms", timeout},
            {"max_attempts", "1"},
        };
        rs_idc_client *client = NULL;
        if (EXPECT_STATUS(rs_idc_client_new(options, N_OF(options), &client), RS_IDC_OK)) {
            const char *ids[] = {"pool-cluster"};
            long before = fake_requests();
            expect_client(client, H_CLUSTER, ids, 1, RS_IDC_EDENIED);
            EXPECT_LAST_ERROR("InvalidClientTokenId");
            expect_client(client, H_SERVERLESS, ids, 1, RS_IDC_EDENIED);
            EXPECT_LAST_ERROR("UnrecognizedClient");
            EXPECT(fake_requests() - before == 2, "%s: two refused requests (made %ld)",
                   prefixes[i], fake_requests() - before);
            rs_idc_client_free(client);
        }
    }
}

/*
 * RS_IDC_EUNSUPPORTED from the plain keys: possible only through the
 * environment (a handle without credential options reads the AWS
 * credential chain), so in a forked child that puts the plain keys there.
 */
static void plain_keys_from_the_environment(void *unused)
{
    (void)unused;
    setenv("AWS_ACCESS_KEY_ID", need_env("RS_IDC_TEST_PLAIN_ACCESS_KEY_ID"), 1);
    setenv("AWS_SECRET_ACCESS_KEY", need_env("RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY"), 1);
    unsetenv("AWS_SESSION_TOKEN");
    rs_idc_option options[] = {{"max_attempts", "1"}};
    rs_idc_client *client = NULL;
    if (EXPECT_STATUS(rs_idc_client_new(options, 1, &client), RS_IDC_OK)) {
        const char *ids[] = {"plain-cluster"};
        expect_client(client, H_CLUSTER, ids, 1, RS_IDC_EUNSUPPORTED);
        EXPECT_LAST_ERROR("UnsupportedOperation");
        rs_idc_client_free(client);
    }
}

#define THREADS 16

struct thread_arg {
    rs_idc_client *client;
    size_t index;
};

static pthread_barrier_t start_line;
static int thread_statuses[THREADS][3];

static void *use_shared_handle(void *arg)
{
    struct thread_arg *a = arg;
    char own[32];
    snprintf(own, sizeof own, "thread-%zu", a->index);
    const char *ids[] = {own};
    const char *shared[] = {"threads-shared"};
    const char *workgroups[] = {"wg-threads"};
    pthread_barrier_wait(&start_line);
    thread_statuses[a->index][0] = expect_client(a->client, H_CLUSTER, ids, 1, RS_IDC_OK);
    thread_statuses[a->index][1] = expect_client(a->client, H_CLUSTER, shared, 1, RS_IDC_OK);
    thread_statuses[a->index][2] =
        expect_client(a->client, H_SERVERLESS, workgroups, 1, RS_IDC_OK);
    return NULL;
}

static void threads_share_one_handle(rs_idc_client *client)
{
    pthread_t threads[THREADS];
    struct thread_arg args[THREADS];
    int started[THREADS] = {0};
    pthread_barrier_init(&start_line, NULL, THREADS);
    long before = fake_requests();
    for (size_t i = 0; i < THREADS; i++) {
        args[i] = (struct thread_arg){client, i};
        started[i] = CHECK(pthread_create(&threads[i], NULL, use_shared_handle, &args[i]) == 0);
    }
    for (size_t i = 0; i < THREADS; i++) {
        if (started[i]) {
            pthread_join(threads[i], NULL);
        }
    }
    pthread_barrier_destroy(&start_line);
    int all_ok = 1;
    for (size_t i = 0; i < THREADS; i++) {
        for (size_t j = 0; j < 3; j++) {
            all_ok &= thread_statuses[i][j] == RS_IDC_OK;
        }
    }
    EXPECT(all_ok, "16 threads on one handle all got their tokens");
    /* 16 own identifiers, plus one request each for the two shared sets. */
    long made = fake_requests() - before;
    EXPECT(made == THREADS + 2, "16 threads: %d requests expected, the fake saw %ld",
           THREADS + 2, made);
}

/* A handle from the environment only (n = 0). */
static void handle_from_the_environment(void)
{
    rs_idc_client *client = NULL;
    if (EXPECT_STATUS(rs_idc_client_new(NULL, 0, &client), RS_IDC_OK)) {
        const char *ids[] = {"env-cluster"};
        const char *workgroups[] = {"env-workgroup"};
        const char *hosts[] = {"env-cluster.abc123.us-west-2.redshift.amazonaws.com"};
        long before = fake_requests();
        expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
        expect_client(client, H_SERVERLESS, workgroups, 1, RS_IDC_OK);
        /* Without a region option the host's region is used: another cache entry. */
        expect_client(client, H_HOST, hosts, 0, RS_IDC_OK);
        EXPECT(fake_requests() - before == 3, "environment handle: 3 requests (made %ld)",
               fake_requests() - before);
        rs_idc_client_free(client);
    }
}

/* In a forked child: the parent's handle gets new tokens (own runtime, own clients). */
static void child_uses_parent_handle(void *arg)
{
    rs_idc_client *client = arg;
    char own[32];
    snprintf(own, sizeof own, "child-%ld", (long)getpid());
    const char *ids[] = {own};
    const char *workgroups[] = {"wg-child"};
    const char *hosts[] = {POOL_HOST};
    long before = fake_requests();
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
    expect_client(client, H_SERVERLESS, workgroups, 1, RS_IDC_OK);
    EXPECT(fake_requests() - before == 2, "the child reached the fake twice (made %ld)",
           fake_requests() - before);
    expect_client(client, H_HOST, hosts, 0, RS_IDC_OK);
}

int main(void)
{
    char timeout[32];
    main_timeout(timeout, sizeof timeout);
    EXPECT(fake_reset() == 0, "the fake's counters can be reset");

    /* Before any thread exists: this child changes its environment. */
    struct child plain = start_child(plain_keys_from_the_environment, NULL);
    EXPECT(finish_child(plain, child_limit(), "plain keys child"),
           "plain keys from the environment give RS_IDC_EUNSUPPORTED");

    rs_idc_client *client = handle_for("RS_IDC_TEST_IDC", timeout, NULL, 0);
    if (client == NULL) {
        return test_summary();
    }
    tokens_by_id_workgroup_and_host(client);
    errors_through_both_apis(client);
    hang_ends_at_the_bound();
    bad_inputs_make_no_request(client);
    null_arguments(client);
    cache_off_asks_every_time(timeout);
    second_identity_gets_its_own_token(client, timeout);
    refused_keys_as_options(timeout);
    threads_share_one_handle(client);
    handle_from_the_environment();

    struct child child = start_child(child_uses_parent_handle, client);
    EXPECT(finish_child(child, child_limit(), "child with the parent's handle"),
           "a forked child uses the parent's handle");
    /* And the parent's handle still works afterwards. */
    const char *ids[] = {"after-fork"};
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);

    rs_idc_client_free(client);
    return test_summary();
}
