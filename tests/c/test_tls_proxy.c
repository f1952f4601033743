/*
 * test_tls_proxy.c - HTTPS endpoints with extra trusted CAs, and proxies,
 * set through handle options and through the environment.
 *
 * `rs-idc-fake run` starts, beside the plain fake, a second fake that
 * speaks HTTPS with a self-signed certificate (RS_IDC_FAKE_TLS_URL; the CA
 * to trust is in RS_IDC_FAKE_CA_FILE) and a loopback proxy
 * (RS_IDC_FAKE_PROXY_URL) that relays absolute-form requests and CONNECT
 * tunnels and counts both: the plain fake's `GET /_fake/stats` shows the
 * count as `proxied N`.
 *
 * - TLS endpoint, no CA file: the certificate is not trusted, RS_IDC_ENETWORK.
 * - TLS endpoint with ca_file: a token.
 * - proxy option, plain endpoint: a token, relayed by the proxy.
 * - proxy and no_proxy=127.0.0.1: a token, not through the proxy.
 * - TLS endpoint, ca_file and proxy: a token through a CONNECT tunnel.
 * - The same through the environment (AWS_CA_BUNDLE, AWS_ENDPOINT_URL,
 *   HTTP_PROXY/HTTPS_PROXY, NO_PROXY) and the process-wide client, each in
 *   a forked child that sets the variables before its first call.
 *
 * Every identifier is used once: tokens are cached process-wide per
 * endpoint and identity, not per proxy, so a repeated one would be served
 * from the cache without any traffic to count.
 */

#include "harness.h"

#define N_OF(array) (sizeof(array) / sizeof((array)[0]))

static const char *tls_url;
static const char *ca_file;
static const char *proxy_url;
static const char *plain_url;

/* How long a forked child may take for its token. */
static double child_limit(void)
{
    return 30.0 * slow_factor();
}

/* Whole-call bound for the handles here, in ms (text). */
static char timeout_text[32];

/*
 * A handle with region, the enhanced keys, a time bound, two attempts, and
 * `extra` options (endpoint, CA file, proxy). NULL on failure (reported).
 */
static rs_idc_client *handle_with(const rs_idc_option *extra, size_t n_extra)
{
    return test_handle("RS_IDC_TEST_IDC", timeout_text, extra, n_extra);
}

/* The counts of the plain fake and of the proxy, before and after a case. */
struct counts {
    long requests; /* API requests the plain fake received */
    long proxied;  /* requests and tunnels the proxy relayed */
};

static struct counts counts_now(void)
{
    struct counts c = {fake_requests(), fake_proxied()};
    return c;
}

static void h_expect_moved(const char *file, int line, const char *what, struct counts before,
                           long requests, long proxied)
{
    struct counts after = counts_now();
    h_record(before.requests >= 0 && after.requests >= 0 &&
                 after.requests - before.requests == requests,
             file, line, "%s: the plain fake should see %ld request(s), saw %ld", what,
             requests, after.requests - before.requests);
    if (proxied < 0) {
        /* At least one (a retried attempt may open a second tunnel). */
        h_record(before.proxied >= 0 && after.proxied - before.proxied >= 1, file, line,
                 "%s: the proxy should relay at least one request, relayed %ld", what,
                 after.proxied - before.proxied);
    } else {
        h_record(before.proxied >= 0 && after.proxied >= 0 &&
                     after.proxied - before.proxied == proxied,
                 file, line, "%s: the proxy should relay %ld request(s), relayed %ld", what,
                 proxied, after.proxied - before.proxied);
    }
}
/* expect_moved(what, before, requests, proxied): proxied -1 means "at least one". */
#define expect_moved(what, before, requests, proxied) \
    h_expect_moved(__FILE__, __LINE__, (what), (before), (requests), (proxied))

