/*
 * test_fork.c - the library works in a child after fork().
 *
 * A child forked before the parent ever called the library gets a token.
 * Then the parent gets a token (its runtime and HTTP clients now exist)
 * and forks again: that child must build its own runtime and clients and
 * get a token too, and so must a grandchild. Meanwhile the parent's own
 * runtime must keep working. Children report through their exit status
 * and leave with _exit(); the parent waits for each with a time bound and
 * kills one that overruns.
 */

#include "harness.h"

#include <pthread.h>

static const char *cluster[] = {"my-cluster"};

/* How long a child may take for its tokens. */
static double child_limit(void)
{
    return 30.0 * slow_factor();
}

/*
 * In a child: a token for a cluster named after this process, which no
 * cache inherited from the parent can hold, so the child's own runtime
 * must reach the fake; then one for the common cluster.
 */
static void own_and_common_token(void *unused)
{
    (void)unused;
    char own[32];
    snprintf(own, sizeof own, "child-%ld", (long)getpid());
    const char *ids[] = {own};
    expect_status(ids, 1, RS_IDC_OK);
    expect_status(cluster, 1, RS_IDC_OK);
}

/* In a child: tokens, then a grandchild that gets tokens too, then more. */
static void tokens_and_grandchild(void *unused)
{
    own_and_common_token(unused);
    struct child grandchild = start_child(own_and_common_token, NULL);
    EXPECT(finish_child(grandchild, child_limit(), "grandchild"), "the grandchild got its tokens");
    expect_status(cluster, 1, RS_IDC_OK);
}

/* The parent's call that the fake never answers, until its time bound. */
static int hanging_status;
static void *hanging_call(void *unused)
{
    (void)unused;
    const char *ids[] = {"fault-hang-1"};
    char *out = NULL;
    hanging_status = rs_idc_get_token(ids, 1, &out, NULL);
    rs_idc_free_token(out);
    return NULL;
}

/* In a child: the same identifiers as the hanging call, answered now. */
static void hang_once_token(void *unused)
{
    (void)unused;
    const char *ids[] = {"fault-hang-1"};
    expect_status(ids, 1, RS_IDC_OK);
}

/* In the parent: waits for a child and checks its verdict. */
static void expect_child_ok(struct child c, const char *what)
{
    double started = now_seconds();
    int ok = finish_child(c, child_limit(), what);
    EXPECT(ok, "%s: its checks pass and it exits in time", what);
    printf("%s: %s after %.2f s\n", what, ok ? "passed" : "FAILED", now_seconds() - started);
}

int main(void)
{
    /* Bounds the parent's hanging call in case 6. */
    setenv("RS_IDC_TIMEOUT_MS", "4000", 1);
    long before = fake_requests();
    EXPECT(before >= 0, "the fake's stats are readable at 127.0.0.1:$RS_IDC_FAKE_PORT");

    /* 1. Forked before any call: the library has built nothing yet. */
    expect_child_ok(start_child(own_and_common_token, NULL), "child forked before any call");

    /* 2. The parent's first token: its runtime and clients now exist. */
    expect_status(cluster, 1, RS_IDC_OK);

    /* 3. Forked after a call: the child builds its own runtime and clients. */
    expect_child_ok(start_child(own_and_common_token, NULL), "child forked after a call");

    /* 4. The same, one generation further down. */
    expect_child_ok(start_child(tokens_and_grandchild, NULL), "child with a grandchild");

    /* 5. Several children at once. */
    struct child kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = start_child(own_and_common_token, NULL);
    }
    for (int i = 0; i < 4; i++) {
        expect_child_ok(kids[i], "one of four children at once");
    }

    /*
     * 6. Forked while another thread of the parent waits for an answer: the
     *    child must not wait for the parent's request (no thread of the
     *    child will ever finish it) but make its own. The fake hangs on
     *    the first request for "fault-hang-1" and answers later ones.
     */
    pthread_t waiter;
    CHECK(pthread_create(&waiter, NULL, hanging_call, NULL) == 0);
    usleep(300 * 1000); /* let the waiter's request reach the fake */
    expect_child_ok(start_child(hang_once_token, NULL), "child forked while a call hangs");
    pthread_join(waiter, NULL);
    EXPECT_STATUS(hanging_status, RS_IDC_ETIMEOUT);

    /* 7. The parent's runtime still works after all that. */
    expect_status(cluster, 1, RS_IDC_OK);
    expect_status(cluster, 1, RS_IDC_OK);

    /*
     * Each of the 8 children and grandchildren asked for a cluster of its
     * own, and the parent asked once before any child could: at least 9
     * requests reached the fake, whatever a cache saves.
     */
    long made = fake_requests() - before;
    EXPECT(made >= 9, "the fake saw %ld requests, expected at least 9", made);
    return test_summary();
}
