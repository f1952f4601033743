/*
 * test_tls_proxy.c - HTTPS endpoints with extra trusted CAs, and the route
 * each request takes: direct or through a proxy, set through handle
 * options and through the environment.
 *
 * `rs-idc-fake run` starts, beside the plain fake, a second fake that
 * speaks HTTPS (RS_IDC_FAKE_TLS_URL; the CA to trust is in
 * RS_IDC_FAKE_CA_FILE) and two loopback proxies that relay absolute-form
 * requests and CONNECT tunnels: RS_IDC_FAKE_PROXY_URL, and one that wants
 * Basic credentials (RS_IDC_FAKE_AUTH_PROXY_URL, which holds the password).
 * The plain fake's stats (control API) count what each relayed (`proxied`,
 * `auth_proxied`) and what the second one refused (`auth_refused`). Both
 * fakes are also reachable by the test host name fake.rs-idc.test
 * (RS_IDC_FAKE_NAMED_URL, RS_IDC_FAKE_NAMED_TLS_URL), which only the
 * proxies know: they connect to 127.0.0.1 for it.
 *
 * The rules under test:
 * - loopback destinations (127.0.0.0/8, ::1, localhost) never go through a
 *   proxy, whatever the settings;
 * - https:// calls use `proxy` (HTTPS_PROXY, then ALL_PROXY), plain http://
 *   calls use `http_proxy` (HTTP_PROXY, then ALL_PROXY), never the other;
 * - `no_proxy` (NO_PROXY) that names other hosts leaves the proxy in use;
 * - a proxy URL may carry user:password@; a wrong password fails the call;
 *   the password never shows in a last error or a log record.
 *
 * A case with the test host name always has a proxy for its scheme and a
 * no_proxy that cannot match it: sent direct, the name would be looked up
 * in DNS, which must never happen here. check_route() refuses any case
 * that breaks this before a call is made.
 *
 * Every case uses its own identifiers: tokens are cached process-wide per
 * endpoint and identity, not per proxy, so a repeated one would be served
 * from the cache without any traffic to count.
 */

#include "harness.h"

#define N_OF(array) (sizeof(array) / sizeof((array)[0]))

static const char *tls_url;
static const char *ca_file;
static const char *proxy_url;
static const char *plain_url;
static const char *named_url;
static const char *named_tls_url;
static const char *auth_proxy_url;
static const char *auth_password;

/* The authenticating proxy's URL with a wrong password, and that password. */
static char wrong_auth_url[256];
static char wrong_password[128];
/* base64("user:password"), as a Proxy-Authorization header would carry it. */
static char auth_basic[256];

/* How long a forked child may take for its token. */
static double child_limit(void)
{
    return 30.0 * slow_factor();
}

/* Whole-call bound for the handles here, in ms (text). */
static char timeout_text[32];

