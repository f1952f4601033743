/*
 * test_forget.c - what a driver's connection pool needs from the cache:
 * forgetting a token the server refused, and refresh ahead.
 *
 *  1. rs_idc_forget_token(t1) drops t1 from the cache: the next call for
 *     its set makes one request and gets another token; other sets stay
 *     cached. NULL, an unknown token, a prefix of a cached token, a token
 *     already forgotten and the empty string change nothing (checked by
 *     the fake's request count and the tokens handed out).
 *  2. The retry recipe as a driver writes it: login refused -> forget ->
 *     get -> retry once, against a simulated server that refuses one token.
 *  3. Refresh ahead, with tokens that live 20 s (identifier ttl-20): their
 *     margin is 10 s and refresh ahead starts 5 s before that. A call at
 *     about 6 s gets the old token at once and starts one background
 *     refresh; a call a moment later gets the new token. With the option
 *     refresh_ahead = off the call at 6 s gets the old token and makes no
 *     request. This part mostly sleeps (about 7 s, also under valgrind).
 *
 * Tokens are compared, never printed.
 */

#include "harness.h"

#include <time.h>

static const char *fake_keys = "RS_IDC_TEST_IDC";

/* Seconds on the real-time clock (Unix time, with fractions), to compare with token expiries. */
static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A token for `id` on `client`, checked; the caller frees it. */
static char *h_token_for(const char *file, int line, rs_idc_client *client, const char *id,
                         int64_t *exp)
{
    const char *ids[] = {id};
    char *token = NULL;
    h_expect_client(file, line, client, H_CLUSTER, ids, 1, RS_IDC_OK, &token, exp);
    return token;
}
#define token_for(client, id, exp) h_token_for(__FILE__, __LINE__, (client), (id), (exp))

/* Checks that the fake saw `want` requests since `before`. */
#define EXPECT_REQUESTS(before, want, what)                                              \
    do {                                                                                 \
        long made_ = fake_requests() - (before);                                         \
        EXPECT(made_ == (want), "%s: %ld request(s) expected, the fake saw %ld", (what), \
               (long)(want), made_);                                                     \
    } while (0)

/* ---------------------------------------------------------------- 1 */

static void forgetting_drops_one_token(rs_idc_client *client)
{
    long before = fake_requests();
    char *t1 = token_for(client, "forget-c1", NULL);
    char *t2 = token_for(client, "forget-c2", NULL);
    EXPECT_REQUESTS(before, 2, "two new sets");
    EXPECT(t1 != NULL && t2 != NULL && !same_token(t1, t2), "two sets, two tokens");

    /* Both cached. */
    before = fake_requests();
    char *again = token_for(client, "forget-c1", NULL);
    EXPECT(same_token(again, t1), "c1 is cached");
    rs_idc_free_token(again);
    EXPECT_REQUESTS(before, 0, "cached calls");

    /* Forget t1: c1 is asked again, c2 stays. */
    rs_idc_forget_token(t1);
    before = fake_requests();
    char *t1b = token_for(client, "forget-c1", NULL);
    EXPECT_REQUESTS(before, 1, "the call after forgetting c1's token");
    EXPECT(t1b != NULL && !same_token(t1b, t1), "after forgetting, c1 gets a different token");
    before = fake_requests();
    again = token_for(client, "forget-c2", NULL);
    EXPECT(same_token(again, t2), "c2's token is still the cached one");
    rs_idc_free_token(again);
    again = token_for(client, "forget-c1", NULL);
    EXPECT(same_token(again, t1b), "c1's new token is cached in turn");
    rs_idc_free_token(again);
    EXPECT_REQUESTS(before, 0, "c2 and the new c1 from the cache");

    /* No-ops: none of these may drop t1b or t2. */
    rs_idc_forget_token(NULL);
    rs_idc_forget_token("");
    rs_idc_forget_token("not-a-token-this-library-handed-out");
    if (t1b != NULL) {
        size_t len = strlen(t1b);
        char *prefix = strdup(t1b);
        char *longer = malloc(len + 2);
        if (prefix != NULL && longer != NULL) {
            prefix[len / 2] = '\0';
            rs_idc_forget_token(prefix); /* half of a cached token */
            prefix[len / 2] = t1b[len / 2];
            prefix[len - 1] = '\0';
            rs_idc_forget_token(prefix); /* all but its last character */
            memcpy(longer, t1b, len);
            longer[len] = 'x';
            longer[len + 1] = '\0';
            rs_idc_forget_token(longer); /* the token with one more character */
        }
        EXPECT(prefix != NULL && longer != NULL, "memory for the near misses");
        /* Wiped before freeing: they held most of a token. */
        if (prefix != NULL) {
            memset(prefix, 0, len);
            free(prefix);
        }
        if (longer != NULL) {
            memset(longer, 0, len + 1);
            free(longer);
        }
    }
    rs_idc_forget_token(t1); /* forgotten before: no longer cached */
    before = fake_requests();
    again = token_for(client, "forget-c1", NULL);
    EXPECT(same_token(again, t1b), "the no-ops leave c1's token cached");
    rs_idc_free_token(again);
    again = token_for(client, "forget-c2", NULL);
    EXPECT(same_token(again, t2), "the no-ops leave c2's token cached");
    rs_idc_free_token(again);
    EXPECT_REQUESTS(before, 0, "calls after the no-ops");

    /* The same token forgotten twice: one new request, then cached again. */
    rs_idc_forget_token(t1b);
    rs_idc_forget_token(t1b);
    before = fake_requests();
    char *t1c = token_for(client, "forget-c1", NULL);
    again = token_for(client, "forget-c1", NULL);
    EXPECT_REQUESTS(before, 1, "after forgetting a token twice");
    EXPECT(t1c != NULL && !same_token(t1c, t1b), "a different token after the second forget");
    EXPECT(same_token(again, t1c), "which is cached");
    rs_idc_free_token(again);

    /* Forgetting through a copy (any string equal to the token) works too. */
    char *copy = t2 != NULL ? strdup(t2) : NULL;
    rs_idc_forget_token(copy);
    if (copy != NULL) {
        memset(copy, 0, strlen(copy));
        free(copy);
    }
    before = fake_requests();
    again = token_for(client, "forget-c2", NULL);
    EXPECT_REQUESTS(before, 1, "after forgetting a copy of c2's token");
    EXPECT(again != NULL && !same_token(again, t2), "c2 gets a different token");
    rs_idc_free_token(again);

    rs_idc_free_token(t1);
    rs_idc_free_token(t1b);
    rs_idc_free_token(t1c);
    rs_idc_free_token(t2);
}

