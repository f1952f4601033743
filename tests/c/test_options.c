/*
 * test_options.c - rs_idc_client_new() checks every option.
 *
 * Every key with a good value makes a handle; every key with a bad value
 * gives RS_IDC_EINVAL and a last error that names the key; unknown keys,
 * keys given twice (in any case), NULL keys and values, too many options,
 * a NULL options array and a NULL `out` are refused; the three credential
 * parts go together, and the message says which are missing without ever
 * repeating a secret that was passed (nor a proxy password); a CA file
 * must be a regular file whose every PEM block is a certificate that
 * parses; a region must have the shape of a known AWS partition's
 * regions. On every failure *out is NULL.
 *
 * Making a handle contacts nothing, so endpoints that are not loopback may
 * appear in good values here: no call is ever made on those handles. One
 * handle made from nearly every key at once does get a token, from the
 * local fake.
 */

#include "harness.h"

#include <sys/stat.h>

#define N_OF(array) (sizeof(array) / sizeof((array)[0]))

/* A self-signed CA certificate (its key was thrown away): a well-formed PEM file. */
static const char test_ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBqDCCAU2gAwIBAgIUSq4DQ4m0BSO+gJ3A3kARXlN+2rowCgYIKoZIzj0EAwIw\n"
    "KDEmMCQGA1UEAwwdcnMtaWRjIHRlc3QgQ0EgKG9wdGlvbnMgb25seSkwIBcNMjYx\n"
    "MTI3MjA0MTE5WhgPMjEyNjExMDMyMDQxMTlaMCgxJjAkBgNVBAMMHXJzLWlkYyB0\n"
    "ZXN0IENBIChvcHRpb25zIG9ubHkpMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
    "ss839JNgyqOksrGZtvAfo00w+jGc8hYi+stROfmOZRezJ3CCO1f5KuFyEZb1I3Ys\n"
    "gi6tKWBoA9t2o2G9LMhQSKNTMFEwHQYDVR0OBBYEFGa8C7fBP6wAuHJtAlAuz6nS\n"
    "bsyFMB8GA1UdIwQYMBaAFGa8C7fBP6wAuHJtAlAuz6nSbsyFMA8GA1UdEwEB/wQF\n"
    "MAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAOaV5jMZrVZWy4/EPwl41Hrn9z6tsCJ2\n"
    "c/eIk0QB9plAAiEAkHiYmkXVgV0LLSMkPFfQPMRtisuccvLeRt6XBsA3Hnk=\n"
    "-----END CERTIFICATE-----\n";

/* Secret values passed in bad option sets: no message may contain them. */
#define SECRET_A "hidden-secret-value-7f3a"
#define SESSION_A "hidden-session-value-91c2"

/* Temporary files, removed at the end. */
static char good_ca_path[64];
static char garbage_ca_path[64];
static char key_only_path[64];
static char bad_block_path[64];
static char good_then_bad_path[64];
static char fifo_path[64];

/* Writes `text` to a new file made by mkstemp from `path` (a template). */
static int write_temp(char *path, const char *text)
{
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "mkstemp %s: %s\n", path, strerror(errno));
        path[0] = '\0';
        return -1;
    }
    size_t len = strlen(text);
    ssize_t wrote = write(fd, text, len);
    close(fd);
    return wrote == (ssize_t)len ? 0 : -1;
}

/* A handle pointer that is not NULL, to see that failures clear *out. */
static rs_idc_client *not_null(void)
{
    static int dummy;
    return (rs_idc_client *)(void *)&dummy;
}

/* rs_idc_client_new succeeds; the handle is freed. `what` names the case. */
static int h_expect_new_ok(const char *file, int line, const char *what,
                           const rs_idc_option *options, size_t n)
{
    rs_idc_client *client = not_null();
    int got = rs_idc_client_new(options, n, &client);
    int ok = h_record(got == RS_IDC_OK, file, line, "%s: status %s, expected RS_IDC_OK; last error \"%s\"",
                      what, rs_idc_status_str(got), rs_idc_last_error());
    if (got == RS_IDC_OK) {
        ok &= h_record(client != NULL && client != not_null(), file, line,
                       "%s: a handle is handed out", what);
        if (client != not_null()) {
            rs_idc_client_free(client);
        }
    }
    return ok;
}
#define expect_new_ok(what, options, n) h_expect_new_ok(__FILE__, __LINE__, (what), (options), (n))

