/*
 * Per-user tokens benchmark, against the local fake endpoint (run it under
 * `rs-idc-fake run --`; `make bench-users` does). Prints figures only:
 *
 *   - the first call for a new user: the whole exchange and the token, with
 *     the handle's own application credentials (three requests) and with
 *     an application role assumed with the web token (four requests);
 *   - a cached call for a known user, with the free of the token;
 *   - the exchanges made for one new user under a burst of 64 threads.
 *
 * usage: bench_users [USERS [CACHED_CALLS]]   (default 50 users, 200000 calls)
 *        bench_users cached-mean CALLS ROUNDS
 *
 * `cached-mean` (run by `make bench`, bench/run.py) times the cached call
 * for one known user with a web token of about 1 KB: one untimed first
 * call (the exchange, three requests), then ROUNDS rounds of CALLS
 * rs_idc_client_get_user_token() + rs_idc_free_token() back to back, each
 * round timed as a whole. It prints one line, `user_cached_mean key=value
 * ...`: the web token's length, the best round's mean and the first
 * call's time. Neither the web token nor the token is printed.
 */
#include "../tests/c/harness.h"

#include <pthread.h>

#define MAX_USERS 1000
#define BURST_THREADS 64
#define WEB_TOKEN_SIZE 4096
/* The fake's longest `sub` claim, in bytes (tests/fake-redshift/src/identity/jwt.rs). */
#define FAKE_MAX_SUBJECT_BYTES 256
/* The subject of the cached-mean web token; backslashes fill it up to the longest. */
#define KB_SUBJECT_PREFIX "bench-user-kb-"

