/*
 * test_identity.c - cache entries and shared calls belong to one complete
 * identity and, for shared calls, to one set of outcome-changing settings.
 *
 * Handles here are made from explicit options: region, the fake's
 * endpoint, the three credential parts, a time bound and two attempts.
 * A is the identity-enhanced identity of `rs-idc-fake run`.
 *
 * 1. A gets a token for `id-shared` (and a workgroup); a second handle with
 *    A's very credentials is served from the cache. B has A's access key id
 *    and session token but a secret key that differs in one character: it
 *    gets RS_IDC_EDENIED (SignatureDoesNotMatch) from a request of its own,
 *    never A's cached token.
 * 2. C has A's key id and secret with another session token (the second
 *    identity's, then A's own changed in one character): RS_IDC_EDENIED
 *    (InvalidClientTokenId) from a request of its own.
 * 3. A and B released together for one `slow-N` cluster: two requests; A
 *    gets a token, B is refused at once instead of waiting for A's call.
 * 4. Same identity, time bounds of 150 ms (SHORT) and 10 s (LONG), one
 *    `slow-N` cluster with N well past SHORT's bound; SHORT starts first and
 *    LONG a moment later, then (with a fresh name) the other way round:
 *    SHORT gets RS_IDC_ETIMEOUT, LONG a token, and each round makes two
 *    requests (LONG never waits on SHORT's call).
 * 5. Two handles made from identical options, released together for one
 *    `slow-N` cluster: one request, one token for both.
 *
 * Timing-sensitive figures are scaled by slow_factor() (under valgrind).
 * Tokens, secret keys and session tokens are compared, never printed.
 */

#include "harness.h"

#include <pthread.h>

#define N_OF(array) (sizeof(array) / sizeof((array)[0]))

/* The fake's plain endpoint on 127.0.0.1. */
static const char *endpoint;

/* The two identities of the fake. */
struct identity {
    const char *key_id;
    const char *secret;
    const char *session;
};
static struct identity idc, idc2;

/* A's secret key with its last character changed: B's secret. */
static char *wrong_secret;

/* A generous whole-call bound, in ms (text): not what is under test. */
static char roomy_timeout[32];

/* A copy of `text` with its last character changed (same length, no control character). */
static char *one_character_off(const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (copy == NULL || len == 0) {
        free(copy);
        return NULL;
    }
    memcpy(copy, text, len + 1);
    copy[len - 1] = copy[len - 1] == 'Q' ? 'R' : 'Q';
    return copy;
}

/*
 * A handle with region us-east-1, the fake's endpoint, these credentials,
 * a whole-call bound of `timeout_ms` and two attempts. NULL on failure
 * (reported).
 */
static rs_idc_client *h_handle(const char *file, int line, const char *key_id, const char *secret,
                               const char *session, const char *timeout_ms)
{
    rs_idc_option options[] = {
        {"region", "us-east-1"},
        {"endpoint_url", endpoint},
        {"access_key_id", key_id},
        {"secret_access_key", secret},
        {"session_token", session},
        {"timeout_ms", timeout_ms},
        {"max_attempts", "2"},
    };
    rs_idc_client *client = NULL;
    int got = rs_idc_client_new(options, N_OF(options), &client);
    h_expect_status(file, line, got, RS_IDC_OK);
    return got == RS_IDC_OK ? client : NULL;
}
#define handle(key_id, secret, session, timeout_ms) \
    h_handle(__FILE__, __LINE__, (key_id), (secret), (session), (timeout_ms))

/* The last error of this thread holds none of the secrets given. */
static void h_expect_no_secret(const char *file, int line, const char *what, const char *one,
                               const char *two)
{
    const char *message = rs_idc_last_error();
    int clean = (one == NULL || strstr(message, one) == NULL) &&
                (two == NULL || strstr(message, two) == NULL);
    h_record(clean, file, line, "%s: the last error must not hold a secret key or session token",
             what);
}
#define expect_no_secret(what, one, two) h_expect_no_secret(__FILE__, __LINE__, (what), (one), (two))

/* The fake's request counter moved by exactly `want` since `before`. */
static void h_expect_requests(const char *file, int line, const char *what, long before, long want)
{
    long now = fake_requests();
    h_record(before >= 0 && now >= 0 && now - before == want, file, line,
             "%s: the fake should see %ld request(s), saw %ld", what, want, now - before);
}
#define expect_requests(what, before, want) \
    h_expect_requests(__FILE__, __LINE__, (what), (before), (want))