/*
 * rs_idc_client_new fails with RS_IDC_EINVAL, sets *out to NULL, and the
 * last error starts with `prefix` and contains no secret passed here.
 */
static int h_expect_new_fails(const char *file, int line, const char *what,
                              const rs_idc_option *options, size_t n, const char *prefix)
{
    rs_idc_client *client = not_null();
    int got = rs_idc_client_new(options, n, &client);
    const char *message = rs_idc_last_error();
    int ok = h_record(got == RS_IDC_EINVAL, file, line,
                      "%s: status %s, expected RS_IDC_EINVAL; last error \"%s\"", what,
                      rs_idc_status_str(got), message);
    ok &= h_record(client == NULL, file, line, "%s: a failure sets *out to NULL", what);
    ok &= h_record(strncmp(message, prefix, strlen(prefix)) == 0, file, line,
                   "%s: last error \"%s\" should start with \"%s\"", what, message, prefix);
    ok &= h_record(strstr(message, SECRET_A) == NULL && strstr(message, SESSION_A) == NULL, file,
                   line, "%s: the last error repeats no secret value", what);
    if (got == RS_IDC_OK && client != NULL && client != not_null()) {
        rs_idc_client_free(client);
    }
    return ok;
}
#define expect_new_fails(what, options, n, prefix) \
    h_expect_new_fails(__FILE__, __LINE__, (what), (options), (n), (prefix))

/* One option with a value, checked alone. */
struct one {
    const char *key;
    const char *value;
    const char *prefix; /* for bad values: how the last error starts */
};

static void every_key_takes_a_good_value(void)
{
    static const struct one good[] = {
        {"region", "us-east-1", NULL},
        {"region", "eu-central-2", NULL},
        {"REGION", "us-gov-west-1", NULL},
        {"region", "cn-north-1", NULL},
        {"region", "eu-west-1", NULL},
        {"profile", "analytics", NULL},
        {"endpoint_url", "https://redshift.us-east-1.amazonaws.com", NULL},
        {"endpoint_url", "http://127.0.0.1:5439", NULL},
        {"endpoint_url", "http://localhost:5439", NULL},
        {"endpoint_url", "http://[::1]:5439", NULL},
        {"Endpoint_URL", "https://127.0.0.1:8443/", NULL},
        {"proxy", "http://127.0.0.1:3128", NULL},
        {"proxy", "https://127.0.0.1:3129", NULL},
        {"proxy", "http://user:" SECRET_A "@127.0.0.1:3128", NULL},
        {"http_proxy", "http://127.0.0.1:3128", NULL},
        {"HTTP_PROXY", "http://user:" SECRET_A "@127.0.0.1:3128", NULL},
        {"no_proxy", "localhost,.internal,127.0.0.1", NULL},
        {"no_proxy", "", NULL},
        {"connect_timeout_ms", "1", NULL},
        {"connect_timeout_ms", "3600000", NULL},
        {"timeout_ms", "1", NULL},
        {"Timeout_Ms", "3600000", NULL},
        {"max_attempts", "1", NULL},
        {"max_attempts", "10", NULL},
        {"refresh_margin_s", "0", NULL},
        {"refresh_margin_s", "3600", NULL},
        {"allow_http", "on", NULL},
        {"allow_http", "off", NULL},
    };
    for (size_t i = 0; i < N_OF(good); i++) {
        rs_idc_option option = {good[i].key, good[i].value};
        char what[160];
        snprintf(what, sizeof what, "%s=%s", good[i].key, good[i].value);
        expect_new_ok(what, &option, 1);
    }

    /* Every spelling of the switches. */
    static const char *const switches[] = {"on",  "off", "1",   "0",  "true", "false",
                                           "yes", "no",  "ON", "False", "YES", " on "};
    for (size_t i = 0; i < N_OF(switches); i++) {
        rs_idc_option option = {"cache", switches[i]};
        char what[64];
        snprintf(what, sizeof what, "cache=%s", switches[i]);
        expect_new_ok(what, &option, 1);
        option.key = "allow_http";
        snprintf(what, sizeof what, "allow_http=%s", switches[i]);
        expect_new_ok(what, &option, 1);
    }

    /* The three credential parts together, in any case of the keys. */
    rs_idc_option credentials[] = {
        {"access_key_id", "ASIAEXAMPLE0000001"},
        {"Secret_Access_Key", SECRET_A},
        {"SESSION_TOKEN", SESSION_A},
    };
    expect_new_ok("the three credential parts", credentials, 3);

    /* A PEM file with a certificate. */
    if (EXPECT(good_ca_path[0] != '\0', "the CA file was written")) {
        rs_idc_option option = {"ca_file", good_ca_path};
        expect_new_ok("ca_file=a PEM certificate", &option, 1);
    }

    /* Plain http:// off loopback, when allow_http says so (never contacted). */
    rs_idc_option allowed[] = {
        {"endpoint_url", "http://10.1.2.3"},
        {"allow_http", "yes"},
    };
    expect_new_ok("endpoint_url=http://10.1.2.3 with allow_http", allowed, 2);
    rs_idc_option allowed_first[] = {
        {"allow_http", "1"},
        {"endpoint_url", "http://redshift.example.internal:8080"},
    };
    expect_new_ok("allow_http before endpoint_url", allowed_first, 2);

    /* No options at all: a handle from the environment. */
    expect_new_ok("options NULL, n 0", NULL, 0);
    rs_idc_option ignored = {"colour", "blue"};
    expect_new_ok("n 0 reads no option", &ignored, 0);
}