/* A TLS endpoint whose certificate nothing trusts: RS_IDC_ENETWORK, nothing relayed. */
static void tls_without_ca_is_refused(void)
{
    rs_idc_option extra[] = {{"endpoint_url", tls_url}};
    rs_idc_client *client = handle_with(extra, N_OF(extra));
    if (client == NULL) {
        return;
    }
    const char *ids[] = {"tls-untrusted"};
    struct counts before = counts_now();
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_ENETWORK);
    printf("untrusted certificate: %s\n", rs_idc_last_error());
    /* A certificate failure, not some other network failure. */
    EXPECT_LAST_ERROR("certificate");
    const char *workgroups[] = {"wg-tls-untrusted"};
    expect_client(client, H_SERVERLESS, workgroups, 1, RS_IDC_ENETWORK);
    expect_moved("untrusted TLS", before, 0, 0);
    rs_idc_client_free(client);
}

/* The same endpoint with ca_file: tokens from the TLS fake. */
static void tls_with_ca_file(void)
{
    rs_idc_option extra[] = {{"endpoint_url", tls_url}, {"ca_file", ca_file}};
    rs_idc_client *client = handle_with(extra, N_OF(extra));
    if (client == NULL) {
        return;
    }
    const char *ids[] = {"tls-trusted"};
    const char *workgroups[] = {"wg-tls-trusted"};
    struct counts before = counts_now();
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
    expect_client(client, H_SERVERLESS, workgroups, 1, RS_IDC_OK);
    /* Served by the TLS fake: the plain one saw nothing, nor did the proxy. */
    expect_moved("TLS with ca_file", before, 0, 0);
    rs_idc_client_free(client);
}

/* proxy with the plain endpoint: absolute-form requests through the proxy. */
static void plain_endpoint_through_the_proxy(void)
{
    rs_idc_option extra[] = {{"endpoint_url", plain_url}, {"proxy", proxy_url}};
    rs_idc_client *client = handle_with(extra, N_OF(extra));
    if (client == NULL) {
        return;
    }
    const char *ids[] = {"proxied-cluster"};
    const char *workgroups[] = {"wg-proxied"};
    struct counts before = counts_now();
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
    expect_client(client, H_SERVERLESS, workgroups, 1, RS_IDC_OK);
    expect_moved("proxy option", before, 2, 2);
    rs_idc_client_free(client);
}

/* proxy and no_proxy=127.0.0.1: straight to the fake. */
static void no_proxy_bypasses_the_proxy(void)
{
    rs_idc_option extra[] = {
        {"endpoint_url", plain_url}, {"proxy", proxy_url}, {"no_proxy", "127.0.0.1"}};
    rs_idc_client *client = handle_with(extra, N_OF(extra));
    if (client == NULL) {
        return;
    }
    const char *ids[] = {"bypass-cluster"};
    const char *workgroups[] = {"wg-bypass"};
    struct counts before = counts_now();
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
    expect_client(client, H_SERVERLESS, workgroups, 1, RS_IDC_OK);
    expect_moved("proxy with no_proxy", before, 2, 0);
    rs_idc_client_free(client);
}

/* TLS endpoint, ca_file and proxy: a CONNECT tunnel carries TLS to the TLS fake. */
static void tls_through_a_tunnel(void)
{
    rs_idc_option extra[] = {
        {"endpoint_url", tls_url}, {"ca_file", ca_file}, {"proxy", proxy_url}};
    rs_idc_client *client = handle_with(extra, N_OF(extra));
    if (client == NULL) {
        return;
    }
    const char *ids[] = {"tunnel-cluster"};
    struct counts before = counts_now();
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
    /* One tunnel, or more if the connection pool opened another: at least one. */
    expect_moved("TLS through the proxy", before, 0, -1);
    rs_idc_client_free(client);
}

/*
 * The environment route, each in a forked child that sets its variables
 * before its first rs_idc_get_token call (the process-wide client reads
 * them when it is built).
 */
struct env_case {
    const char *what;
    int tls;         /* AWS_ENDPOINT_URL = the TLS fake, AWS_CA_BUNDLE = its CA */
    int proxy;       /* HTTP_PROXY and HTTPS_PROXY = the proxy */
    int no_proxy;    /* NO_PROXY = 127.0.0.1 */
    long requests;   /* API requests the plain fake must see */
    long proxied;    /* ... and the proxy: -1 means at least one */
};