/* Gets a token for `name` once, so that the handle's identity and SDK clients are ready. */
static void warm_up(rs_idc_client *client, const char *name)
{
    const char *ids[] = {name};
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
}

/* Case 1: a secret key one character off never gets A's token. */
static void wrong_secret_is_refused_by_its_own_request(rs_idc_client *a, rs_idc_client *b)
{
    const char *ids[] = {"id-shared"};
    const char *workgroups[] = {"wg-id-shared"};
    char *mine = NULL, *again = NULL;

    long before = fake_requests();
    expect_client_token(a, H_CLUSTER, ids, 1, RS_IDC_OK, &mine, NULL);
    expect_requests("A's first call", before, 1);

    /* The same complete credentials in another handle: the same cache entry. */
    rs_idc_client *twin = handle(idc.key_id, idc.secret, idc.session, roomy_timeout);
    if (twin != NULL) {
        before = fake_requests();
        expect_client_token(twin, H_CLUSTER, ids, 1, RS_IDC_OK, &again, NULL);
        expect_requests("a handle with A's credentials", before, 0);
        EXPECT(same_token(mine, again), "a handle with A's credentials gets A's cached token");
        rs_idc_client_free(twin);
    }

    for (int round = 0; round < 2; round++) {
        before = fake_requests();
        expect_client(b, H_CLUSTER, ids, 1, RS_IDC_EDENIED);
        EXPECT_LAST_ERROR("SignatureDoesNotMatch");
        expect_no_secret("wrong secret key, cluster", idc.secret, wrong_secret);
        /* One request: refused at once, not retried, and not served from A's entry. */
        expect_requests(round == 0 ? "B, wrong secret key" : "B again (a refusal is not cached)",
                        before, 1);
    }

    /* The Serverless API has its own entry, bound the same way. */
    before = fake_requests();
    expect_client(a, H_SERVERLESS, workgroups, 1, RS_IDC_OK);
    expect_client(b, H_SERVERLESS, workgroups, 1, RS_IDC_EDENIED);
    EXPECT_LAST_ERROR("InvalidSignatureException");
    expect_no_secret("wrong secret key, workgroup", idc.secret, wrong_secret);
    expect_requests("A's workgroup, then B's", before, 2);

    rs_idc_free_token(mine);
    rs_idc_free_token(again);
}

/* Case 2: A's key id and secret with another session token: refused, by its own request. */
static void other_session_token_is_refused_by_its_own_request(void)
{
    const char *ids[] = {"id-shared"};
    char *changed = one_character_off(idc.session);
    struct {
        const char *what;
        const char *session;
    } cases[] = {
        {"the second identity's session token", idc2.session},
        {"A's session token one character off", changed},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        if (!EXPECT(cases[i].session != NULL, "%s: made", cases[i].what)) {
            continue;
        }
        rs_idc_client *c = handle(idc.key_id, idc.secret, cases[i].session, roomy_timeout);
        if (c == NULL) {
            continue;
        }
        long before = fake_requests();
        expect_client(c, H_CLUSTER, ids, 1, RS_IDC_EDENIED);
        EXPECT_LAST_ERROR("InvalidClientTokenId");
        expect_no_secret(cases[i].what, cases[i].session, idc.secret);
        expect_requests(cases[i].what, before, 1);
        rs_idc_client_free(c);
    }
    free(changed);
}

/* One caller of a race: its handle, name, start delay and outcome. */
struct racer {
    const char *what;
    rs_idc_client *client;
    const char *name;
    int want;
    double delay;      /* seconds to wait after the start line */
    int status;
    char *token;       /* on success; freed by the race's owner */
    double took;       /* seconds the call took */
    char error[512];   /* the thread's last error after the call */
};

static pthread_barrier_t start_line;

static void *race(void *arg)
{
    struct racer *r = arg;
    const char *ids[] = {r->name};
    pthread_barrier_wait(&start_line);
    if (r->delay > 0) {
        struct timespec pause = {(time_t)r->delay,
                                 (long)((r->delay - (double)(time_t)r->delay) * 1e9)};
        nanosleep(&pause, NULL);
    }
    double started = now_seconds();
    r->status = expect_client_token(r->client, H_CLUSTER, ids, 1, r->want, &r->token, NULL);
    r->took = now_seconds() - started;
    snprintf(r->error, sizeof r->error, "%s", r->status == RS_IDC_OK ? "" : rs_idc_last_error());
    return NULL;
}

