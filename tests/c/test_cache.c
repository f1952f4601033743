/*
 * test_cache.c - the token cache seen from C.
 *
 * 64 threads released together for one new identifier set make exactly one
 * request and get 64 identical tokens; order, case and duplicates share an
 * entry; rs_idc_cache_clear() makes the next call ask again; another
 * access key in the environment never gets the first identity's token; and
 * with RS_IDC_CACHE=0 (read when the process-wide client is built, so in a
 * fresh child) every call reaches the endpoint. Tokens are compared, never
 * printed.
 */

#include "harness.h"

#include <pthread.h>

#define THREADS 64

static pthread_barrier_t start_line;
static char *tokens[THREADS];
static int statuses[THREADS];

static void *ask_together(void *arg)
{
    size_t i = (size_t)arg;
    const char *ids[] = {"pool-cluster"};
    pthread_barrier_wait(&start_line);
    statuses[i] = rs_idc_get_token(ids, 1, &tokens[i], NULL);
    return NULL;
}

/* Gets a token for ids; returns it (caller frees) or NULL. */
static char *token_for(const char **ids, size_t n)
{
    char *out = NULL;
    int status = rs_idc_get_token(ids, n, &out, NULL);
    EXPECT_STATUS(status, RS_IDC_OK);
    return out;
}

static int same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static void sixty_four_threads_make_one_request(void)
{
    long before = fake_requests();
    pthread_t threads[THREADS];
    pthread_barrier_init(&start_line, NULL, THREADS);
    for (size_t i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&threads[i], NULL, ask_together, (void *)i) == 0);
    }
    for (size_t i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_barrier_destroy(&start_line);
    EXPECT(fake_requests() - before == 1, "64 callers at once make one request (made %ld)",
           fake_requests() - before);
    int identical = 1;
    for (size_t i = 0; i < THREADS; i++) {
        EXPECT_STATUS(statuses[i], RS_IDC_OK);
        identical &= same(tokens[i], tokens[0]);
    }
    EXPECT(identical, "all 64 callers got the same token");
    for (size_t i = 0; i < THREADS; i++) {
        rs_idc_free_token(tokens[i]);
    }
}

static void order_case_and_duplicates_share_an_entry(void)
{
    const char *first_ids[] = {"beta", "Alpha"};
    const char *second_ids[] = {"ALPHA", "beta", "alpha"};
    long before = fake_requests();
    char *first = token_for(first_ids, 2);
    char *second = token_for(second_ids, 3);
    EXPECT(fake_requests() - before == 1, "one request for one normalised set");
    EXPECT(same(first, second), "the same token for the same set");
    rs_idc_free_token(first);
    rs_idc_free_token(second);
}

static void clearing_makes_the_next_call_ask_again(void)
{
    const char *ids[] = {"cleared"};
    long before = fake_requests();
    rs_idc_free_token(token_for(ids, 1));
    rs_idc_free_token(token_for(ids, 1));
    EXPECT(fake_requests() - before == 1, "the second call is served from the cache");
    rs_idc_cache_clear();
    rs_idc_free_token(token_for(ids, 1));
    EXPECT(fake_requests() - before == 2, "after rs_idc_cache_clear() the call asks again");
}

static void another_access_key_gets_its_own_token(void)
{
    const char *ids[] = {"identity-check"};
    char *first = token_for(ids, 1);
    const char *saved[3] = {getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
                            getenv("AWS_SESSION_TOKEN")};
    char *copies[3];
    for (int i = 0; i < 3; i++) {
        copies[i] = saved[i] ? strdup(saved[i]) : NULL;
    }
    const char *key = getenv("RS_IDC_TEST_IDC2_ACCESS_KEY_ID");
    const char *secret = getenv("RS_IDC_TEST_IDC2_SECRET_ACCESS_KEY");
    const char *session = getenv("RS_IDC_TEST_IDC2_SESSION_TOKEN");
    EXPECT(key && secret && session, "the second identity's keys are in the environment");
    if (key && secret && session) {
        setenv("AWS_ACCESS_KEY_ID", key, 1);
        setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
        setenv("AWS_SESSION_TOKEN", session, 1);
        long before = fake_requests();
        char *second = token_for(ids, 1);
        EXPECT(fake_requests() - before == 1, "another access key makes a new request");
        EXPECT(second != NULL && !same(first, second),
               "another access key never gets the first identity's token");
        rs_idc_free_token(second);
    }
    const char *names[3] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"};
    for (int i = 0; i < 3; i++) {
        if (copies[i]) {
            setenv(names[i], copies[i], 1);
            free(copies[i]);
        }
    }
    rs_idc_free_token(first);
}

/* In a fresh child: the process-wide client is built with the cache off. */
static void cache_off_in_child(void *unused)
{
    (void)unused;
    setenv("RS_IDC_CACHE", "0", 1);
    const char *ids[] = {"uncached"};
    long before = fake_requests();
    for (int i = 0; i < 3; i++) {
        rs_idc_free_token(token_for(ids, 1));
    }
    EXPECT(fake_requests() - before == 3, "with RS_IDC_CACHE=0 every call reaches the endpoint");
}

int main(void)
{
    CHECK(fake_requests() >= 0);
    struct child uncached = start_child(cache_off_in_child, NULL);
    EXPECT(finish_child(uncached, 30.0 * slow_factor(), "cache-off child"),
           "the cache-off child passed");
    sixty_four_threads_make_one_request();
    order_case_and_duplicates_share_an_entry();
    clearing_makes_the_next_call_ask_again();
    another_access_key_gets_its_own_token();
    return test_summary();
}