/* Nearly every key at once (not profile or proxy), and the handle works. */
static void many_keys_at_once_get_a_token(void)
{
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%d", (int)(20000 * slow_factor()));
    rs_idc_option options[] = {
        {"region", need_env("AWS_REGION")},
        {"endpoint_url", need_env("AWS_ENDPOINT_URL")},
        {"access_key_id", need_env("RS_IDC_TEST_IDC_ACCESS_KEY_ID")},
        {"secret_access_key", need_env("RS_IDC_TEST_IDC_SECRET_ACCESS_KEY")},
        {"session_token", need_env("RS_IDC_TEST_IDC_SESSION_TOKEN")},
        {"ca_file", good_ca_path},
        {"no_proxy", "127.0.0.1,localhost"},
        {"connect_timeout_ms", "5000"},
        {"timeout_ms", timeout},
        {"max_attempts", "3"},
        {"cache", "off"},
        {"refresh_margin_s", "60"},
        {"allow_http", "no"},
    };
    rs_idc_client *client = NULL;
    int got = rs_idc_client_new(options, N_OF(options), &client);
    EXPECT_STATUS(got, RS_IDC_OK);
    if (got == RS_IDC_OK) {
        const char *ids[] = {"options-cluster"};
        long before = fake_requests();
        expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
        expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
        EXPECT(fake_requests() - before == 2,
               "cache=off: two calls make two requests (made %ld)", fake_requests() - before);
        rs_idc_client_free(client);
    }
}