/* Runs the racers on threads released together; returns when all are done. */
static void run_race(struct racer *racers, size_t n)
{
    pthread_t threads[4];
    int started[4] = {0};
    if (!CHECK(n <= N_OF(threads))) {
        return;
    }
    pthread_barrier_init(&start_line, NULL, (unsigned)n);
    for (size_t i = 0; i < n; i++) {
        started[i] = CHECK(pthread_create(&threads[i], NULL, race, &racers[i]) == 0);
    }
    for (size_t i = 0; i < n; i++) {
        if (started[i]) {
            pthread_join(threads[i], NULL);
        }
    }
    pthread_barrier_destroy(&start_line);
    for (size_t i = 0; i < n; i++) {
        printf("  %-28s %-10s -> %-16s %.2f s\n", racers[i].what, racers[i].name,
               rs_idc_status_str(racers[i].status), racers[i].took);
    }
}

/* Case 3: A and B (wrong secret) at once for one slow cluster: two calls, two outcomes. */
static void wrong_secret_never_joins_a_call_in_flight(rs_idc_client *a, rs_idc_client *b)
{
    int slow_ms = (int)(600 * slow_factor());
    char name[32];
    snprintf(name, sizeof name, "slow-%d", slow_ms);
    struct racer racers[] = {
        {.what = "A", .client = a, .name = name, .want = RS_IDC_OK},
        {.what = "B (wrong secret key)", .client = b, .name = name, .want = RS_IDC_EDENIED},
    };
    long before = fake_requests();
    run_race(racers, N_OF(racers));
    expect_requests("A and B at once", before, 2);
    EXPECT(racers[0].token != NULL, "A gets a token");
    EXPECT(racers[1].token == NULL, "B gets no token");
    EXPECT(strstr(racers[1].error, "SignatureDoesNotMatch") != NULL,
           "B's last error \"%s\" should name SignatureDoesNotMatch", racers[1].error);
    /* B's own request is refused at once; it does not wait for A's slow answer. */
    EXPECT(racers[1].took < slow_ms / 1000.0, "B took %.2f s, A's answer takes %.2f s",
           racers[1].took, slow_ms / 1000.0);
    EXPECT(racers[0].took >= slow_ms / 1000.0 * 0.9, "A waited for its slow answer (%.2f s)",
           racers[0].took);
    for (size_t i = 0; i < N_OF(racers); i++) {
        rs_idc_free_token(racers[i].token);
    }
}

/*
 * Case 4: SHORT (150 ms) and LONG (10 s), same identity, one slow cluster.
 * Both handles are warmed up first so that each call enters its shared-call
 * slot at once; the second starts `stagger` after the first, well inside
 * SHORT's bound, while the first call is still waiting for its answer.
 */
static void time_bounds_keep_calls_apart(void)
{
    double factor = slow_factor();
    char short_timeout[32], long_timeout[32];
    int short_ms = (int)(150 * factor);
    /* Names of their own: case 3 uses slow-600 (slow-6000), case 5 slow-400 (slow-4000). */
    int slow_ms = factor > 1.0 ? 5000 : 1200;
    double stagger = 0.05 * factor;
    snprintf(short_timeout, sizeof short_timeout, "%d", short_ms);
    snprintf(long_timeout, sizeof long_timeout, "%d", (int)(10000 * factor));

    rs_idc_client *short_handle = handle(idc.key_id, idc.secret, idc.session, short_timeout);
    rs_idc_client *long_handle = handle(idc.key_id, idc.secret, idc.session, long_timeout);
    if (short_handle == NULL || long_handle == NULL) {
        rs_idc_client_free(short_handle);
        rs_idc_client_free(long_handle);
        return;
    }
    warm_up(long_handle, "id-warm-long");
    /*
     * SHORT's first call builds its SDK clients within its own small bound;
     * under valgrind that may take longer, so it may try a few times (the
     * clients are built anew until one attempt fits).
     */
    int warm = RS_IDC_ETIMEOUT;
    for (int i = 0; i < 20 && warm != RS_IDC_OK; i++) {
        char *out = NULL;
        const char *ids[] = {"id-warm-short"};
        warm = rs_idc_client_get_token(short_handle, ids, 1, &out, NULL);
        rs_idc_free_token(out);
    }
    EXPECT_STATUS(warm, RS_IDC_OK);

    for (int round = 0; round < 2; round++) {
        int short_first = round == 0;
        char name[32];
        snprintf(name, sizeof name, "slow-%d", slow_ms + round);
        struct racer racers[] = {
            {.what = "SHORT", .client = short_handle, .name = name, .want = RS_IDC_ETIMEOUT,
             .delay = short_first ? 0.0 : stagger},
            {.what = "LONG", .client = long_handle, .name = name, .want = RS_IDC_OK,
             .delay = short_first ? stagger : 0.0},
        };
        printf("%s first, %s (SHORT %d ms, stagger %.0f ms):\n", short_first ? "SHORT" : "LONG",
               name, short_ms, stagger * 1000);
        long before = fake_requests();
        run_race(racers, N_OF(racers));
        EXPECT(strstr(racers[0].error, "time bound") != NULL,
               "round %d: SHORT's last error \"%s\" should speak of the time bound", round + 1,
               racers[0].error);
        EXPECT(racers[0].took < slow_ms / 1000.0,
               "round %d: SHORT gave up (%.2f s) before the slow answer (%.2f s)", round + 1,
               racers[0].took, slow_ms / 1000.0);
        EXPECT(racers[1].token != NULL, "round %d: LONG gets a token", round + 1);
        /* Each made its own request: LONG never waited on SHORT's call, nor SHORT on LONG's. */
        expect_requests(short_first ? "SHORT then LONG" : "LONG then SHORT", before, 2);
        for (size_t i = 0; i < N_OF(racers); i++) {
            rs_idc_free_token(racers[i].token);
        }
    }
    rs_idc_client_free(short_handle);
    rs_idc_client_free(long_handle);
}