/* Standard base64 of `in` into `out` (NUL-terminated); 0 on success. */
static int base64(const char *in, char *out, size_t size)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(in);
    if ((len + 2) / 3 * 4 + 1 > size) {
        return -1;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned long chunk = (unsigned long)(unsigned char)in[i] << 16;
        if (i + 1 < len) {
            chunk |= (unsigned long)(unsigned char)in[i + 1] << 8;
        }
        if (i + 2 < len) {
            chunk |= (unsigned long)(unsigned char)in[i + 2];
        }
        out[o++] = alphabet[(chunk >> 18) & 63];
        out[o++] = alphabet[(chunk >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(chunk >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[chunk & 63] : '=';
    }
    out[o] = '\0';
    return 0;
}

/* Whether `text` holds a proxy password (right or wrong) or the Basic credentials. */
static int holds_a_password(const char *text)
{
    return text != NULL && ((auth_password[0] != '\0' && strstr(text, auth_password) != NULL) ||
                            (wrong_password[0] != '\0' && strstr(text, wrong_password) != NULL) ||
                            (auth_basic[0] != '\0' && strstr(text, auth_basic) != NULL));
}

/* This thread's last error, or a placeholder when it would show a password. */
static const char *shown_error(void)
{
    const char *message = rs_idc_last_error();
    return holds_a_password(message) ? "(withheld: it holds a proxy password)" : message;
}

/*
 * Every log record (the library's and the AWS SDK's, at trace level) is
 * scanned for the proxy passwords; only counts are kept. In a forked child
 * these are the child's own copies.
 */
static atomic_long log_records;
static atomic_long log_leaks;

static void scan_record(int level, const char *msg, void *userdata)
{
    (void)level;
    (void)userdata;
    atomic_fetch_add(&log_records, 1);
    if (holds_a_password(msg)) {
        atomic_fetch_add(&log_leaks, 1);
    }
}

/* The counts of the plain fake and of the proxies, before and after a case. */
struct counts {
    long requests;     /* API requests the plain fake received */
    long proxied;      /* requests and tunnels the proxy relayed */
    long auth_proxied; /* ... and the authenticating proxy */
    long auth_refused; /* requests the authenticating proxy answered 407 */
};

/* In an expectation: at least one (a retried attempt may open a second tunnel). */
#define SOME -1

static struct counts counts_now(void)
{
    struct counts c = {fake_requests(), fake_stat(FAKE_COUNTER_PROXIED), fake_stat(FAKE_COUNTER_AUTH_PROXIED),
                       fake_stat(FAKE_COUNTER_AUTH_REFUSED)};
    return c;
}

static void h_expect_one_count(const char *file, int line, const char *what, const char *name,
                               long before, long after, long want)
{
    long moved = after - before;
    int ok = before >= 0 && after >= 0 && (want == SOME ? moved >= 1 : moved == want);
    if (want == SOME) {
        h_record(ok, file, line, "%s: %s should move by at least one, moved %ld", what, name,
                 moved);
    } else {
        h_record(ok, file, line, "%s: %s should move by %ld, moved %ld", what, name, want, moved);
    }
}

static void h_expect_moved(const char *file, int line, const char *what, struct counts before,
                           struct counts want)
{
    struct counts after = counts_now();
    h_expect_one_count(file, line, what, "requests", before.requests, after.requests,
                       want.requests);
    h_expect_one_count(file, line, what, "proxied", before.proxied, after.proxied, want.proxied);
    h_expect_one_count(file, line, what, "auth_proxied", before.auth_proxied, after.auth_proxied,
                       want.auth_proxied);
    h_expect_one_count(file, line, what, "auth_refused", before.auth_refused, after.auth_refused,
                       want.auth_refused);
}
/* expect_moved(what, before, want): each count of `want` exactly, or SOME. */
#define expect_moved(what, before, want) \
    h_expect_moved(__FILE__, __LINE__, (what), (before), (want))

/*
 * One token call: on `client`, or the process-wide client when `client` is
 * NULL (cluster only). Checks the status and the out/exp contract, and
 * that the last error holds no proxy password; prints a last error only
 * when it holds none. Returns the status.
 */
static int h_route_call(const char *file, int line, const char *what, rs_idc_client *client,
                        enum h_client_call call, const char *name, int want)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    const char *ids[] = {name};
    int got;
    if (client == NULL) {
        got = rs_idc_get_token(ids, 1, &out, &exp);
    } else if (call == H_SERVERLESS) {
        got = rs_idc_client_get_serverless_token(client, ids, 1, &out, &exp);
    } else {
        got = rs_idc_client_get_token(client, ids, 1, &out, &exp);
    }
    char call_what[256];
    snprintf(call_what, sizeof call_what, "%s: %s(%s)", what,
             client == NULL ? "rs_idc_get_token" : h_call_name(call), name);
    h_expect_outcome(file, line, call_what, got, want, got == RS_IDC_OK ? "" : shown_error(), out,
                     sentinel, exp, NULL, NULL);
    h_record(!holds_a_password(rs_idc_last_error()), file, line,
             "%s: the last error holds no proxy password", what);
    return got;
}
#define route_call(what, client, call, name, want) \
    h_route_call(__FILE__, __LINE__, (what), (client), (call), (name), (want))

/* Which fake a case talks to, and by which name. */
enum endpoint {
    LOOPBACK,     /* http://127.0.0.1:PORT */
    LOOPBACK_TLS, /* https://127.0.0.1:TLSPORT */
    NAMED,        /* http://fake.rs-idc.test:PORT (allow_http) */
    NAMED_TLS,    /* https://fake.rs-idc.test:TLSPORT */
};

/* A proxy setting. */
enum proxy {
    NONE,
    PROXY,      /* RS_IDC_FAKE_PROXY_URL */
    AUTH,       /* RS_IDC_FAKE_AUTH_PROXY_URL, with the right password */
    AUTH_WRONG, /* the same proxy with a wrong password */
};

static const char *proxy_text(enum proxy p)
{
    switch (p) {
    case PROXY:
        return proxy_url;
    case AUTH:
        return auth_proxy_url;
    case AUTH_WRONG:
        return wrong_auth_url;
    case NONE:
        break;
    }
    return NULL;
}

static const char *endpoint_text(enum endpoint e)
{
    switch (e) {
    case LOOPBACK:
        return plain_url;
    case LOOPBACK_TLS:
        return tls_url;
    case NAMED:
        return named_url;
    case NAMED_TLS:
        return named_tls_url;
    }
    return NULL;
}

/* One route: an endpoint and the proxy settings, as options or variables. */
struct route {
    const char *what;
    enum endpoint endpoint;
    enum proxy proxy;      /* `proxy` / HTTPS_PROXY: https:// calls */
    enum proxy http_proxy; /* `http_proxy` / HTTP_PROXY: plain http:// calls */
    enum proxy all_proxy;  /* ALL_PROXY (environment only): both, after the above */
    const char *no_proxy;  /* `no_proxy` / NO_PROXY, or NULL */
    int lower_case;        /* environment: lower-case variable names */
    int untrusted;         /* TLS endpoint without the fake's CA */
    int want;              /* status of every call */
    struct counts moved;   /* how the counts move over the whole case */
};

/*
 * Whether the route may run: a case with the test host name must have a
 * proxy for its scheme and a no_proxy that cannot match the name. A route
 * that would send the name direct is refused (a failed check) and not run.
 */
static int h_check_route(const char *file, int line, const struct route *r)
{
    if (r->endpoint == LOOPBACK || r->endpoint == LOOPBACK_TLS) {
        return 1;
    }
    enum proxy carrier = r->endpoint == NAMED_TLS ? r->proxy : r->http_proxy;
    if (carrier == NONE) {
        carrier = r->all_proxy;
    }
    int excluded = r->no_proxy != NULL &&
                   (strstr(r->no_proxy, "rs-idc") != NULL || strstr(r->no_proxy, "test") != NULL ||
                    strchr(r->no_proxy, '*') != NULL);
    return h_record(carrier != NONE && !excluded, file, line,
                    "%s: a case with the test host name needs a proxy for its scheme and a "
                    "no_proxy that cannot match it (not run)",
                    r->what);
}
#define check_route(r) h_check_route(__FILE__, __LINE__, (r))

/* A fresh identifier for each call, so that nothing is served from the cache. */
static void fresh_name(char *name, size_t size, const char *prefix)
{
    static atomic_int serial;
    snprintf(name, size, "%s-%ld-%d", prefix, (long)getpid(), atomic_fetch_add(&serial, 1));
}

/*
 * A route through handle options: one cluster and one Serverless call on a
 * handle with the endpoint (and the CA file for TLS, allow_http for the
 * named plain endpoint), `proxy`, `http_proxy` and `no_proxy` as given.
 */
static void option_route(const struct route *r)
{
    if (!check_route(r)) {
        return;
    }
    rs_idc_option extra[8];
    size_t n = 0;
    extra[n++] = (rs_idc_option){"endpoint_url", endpoint_text(r->endpoint)};
    if ((r->endpoint == LOOPBACK_TLS || r->endpoint == NAMED_TLS) && !r->untrusted) {
        extra[n++] = (rs_idc_option){"ca_file", ca_file};
    }
    if (r->endpoint == NAMED) {
        extra[n++] = (rs_idc_option){"allow_http", "1"};
    }
    if (r->proxy != NONE) {
        extra[n++] = (rs_idc_option){"proxy", proxy_text(r->proxy)};
    }
    if (r->http_proxy != NONE) {
        extra[n++] = (rs_idc_option){"http_proxy", proxy_text(r->http_proxy)};
    }
    if (r->no_proxy != NULL) {
        extra[n++] = (rs_idc_option){"no_proxy", r->no_proxy};
    }
    rs_idc_client *client = test_handle("RS_IDC_TEST_IDC", timeout_text, extra, n);
    EXPECT(!holds_a_password(rs_idc_last_error()), "%s: making the handle shows no password",
           r->what);
    if (client == NULL) {
        return;
    }
    char cluster[64], workgroup[64];
    fresh_name(cluster, sizeof cluster, "route");
    fresh_name(workgroup, sizeof workgroup, "wg-route");
    struct counts before = counts_now();
    double started = now_seconds();
    int got = route_call(r->what, client, H_CLUSTER, cluster, r->want);
    route_call(r->what, client, H_SERVERLESS, workgroup, r->want);
    printf("%-62s -> %-16s %.2f s%s%s\n", r->what, rs_idc_status_str(got), now_seconds() - started,
           got == RS_IDC_OK ? "" : ": ", got == RS_IDC_OK ? "" : shown_error());
    expect_moved(r->what, before, r->moved);
    rs_idc_client_free(client);
}

/* Cluster and Serverless calls, one request each on the plain fake. */
#define TWO_CALLS 2

static void option_routes(void)
{
    static const char *const other_hosts = "db.example.internal,.corp.example,192.0.2.7";
    const struct route routes[] = {
        /* The TLS fake, directly: its certificate needs the CA file. */
        {"TLS, no CA file: certificate refused", LOOPBACK_TLS, NONE, NONE, NONE, NULL, 0, 1,
         RS_IDC_ENETWORK, {0, 0, 0, 0}},
        {"TLS with ca_file", LOOPBACK_TLS, NONE, NONE, NONE, NULL, 0, 0, RS_IDC_OK, {0, 0, 0, 0}},

        /* Loopback endpoints are never proxied, whatever the settings. */
        {"loopback http, proxy and http_proxy set: direct", LOOPBACK, PROXY, PROXY, NONE, NULL, 0,
         0, RS_IDC_OK, {TWO_CALLS, 0, 0, 0}},
        {"loopback http, http_proxy = authenticating proxy: direct", LOOPBACK, PROXY, AUTH, NONE,
         NULL, 0, 0, RS_IDC_OK, {TWO_CALLS, 0, 0, 0}},
        {"loopback https, proxy = authenticating proxy: direct", LOOPBACK_TLS, AUTH, PROXY, NONE,
         NULL, 0, 0, RS_IDC_OK, {0, 0, 0, 0}},
        {"loopback http, proxy and no_proxy=127.0.0.1: direct", LOOPBACK, PROXY, PROXY, NONE,
         "127.0.0.1", 0, 0, RS_IDC_OK, {TWO_CALLS, 0, 0, 0}},

        /* The named plain endpoint: http_proxy carries it (absolute form), never `proxy`. */
        {"named http, http_proxy: relayed", NAMED, NONE, PROXY, NONE, NULL, 0, 0, RS_IDC_OK,
         {TWO_CALLS, TWO_CALLS, 0, 0}},
        {"named http, proxy = one, http_proxy = authenticating", NAMED, PROXY, AUTH, NONE, NULL, 0,
         0, RS_IDC_OK, {TWO_CALLS, 0, TWO_CALLS, 0}},
        {"named http, http_proxy, no_proxy naming other hosts", NAMED, NONE, PROXY, NONE,
         other_hosts, 0, 0, RS_IDC_OK, {TWO_CALLS, TWO_CALLS, 0, 0}},

        /* The named TLS endpoint: `proxy` carries it (CONNECT), never http_proxy. */
        {"named https, proxy: CONNECT tunnel", NAMED_TLS, PROXY, NONE, NONE, NULL, 0, 0, RS_IDC_OK,
         {0, SOME, 0, 0}},
        {"named https, proxy = authenticating, http_proxy = one", NAMED_TLS, AUTH, PROXY, NONE,
         NULL, 0, 0, RS_IDC_OK, {0, 0, SOME, 0}},
        {"named https, proxy, no_proxy naming other hosts", NAMED_TLS, PROXY, NONE, NONE,
         other_hosts, 0, 0, RS_IDC_OK, {0, SOME, 0, 0}},
        /* The tunnel carries TLS end to end: without the CA the certificate is refused. */
        {"named https, proxy, no CA file: certificate refused", NAMED_TLS, PROXY, NONE, NONE, NULL,
         0, 1, RS_IDC_ENETWORK, {0, SOME, 0, 0}},

        /* A wrong proxy password: refused by the proxy, the call fails. */
        {"named https, authenticating proxy, wrong password", NAMED_TLS, AUTH_WRONG, NONE, NONE,
         NULL, 0, 0, RS_IDC_ENETWORK, {0, 0, 0, SOME}},
        /* Through an http_proxy the 407 answers the request itself: a network failure too. */
        {"named http, authenticating http_proxy, wrong password", NAMED, NONE, AUTH_WRONG, NONE,
         NULL, 0, 0, RS_IDC_ENETWORK, {0, 0, 0, SOME}},
    };
    for (size_t i = 0; i < N_OF(routes); i++) {
        option_route(&routes[i]);
    }
}

/* The untrusted-certificate case says "certificate" in its last error. */
static void certificate_failure_is_named(void)
{
    rs_idc_option extra[] = {{"endpoint_url", tls_url}};
    rs_idc_client *client = test_handle("RS_IDC_TEST_IDC", timeout_text, extra, N_OF(extra));
    if (client == NULL) {
        return;
    }
    char name[64];
    fresh_name(name, sizeof name, "tls-untrusted");
    route_call("untrusted certificate", client, H_CLUSTER, name, RS_IDC_ENETWORK);
    EXPECT_LAST_ERROR("certificate");
    rs_idc_client_free(client);
}

/*
 * The environment route, each in a forked child that sets its variables
 * before its first rs_idc_get_token call (the process-wide client reads
 * them when it is built).
 */
static void set_proxy_variable(const char *upper, int lower_case, enum proxy p)
{
    if (p == NONE) {
        return;
    }
    char name[32];
    snprintf(name, sizeof name, "%s", upper);
    if (lower_case) {
        for (char *c = name; *c != '\0'; c++) {
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        }
    }
    setenv(name, proxy_text(p), 1);
}

static void env_child(void *arg)
{
    const struct route *r = arg;
    if (!check_route(r)) {
        return;
    }
    static const char *const proxy_names[] = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                              "http_proxy", "https_proxy", "all_proxy",
                                              "NO_PROXY",   "no_proxy"};
    for (size_t i = 0; i < N_OF(proxy_names); i++) {
        unsetenv(proxy_names[i]);
    }
    setenv("AWS_ENDPOINT_URL", endpoint_text(r->endpoint), 1);
    if ((r->endpoint == LOOPBACK_TLS || r->endpoint == NAMED_TLS) && !r->untrusted) {
        setenv("AWS_CA_BUNDLE", ca_file, 1);
    }
    if (r->endpoint == NAMED) {
        setenv("RS_IDC_ALLOW_HTTP", "1", 1);
    }
    set_proxy_variable("HTTPS_PROXY", r->lower_case, r->proxy);
    set_proxy_variable("HTTP_PROXY", r->lower_case, r->http_proxy);
    set_proxy_variable("ALL_PROXY", r->lower_case, r->all_proxy);
    if (r->no_proxy != NULL) {
        setenv(r->lower_case ? "no_proxy" : "NO_PROXY", r->no_proxy, 1);
    }
    char name[64];
    fresh_name(name, sizeof name, "env-child");
    struct counts before = counts_now();
    int got = route_call(r->what, NULL, H_CLUSTER, name, r->want);
    printf("env: %-58s -> %-16s%s%s\n", r->what, rs_idc_status_str(got),
           got == RS_IDC_OK ? "" : " ", got == RS_IDC_OK ? "" : shown_error());
    expect_moved(r->what, before, r->moved);
    EXPECT(atomic_load(&log_leaks) == 0, "%s: no log record holds a proxy password (%ld did)",
           r->what, atomic_load(&log_leaks));
    /* The child leaves with _exit(), which does not flush stdout. */
    fflush(stdout);
}