static void every_key_names_itself_when_its_value_is_bad(void)
{
    static const struct one bad[] = {
        {"region", "US EAST", "region:"},
        {"region", "", "region:"},
        {"region", "us_east_1", "region:"},
        /* Regions outside every known partition's shape. */
        {"region", "aa-bb-9", "region:"},
        {"region", "zz-east-1", "region:"},
        {"region", "us-east-123", "region:"},
        {"profile", "", "profile:"},
        {"profile", "   ", "profile:"},
        {"endpoint_url", "nonsense", "endpoint_url:"},
        {"endpoint_url", "", "endpoint_url:"},
        {"endpoint_url", "ftp://127.0.0.1/", "endpoint_url:"},
        {"endpoint_url", "http://10.1.2.3", "endpoint_url: plain http://"},
        {"endpoint_url", "http://redshift.us-east-1.amazonaws.com", "endpoint_url: plain http://"},
        {"ENDPOINT_URL", "http://192.168.0.1:8080", "endpoint_url: plain http://"},
        {"ca_file", "", "ca_file:"},
        {"proxy", "socks5://127.0.0.1:1080", "proxy:"},
        {"proxy", "127 0 0 1", "proxy:"},
        {"proxy", "", "proxy:"},
        {"http_proxy", "socks5://127.0.0.1:1080", "http_proxy:"},
        {"http_proxy", "127.0.0.1:3128", "http_proxy:"},
        {"http_proxy", "", "http_proxy:"},
        /* A bad proxy URL with a password: the password is not echoed. */
        {"proxy", "ftp://user:" SECRET_A "@127.0.0.1:21", "proxy:"},
        {"http_proxy", "socks5://user:" SECRET_A "@127.0.0.1:1080", "http_proxy:"},
        {"no_proxy", "localhost\t127.0.0.1", "no_proxy:"},
        {"connect_timeout_ms", "0", "connect_timeout_ms"},
        {"connect_timeout_ms", "3600001", "connect_timeout_ms"},
        {"connect_timeout_ms", "fast", "connect_timeout_ms"},
        {"connect_timeout_ms", "-5", "connect_timeout_ms"},
        {"timeout_ms", "0", "timeout_ms"},
        {"timeout_ms", "3600001", "timeout_ms"},
        {"timeout_ms", "2.5", "timeout_ms"},
        {"timeout_ms", "", "timeout_ms"},
        {"max_attempts", "0", "max_attempts:"},
        {"max_attempts", "11", "max_attempts:"},
        {"max_attempts", "three", "max_attempts:"},
        {"cache", "sometimes", "cache"},
        {"cache", "", "cache"},
        {"refresh_margin_s", "-1", "refresh_margin_s:"},
        {"refresh_margin_s", "3601", "refresh_margin_s:"},
        {"refresh_margin_s", "1m", "refresh_margin_s:"},
        {"allow_http", "perhaps", "allow_http"},
        {"allow_http", "2", "allow_http"},
        /* A control character in any value is refused, named by the key. */
        {"region", "us-\001east-1", "region: the value has a control character"},
        {"profile", "a\nb", "profile: the value has a control character"},
    };
    for (size_t i = 0; i < N_OF(bad); i++) {
        rs_idc_option option = {bad[i].key, bad[i].value};
        char what[160];
        snprintf(what, sizeof what, "%s=\"%s\"", bad[i].key, bad[i].value);
        expect_new_fails(what, &option, 1, bad[i].prefix);
    }

    /* A bad value after good ones is still found and named. */
    rs_idc_option later[] = {
        {"region", "us-east-1"},
        {"cache", "on"},
        {"max_attempts", "99"},
    };
    expect_new_fails("a bad third option", later, N_OF(later), "max_attempts:");

    /* Credential parts with bad values: named, never echoed. */
    rs_idc_option empty_id[] = {
        {"access_key_id", ""},
        {"secret_access_key", SECRET_A},
        {"session_token", SESSION_A},
    };
    expect_new_fails("access_key_id empty", empty_id, 3, "access_key_id:");
    rs_idc_option empty_secret[] = {
        {"access_key_id", "ASIAEXAMPLE0000001"},
        {"secret_access_key", "  "},
        {"session_token", SESSION_A},
    };
    expect_new_fails("secret_access_key blank", empty_secret, 3, "secret_access_key:");
    rs_idc_option empty_session[] = {
        {"access_key_id", "ASIAEXAMPLE0000001"},
        {"secret_access_key", SECRET_A},
        {"session_token", ""},
    };
    expect_new_fails("session_token empty", empty_session, 3, "session_token:");
    rs_idc_option control_secret[] = {
        {"access_key_id", "ASIAEXAMPLE0000001"},
        {"secret_access_key", SECRET_A "\001"},
        {"session_token", SESSION_A},
    };
    expect_new_fails("secret_access_key with a control character", control_secret, 3,
                     "secret_access_key:");
    rs_idc_option control_session[] = {
        {"access_key_id", "ASIAEXAMPLE0000001"},
        {"secret_access_key", SECRET_A},
        {"session_token", SESSION_A "\r\n"},
    };
    expect_new_fails("session_token with a control character", control_session, 3,
                     "session_token:");

    /* A value longer than RS_IDC_MAX_OPTION_VALUE_LEN. */
    size_t long_len = RS_IDC_MAX_OPTION_VALUE_LEN + 1;
    char *long_value = malloc(long_len + 1);
    if (CHECK(long_value != NULL)) {
        memset(long_value, 'x', long_len);
        long_value[long_len] = '\0';
        rs_idc_option too_long = {"session_token", long_value};
        expect_new_fails("session_token too long", &too_long, 1,
                         "session_token: the value is longer");
        too_long.key = "no_proxy";
        expect_new_fails("no_proxy too long", &too_long, 1, "no_proxy: the value is longer");
        /* Exactly the longest allowed is fine (no_proxy takes any text). */
        long_value[long_len - 1] = '\0';
        expect_new_ok("no_proxy of the longest length", &too_long, 1);
        free(long_value);
    }
}

