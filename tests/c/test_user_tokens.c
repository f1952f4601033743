/*
 * test_user_tokens.c - per-user tokens (trusted identity propagation).
 *
 * A multi-user program holds its own plain application credentials and one
 * handle made with idc_application_arn and access_role_arn. Each user's web
 * token (a JWT from the identity provider; here from the fake's control
 * operation web_token) is exchanged for that user's identity-enhanced
 * credentials (SSO-OIDC CreateTokenWithIAM, then STS AssumeRole with the
 * identity context), which get that user's Redshift token. The fake issues
 * tokens that name their user (control operation token_subject), so each check
 * sees whose token a call handed out, and it counts every operation
 * (control operation stats), so each check sees which requests a call made.
 *
 *     test_user_tokens           the default parts below, a few seconds
 *     test_user_tokens refresh   renewal of a user's credentials with the
 *                                refresh token, and the fallback to the web
 *                                token once the refresh token has expired;
 *                                run it under `rs-idc-fake run
 *                                --user-credentials-ttl 20
 *                                --refresh-token-ttl 15 --` (about 30 s)
 *
 * Default parts:
 *  1. no AWS credentials in the process: without them the exchange cannot
 *     be signed (RS_IDC_ENOCREDS, no request); with application_role_arn
 *     the web token itself gets the signing credentials
 *     (AssumeRoleWithWebIdentity), and refusals of that role;
 *  2. option checks of rs_idc_client_new for the per-user options;
 *  3. several users get their own tokens, one exchange each, cached
 *     afterwards; the serverless call; identifiers checked before any
 *     exchange;
 *  4. refusals: each with its status, its service code, the requests it
 *     made, and no web token in rs_idc_last_error(); malformed and expired
 *     web tokens make no request at all;
 *  5. web_token_file: the plain token calls get the file's user's token;
 *  6. log records at the most detailed level hold no web token or token;
 *  7. many users on many threads, interleaved, never get each other's
 *     tokens, with one exchange per user;
 *  8. a burst of threads for one new (slow) user makes one exchange.
 *
 * Under valgrind the thread counts are smaller. Tokens, web tokens and
 * secrets are never printed: only subjects, lengths and statuses.
 */

#include "harness.h"

#include <pthread.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* From the environment of `rs-idc-fake run`. */
static const char *plain_secret;
static const char *app_arn;
static const char *unauthorized_app_arn;
static const char *unknown_app_arn;
static const char *access_role_arn;
static const char *app_role_arn;
static const char *denied_role_arn;

/* The whole-call bound of every handle here. */
static char roomy_timeout[32];

/* ---------------------------------------------------------------- handles */

/* A handle with the plain keys, the test application and access role, and `extra`. */
#define user_handle(extra, n_extra)                                                        \
    h_user_handle(__FILE__, __LINE__, roomy_timeout, 1, app_arn, access_role_arn, (extra), \
                  (n_extra), RS_IDC_OK)
/* Any combination, with the roomy time bound; see h_user_handle. */
#define user_handle_with(with_keys, app, role, extra, n_extra, want)                      \
    h_user_handle(__FILE__, __LINE__, roomy_timeout, (with_keys), (app), (role), (extra), \
                  (n_extra), (want))

/* ------------------------------------------------------------- user calls */

/* Which per-user call h_expect_user makes. */
enum user_call {
    U_CLUSTER,    /* rs_idc_client_get_user_token */
    U_SERVERLESS, /* rs_idc_client_get_user_serverless_token */
};

static const char *user_call_name(enum user_call call)
{
    return call == U_CLUSTER ? "rs_idc_client_get_user_token"
                             : "rs_idc_client_get_user_serverless_token";
}

/*
 * Makes one per-user call for the single identifier `name` and checks the
 * status and the out/exp contract (as h_expect_client does). On success
 * the token goes to *token_out when token_out is not NULL (the caller
 * frees it), else it is freed; on failure *token_out is NULL, and the last
 * error must not hold the web token, any of its three parts, or the plain
 * secret key. Returns the status.
 */
static int h_expect_user(const char *file, int line, rs_idc_client *client, enum user_call call,
                         const char *web_token, const char *name, int want, char **token_out)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    const char *names[] = {name};
    int got = call == U_CLUSTER
                  ? rs_idc_client_get_user_token(client, web_token, names, 1, &out, &exp)
                  : rs_idc_client_get_user_serverless_token(client, web_token, names, 1, &out,
                                                            &exp);
    const char *message = rs_idc_last_error();
    char what[256];
    snprintf(what, sizeof what, "%s(%s)", user_call_name(call), name);
    h_expect_outcome(file, line, what, got, want, message, out, sentinel, exp, token_out, NULL);
    if (got == RS_IDC_OK) {
        return got;
    }
    h_expect_lacks(file, line, "the last error", message, plain_secret, "the secret access key");
    if (web_token != NULL && strlen(web_token) >= 12) {
        h_expect_lacks(file, line, "the last error", message, web_token, "the web token");
        /* Each part of a JWT on its own is telling too (the payload names the user). */
        char part[RS_IDC_MAX_WEB_TOKEN_LEN + 1];
        const char *start = web_token;
        for (int i = 0; i < 3 && start != NULL; i++) {
            const char *dot = strchr(start, '.');
            size_t len = dot != NULL ? (size_t)(dot - start) : strlen(start);
            if (len >= 12 && len < sizeof part) {
                memcpy(part, start, len);
                part[len] = '\0';
                h_expect_lacks(file, line, "the last error", message, part,
                               i == 0 ? "the web token's header" : i == 1 ? "the web token's payload"
                                                                         : "the web token's signature");
            }
            start = dot != NULL ? dot + 1 : NULL;
        }
    }
    return got;
}
/* expect_user(client, call, web_token, name, want): see h_expect_user. */
#define expect_user(client, call, web_token, name, want) \
    h_expect_user(__FILE__, __LINE__, (client), (call), (web_token), (name), (want), NULL)
/* expect_user_token(..., &token): also hands back the token (caller frees). */
#define expect_user_token(client, call, web_token, name, want, token_out) \
    h_expect_user(__FILE__, __LINE__, (client), (call), (web_token), (name), (want), (token_out))

/* A call that must succeed and hand out a token issued to `subject`; the token is freed. */
static void h_expect_user_subject(const char *file, int line, rs_idc_client *client,
                                  enum user_call call, const char *web_token, const char *name,
                                  const char *subject)
{
    char *token = NULL;
    if (h_expect_user(file, line, client, call, web_token, name, RS_IDC_OK, &token) ==
        RS_IDC_OK) {
        h_expect_subject(file, line, token, subject);
    }
    rs_idc_free_token(token);
}
#define expect_user_subject(client, call, web_token, name, subject) \
    h_expect_user_subject(__FILE__, __LINE__, (client), (call), (web_token), (name), (subject))

