/*
 * test_lifecycle.c - fork() while other threads are in the middle of calls.
 *
 * The parent has four threads inside calls the fake never answers
 * (`fault-hang`; whole-call bound 3 s, 30 s under valgrind), two threads
 * serving cached tokens in a tight loop and one fetching a token for a new
 * cluster each time. Meanwhile it forks twelve children (six under
 * valgrind), one after another. Each child must get a token for a cluster
 * named after its own pid (no inherited cache entry can hold it, so its
 * own runtime must reach the fake) within a bound; half of them first
 * empty the cache (rs_idc_cache_clear(), which takes every cache shard's
 * lock for writing); one child also makes a hanging call of its own,
 * which must end with RS_IDC_ETIMEOUT within the bound. No lock, flight
 * or connection that a parent thread held at the fork may hold a child up.
 * Back in the parent, the hanging calls end with RS_IDC_ETIMEOUT within
 * their bound, no token call of the busy threads failed, and the parent
 * still gets tokens.
 *
 * All bounds are upper bounds that prove "does not hang", scaled by
 * slow_factor().
 */

#include "harness.h"

#include <pthread.h>

/* The whole-call bound of every call here: 3 s, 30 s under valgrind. */
#define TIMEOUT_MS ((int)(3000 * slow_factor()))
#define HANGERS 4
/* Children forked while the calls run (fewer under valgrind, where each is slow). */
#define CHILDREN 12
#define HITTERS 2

static const char *warm[] = {"life-warm"};

/* The bound of a call that hangs: its whole-call bound and some slack. */
static double hang_limit(void)
{
    return TIMEOUT_MS / 1000.0 + 2.0 * slow_factor();
}

/* The bound of a call that gets a token, and of a child's whole work. */
static double token_limit(void)
{
    return 10.0 * slow_factor();
}

/* ---- threads of the parent ---- */

struct hanger {
    int index;
    int status;
    double took;
};

static atomic_int hangers_done;

/* A call the fake never answers; distinct second ids make distinct flights. */
static void *hang_call(void *arg)
{
    struct hanger *h = arg;
    char name[32];
    snprintf(name, sizeof name, "hang-%d", h->index);
    const char *ids[] = {"fault-hang", name};
    char *out = NULL;
    double started = now_seconds();
    h->status = rs_idc_get_token(ids, 2, &out, NULL);
    h->took = now_seconds() - started;
    rs_idc_free_token(out);
    atomic_fetch_add(&hangers_done, 1);
    return NULL;
}

struct looper {
    int index;
    int fresh; /* 1: a new cluster each call (runtime); 0: the cached "life-warm" */
    long calls;
    long failures;
    int bad_status;
};

static atomic_int stop_loops;

static void *token_loop(void *arg)
{
    struct looper *l = arg;
    while (!atomic_load(&stop_loops)) {
        char name[48];
        snprintf(name, sizeof name, "life-%ld-%d-%ld", (long)getpid(), l->index, l->calls);
        const char *fresh_ids[] = {name};
        char *out = NULL;
        int64_t exp = 0;
        int status = rs_idc_get_token(l->fresh ? fresh_ids : warm, 1, &out, &exp);
        if (status != RS_IDC_OK || out == NULL || out[0] == '\0') {
            if (l->failures++ == 0) {
                l->bad_status = status;
                fprintf(stderr, "loop %d: %s: %s\n", l->index, rs_idc_status_str(status),
                        rs_idc_last_error());
            }
        }
        rs_idc_free_token(out);
        l->calls++;
        if (under_valgrind()) {
            usleep(1000); /* valgrind runs one thread at a time: let the others in */
        }
    }
    return NULL;
}

/* ---- children ---- */

/* A token for a cluster named after this child, then the parent's cached one. */
static void child_tokens(void *unused)
{
    (void)unused;
    char own[32];
    snprintf(own, sizeof own, "child-%ld", (long)getpid());
    const char *ids[] = {own};
    double started = now_seconds();
    expect_status(ids, 1, RS_IDC_OK);
    double took = now_seconds() - started;
    EXPECT(took < token_limit(), "child %s: its token took %.2f s", own, took);
    expect_status(warm, 1, RS_IDC_OK);
}

/*
 * Empties the cache first: that takes every shard's lock for writing, so a
 * lock that a parent thread held at fork() time would show here; then as
 * child_tokens().
 */
static void child_clear_tokens(void *unused)
{
    (void)unused;
    double started = now_seconds();
    rs_idc_cache_clear();
    double took = now_seconds() - started;
    EXPECT(took < token_limit(), "child %ld: rs_idc_cache_clear() took %.2f s", (long)getpid(),
           took);
    child_tokens(NULL);
}

/* A hanging call of the child's own (its own runtime's timer), then a token. */
static void child_hang(void *unused)
{
    (void)unused;
    /* Identifiers are sorted before the call: the fault one must stay first. */
    char own[32];
    snprintf(own, sizeof own, "hang-child-%ld", (long)getpid());
    const char *hang_ids[] = {"fault-hang", own};
    double started = now_seconds();
    expect_status(hang_ids, 2, RS_IDC_ETIMEOUT);
    double took = now_seconds() - started;
    EXPECT(took < hang_limit(), "child %s: its hanging call ended after %.2f s, bound %.2f s",
           own, took, hang_limit());
    child_tokens(NULL);
}