static void env_child(void *arg)
{
    const struct env_case *c = arg;
    static const char *const proxy_names[] = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                              "http_proxy", "https_proxy", "all_proxy",
                                              "NO_PROXY",   "no_proxy"};
    for (size_t i = 0; i < N_OF(proxy_names); i++) {
        unsetenv(proxy_names[i]);
    }
    if (c->tls) {
        setenv("AWS_ENDPOINT_URL", tls_url, 1);
        setenv("AWS_CA_BUNDLE", ca_file, 1);
    }
    if (c->proxy) {
        setenv("HTTP_PROXY", proxy_url, 1);
        setenv("HTTPS_PROXY", proxy_url, 1);
    }
    if (c->no_proxy) {
        setenv("NO_PROXY", "127.0.0.1", 1);
    }
    char own[48];
    snprintf(own, sizeof own, "env-child-%ld", (long)getpid());
    const char *ids[] = {own};
    struct counts before = counts_now();
    expect_status(ids, 1, RS_IDC_OK);
    expect_moved(c->what, before, c->requests, c->proxied);
}

static void environment_route(void)
{
    static const struct env_case cases[] = {
        {"AWS_CA_BUNDLE and a TLS AWS_ENDPOINT_URL", 1, 0, 0, 0, 0},
        {"HTTP_PROXY/HTTPS_PROXY, plain endpoint", 0, 1, 0, 1, 1},
        {"HTTPS_PROXY, TLS endpoint, AWS_CA_BUNDLE", 1, 1, 0, 0, -1},
        {"HTTP_PROXY with NO_PROXY=127.0.0.1", 0, 1, 1, 1, 0},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        struct child child = start_child(env_child, (void *)&cases[i]);
        EXPECT(finish_child(child, child_limit(), cases[i].what), "environment: %s",
               cases[i].what);
    }
}

int main(void)
{
    tls_url = getenv("RS_IDC_FAKE_TLS_URL");
    ca_file = getenv("RS_IDC_FAKE_CA_FILE");
    proxy_url = getenv("RS_IDC_FAKE_PROXY_URL");
    plain_url = getenv("AWS_ENDPOINT_URL");
    if (tls_url == NULL || ca_file == NULL || proxy_url == NULL || plain_url == NULL) {
        fprintf(stderr,
                "FAIL: RS_IDC_FAKE_TLS_URL, RS_IDC_FAKE_CA_FILE, RS_IDC_FAKE_PROXY_URL and "
                "AWS_ENDPOINT_URL must all be set: this test needs the TLS fake and the "
                "loopback proxy of `rs-idc-fake run` (missing:%s%s%s%s)\n",
                tls_url ? "" : " RS_IDC_FAKE_TLS_URL", ca_file ? "" : " RS_IDC_FAKE_CA_FILE",
                proxy_url ? "" : " RS_IDC_FAKE_PROXY_URL", plain_url ? "" : " AWS_ENDPOINT_URL");
        CHECK(tls_url != NULL && ca_file != NULL && proxy_url != NULL && plain_url != NULL);
        return test_summary();
    }
    snprintf(timeout_text, sizeof timeout_text, "%d", (int)(10000 * slow_factor()));

    /*
     * Nothing from outside may steer the traffic: no CA bundle or proxy of
     * the caller's environment. Set before any thread exists.
     */
    static const char *const outside[] = {"AWS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY",
                                          "ALL_PROXY",     "http_proxy", "https_proxy",
                                          "all_proxy",     "NO_PROXY",   "no_proxy"};
    for (size_t i = 0; i < N_OF(outside); i++) {
        unsetenv(outside[i]);
    }

    EXPECT(fake_reset() == 0, "the fake's counters can be reset");
    EXPECT(fake_proxied() == 0, "the fake reports the proxy's count (\"proxied 0\" after a reset)");

    /* First, while the process-wide client has never been built here. */
    environment_route();

    tls_without_ca_is_refused();
    tls_with_ca_file();
    plain_endpoint_through_the_proxy();
    no_proxy_bypasses_the_proxy();
    tls_through_a_tunnel();

    return test_summary();
}