/* ---------------------------------------------------------------- 2 */

/*
 * A database server for the test: it refuses one token (as if it had been
 * revoked, or the server's view of the user changed) and accepts others.
 */
struct server {
    char *refused; /* a copy of the token it refuses, or NULL */
    int logins;    /* login attempts seen */
};

/* 0 when the server accepts the token, -1 when it refuses it. */
static int server_login(struct server *server, const char *token)
{
    server->logins++;
    return token == NULL || same_token(token, server->refused) ? -1 : 0;
}

/*
 * Connects as a driver does: get a token, log in; if the login is refused,
 * forget the token, get another and retry once. Returns 0 when logged in,
 * -1 otherwise.
 */
static int driver_connect(struct server *server, rs_idc_client *client, const char *id)
{
    const char *ids[] = {id};
    char *token = NULL;
    if (rs_idc_client_get_token(client, ids, 1, &token, NULL) != RS_IDC_OK) {
        return -1;
    }
    int result = server_login(server, token);
    if (result != 0) {
        /* Refused: the cached token is no good. Drop it, get a new one, once. */
        rs_idc_forget_token(token);
        rs_idc_free_token(token);
        token = NULL;
        if (rs_idc_client_get_token(client, ids, 1, &token, NULL) != RS_IDC_OK) {
            return -1;
        }
        result = server_login(server, token);
    }
    rs_idc_free_token(token);
    return result;
}

static void the_retry_recipe(rs_idc_client *client)
{
    struct server server = {NULL, 0};
    /* A first connection: the token is fetched and accepted. */
    long before = fake_requests();
    EXPECT(driver_connect(&server, client, "forget-retry") == 0, "the first login succeeds");
    EXPECT(server.logins == 1, "one login attempt (saw %d)", server.logins);
    EXPECT_REQUESTS(before, 1, "the first connection");

    /* The server now refuses the cached token. */
    server.refused = token_for(client, "forget-retry", NULL);
    server.logins = 0;
    before = fake_requests();
    EXPECT(driver_connect(&server, client, "forget-retry") == 0,
           "refused -> forget -> get -> retry succeeds");
    EXPECT(server.logins == 2, "the refused login and one retry (saw %d)", server.logins);
    EXPECT_REQUESTS(before, 1, "the retry fetched a new token");

    /* The next connection uses the new cached token at once. */
    server.logins = 0;
    before = fake_requests();
    EXPECT(driver_connect(&server, client, "forget-retry") == 0, "the next login succeeds");
    EXPECT(server.logins == 1, "at the first attempt (saw %d)", server.logins);
    EXPECT_REQUESTS(before, 0, "the next connection");
    rs_idc_free_token(server.refused);
}

/* ---------------------------------------------------------------- 3 */

/*
 * Token lifetimes here: 20 s (ttl-20). The default margin is the smaller of
 * 300 s and half the lifetime: 10 s; refresh ahead starts the smaller of
 * 60 s and half the margin before that: 5 s earlier. So, counted from the
 * expiry: served as it is until 15 s before, in the refresh-ahead window
 * from 15 s to 10 s before, refreshed by the caller after that.
 */
#define TTL_SECONDS 20
#define CALL_BEFORE_EXPIRY 13.5 /* about 6.5 s after the token was made */