static void environment_routes(void)
{
    static const char *const other_hosts = "db.example.internal,.corp.example";
    static const struct route routes[] = {
        {"AWS_CA_BUNDLE and a TLS AWS_ENDPOINT_URL", LOOPBACK_TLS, NONE, NONE, NONE, NULL, 0, 0,
         RS_IDC_OK, {0, 0, 0, 0}},
        /* Loopback: direct, although every variable names a proxy. */
        {"HTTP_PROXY/HTTPS_PROXY/ALL_PROXY, loopback http", LOOPBACK, PROXY, PROXY, PROXY, NULL, 0,
         0, RS_IDC_OK, {1, 0, 0, 0}},
        {"HTTPS_PROXY/HTTP_PROXY, loopback https, AWS_CA_BUNDLE", LOOPBACK_TLS, AUTH, PROXY, NONE,
         NULL, 0, 0, RS_IDC_OK, {0, 0, 0, 0}},
        {"HTTP_PROXY with NO_PROXY=127.0.0.1, loopback http", LOOPBACK, NONE, PROXY, NONE,
         "127.0.0.1", 0, 0, RS_IDC_OK, {1, 0, 0, 0}},
        /* The named plain endpoint: HTTP_PROXY (or ALL_PROXY), never HTTPS_PROXY. */
        {"HTTP_PROXY, named http", NAMED, NONE, PROXY, NONE, NULL, 0, 0, RS_IDC_OK, {1, 1, 0, 0}},
        {"http_proxy (lower case), named http", NAMED, NONE, PROXY, NONE, NULL, 1, 0, RS_IDC_OK,
         {1, 1, 0, 0}},
        {"HTTPS_PROXY = one, HTTP_PROXY = authenticating, named http", NAMED, PROXY, AUTH, NONE,
         NULL, 0, 0, RS_IDC_OK, {1, 0, 1, 0}},
        {"ALL_PROXY alone, named http", NAMED, NONE, NONE, PROXY, NULL, 0, 0, RS_IDC_OK,
         {1, 1, 0, 0}},
        {"ALL_PROXY = one, HTTPS_PROXY = authenticating, named http", NAMED, AUTH, NONE, PROXY,
         NULL, 0, 0, RS_IDC_OK, {1, 1, 0, 0}},
        {"HTTP_PROXY with NO_PROXY naming other hosts, named http", NAMED, NONE, PROXY, NONE,
         other_hosts, 0, 0, RS_IDC_OK, {1, 1, 0, 0}},
        /* The named TLS endpoint: HTTPS_PROXY (or ALL_PROXY), never HTTP_PROXY. */
        {"HTTPS_PROXY, named https, AWS_CA_BUNDLE", NAMED_TLS, PROXY, NONE, NONE, NULL, 0, 0,
         RS_IDC_OK, {0, SOME, 0, 0}},
        {"HTTP_PROXY = one, HTTPS_PROXY = authenticating, named https", NAMED_TLS, AUTH, PROXY,
         NONE, NULL, 0, 0, RS_IDC_OK, {0, 0, SOME, 0}},
        {"https_proxy with no_proxy naming others (lower case)", NAMED_TLS, PROXY, NONE, NONE,
         other_hosts, 1, 0, RS_IDC_OK, {0, SOME, 0, 0}},
        {"ALL_PROXY = authenticating, named https", NAMED_TLS, NONE, NONE, AUTH, NULL, 0, 0,
         RS_IDC_OK, {0, 0, SOME, 0}},
        {"HTTPS_PROXY with a wrong password, named https", NAMED_TLS, AUTH_WRONG, NONE, NONE, NULL,
         0, 0, RS_IDC_ENETWORK, {0, 0, 0, SOME}},
    };
    for (size_t i = 0; i < N_OF(routes); i++) {
        struct child child = start_child(env_child, (void *)&routes[i]);
        EXPECT(finish_child(child, child_limit(), routes[i].what), "environment: %s",
               routes[i].what);
    }
}

