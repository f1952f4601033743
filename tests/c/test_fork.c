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

    /* 6. The parent's runtime still works after all that. */
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