/* ------------------------------------------------------------ small tools */

/* Sleeps until the monotonic clock reads `when` (seconds). */
static void sleep_until(double when)
{
    for (;;) {
        double left = when - now_seconds();
        if (left <= 0) {
            return;
        }
        struct timespec pause = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&pause, NULL);
    }
}

/* Base64url without padding of `len` bytes, into `out` (room for 4*len/3+4). */
static void b64url(const unsigned char *bytes, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t bits = (uint32_t)bytes[i] << 16;
        size_t chunk = len - i < 3 ? len - i : 3;
        if (chunk > 1) {
            bits |= (uint32_t)bytes[i + 1] << 8;
        }
        if (chunk > 2) {
            bits |= bytes[i + 2];
        }
        for (size_t j = 0; j <= chunk; j++) {
            out[o++] = alphabet[(bits >> (18 - 6 * j)) & 63];
        }
    }
    out[o] = '\0';
}

/* A JWT-shaped string: an HS256 header, `payload` (any text) and a made-up signature. */
static void forge_jwt(const char *payload, char *out, size_t size)
{
    const char *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char h[128], p[1024];
    b64url((const unsigned char *)header, strlen(header), h);
    b64url((const unsigned char *)payload, strlen(payload), p);
    snprintf(out, size, "%s.%s.c2lnbmF0dXJlLW1hZGUtdXAtYnktdGhlLXRlc3Q", h, p);
}

/* ------------------------------------------- part 1: no AWS credentials */

static void no_credentials_in_the_process(void)
{
    /* Runs first, before any library thread exists: unsetenv() is safe here. */
    unset_aws_credentials();
    CHECK(getenv("AWS_ACCESS_KEY_ID") == NULL && getenv("AWS_SESSION_TOKEN") == NULL);

    char *alice = fake_web_token("role-alice", 3600, "");
    char *bob = fake_web_token("role-bob", 3600, "");
    char *wrong_key = fake_web_token("role-mallory", 3600, WRONG_KEY);
    if (alice == NULL || bob == NULL || wrong_key == NULL) {
        h_free_secret(alice);
        h_free_secret(bob);
        h_free_secret(wrong_key);
        return;
    }

    /* Without credentials and without an application role nothing can sign the exchange. */
    rs_idc_client *bare = user_handle_with(0, app_arn, access_role_arn, NULL, 0, RS_IDC_OK);
    if (bare != NULL) {
        struct fake_ops before = fake_ops();
        expect_user(bare, U_CLUSTER, alice, "analytics", RS_IDC_ENOCREDS);
        EXPECT_OPS("no credentials at all", before, 0, 0, 0, 0, 0, 0);
        rs_idc_client_free(bare);
    }

    rs_idc_option role[] = {{"application_role_arn", app_role_arn},
                            {"role_session_name", "rs-idc-c-test"}};
    rs_idc_client *h = user_handle_with(0, app_arn, access_role_arn, role, N_OF(role), RS_IDC_OK);
    if (h != NULL) {
        struct fake_ops before = fake_ops();
        char *first = NULL, *again = NULL;
        if (expect_user_token(h, U_CLUSTER, alice, "analytics", RS_IDC_OK, &first) == RS_IDC_OK) {
            EXPECT_SUBJECT(first, "role-alice");
        }
        EXPECT_OPS("alice through the application role", before, 4, 1, 1, 1, 1, 0);

        before = fake_ops();
        expect_user_token(h, U_CLUSTER, alice, "analytics", RS_IDC_OK, &again);
        EXPECT(same_token(first, again), "alice's second call gets her cached token");
        EXPECT_OPS("alice again", before, 0, 0, 0, 0, 0, 0);

        before = fake_ops();
        expect_user_subject(h, U_CLUSTER, bob, "analytics", "role-bob");
        EXPECT_OPS("bob through the application role", before, 4, 1, 1, 1, 1, 0);

        before = fake_ops();
        expect_user_subject(h, U_SERVERLESS, alice, "analytics-wg", "role-alice");
        EXPECT_OPS("alice's workgroup (her credentials are kept)", before, 1, 1, 0, 0, 0, 0);

        /* STS refuses a web token signed with another key. */
        before = fake_ops();
        expect_user(h, U_CLUSTER, wrong_key, "analytics", RS_IDC_EIDENTITY);
        EXPECT_LAST_ERROR("InvalidIdentityToken");
        EXPECT_OPS("a web token STS refuses", before, 1, 0, 0, 1, 0, 0);
        rs_idc_free_token(first);
        rs_idc_free_token(again);
        rs_idc_client_free(h);
    }

    /* An application role that may not be assumed. */
    rs_idc_option denied[] = {{"application_role_arn", denied_role_arn}};
    rs_idc_client *d = user_handle_with(0, app_arn, access_role_arn, denied, 1, RS_IDC_OK);
    if (d != NULL) {
        struct fake_ops before = fake_ops();
        expect_user(d, U_CLUSTER, alice, "analytics", RS_IDC_EDENIED);
        EXPECT_LAST_ERROR("AccessDenied");
        EXPECT_OPS("a denied application role", before, 1, 0, 0, 1, 0, 0);
        rs_idc_client_free(d);
    }
    h_free_secret(alice);
    h_free_secret(bob);
    h_free_secret(wrong_key);
}

/* ------------------------------------------------------ part 2: options */