/* Waits (bounded) until the fake has seen `want` requests more than `before`. */
static int wait_requests(long before, long want, double seconds)
{
    double deadline = now_seconds() + seconds;
    while (now_seconds() < deadline) {
        long seen = fake_requests();
        if (seen >= 0 && seen - before >= want) {
            return 1;
        }
        usleep(20 * 1000);
    }
    return 0;
}

int main(void)
{
    /* Read by the default client when it is built: before the first call. */
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", TIMEOUT_MS);
    setenv("RS_IDC_TIMEOUT_MS", timeout, 1);

    /* The parent's runtime, clients and one cache entry exist from here. */
    expect_status(warm, 1, RS_IDC_OK);

    /* 1. Four calls that hang, all sent before anything is forked. */
    long before = fake_requests();
    EXPECT(before >= 0, "the fake's stats are readable");
    struct hanger hangers[HANGERS];
    pthread_t hang_threads[HANGERS];
    for (int i = 0; i < HANGERS; i++) {
        hangers[i] = (struct hanger){i, 1, 0.0};
        if (pthread_create(&hang_threads[i], NULL, hang_call, &hangers[i]) != 0) {
            fprintf(stderr, "cannot start a thread\n");
            return 1;
        }
    }
    EXPECT(wait_requests(before, HANGERS, 2.0 * slow_factor()),
           "the %d hanging requests reached the fake", HANGERS);

    /* 2. Threads busy getting tokens: cached ones, and new ones. */
    struct looper loopers[HITTERS + 1];
    pthread_t loop_threads[HITTERS + 1];
    for (int i = 0; i <= HITTERS; i++) {
        loopers[i] = (struct looper){i, i == HITTERS, 0, 0, RS_IDC_OK};
        if (pthread_create(&loop_threads[i], NULL, token_loop, &loopers[i]) != 0) {
            fprintf(stderr, "cannot start a thread\n");
            return 1;
        }
    }
    usleep(50 * 1000);

    /* 3. Fork, again and again, while all of that runs. */
    int children = under_valgrind() ? CHILDREN / 2 : CHILDREN;
    struct child kids[CHILDREN];
    double forked_at[CHILDREN];
    for (int i = 0; i < children; i++) {
        forked_at[i] = now_seconds();
        void (*body)(void *) = i == 0 ? child_hang : i % 2 ? child_clear_tokens : child_tokens;
        kids[i] = start_child(body, NULL);
        usleep(60 * 1000);
    }
    int in_flight = HANGERS - atomic_load(&hangers_done);
    EXPECT(in_flight == HANGERS,
           "all %d hanging calls were still in flight when the last child was forked (%d were)",
           HANGERS, in_flight);

    /* Each child's bound counts from its own fork: they all run at once. */
    for (int i = 0; i < children; i++) {
        double limit = (i == 0 ? hang_limit() + token_limit() : token_limit()) + 2.0;
        double left = forked_at[i] + limit - now_seconds();
        int ok = finish_child(kids[i], left > 0.1 ? left : 0.1,
                              i == 0 ? "child with a hanging call" : "child");
        EXPECT(ok, "child %d (pid %ld): its checks pass and it ends within %.0f s of its fork", i,
               (long)kids[i].pid, limit);
        printf("child %d (%s): %s, reaped %.2f s after its fork\n", i,
               i == 0 ? "hang, then tokens" : i % 2 ? "cache clear, tokens" : "tokens",
               ok ? "passed" : "FAILED", now_seconds() - forked_at[i]);
    }

    /* 4. The parent's hanging calls end with their time bound. */
    for (int i = 0; i < HANGERS; i++) {
        pthread_join(hang_threads[i], NULL);
        EXPECT_STATUS(hangers[i].status, RS_IDC_ETIMEOUT);
        EXPECT(hangers[i].took < hang_limit(), "hanging call %d ended after %.2f s, bound %.2f s",
               i, hangers[i].took, hang_limit());
        printf("hanging call %d: %s after %.2f s\n", i, rs_idc_status_str(hangers[i].status),
               hangers[i].took);
    }

    /* 5. The busy threads never failed. */
    atomic_store(&stop_loops, 1);
    for (int i = 0; i <= HITTERS; i++) {
        pthread_join(loop_threads[i], NULL);
        EXPECT(loopers[i].calls > 0, "loop %d made calls", i);
        EXPECT(loopers[i].failures == 0, "loop %d (%s): %ld of %ld calls failed, first with %s", i,
               loopers[i].fresh ? "new clusters" : "cached", loopers[i].failures,
               loopers[i].calls, rs_idc_status_str(loopers[i].bad_status));
        printf("loop %d (%s): %ld calls, %ld failed\n", i,
               loopers[i].fresh ? "new clusters" : "cached", loopers[i].calls,
               loopers[i].failures);
    }

    /* 6. The parent still gets tokens, new and cached. */
    char own[32];
    snprintf(own, sizeof own, "parent-%ld", (long)getpid());
    const char *ids[] = {own};
    expect_status(ids, 1, RS_IDC_OK);
    expect_status(warm, 1, RS_IDC_OK);
    return test_summary();
}