static void ca_files_must_hold_a_certificate(void)
{
    rs_idc_option missing = {"ca_file", "/nonexistent/rs-idc/ca.pem"};
    expect_new_fails("ca_file missing", &missing, 1, "ca_file:");
    EXPECT_LAST_ERROR("/nonexistent/rs-idc/ca.pem");

    rs_idc_option directory = {"ca_file", "/tmp"};
    expect_new_fails("ca_file a directory", &directory, 1, "ca_file:");

    if (EXPECT(garbage_ca_path[0] != '\0', "the garbage file was written")) {
        rs_idc_option garbage = {"ca_file", garbage_ca_path};
        expect_new_fails("ca_file without a certificate", &garbage, 1, "ca_file:");
    }
    if (EXPECT(key_only_path[0] != '\0', "the PEM file without a certificate was written")) {
        rs_idc_option key_only = {"ca_file", key_only_path};
        expect_new_fails("ca_file with PEM but no certificate", &key_only, 1, "ca_file:");
    }
    rs_idc_option empty = {"ca_file", "/dev/null"};
    expect_new_fails("ca_file empty", &empty, 1, "ca_file:");

    /* Every PEM block must be a certificate that parses, the first or a later one. */
    if (EXPECT(bad_block_path[0] != '\0', "the file with a bad certificate block was written")) {
        rs_idc_option bad_block = {"ca_file", bad_block_path};
        expect_new_fails("ca_file with a CERTIFICATE block that does not parse", &bad_block, 1,
                         "ca_file:");
        EXPECT_LAST_ERROR("block 1");
    }
    if (EXPECT(good_then_bad_path[0] != '\0', "the file with a good and a bad block was written")) {
        rs_idc_option good_then_bad = {"ca_file", good_then_bad_path};
        expect_new_fails("ca_file with a good certificate, then a bad block", &good_then_bad, 1,
                         "ca_file:");
        EXPECT_LAST_ERROR("block 2");
    }

    /* Paths that are not regular files are refused (and never block). */
    if (EXPECT(fifo_path[0] != '\0', "the FIFO was made")) {
        rs_idc_option fifo = {"ca_file", fifo_path};
        expect_new_fails("ca_file a FIFO", &fifo, 1, "ca_file:");
        EXPECT_LAST_ERROR("is not a regular file");
    }
    rs_idc_option device = {"ca_file", "/dev/zero"};
    expect_new_fails("ca_file a device", &device, 1, "ca_file:");
    EXPECT_LAST_ERROR("is not a regular file");
}