/* Case 5: identical identity and settings, at once: one request, one token. */
static void identical_handles_share_one_call(void)
{
    rs_idc_client *first = handle(idc.key_id, idc.secret, idc.session, roomy_timeout);
    rs_idc_client *second = handle(idc.key_id, idc.secret, idc.session, roomy_timeout);
    if (first != NULL && second != NULL) {
        warm_up(first, "id-warm-same");
        warm_up(second, "id-warm-same");
        int slow_ms = (int)(400 * slow_factor());
        char name[32];
        snprintf(name, sizeof name, "slow-%d", slow_ms);
        struct racer racers[] = {
            {.what = "first", .client = first, .name = name, .want = RS_IDC_OK},
            {.what = "second (same options)", .client = second, .name = name, .want = RS_IDC_OK},
        };
        long before = fake_requests();
        run_race(racers, N_OF(racers));
        expect_requests("two identical handles at once", before, 1);
        EXPECT(same_token(racers[0].token, racers[1].token),
               "two identical handles at once get the same token");
        for (size_t i = 0; i < N_OF(racers); i++) {
            rs_idc_free_token(racers[i].token);
        }
    }
    rs_idc_client_free(first);
    rs_idc_client_free(second);
}

int main(void)
{
    endpoint = need_env("AWS_ENDPOINT_URL");
    idc = (struct identity){need_env("RS_IDC_TEST_IDC_ACCESS_KEY_ID"),
                            need_env("RS_IDC_TEST_IDC_SECRET_ACCESS_KEY"),
                            need_env("RS_IDC_TEST_IDC_SESSION_TOKEN")};
    idc2 = (struct identity){need_env("RS_IDC_TEST_IDC2_ACCESS_KEY_ID"),
                             need_env("RS_IDC_TEST_IDC2_SECRET_ACCESS_KEY"),
                             need_env("RS_IDC_TEST_IDC2_SESSION_TOKEN")};
    if (endpoint[0] == '\0' || idc.key_id[0] == '\0' || idc2.session[0] == '\0') {
        return test_summary();
    }
    snprintf(roomy_timeout, sizeof roomy_timeout, "%d", (int)(10000 * slow_factor()));
    CHECK(strcmp(idc.session, idc2.session) != 0);

    rs_idc_client *a = handle(idc.key_id, idc.secret, idc.session, roomy_timeout);
    wrong_secret = one_character_off(idc.secret);
    rs_idc_client *b =
        wrong_secret != NULL ? handle(idc.key_id, wrong_secret, idc.session, roomy_timeout) : NULL;
    if (a != NULL && b != NULL) {
        double started = now_seconds();
        wrong_secret_is_refused_by_its_own_request(a, b);
        other_session_token_is_refused_by_its_own_request();
        printf("cases 1-2: %.2f s\n", now_seconds() - started);

        started = now_seconds();
        wrong_secret_never_joins_a_call_in_flight(a, b);
        printf("case 3: %.2f s\n", now_seconds() - started);

        started = now_seconds();
        time_bounds_keep_calls_apart();
        printf("case 4: %.2f s\n", now_seconds() - started);

        started = now_seconds();
        identical_handles_share_one_call();
        printf("case 5: %.2f s\n", now_seconds() - started);
    }
    rs_idc_client_free(a);
    rs_idc_client_free(b);
    free(wrong_secret);
    return test_summary();
}
