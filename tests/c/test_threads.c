/*
 * test_threads.c - many threads at once, and the thread-local last error.
 *
 * 32 threads wait at a barrier and then all ask for a token for the same
 * clusters at the same moment; every one must get a token. Whether the
 * tokens are equal (a cache) or distinct is not this test's business.
 * Then two threads fail at the same time for different reasons, and each
 * must see its own message.
 */

#include "harness.h"

#include <pthread.h>

#define THREADS 32

static pthread_barrier_t start_line;

struct result {
    int status;
    size_t token_len;
    int64_t exp;
};

static struct result results[THREADS];

/* Each thread: wait for all, then one call; the checks run on the main thread. */
static void *get_token_together(void *arg)
{
    struct result *r = arg;
    const char *ids[] = {"shared-cluster", "Other-Cluster"};
    char *out = NULL;
    r->exp = 0;
    pthread_barrier_wait(&start_line);
    r->status = rs_idc_get_token(ids, 2, &out, &r->exp);
    r->token_len = out != NULL ? strlen(out) : 0;
    if (r->status != RS_IDC_OK) {
        fprintf(stderr, "thread: %s: %s\n", rs_idc_status_str(r->status), rs_idc_last_error());
    }
    rs_idc_free_token(out);
    return NULL;
}

static void many_threads(void)
{
    pthread_t threads[THREADS];
    int started = 0;
    CHECK(pthread_barrier_init(&start_line, NULL, THREADS) == 0);
    for (int i = 0; i < THREADS; i++) {
        results[i].status = 1; /* not a status the library returns */
        if (!EXPECT(pthread_create(&threads[i], NULL, get_token_together, &results[i]) == 0,
                    "thread %d starts", i)) {
            break;
        }
        started++;
    }
    if (started < THREADS) {
        /* The barrier would never open: nothing more to learn here. */
        fprintf(stderr, "only %d threads started\n", started);
        test_summary();
        exit(1);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_barrier_destroy(&start_line);

    time_t now = time(NULL);
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        EXPECT(results[i].status == RS_IDC_OK, "thread %d: status %s", i,
               rs_idc_status_str(results[i].status));
        EXPECT(results[i].token_len > 0, "thread %d: a non-empty token", i);
        EXPECT(results[i].exp > (int64_t)now, "thread %d: expiry %lld in the future", i,
               (long long)results[i].exp);
        ok += results[i].status == RS_IDC_OK;
    }
    printf("%d of %d threads got a token\n", ok, THREADS);
}

/* The last-error test: two threads fail for different reasons, together. */
static pthread_barrier_t failed_both;

struct failing {
    const char *id;       /* the identifier this thread asks for */
    int want;             /* its expected status */
    const char *words;    /* its message holds these */
    const char *not_words; /* and not these (the other thread's) */
};

static void *fail_then_look(void *arg)
{
    const struct failing *f = arg;
    const char *ids[] = {f->id};
    expect_status(ids, 1, f->want);
    /* Both threads have failed before either reads its message. */
    pthread_barrier_wait(&failed_both);
    EXPECT_LAST_ERROR(f->words);
    EXPECT(strstr(rs_idc_last_error(), f->not_words) == NULL,
           "thread asking for %s sees \"%s\", which is the other thread's message", f->id,
           rs_idc_last_error());
    pthread_barrier_wait(&failed_both);
    /* A call that succeeds does not disturb the other thread's message. */
    const char *good[] = {"my-cluster"};
    expect_status(good, 1, RS_IDC_OK);
    pthread_barrier_wait(&failed_both);
    EXPECT_LAST_ERROR(f->words);
    return NULL;
}

/* A thread that never failed has an empty last error, whatever others did. */
static void *look_only(void *arg)
{
    (void)arg;
    EXPECT(rs_idc_last_error()[0] == '\0', "a new thread's last error is \"%s\", expected empty",
           rs_idc_last_error());
    return NULL;
}

static void thread_local_errors(void)
{
    /* The main thread fails in a third way first. */
    const char *ids[] = {"my-cluster"};
    char *out = NULL;
    EXPECT_STATUS(rs_idc_get_token(ids, 0, &out, NULL), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("got 0");

    static const struct failing a = {"bad_id", RS_IDC_EINVAL, "ids[0] has a byte", "ClusterNotFound"};
    static const struct failing b = {"err-notfound", RS_IDC_ENOTFOUND, "ClusterNotFound", "ids[0]"};
    pthread_t ta, tb, tc;
    CHECK(pthread_barrier_init(&failed_both, NULL, 2) == 0);
    int started_a = pthread_create(&ta, NULL, fail_then_look, (void *)&a) == 0;
    int started_b = pthread_create(&tb, NULL, fail_then_look, (void *)&b) == 0;
    if (!CHECK(started_a && started_b)) {
        fprintf(stderr, "could not start both threads\n");
        exit(1);
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&failed_both);

    if (CHECK(pthread_create(&tc, NULL, look_only, NULL) == 0)) {
        pthread_join(tc, NULL);
    }

    /* The main thread's message is still its own. */
    EXPECT_LAST_ERROR("got 0");
}

int main(void)
{
    long before = fake_requests();
    double started = now_seconds();
    many_threads();
    printf("%d threads took %.2f s\n", THREADS, now_seconds() - started);
    long made = fake_requests() - before;
    EXPECT(before >= 0 && made >= 1 && made <= THREADS,
           "the fake saw 1 to %d requests, it saw %ld", THREADS, made);

    thread_local_errors();
    return test_summary();
}