static void keys_are_known_and_given_once(void)
{
    rs_idc_option unknown = {"colour", "blue"};
    expect_new_fails("unknown key", &unknown, 1, "options[0]: unknown option key 'colour'");
    rs_idc_option unknown_second[] = {{"region", "us-east-1"}, {"Host", "example"}};
    expect_new_fails("unknown second key", unknown_second, 2,
                     "options[1]: unknown option key 'host'");
    rs_idc_option empty_key = {"", "x"};
    expect_new_fails("empty key", &empty_key, 1, "options[0]: unknown option key ''");
    rs_idc_option spaced_key = {" region", "us-east-1"};
    expect_new_fails("key with a space", &spaced_key, 1, "options[0]: unknown option key");

    char long_key[RS_IDC_MAX_OPTION_KEY_LEN + 2];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    rs_idc_option too_long = {long_key, "x"};
    expect_new_fails("key too long", &too_long, 1, "options[0]: the key is longer");

    rs_idc_option twice[] = {{"region", "us-east-1"}, {"region", "us-east-2"}};
    expect_new_fails("region twice", twice, 2, "options[1]: region is given twice");
    rs_idc_option twice_cased[] = {{"Region", "us-east-1"}, {"region", "us-east-1"}};
    expect_new_fails("Region and region", twice_cased, 2, "options[1]: region is given twice");
    rs_idc_option twice_apart[] = {
        {"cache", "on"}, {"region", "us-east-1"}, {"timeout_ms", "100"}, {"CACHE", "off"}};
    expect_new_fails("cache at 0 and 3", twice_apart, 4, "options[3]: cache is given twice");
    rs_idc_option secret_twice[] = {
        {"access_key_id", "ASIAEXAMPLE0000001"},
        {"secret_access_key", SECRET_A},
        {"session_token", SESSION_A},
        {"SECRET_ACCESS_KEY", SECRET_A},
    };
    expect_new_fails("secret_access_key twice", secret_twice, 4,
                     "options[3]: secret_access_key is given twice");

    rs_idc_option null_key[] = {{"region", "us-east-1"}, {NULL, "x"}};
    expect_new_fails("NULL key", null_key, 2, "options[1].key is NULL");
    rs_idc_option null_value = {"region", NULL};
    expect_new_fails("NULL value", &null_value, 1, "region: the value is NULL");
    rs_idc_option null_secret[] = {
        {"access_key_id", "ASIAEXAMPLE0000001"},
        {"secret_access_key", NULL},
        {"session_token", SESSION_A},
    };
    expect_new_fails("NULL secret", null_secret, 3, "secret_access_key: the value is NULL");
}