static void option_checks(void)
{
    char directory[512];
    const char *dir = getenv("TMPDIR");
    snprintf(directory, sizeof directory, "%s", dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    static const char long_name[] =
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm"; /* 65 */
    struct {
        const char *what;
        const char *app;
        const char *role;
        rs_idc_option extra;
        const char *named; /* the last error names this key */
    } refused[] = {
        {"an application without an access role", app_arn, NULL, {NULL, NULL}, "access_role_arn"},
        {"an access role without an application", NULL, access_role_arn, {NULL, NULL},
         "idc_application_arn"},
        {"an application role alone", NULL, NULL, {"application_role_arn", app_role_arn},
         "application_role_arn"},
        {"a web token file alone", NULL, NULL, {"web_token_file", "/etc/hostname"},
         "web_token_file"},
        {"a role session name alone", NULL, NULL, {"role_session_name", "rs-idc-test"},
         "role_session_name"},
        {"an IAM role ARN as application", access_role_arn, access_role_arn, {NULL, NULL},
         "idc_application_arn"},
        {"an application ARN as access role", app_arn, app_arn, {NULL, NULL}, "access_role_arn"},
        {"a malformed application role", app_arn, access_role_arn,
         {"application_role_arn", "role/app"}, "application_role_arn"},
        {"a one-character session name", app_arn, access_role_arn, {"role_session_name", "x"},
         "role_session_name"},
        {"a session name with a space", app_arn, access_role_arn,
         {"role_session_name", "rs idc"}, "role_session_name"},
        {"a 65-character session name", app_arn, access_role_arn,
         {"role_session_name", long_name}, "role_session_name"},
        {"a web token file that does not exist", app_arn, access_role_arn,
         {"web_token_file", "/nonexistent/rs-idc/web-token"}, "web_token_file"},
        {"a directory as web token file", app_arn, access_role_arn,
         {"web_token_file", directory}, "web_token_file"},
        {"a device as web token file", app_arn, access_role_arn,
         {"web_token_file", "/dev/null"}, "web_token_file"},
    };
    for (size_t i = 0; i < N_OF(refused); i++) {
        size_t n_extra = refused[i].extra.key != NULL ? 1 : 0;
        rs_idc_client *c = user_handle_with(1, refused[i].app, refused[i].role, &refused[i].extra,
                                            n_extra, RS_IDC_EINVAL);
        EXPECT(c == NULL, "%s: refused", refused[i].what);
        EXPECT(strstr(rs_idc_last_error(), refused[i].named) != NULL,
               "%s: the last error \"%s\" should name %s", refused[i].what, rs_idc_last_error(),
               refused[i].named);
        rs_idc_client_free(c);
    }

    /* Plain keys (no session token) are refused without the per-user options... */
    rs_idc_client *c = user_handle_with(1, NULL, NULL, NULL, 0, RS_IDC_EINVAL);
    rs_idc_client_free(c);
    /* ...and taken with them, as is a valid session name. */
    rs_idc_option name[] = {{"role_session_name", "bi-server@example.com"}};
    c = user_handle_with(1, app_arn, access_role_arn, name, 1, RS_IDC_OK);
    CHECK(c != NULL);
    rs_idc_client_free(c);
}

/* ------------------------------------------ part 3: users, one by one */

static void users_get_their_own_tokens(rs_idc_client *h)
{
    static const char *const users[] = {"alice", "bob", "carol", "dave", "erin"};
    enum { N_USERS = N_OF(users) };
    char *web[N_USERS] = {0};
    char *tokens[N_USERS] = {0};
    for (size_t i = 0; i < N_USERS; i++) {
        web[i] = fake_web_token(users[i], 3600, "");
    }
    for (size_t i = 0; i < N_USERS; i++) {
        if (web[i] == NULL) {
            continue;
        }
        struct fake_ops before = fake_ops();
        if (expect_user_token(h, U_CLUSTER, web[i], "analytics", RS_IDC_OK, &tokens[i]) ==
            RS_IDC_OK) {
            EXPECT_SUBJECT(tokens[i], users[i]);
            printf("  %-6s token: %zu bytes\n", users[i], strlen(tokens[i]));
        }
        EXPECT_OPS(users[i], before, 3, 1, 1, 0, 1, 0);
    }
    for (size_t i = 0; i < N_USERS; i++) {
        for (size_t j = i + 1; j < N_USERS; j++) {
            EXPECT(tokens[i] != NULL && tokens[j] != NULL && !same_token(tokens[i], tokens[j]),
                   "%s and %s get different tokens", users[i], users[j]);
        }
    }
    /* The second call of each user is served from the cache. */
    for (size_t i = 0; i < N_USERS; i++) {
        if (web[i] == NULL) {
            continue;
        }
        char *again = NULL;
        struct fake_ops before = fake_ops();
        expect_user_token(h, U_CLUSTER, web[i], "analytics", RS_IDC_OK, &again);
        EXPECT(same_token(tokens[i], again), "%s's second call gets the same token", users[i]);
        EXPECT_OPS("a cached second call", before, 0, 0, 0, 0, 0, 0);
        rs_idc_free_token(again);
    }
    if (web[0] != NULL && web[1] != NULL && web[2] != NULL) {
        /* Another cluster: the user's credentials are kept, one token request. */
        struct fake_ops before = fake_ops();
        expect_user_subject(h, U_CLUSTER, web[0], "reporting", "alice");
        EXPECT_OPS("alice, another cluster", before, 1, 1, 0, 0, 0, 0);

        /* Serverless: the same credentials, its own token and cache entry. */
        before = fake_ops();
        char *wg = NULL, *wg_again = NULL;
        if (expect_user_token(h, U_SERVERLESS, web[1], "analytics-wg", RS_IDC_OK, &wg) ==
            RS_IDC_OK) {
            EXPECT_SUBJECT(wg, "bob");
        }
        EXPECT_OPS("bob's workgroup", before, 1, 1, 0, 0, 0, 0);
        before = fake_ops();
        expect_user_token(h, U_SERVERLESS, web[1], "analytics-wg", RS_IDC_OK, &wg_again);
        EXPECT(same_token(wg, wg_again), "bob's second workgroup call gets the same token");
        EXPECT(!same_token(wg, tokens[1]), "bob's workgroup token is not his cluster token");
        EXPECT_OPS("bob's workgroup again", before, 0, 0, 0, 0, 0, 0);
        rs_idc_free_token(wg);
        rs_idc_free_token(wg_again);

        /* Several clusters in one call. */
        const char *two[] = {"analytics", "reporting"};
        char *both = NULL;
        before = fake_ops();
        EXPECT_STATUS(rs_idc_client_get_user_token(h, web[2], two, 2, &both, NULL), RS_IDC_OK);
        if (both != NULL) {
            EXPECT_SUBJECT(both, "carol");
        }
        EXPECT_OPS("carol, two clusters", before, 1, 1, 0, 0, 0, 0);
        rs_idc_free_token(both);

        /* A service error comes through with the user's credentials too. */
        before = fake_ops();
        expect_user(h, U_CLUSTER, web[2], "err-notfound", RS_IDC_ENOTFOUND);
        EXPECT_LAST_ERROR("ClusterNotFound");
        EXPECT_OPS("carol, a missing cluster", before, 1, 1, 0, 0, 0, 0);
    }

    /* Another web token of the same user also gets that user's token. */
    char *alice2 = fake_web_token("alice", 1800, "");
    if (alice2 != NULL) {
        expect_user_subject(h, U_CLUSTER, alice2, "analytics", "alice");
    }
    h_free_secret(alice2);

    /* Identifiers are checked before the exchange: nothing is sent. */
    char *frank = fake_web_token("frank", 3600, "");
    if (frank != NULL) {
        struct fake_ops before = fake_ops();
        expect_user(h, U_CLUSTER, frank, "bad_id", RS_IDC_EINVAL);
        expect_user(h, U_SERVERLESS, frank, "Upper-Case", RS_IDC_EINVAL);
        char *out = NULL;
        const char *ids[] = {"analytics"};
        EXPECT_STATUS(rs_idc_client_get_user_token(h, frank, ids, 0, &out, NULL), RS_IDC_EINVAL);
        CHECK(out == NULL);
        EXPECT_STATUS(rs_idc_client_get_user_token(h, frank, NULL, 1, &out, NULL), RS_IDC_EINVAL);
        CHECK(out == NULL);
        EXPECT_STATUS(rs_idc_client_get_user_token(h, frank, ids, 1, NULL, NULL), RS_IDC_EINVAL);
        EXPECT_OPS("bad identifiers", before, 0, 0, 0, 0, 0, 0);
    }
    h_free_secret(frank);

    /* The handle's own plain credentials get no token of their own, and no user's. */
    char *own = NULL;
    const char *ids[] = {"analytics"};
    int status = rs_idc_client_get_token(h, ids, 1, &own, NULL);
    EXPECT(status != RS_IDC_OK && own == NULL,
           "the plain application credentials get no token (status %s)",
           rs_idc_status_str(status));
    printf("  plain application credentials, no web token: %s\n", rs_idc_status_str(status));
    rs_idc_free_token(own);

    for (size_t i = 0; i < N_USERS; i++) {
        rs_idc_free_token(tokens[i]);
        h_free_secret(web[i]);
    }
}

/* ------------------------------------------------------ part 4: refusals */

static void refusals(rs_idc_client *h)
{
    rs_idc_client *unauthorized = user_handle_with(1, unauthorized_app_arn, access_role_arn, NULL, 0,
                                                   RS_IDC_OK);
    rs_idc_client *unknown = user_handle_with(1, unknown_app_arn, access_role_arn, NULL, 0,
                                              RS_IDC_OK);
    rs_idc_client *denied = user_handle_with(1, app_arn, denied_role_arn, NULL, 0, RS_IDC_OK);
    char forged[1024];
    char payload[256];
    snprintf(payload, sizeof payload, "{\"sub\":\"mallory\",\"exp\":%lld}",
             (long long)time(NULL) + 600);
    forge_jwt(payload, forged, sizeof forged);

    struct {
        const char *what;
        rs_idc_client *client;
        char *web_token;
        enum user_call call;
        int want;
        const char *code;
        long requests, assume_role, jwt_bearer;
    } cases[] = {
        {"a web token signed with another key", h, fake_web_token("sig-mallory", 3600, WRONG_KEY),
         U_CLUSTER, RS_IDC_EIDENTITY, "InvalidGrant", 1, 0, 1},
        {"the same, serverless", h, fake_web_token("sig-mallory", 3600, WRONG_KEY),
         U_SERVERLESS, RS_IDC_EIDENTITY, "InvalidGrant", 1, 0, 1},
        {"a web token of another issuer", h,
         fake_web_token("iss-mallory", 3600, ",\"iss\":\"https://issuer.invalid\""), U_CLUSTER,
         RS_IDC_EIDENTITY, "InvalidGrant", 1, 0, 1},
        {"a web token for another audience", h,
         fake_web_token("aud-mallory", 3600, ",\"aud\":\"someone-else\""), U_CLUSTER, RS_IDC_EIDENTITY,
         "InvalidGrant", 1, 0, 1},
        {"a JWT with a made-up signature", h, strdup(forged), U_CLUSTER, RS_IDC_EIDENTITY,
         "InvalidGrant", 1, 0, 1},
        {"an application the web tokens' issuer is not authorized for", unauthorized,
         fake_web_token("ua-alice", 3600, ""), U_CLUSTER, RS_IDC_EIDENTITY, "UnauthorizedClient",
         1, 0, 1},
        {"an unknown application", unknown, fake_web_token("uk-alice", 3600, ""), U_CLUSTER,
         RS_IDC_EIDENTITY, "InvalidClient", 1, 0, 1},
        {"an access role that may not be assumed", denied, fake_web_token("dr-alice", 3600, ""),
         U_CLUSTER, RS_IDC_EDENIED, "AccessDenied", 2, 1, 1},
        {"the same, serverless", denied, fake_web_token("dr-bob", 3600, ""), U_SERVERLESS,
         RS_IDC_EDENIED, "AccessDenied", 2, 1, 1},
        /* Refused before any request. */
        {"an expired web token", h, fake_web_token("expired-alice", -60, ""), U_CLUSTER,
         RS_IDC_EIDENTITY, "expired", 0, 0, 0},
        {"an expired web token, serverless", h, fake_web_token("expired-bob", -1, ""),
         U_SERVERLESS, RS_IDC_EIDENTITY, "expired", 0, 0, 0},
        {"an expired web token, denied role", denied, fake_web_token("expired-carol", -3600, ""),
         U_CLUSTER, RS_IDC_EIDENTITY, "expired", 0, 0, 0},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        if (cases[i].client == NULL || !EXPECT(cases[i].web_token != NULL, "%s: made",
                                               cases[i].what)) {
            continue;
        }
        struct fake_ops before = fake_ops();
        const char *name = cases[i].call == U_CLUSTER ? "analytics" : "analytics-wg";
        expect_user(cases[i].client, cases[i].call, cases[i].web_token, name, cases[i].want);
        EXPECT(strstr(rs_idc_last_error(), cases[i].code) != NULL,
               "%s: the last error \"%s\" should name %s", cases[i].what, rs_idc_last_error(),
               cases[i].code);
        h_expect_ops(__FILE__, __LINE__, cases[i].what, before, cases[i].requests, 0,
                     cases[i].assume_role, 0, cases[i].jwt_bearer, 0);
        printf("  %-62s %s\n", cases[i].what, rs_idc_status_str(cases[i].want));
    }

    /* Malformed web tokens: RS_IDC_EINVAL before any request. */
    char not_json[256], no_exp[256], string_exp[256], array[256], nested_exp[256], not_b64[256];
    forge_jwt("this is not JSON", not_json, sizeof not_json);
    forge_jwt("{\"sub\":\"alice\",\"iat\":1700000000}", no_exp, sizeof no_exp);
    forge_jwt("{\"sub\":\"alice\",\"exp\":\"4102444800\"}", string_exp, sizeof string_exp);
    forge_jwt("[4102444800]", array, sizeof array);
    forge_jwt("{\"sub\":\"alice\",\"claims\":{\"exp\":4102444800}}", nested_exp,
              sizeof nested_exp);
    snprintf(not_b64, sizeof not_b64, "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOj+/Q==.c2lnbmF0dXJl");
    size_t huge_len = RS_IDC_MAX_WEB_TOKEN_LEN + 1;
    char *huge = malloc(huge_len + 1);
    if (huge != NULL) {
        char exp_payload[64];
        snprintf(exp_payload, sizeof exp_payload, "{\"exp\":%lld}", (long long)time(NULL) + 600);
        char shaped[256];
        forge_jwt(exp_payload, shaped, sizeof shaped);
        /* A valid shape whose signature part makes it one byte too long. */
        size_t have = strlen(shaped);
        memcpy(huge, shaped, have);
        memset(huge + have, 'A', huge_len - have);
        huge[huge_len] = '\0';
    }
    struct {
        const char *what;
        const char *web_token;
    } malformed[] = {
        {"an empty string", ""},
        {"white space", " \n"},
        {"one part", "not-a-web-token"},
        {"two parts", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9"},
        {"four parts", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln.c2ln"},
        {"an empty signature", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9."},
        {"a payload that is not base64url", not_b64},
        {"a payload that is not JSON", not_json},
        {"a payload without exp", no_exp},
        {"exp as a string", string_exp},
        {"a JSON array payload", array},
        {"exp only in a nested object", nested_exp},
        {"one byte over RS_IDC_MAX_WEB_TOKEN_LEN", huge},
    };
    struct fake_ops before = fake_ops();
    for (size_t i = 0; i < N_OF(malformed); i++) {
        if (malformed[i].web_token == NULL) {
            continue;
        }
        int got = expect_user(h, U_CLUSTER, malformed[i].web_token, "analytics", RS_IDC_EINVAL);
        EXPECT(got == RS_IDC_EINVAL, "malformed web token: %s", malformed[i].what);
        expect_user(h, U_SERVERLESS, malformed[i].web_token, "analytics-wg", RS_IDC_EINVAL);
    }
    free(huge);
    /* NULL web token, NULL handle, and a handle without the per-user options. */
    const char *ids[] = {"analytics"};
    char *out = NULL;
    EXPECT_STATUS(rs_idc_client_get_user_token(h, NULL, ids, 1, &out, NULL), RS_IDC_EINVAL);
    CHECK(out == NULL);
    EXPECT_STATUS(rs_idc_client_get_user_serverless_token(h, NULL, ids, 1, &out, NULL),
                  RS_IDC_EINVAL);
    CHECK(out == NULL);
    EXPECT_STATUS(rs_idc_client_get_user_token(NULL, forged, ids, 1, &out, NULL), RS_IDC_EINVAL);
    CHECK(out == NULL);
    rs_idc_client *ordinary = test_handle("RS_IDC_TEST_IDC", roomy_timeout, NULL, 0);
    if (ordinary != NULL) {
        expect_user(ordinary, U_CLUSTER, forged, "analytics", RS_IDC_EINVAL);
        EXPECT_LAST_ERROR("idc_application_arn");
        expect_user(ordinary, U_SERVERLESS, forged, "analytics-wg", RS_IDC_EINVAL);
        rs_idc_client_free(ordinary);
    }
    EXPECT_OPS("malformed web tokens, NULL arguments, a handle without the options", before, 0,
               0, 0, 0, 0, 0);

    for (size_t i = 0; i < N_OF(cases); i++) {
        h_free_secret(cases[i].web_token);
    }
    rs_idc_client_free(unauthorized);
    rs_idc_client_free(unknown);
    rs_idc_client_free(denied);
}

/* ------------------------------------------------ part 5: web_token_file */

static void web_token_file(void)
{
    char *alice = fake_web_token("file-alice", 3600, "");
    char *bob = fake_web_token("file-bob", 3600, "");
    char *expired = fake_web_token("file-expired", -60, "");
    char path[512], bad_path[512], expired_path[512], gone_path[512];
    if (alice == NULL || bob == NULL || expired == NULL ||
        !CHECK(new_temp_file(alice, path, sizeof path) == 0)) {
        h_free_secret(alice);
        h_free_secret(bob);
        h_free_secret(expired);
        return;
    }
    rs_idc_option file[] = {{"web_token_file", path}};
    rs_idc_client *f = user_handle(file, 1);
    if (f != NULL) {
        const char *ids[] = {"analytics"};
        const char *workgroups[] = {"analytics-wg"};
        const char *hosts[] = {"analytics.abc123xyz789.us-east-1.redshift.amazonaws.com"};
        char *first = NULL, *again = NULL, *by_host = NULL;

        struct fake_ops before = fake_ops();
        if (expect_client_token(f, H_CLUSTER, ids, 1, RS_IDC_OK, &first, NULL) == RS_IDC_OK) {
            EXPECT_SUBJECT(first, "file-alice");
        }
        EXPECT_OPS("the file's user, first call", before, 3, 1, 1, 0, 1, 0);

        before = fake_ops();
        expect_client_token(f, H_CLUSTER, ids, 1, RS_IDC_OK, &again, NULL);
        EXPECT(same_token(first, again), "the file's user's second call gets the same token");
        EXPECT_OPS("the file's user, cached", before, 0, 0, 0, 0, 0, 0);

        before = fake_ops();
        char *wg = NULL;
        if (expect_client_token(f, H_SERVERLESS, workgroups, 1, RS_IDC_OK, &wg, NULL) ==
            RS_IDC_OK) {
            EXPECT_SUBJECT(wg, "file-alice");
        }
        EXPECT_OPS("the file's user, a workgroup", before, 1, 1, 0, 0, 0, 0);
        rs_idc_free_token(wg);

        before = fake_ops();
        if (expect_client_token(f, H_HOST, hosts, 1, RS_IDC_OK, &by_host, NULL) == RS_IDC_OK) {
            EXPECT_SUBJECT(by_host, "file-alice");
        }
        EXPECT_OPS("the file's user, by host name", before, -1, -1, 0, 0, 0, 0);

        /* The per-user calls still take the web token given. */
        before = fake_ops();
        expect_user_subject(f, U_CLUSTER, bob, "analytics", "file-bob");
        EXPECT_OPS("another user on the file's handle", before, 3, 1, 1, 0, 1, 0);
        rs_idc_free_token(first);
        rs_idc_free_token(again);
        rs_idc_free_token(by_host);
        rs_idc_client_free(f);
    }

    /* Each file is a regular file when the handle is made; what it holds is read at the exchange. */
    const char *ids[] = {"analytics"};
    struct {
        const char *what;
        char *path;
        const char *later; /* written after the handle is made; NULL: the file is removed */
        int want;
    } files[] = {
        {"a file that holds no web token", bad_path, "garbage", RS_IDC_EINVAL},
        {"a file whose web token has expired", expired_path, expired, RS_IDC_EIDENTITY},
        {"a file removed after the handle was made", gone_path, NULL, RS_IDC_EINVAL},
    };
    for (size_t i = 0; i < N_OF(files); i++) {
        if (!CHECK(new_temp_file(alice, files[i].path, sizeof path) == 0)) {
            continue;
        }
        rs_idc_option option[] = {{"web_token_file", files[i].path}};
        rs_idc_client *c = user_handle(option, 1);
        if (files[i].later != NULL) {
            CHECK(replace_file(files[i].path, files[i].later) == 0);
        } else {
            CHECK(unlink(files[i].path) == 0);
        }
        if (c != NULL) {
            struct fake_ops before = fake_ops();
            expect_client(c, H_CLUSTER, ids, 1, files[i].want);
            EXPECT_LACKS(rs_idc_last_error(), alice, "the web token");
            EXPECT_LACKS(rs_idc_last_error(), expired, "the web token");
            EXPECT_OPS(files[i].what, before, 0, 0, 0, 0, 0, 0);
            printf("  %-44s %s: %s\n", files[i].what, rs_idc_status_str(files[i].want),
                   rs_idc_last_error());
            rs_idc_client_free(c);
        }
        unlink(files[i].path);
    }
    unlink(path);
    h_free_secret(alice);
    h_free_secret(bob);
    h_free_secret(expired);
}

/* ------------------------------------------------------ part 6: logging */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_text;
static size_t log_len, log_cap;
static long log_records;

static void keep_record(int level, const char *msg, void *userdata)
{
    (void)level;
    (void)userdata;
    size_t len = strlen(msg);
    pthread_mutex_lock(&log_lock);
    log_records++;
    if (log_len + len + 2 > log_cap && log_cap < (size_t)64 << 20) {
        size_t cap = log_cap == 0 ? 1 << 16 : log_cap * 2;
        while (cap < log_len + len + 2) {
            cap *= 2;
        }
        char *grown = realloc(log_text, cap);
        if (grown != NULL) {
            log_text = grown;
            log_cap = cap;
        }
    }
    if (log_len + len + 2 <= log_cap) {
        memcpy(log_text + log_len, msg, len);
        log_len += len;
        log_text[log_len++] = '\n';
        log_text[log_len] = '\0';
    }
    pthread_mutex_unlock(&log_lock);
}

static void logs_hold_no_secrets(rs_idc_client *h)
{
    char *web = fake_web_token("logged-alice", 3600, "");
    char *refused = fake_web_token("logged-mallory", 3600, WRONG_KEY);
    if (web == NULL || refused == NULL) {
        h_free_secret(web);
        h_free_secret(refused);
        return;
    }
    int level = under_valgrind() ? RS_IDC_LOG_DEBUG : RS_IDC_LOG_TRACE;
    rs_idc_set_log_callback(keep_record, NULL);
    rs_idc_set_log_level(level);
    char *token = NULL;
    expect_user_token(h, U_CLUSTER, web, "logged-cluster", RS_IDC_OK, &token);
    expect_user(h, U_CLUSTER, refused, "logged-cluster", RS_IDC_EIDENTITY);
    rs_idc_set_log_level(RS_IDC_LOG_OFF);
    rs_idc_set_log_callback(NULL, NULL);

    pthread_mutex_lock(&log_lock);
    const char *text = log_text != NULL ? log_text : "";
    EXPECT(log_records > 0, "records were made at level %d", level);
    EXPECT(strstr(text, "CreateTokenWithIAM") != NULL || strstr(text, "sso-oidc") != NULL ||
               strstr(text, "oidc") != NULL,
           "the records speak of the exchange");
    EXPECT_LACKS(text, web, "the web token");
    EXPECT_LACKS(text, refused, "the refused web token");
    const char *signature = strrchr(web, '.');
    EXPECT_LACKS(text, signature, "the web token's signature");
    const char *payload = strchr(web, '.');
    if (payload != NULL && signature != NULL && signature > payload + 12) {
        char part[4096];
        size_t len = (size_t)(signature - payload - 1);
        if (len < sizeof part) {
            memcpy(part, payload + 1, len);
            part[len] = '\0';
            EXPECT_LACKS(text, part, "the web token's payload");
        }
    }
    EXPECT_LACKS(text, token, "the user's token");
    EXPECT_LACKS(text, plain_secret, "the secret access key");
    printf("  %ld records (%zu bytes) at level %d\n", log_records, log_len, level);
    free(log_text);
    log_text = NULL;
    log_len = log_cap = 0;
    pthread_mutex_unlock(&log_lock);
    rs_idc_free_token(token);
    h_free_secret(web);
    h_free_secret(refused);
}

/* ------------------------------------- part 7: many users, many threads */

#define MAX_THREADS 8
#define MAX_USERS 16

struct pool {
    rs_idc_client *client;
    size_t n_threads, n_users;
    char names[MAX_USERS][32];
    char *web[MAX_USERS];
    char *tokens[MAX_THREADS][MAX_USERS]; /* each thread's first token of each user */
    pthread_barrier_t start_line;
};

struct worker {
    struct pool *pool;
    size_t index;
};

static void *serve_users(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->pool;
    pthread_barrier_wait(&p->start_line);
    /* Two rounds; each thread starts at another user, so every user is asked by several at once. */
    for (int round = 0; round < 2; round++) {
        for (size_t k = 0; k < p->n_users; k++) {
            size_t u = (k + w->index * p->n_users / p->n_threads) % p->n_users;
            if (p->web[u] == NULL) {
                continue;
            }
            char *token = NULL;
            if (expect_user_token(p->client, U_CLUSTER, p->web[u], "shared-cluster", RS_IDC_OK,
                                  &token) == RS_IDC_OK) {
                EXPECT_SUBJECT(token, p->names[u]);
            }
            if (round == 0) {
                p->tokens[w->index][u] = token;
            } else {
                EXPECT(same_token(token, p->tokens[w->index][u]),
                       "thread %zu: %s's token is the same in the second round", w->index,
                       p->names[u]);
                rs_idc_free_token(token);
            }
        }
    }
    return NULL;
}

static void many_users_on_many_threads(rs_idc_client *h)
{
    static struct pool p;
    memset(&p, 0, sizeof p);
    p.client = h;
    p.n_threads = under_valgrind() ? 4 : MAX_THREADS;
    p.n_users = under_valgrind() ? 6 : MAX_USERS;
    for (size_t u = 0; u < p.n_users; u++) {
        snprintf(p.names[u], sizeof p.names[u], "pool-user-%02zu", u);
        p.web[u] = fake_web_token(p.names[u], 3600, "");
    }
    struct fake_ops before = fake_ops();
    pthread_t threads[MAX_THREADS];
    struct worker workers[MAX_THREADS];
    size_t started = 0;
    if (!CHECK(pthread_barrier_init(&p.start_line, NULL, (unsigned)p.n_threads) == 0)) {
        return;
    }
    double t0 = now_seconds();
    for (size_t t = 0; t < p.n_threads; t++) {
        workers[t] = (struct worker){&p, t};
        if (!EXPECT(pthread_create(&threads[t], NULL, serve_users, &workers[t]) == 0,
                    "thread %zu starts", t)) {
            fprintf(stderr, "the barrier would never open\n");
            exit(1);
        }
        started++;
    }
    for (size_t t = 0; t < started; t++) {
        pthread_join(threads[t], NULL);
    }
    pthread_barrier_destroy(&p.start_line);
    printf("  %zu threads x %zu users x 2 rounds: %.2f s\n", p.n_threads, p.n_users,
           now_seconds() - t0);

    /* One exchange and one token request per user, however many threads asked. */
    long n = (long)p.n_users;
    EXPECT_OPS("many users on many threads", before, 3 * n, n, n, 0, n, 0);
    for (size_t u = 0; u < p.n_users; u++) {
        for (size_t t = 1; t < p.n_threads; t++) {
            EXPECT(same_token(p.tokens[0][u], p.tokens[t][u]),
                   "threads 0 and %zu get the same token for %s", t, p.names[u]);
        }
        for (size_t v = u + 1; v < p.n_users; v++) {
            EXPECT(p.tokens[0][u] != NULL && !same_token(p.tokens[0][u], p.tokens[0][v]),
                   "%s and %s get different tokens", p.names[u], p.names[v]);
        }
    }
    for (size_t u = 0; u < p.n_users; u++) {
        for (size_t t = 0; t < p.n_threads; t++) {
            rs_idc_free_token(p.tokens[t][u]);
        }
        h_free_secret(p.web[u]);
    }
}

/* ---------------------------------------------- part 8: a burst for one user */

#define MAX_BURST 64

struct burst {
    rs_idc_client *client;
    const char *web_token;
    pthread_barrier_t start_line;
    int status[MAX_BURST];
    char *token[MAX_BURST];
    double took[MAX_BURST];
};

struct burst_arg {
    struct burst *burst;
    size_t index;
};

static void *burst_call(void *arg)
{
    struct burst_arg *a = arg;
    struct burst *b = a->burst;
    const char *ids[] = {"burst-cluster"};
    pthread_barrier_wait(&b->start_line);
    double started = now_seconds();
    b->status[a->index] = rs_idc_client_get_user_token(b->client, b->web_token, ids, 1,
                                                       &b->token[a->index], NULL);
    b->took[a->index] = now_seconds() - started;
    return NULL;
}

static void burst_for_one_new_user(rs_idc_client *h)
{
    size_t n = under_valgrind() ? 16 : MAX_BURST;
    int slow_ms = (int)(300 * slow_factor());
    char subject[64];
    snprintf(subject, sizeof subject, "slow-%d-burst-user", slow_ms);
    static struct burst b;
    memset(&b, 0, sizeof b);
    b.client = h;
    char *web = fake_web_token(subject, 3600, "");
    if (web == NULL) {
        return;
    }
    b.web_token = web;
    pthread_t threads[MAX_BURST];
    struct burst_arg args[MAX_BURST];
    if (!CHECK(pthread_barrier_init(&b.start_line, NULL, (unsigned)n) == 0)) {
        h_free_secret(web);
        return;
    }
    struct fake_ops before = fake_ops();
    for (size_t i = 0; i < n; i++) {
        args[i] = (struct burst_arg){&b, i};
        b.status[i] = 1; /* not a status the library returns */
        if (!EXPECT(pthread_create(&threads[i], NULL, burst_call, &args[i]) == 0,
                    "thread %zu starts", i)) {
            fprintf(stderr, "the barrier would never open\n");
            exit(1);
        }
    }
    for (size_t i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_barrier_destroy(&b.start_line);
    EXPECT_OPS("a burst for one new user", before, 3, 1, 1, 0, 1, 0);
    size_t ok = 0;
    double slowest = 0;
    for (size_t i = 0; i < n; i++) {
        EXPECT(b.status[i] == RS_IDC_OK, "burst thread %zu: status %s", i,
               rs_idc_status_str(b.status[i]));
        EXPECT(same_token(b.token[0], b.token[i]), "burst thread %zu gets the same token", i);
        ok += b.status[i] == RS_IDC_OK;
        slowest = b.took[i] > slowest ? b.took[i] : slowest;
    }
    EXPECT_SUBJECT(b.token[0], subject);
    /* Every call waited for the one slow exchange, none made its own. */
    EXPECT(slowest >= slow_ms / 1000.0 * 0.9, "the burst waited for the slow exchange (%.2f s)",
           slowest);
    printf("  %zu of %zu threads got %s's token; slowest call %.2f s\n", ok, n, subject, slowest);

    /* Afterwards the user's token comes from the cache. */
    char *again = NULL;
    before = fake_ops();
    expect_user_token(h, U_CLUSTER, web, "burst-cluster", RS_IDC_OK, &again);
    EXPECT(same_token(b.token[0], again), "the call after the burst gets the same token");
    EXPECT_OPS("after the burst", before, 0, 0, 0, 0, 0, 0);
    rs_idc_free_token(again);
    for (size_t i = 0; i < n; i++) {
        rs_idc_free_token(b.token[i]);
    }
    h_free_secret(web);
}

/* --------------------------------------------- refresh mode (slow, ~30 s) */

/*
 * Under --user-credentials-ttl 20 --refresh-token-ttl 15: a user's
 * credentials are renewed about 10 s after they were made; the renewal
 * presents the refresh token of the last exchange, and once that has
 * expired, the web token again. A web_token_file handle reads its file
 * again at the renewal, so a new user in the file gets the new user's
 * token (and not through the old user's refresh token).
 */
static void renewals(void)
{
    char *alice = fake_web_token("renew-alice", 3600, "");
    char *carol = fake_web_token("renew-carol", 3600, "");
    char *dave = fake_web_token("renew-dave", 3600, "");
    char path[512];
    if (alice == NULL || carol == NULL || dave == NULL ||
        !CHECK(new_temp_file(carol, path, sizeof path) == 0)) {
        h_free_secret(alice);
        h_free_secret(carol);
        h_free_secret(dave);
        return;
    }
    rs_idc_client *h = user_handle(NULL, 0);
    rs_idc_option file[] = {{"web_token_file", path}};
    rs_idc_client *f = user_handle(file, 1);
    if (h == NULL || f == NULL) {
        rs_idc_client_free(h);
        rs_idc_client_free(f);
        unlink(path);
        h_free_secret(alice);
        h_free_secret(carol);
        h_free_secret(dave);
        return;
    }
    const char *ids_c[] = {"renew-c"};
    double t0 = now_seconds();

    /* 1. The first exchange. */
    struct fake_ops before = fake_ops();
    expect_user_subject(h, U_CLUSTER, alice, "renew-a", "renew-alice");
    EXPECT_OPS("1. alice's first exchange", before, 3, 1, 1, 0, 1, 0);
    double alice_made = now_seconds();

    before = fake_ops();
    char *mine = NULL;
    const char *ids_a[] = {"renew-a"};
    if (expect_client_token(f, H_CLUSTER, ids_a, 1, RS_IDC_OK, &mine, NULL) == RS_IDC_OK) {
        EXPECT_SUBJECT(mine, "renew-carol");
    }
    rs_idc_free_token(mine);
    EXPECT_OPS("1. the file's user (carol), first exchange", before, 3, 1, 1, 0, 1, 0);
    double carol_made = now_seconds();

    /* 2. Right away: the credentials are kept. */
    before = fake_ops();
    expect_user_subject(h, U_CLUSTER, alice, "renew-b", "renew-alice");
    EXPECT_OPS("2. alice at once, another cluster", before, 1, 1, 0, 0, 0, 0);
    printf("  exchanges made at %.1f s (alice) and %.1f s (carol)\n", alice_made - t0,
           carol_made - t0);

    /* The file now names another user. */
    CHECK(replace_file(path, dave) == 0);

    /* 3. Past half the credentials' life (20 s): renewed with the refresh token. */
    sleep_until(alice_made + 11.0);
    before = fake_ops();
    expect_user_subject(h, U_CLUSTER, alice, "renew-c", "renew-alice");
    if (!EXPECT_OPS("3. alice's renewal uses the refresh token", before, 3, 1, 1, 0, 0, 1)) {
        fprintf(stderr, "(this mode needs `rs-idc-fake run --user-credentials-ttl 20 "
                        "--refresh-token-ttl 15 --`)\n");
    }
    double renewed = now_seconds();
    printf("  renewal at %.1f s\n", renewed - t0);

    /* 4. The file's handle renews with the file's new web token. */
    sleep_until(carol_made + 11.0);
    before = fake_ops();
    mine = NULL;
    if (expect_client_token(f, H_CLUSTER, ids_c, 1, RS_IDC_OK, &mine, NULL) == RS_IDC_OK) {
        EXPECT_SUBJECT(mine, "renew-dave");
    }
    rs_idc_free_token(mine);
    EXPECT_OPS("4. the file's new user (dave) by the web token", before, 3, 1, 1, 0, 1, 0);

    /* 5. The refresh token (15 s) of the renewal has expired: refused, then the web token. */
    sleep_until(renewed + 16.5);
    before = fake_ops();
    expect_user_subject(h, U_CLUSTER, alice, "renew-d", "renew-alice");
    EXPECT_OPS("5. alice's renewal falls back to the web token", before, 4, 1, 1, 0, 1, 1);
    printf("  fallback at %.1f s\n", now_seconds() - t0);

    /* 6. And those credentials are kept again. */
    before = fake_ops();
    expect_user_subject(h, U_CLUSTER, alice, "renew-e", "renew-alice");
    EXPECT_OPS("6. alice at once after the fallback", before, 1, 1, 0, 0, 0, 0);

    rs_idc_client_free(h);
    rs_idc_client_free(f);
    unlink(path);
    h_free_secret(alice);
    h_free_secret(carol);
    h_free_secret(dave);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    int refresh_mode = argc > 1 && strcmp(argv[1], "refresh") == 0;
    if (argc > 2 || (argc == 2 && !refresh_mode)) {
        fprintf(stderr, "usage: %s [refresh]\n", argv[0]);
        return 2;
    }
    need_env("AWS_ENDPOINT_URL");
    need_env("RS_IDC_TEST_PLAIN_ACCESS_KEY_ID");
    plain_secret = need_env("RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY");
    app_arn = need_env("RS_IDC_TEST_APPLICATION_ARN");
    unauthorized_app_arn = need_env("RS_IDC_TEST_UNAUTHORIZED_APPLICATION_ARN");
    unknown_app_arn = need_env("RS_IDC_TEST_UNKNOWN_APPLICATION_ARN");
    access_role_arn = need_env("RS_IDC_TEST_ACCESS_ROLE_ARN");
    app_role_arn = need_env("RS_IDC_TEST_APPLICATION_ROLE_ARN");
    denied_role_arn = need_env("RS_IDC_TEST_DENIED_ROLE_ARN");
    need_env("RS_IDC_FAKE_PORT");
    if (atomic_load(&h_failed) > 0) {
        return test_summary();
    }
    snprintf(roomy_timeout, sizeof roomy_timeout, "%d", (int)(10000 * slow_factor()));

    double started = now_seconds();
    if (refresh_mode) {
        renewals();
        printf("refresh mode: %.2f s\n", now_seconds() - started);
        return test_summary();
    }

    no_credentials_in_the_process();
    printf("1. no AWS credentials in the process: %.2f s\n", now_seconds() - started);

    started = now_seconds();
    option_checks();
    printf("2. options: %.2f s\n", now_seconds() - started);

    rs_idc_client *h = user_handle(NULL, 0);
    if (h == NULL) {
        return test_summary();
    }
    started = now_seconds();
    users_get_their_own_tokens(h);
    printf("3. users one by one: %.2f s\n", now_seconds() - started);

    started = now_seconds();
    refusals(h);
    printf("4. refusals: %.2f s\n", now_seconds() - started);

    started = now_seconds();
    web_token_file();
    printf("5. web_token_file: %.2f s\n", now_seconds() - started);

    started = now_seconds();
    logs_hold_no_secrets(h);
    printf("6. log records: %.2f s\n", now_seconds() - started);

    started = now_seconds();
    many_users_on_many_threads(h);
    printf("7. many users on many threads: %.2f s\n", now_seconds() - started);

    started = now_seconds();
    burst_for_one_new_user(h);
    printf("8. a burst for one new user: %.2f s\n", now_seconds() - started);

    rs_idc_client_free(h);
    return test_summary();
}