static void refresh_ahead(void)
{
    rs_idc_option off[] = {{"refresh_ahead", "off"}};
    rs_idc_client *ahead = test_handle(fake_keys, "20000", NULL, 0);
    rs_idc_client *plain = test_handle(fake_keys, "20000", off, 1);
    if (ahead == NULL || plain == NULL) {
        rs_idc_client_free(ahead);
        rs_idc_client_free(plain);
        return;
    }
    /* The fake's ttl-N answer follows the first identifier; the sets differ. */
    const char *ahead_ids[] = {"ttl-20"};
    const char *plain_ids[] = {"ttl-20", "zz-no-refresh-ahead"};

    long before = fake_requests();
    char *old_ahead = NULL, *old_plain = NULL;
    int64_t exp_ahead = 0, exp_plain = 0;
    expect_client_token(ahead, H_CLUSTER, ahead_ids, 1, RS_IDC_OK, &old_ahead, &exp_ahead);
    expect_client_token(plain, H_CLUSTER, plain_ids, 2, RS_IDC_OK, &old_plain, &exp_plain);
    EXPECT_REQUESTS(before, 2, "the first tokens");
    double left = (double)exp_ahead - wall_seconds();
    EXPECT(left > TTL_SECONDS - 3 && left <= TTL_SECONDS + 1,
           "a ttl-20 token lives about 20 s (%.1f s left)", left);

    /* Into the refresh-ahead window of both tokens. */
    double latest = (double)(exp_ahead < exp_plain ? exp_ahead : exp_plain);
    pause_seconds(latest - CALL_BEFORE_EXPIRY - wall_seconds());
    printf("refresh ahead: calls %.1f s before the expiry\n", latest - wall_seconds());

    /*
     * Both calls at once, then the requests they cause: refresh_ahead = off
     * gets the old token and makes no request; refresh ahead (the default)
     * gets the old token at once and one refresh starts behind it.
     */
    before = fake_requests();
    char *token = NULL;
    expect_client_token(plain, H_CLUSTER, plain_ids, 2, RS_IDC_OK, &token, NULL);
    EXPECT(same_token(token, old_plain), "without refresh ahead: the old token");
    rs_idc_free_token(token);
    double started = now_seconds();
    expect_client_token(ahead, H_CLUSTER, ahead_ids, 1, RS_IDC_OK, &token, NULL);
    double took = now_seconds() - started;
    EXPECT(same_token(token, old_ahead), "with refresh ahead: the old token");
    rs_idc_free_token(token);
    printf("refresh ahead: the call in the window took %.3f s\n", took);

    double deadline = now_seconds() + 5.0 * slow_factor();
    while (fake_requests() - before < 1 && now_seconds() < deadline) {
        pause_seconds(0.02);
    }
    pause_seconds(0.5); /* time for a second request, if one were coming */
    EXPECT_REQUESTS(before, 1, "one background refresh for the two calls in the window");

    /* A moment later: the new token (once the refresh's answer is in). */
    char *fresh = NULL;
    int64_t exp_fresh = 0;
    deadline = now_seconds() + 5.0 * slow_factor();
    do {
        rs_idc_free_token(fresh);
        fresh = NULL;
        pause_seconds(0.05);
        expect_client_token(ahead, H_CLUSTER, ahead_ids, 1, RS_IDC_OK, &fresh, &exp_fresh);
    } while (same_token(fresh, old_ahead) && now_seconds() < deadline);
    EXPECT(fresh != NULL && !same_token(fresh, old_ahead),
           "a call a moment later gets the refreshed token");
    EXPECT(exp_fresh > exp_ahead, "the refreshed token expires later (%lld > %lld)",
           (long long)exp_fresh, (long long)exp_ahead);
    EXPECT_REQUESTS(before, 1, "one refresh in all");
    rs_idc_free_token(fresh);

    /* Still before the margin of the plain handle's token: cached, no request. */
    before = fake_requests();
    expect_client_token(plain, H_CLUSTER, plain_ids, 2, RS_IDC_OK, &token, NULL);
    EXPECT(same_token(token, old_plain), "without refresh ahead the old token stays");
    rs_idc_free_token(token);
    EXPECT_REQUESTS(before, 0, "without refresh ahead, another call in the window");
    EXPECT(wall_seconds() < (double)exp_plain - 10.0,
           "those calls ran before the margin (%.1f s before the expiry)",
           (double)exp_plain - wall_seconds());

    rs_idc_free_token(old_ahead);
    rs_idc_free_token(old_plain);
    rs_idc_client_free(ahead);
    rs_idc_client_free(plain);
}

int main(void)
{
    EXPECT(fake_requests() >= 0, "the fake's stats are readable at 127.0.0.1:$RS_IDC_FAKE_PORT");
    rs_idc_client *client = test_handle(fake_keys, "20000", NULL, 0);
    if (client != NULL) {
        double started = now_seconds();
        forgetting_drops_one_token(client);
        printf("forgetting a token: %.2f s\n", now_seconds() - started);
        started = now_seconds();
        the_retry_recipe(client);
        printf("the retry recipe: %.2f s\n", now_seconds() - started);
        rs_idc_client_free(client);
    }
    double started = now_seconds();
    refresh_ahead();
    printf("refresh ahead: %.2f s\n", now_seconds() - started);
    return test_summary();
}