int main(void)
{
    tls_url = getenv("RS_IDC_FAKE_TLS_URL");
    ca_file = getenv("RS_IDC_FAKE_CA_FILE");
    proxy_url = getenv("RS_IDC_FAKE_PROXY_URL");
    plain_url = getenv("AWS_ENDPOINT_URL");
    named_url = getenv("RS_IDC_FAKE_NAMED_URL");
    named_tls_url = getenv("RS_IDC_FAKE_NAMED_TLS_URL");
    auth_proxy_url = getenv("RS_IDC_FAKE_AUTH_PROXY_URL");
    auth_password = getenv("RS_IDC_FAKE_AUTH_PROXY_PASSWORD");
    const char *auth_user = getenv("RS_IDC_FAKE_AUTH_PROXY_USER");
    const char *auth_port = getenv("RS_IDC_FAKE_AUTH_PROXY_PORT");
    const char *needed[][2] = {
        {"RS_IDC_FAKE_TLS_URL", tls_url},
        {"RS_IDC_FAKE_CA_FILE", ca_file},
        {"RS_IDC_FAKE_PROXY_URL", proxy_url},
        {"AWS_ENDPOINT_URL", plain_url},
        {"RS_IDC_FAKE_NAMED_URL", named_url},
        {"RS_IDC_FAKE_NAMED_TLS_URL", named_tls_url},
        {"RS_IDC_FAKE_AUTH_PROXY_URL", auth_proxy_url},
        {"RS_IDC_FAKE_AUTH_PROXY_PASSWORD", auth_password},
        {"RS_IDC_FAKE_AUTH_PROXY_USER", auth_user},
        {"RS_IDC_FAKE_AUTH_PROXY_PORT", auth_port},
    };
    int missing = 0;
    for (size_t i = 0; i < N_OF(needed); i++) {
        if (needed[i][1] == NULL || needed[i][1][0] == '\0') {
            fprintf(stderr, "FAIL: %s is not set: this test needs the TLS fake and the proxies "
                            "of `rs-idc-fake run`\n",
                    needed[i][0]);
            missing = 1;
        }
    }
    CHECK(!missing);
    if (missing) {
        return test_summary();
    }

    /* A wrong password of the same length and alphabet: the last digit changed. */
    snprintf(wrong_password, sizeof wrong_password, "%s", auth_password);
    size_t len = strlen(wrong_password);
    wrong_password[len - 1] = wrong_password[len - 1] == '0' ? '1' : '0';
    int n = snprintf(wrong_auth_url, sizeof wrong_auth_url, "http://%s:%s@127.0.0.1:%s",
                     auth_user, wrong_password, auth_port);
    CHECK(n > 0 && (size_t)n < sizeof wrong_auth_url);
    char credentials[256];
    snprintf(credentials, sizeof credentials, "%s:%s", auth_user, auth_password);
    CHECK(base64(credentials, auth_basic, sizeof auth_basic) == 0);
    CHECK(strstr(auth_proxy_url, auth_password) != NULL);

    snprintf(timeout_text, sizeof timeout_text, "%d", (int)(10000 * slow_factor()));

    /*
     * Nothing from outside may steer the traffic: no CA bundle or proxy of
     * the caller's environment. Set before any thread exists.
     */
    static const char *const outside[] = {"AWS_CA_BUNDLE", "HTTP_PROXY", "HTTPS_PROXY",
                                          "ALL_PROXY",     "http_proxy", "https_proxy",
                                          "all_proxy",     "NO_PROXY",   "no_proxy",
                                          "RS_IDC_ALLOW_HTTP"};
    for (size_t i = 0; i < N_OF(outside); i++) {
        unsetenv(outside[i]);
    }

    EXPECT(fake_reset() == 0, "the fake's counters can be reset");
    struct counts zero = counts_now();
    EXPECT(zero.proxied == 0 && zero.auth_proxied == 0 && zero.auth_refused == 0,
           "the fake reports both proxies' counts (0 after a reset): proxied %ld, auth_proxied "
           "%ld, auth_refused %ld",
           zero.proxied, zero.auth_proxied, zero.auth_refused);

    /* Every record, at every level, is scanned for the passwords. */
    rs_idc_set_log_callback(scan_record, NULL);
    rs_idc_set_log_level(RS_IDC_LOG_TRACE);

    /* First, while the process-wide client has never been built here. */
    environment_routes();

    certificate_failure_is_named();
    option_routes();

    rs_idc_set_log_level(RS_IDC_LOG_OFF);
    rs_idc_set_log_callback(NULL, NULL);
    printf("log records scanned: %ld\n", atomic_load(&log_records));
    EXPECT(atomic_load(&log_records) > 0, "log records were delivered and scanned");
    EXPECT(atomic_load(&log_leaks) == 0, "no log record holds a proxy password (%ld of %ld did)",
           atomic_load(&log_leaks), atomic_load(&log_records));
    return test_summary();
}