static void counts_and_pointers(void)
{
    /* 65 options: more than RS_IDC_MAX_OPTIONS, refused before any key is read. */
    rs_idc_option many[RS_IDC_MAX_OPTIONS + 1];
    for (size_t i = 0; i < N_OF(many); i++) {
        many[i].key = "cache";
        many[i].value = "on";
    }
    expect_new_fails("n = 65", many, N_OF(many), "n must be at most 64");
    /* 64 options pass the count; here the second one is a repeat. */
    expect_new_fails("n = 64, repeated key", many, RS_IDC_MAX_OPTIONS,
                     "options[1]: cache is given twice");
    /* SIZE_MAX must not be read as an array length. */
    expect_new_fails("n = SIZE_MAX", many, SIZE_MAX, "n must be at most 64");

    expect_new_fails("options NULL, n 1", NULL, 1, "options is NULL");
    expect_new_fails("options NULL, n 65", NULL, 65, "options is NULL");

    rs_idc_option good = {"region", "us-east-1"};
    int got = rs_idc_client_new(&good, 1, NULL);
    EXPECT_STATUS(got, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("out is NULL");
    got = rs_idc_client_new(NULL, 0, NULL);
    EXPECT_STATUS(got, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("out is NULL");

    /* Freeing NULL is fine (a crash here fails the run). */
    rs_idc_client_free(NULL);
}

static void credentials_go_together(void)
{
    struct partial {
        int id, secret, session; /* which parts are given */
        const char *missing;     /* the message ends with "missing ..." */
    };
    static const struct partial cases[] = {
        {1, 0, 0, "missing secret_access_key, session_token"},
        {0, 1, 0, "missing access_key_id, session_token"},
        {0, 0, 1, "missing access_key_id, secret_access_key"},
        {1, 1, 0, "missing session_token"},
        {1, 0, 1, "missing secret_access_key"},
        {0, 1, 1, "missing access_key_id"},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        rs_idc_option options[4];
        size_t n = 0;
        options[n++] = (rs_idc_option){"region", "us-east-1"};
        if (cases[i].secret) {
            options[n++] = (rs_idc_option){"secret_access_key", SECRET_A};
        }
        if (cases[i].id) {
            options[n++] = (rs_idc_option){"access_key_id", "ASIAEXAMPLE0000001"};
        }
        if (cases[i].session) {
            options[n++] = (rs_idc_option){"session_token", SESSION_A};
        }
        char what[96];
        snprintf(what, sizeof what, "credentials, %s", cases[i].missing);
        /* expect_new_fails checks that neither secret is in the message. */
        expect_new_fails(what, options, n, "access_key_id, secret_access_key and session_token");
        EXPECT_LAST_ERROR("go together");
        const char *message = rs_idc_last_error();
        size_t len = strlen(message), want = strlen(cases[i].missing);
        EXPECT(len >= want && strcmp(message + len - want, cases[i].missing) == 0,
               "%s: last error \"%s\" should end with \"%s\"", what, message, cases[i].missing);
    }
}

int main(void)
{
    snprintf(good_ca_path, sizeof good_ca_path, "/tmp/rs-idc-ca-XXXXXX");
    snprintf(garbage_ca_path, sizeof garbage_ca_path, "/tmp/rs-idc-garbage-XXXXXX");
    snprintf(key_only_path, sizeof key_only_path, "/tmp/rs-idc-nocert-XXXXXX");
    CHECK(write_temp(good_ca_path, test_ca_pem) == 0);
    CHECK(write_temp(garbage_ca_path, "this is not a certificate\n\001\002\003\n") == 0);
    CHECK(write_temp(key_only_path,
                     "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n") == 0);
    /* Well-formed PEM around bytes that are no X.509 certificate. */
    static const char bad_block[] = "-----BEGIN CERTIFICATE-----\n"
                                    "Z2FyYmFnZSBpbnNpZGUgYSBQRU0gZW52ZWxvcGU=\n"
                                    "-----END CERTIFICATE-----\n";
    snprintf(bad_block_path, sizeof bad_block_path, "/tmp/rs-idc-badblock-XXXXXX");
    CHECK(write_temp(bad_block_path, bad_block) == 0);
    char good_then_bad[sizeof test_ca_pem + sizeof bad_block];
    snprintf(good_then_bad, sizeof good_then_bad, "%s%s", test_ca_pem, bad_block);
    snprintf(good_then_bad_path, sizeof good_then_bad_path, "/tmp/rs-idc-goodbad-XXXXXX");
    CHECK(write_temp(good_then_bad_path, good_then_bad) == 0);
    snprintf(fifo_path, sizeof fifo_path, "/tmp/rs-idc-fifo-%ld.pem", (long)getpid());
    if (!CHECK(mkfifo(fifo_path, 0600) == 0)) {
        fifo_path[0] = '\0';
    }

    every_key_takes_a_good_value();
    many_keys_at_once_get_a_token();
    every_key_names_itself_when_its_value_is_bad();
    ca_files_must_hold_a_certificate();
    keys_are_known_and_given_once();
    counts_and_pointers();
    credentials_go_together();

    if (good_ca_path[0] != '\0') {
        unlink(good_ca_path);
    }
    if (garbage_ca_path[0] != '\0') {
        unlink(garbage_ca_path);
    }
    if (key_only_path[0] != '\0') {
        unlink(key_only_path);
    }
    if (bad_block_path[0] != '\0') {
        unlink(bad_block_path);
    }
    if (good_then_bad_path[0] != '\0') {
        unlink(good_then_bad_path);
    }
    if (fifo_path[0] != '\0') {
        unlink(fifo_path);
    }
    return test_summary();
}