static double now_ms(void)
{
    return now_seconds() * 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int web_token(const char *subject, char *out, size_t size)
{
    char members[256];
    char body[WEB_TOKEN_SIZE + 64];
    snprintf(members, sizeof members, ",\"sub\":\"%s\"", subject);
    return fake_control(FAKE_CONTROL_WEB_TOKEN, members, body, sizeof body) == 0
               ? json_member(body, "token", out, size)
               : -1;
}

/*
 * A web token of about 1 KB, the size of an identity provider's token with
 * a few claims. The fake's tokens carry only iss, aud, sub, iat and exp, so
 * the subject is made its longest, 256 bytes, of backslashes after a
 * prefix: JSON writes each as two characters, which makes the token about
 * 900 bytes, the longest the fake issues. 0, or -1 when the fake made none.
 */
static int kb_web_token(char *out, size_t size)
{
    char members[64 + 2 * FAKE_MAX_SUBJECT_BYTES];
    int n = snprintf(members, sizeof members, ",\"sub\":\"%s", KB_SUBJECT_PREFIX);
    if (n < 0) {
        return -1;
    }
    size_t at = (size_t)n;
    for (size_t i = strlen(KB_SUBJECT_PREFIX); i < FAKE_MAX_SUBJECT_BYTES; i++) {
        members[at++] = '\\';
        members[at++] = '\\';
    }
    members[at++] = '"';
    members[at] = '\0';
    char body[WEB_TOKEN_SIZE + 64];
    return fake_control(FAKE_CONTROL_WEB_TOKEN, members, body, sizeof body) == 0
               ? json_member(body, "token", out, size)
               : -1;
}

static const char *need(const char *name)
{
    const char *value = getenv(name);
    if (value == NULL || *value == '\0') {
        fprintf(stderr, "%s is not set: run under `rs-idc-fake run --`\n", name);
        exit(2);
    }
    return value;
}

static rs_idc_client *user_handle(int with_application_role)
{
    rs_idc_option options[6] = {
        {"idc_application_arn", need("RS_IDC_TEST_APPLICATION_ARN")},
        {"access_role_arn", need("RS_IDC_TEST_ACCESS_ROLE_ARN")},
        {"access_key_id", need("RS_IDC_TEST_PLAIN_ACCESS_KEY_ID")},
        {"secret_access_key", need("RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY")},
        {"application_role_arn", need("RS_IDC_TEST_APPLICATION_ROLE_ARN")},
    };
    rs_idc_client *client = NULL;
    size_t n = with_application_role ? 5 : 4;
    if (rs_idc_client_new(options, n, &client) != RS_IDC_OK) {
        fprintf(stderr, "rs_idc_client_new: %s\n", rs_idc_last_error());
        exit(1);
    }
    return client;
}

static void get_or_exit(rs_idc_client *client, const char *web_token, const char *id)
{
    const char *ids[1] = {id};
    char *token = NULL;
    int rc = rs_idc_client_get_user_token(client, web_token, ids, 1, &token, NULL);
    if (rc != RS_IDC_OK) {
        fprintf(stderr, "get_user_token: %s: %s\n", rs_idc_status_str(rc), rs_idc_last_error());
        exit(1);
    }
    rs_idc_free_token(token);
}

/* First calls for `users` new users; prints their distribution. */
static void first_calls(const char *label, int with_application_role, long users, char (*tokens)[WEB_TOKEN_SIZE])
{
    rs_idc_client *client = user_handle(with_application_role);
    double *ms = calloc((size_t)users, sizeof *ms);
    if (ms == NULL) {
        exit(1);
    }
    /* One user first, so that the runtime and the connection are up. */
    get_or_exit(client, tokens[users], "warm-up");
    fake_reset();
    for (long i = 0; i < users; i++) {
        double start = now_ms();
        get_or_exit(client, tokens[i], "c1");
        ms[i] = now_ms() - start;
    }
    long requests = fake_requests();
    qsort(ms, (size_t)users, sizeof *ms, cmp_double);
    double sum = 0;
    for (long i = 0; i < users; i++) {
        sum += ms[i];
    }
    printf("first call for a new user, %s: mean %.2f ms, median %.2f ms, p90 %.2f ms, "
           "%.1f requests per user\n",
           label, sum / (double)users, ms[users / 2], ms[users * 9 / 10],
           (double)requests / (double)users);
    free(ms);
    rs_idc_client_free(client);
}

struct burst {
    rs_idc_client *client;
    const char *web_token;
    pthread_barrier_t *barrier;
};

static void *burst_call(void *arg)
{
    struct burst *b = arg;
    pthread_barrier_wait(b->barrier);
    get_or_exit(b->client, b->web_token, "c1");
    return NULL;
}

/* `cached-mean`: see the comment at the top. */
static int cached_mean(long calls, long rounds)
{
    static char web[WEB_TOKEN_SIZE];
    if (kb_web_token(web, sizeof web) != 0) {
        fprintf(stderr, "no web token from the fake\n");
        return 1;
    }
    const char *id = "bench-user-cached";
    rs_idc_client *client = user_handle(0);
    double start = now_ms();
    get_or_exit(client, web, id); /* the exchange: fills the user's cache */
    double first_ms = now_ms() - start;
    double best_us = 0;
    for (long round = 0; round < rounds; round++) {
        start = now_ms();
        for (long i = 0; i < calls; i++) {
            get_or_exit(client, web, id);
        }
        double mean_us = (now_ms() - start) * 1000.0 / (double)calls;
        if (round == 0 || mean_us < best_us) {
            best_us = mean_us;
        }
    }
    printf("user_cached_mean web_token_len=%zu calls=%ld rounds=%ld best_mean_us=%.3f "
           "first_call_ms=%.3f\n",
           strlen(web), calls, rounds, best_us, first_ms);
    rs_idc_client_free(client);
    wipe(web, sizeof web);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "cached-mean") == 0) {
        long calls = argc == 4 ? strtol(argv[2], NULL, 10) : 0;
        long rounds = argc == 4 ? strtol(argv[3], NULL, 10) : 0;
        if (calls < 1 || calls > 100000000 || rounds < 1 || rounds > 1000) {
            fprintf(stderr, "usage: bench_users cached-mean CALLS ROUNDS\n");
            return 2;
        }
        return cached_mean(calls, rounds);
    }
    long users = argc > 1 ? strtol(argv[1], NULL, 10) : 50;
    long calls = argc > 2 ? strtol(argv[2], NULL, 10) : 200000;
    if (users < 1 || users >= MAX_USERS / 2 || calls < 1) {
        fprintf(stderr, "usage: bench_users [USERS (1..%d) [CACHED_CALLS]]\n", MAX_USERS / 2 - 1);
        return 2;
    }
    static char tokens[MAX_USERS][WEB_TOKEN_SIZE];
    for (long i = 0; i <= 2 * users + 1; i++) {
        char subject[32];
        snprintf(subject, sizeof subject, "bench-user-%ld", i);
        if (web_token(subject, tokens[i], WEB_TOKEN_SIZE) != 0) {
            fprintf(stderr, "no web token from the fake\n");
            return 1;
        }
    }
    first_calls("application credentials", 0, users, tokens);
    first_calls("application role", 1, users, tokens + users + 1);

    rs_idc_client *client = user_handle(0);
    get_or_exit(client, tokens[0], "c1");
    double start = now_ms();
    for (long i = 0; i < calls; i++) {
        get_or_exit(client, tokens[0], "c1");
    }
    double elapsed = now_ms() - start;
    printf("cached call for a known user (with its free): %.3f us mean over %ld calls\n",
           elapsed * 1000.0 / (double)calls, calls);

    char burst_token[WEB_TOKEN_SIZE];
    if (web_token("slow-200-bench-burst", burst_token, sizeof burst_token) != 0) {
        return 1;
    }
    fake_reset();
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, BURST_THREADS);
    pthread_t threads[BURST_THREADS];
    struct burst b = {client, burst_token, &barrier};
    for (int i = 0; i < BURST_THREADS; i++) {
        pthread_create(&threads[i], NULL, burst_call, &b);
    }
    for (int i = 0; i < BURST_THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_barrier_destroy(&barrier);
    printf("burst of %d threads for one new user: %ld exchange(s) "
           "(CreateTokenWithIAM %ld, AssumeRole %ld, GetIdentityCenterAuthToken %ld)\n",
           BURST_THREADS, fake_stat(FAKE_OP_IAM_JWT_BEARER),
           fake_stat(FAKE_OP_IAM_JWT_BEARER), fake_stat(FAKE_OP_ASSUME_ROLE),
           fake_stat(FAKE_OP_GET_TOKEN));
    rs_idc_client_free(client);
    return 0;
}
