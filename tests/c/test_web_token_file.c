/*
 * test_web_token_file.c - per-user tokens from a handle's web_token_file.
 *
 * A single-user program (a job, a sidecar) names a file that holds its
 * user's web token (a JWT) and makes plain token calls; the file is
 * replaced from time to time, possibly with another user's token. Each
 * call must be made for the user whose web token the file holds when the
 * call starts:
 *
 *  1. a file rewritten in place, with another user's web token of the
 *     same length and its old access and modification times restored (as
 *     `cp -p`, `touch -r` and `rsync -t --inplace` leave it), serves the
 *     new user's token on the next call;
 *  2. a call that starts after the file changed does not join the
 *     exchange still running for the old content (the first user's
 *     exchange is slow, slow-N-...), and gets the new user's token;
 *  3. with application_role_arn (and no credentials of the handle's own),
 *     the application role session assumed with the first user's web
 *     token does not sign the next user's exchange: the call after the
 *     file switched makes a fresh AssumeRoleWithWebIdentity.
 *
 * Tokens and web tokens are compared, never printed: only subjects,
 * lengths and statuses.
 */

#include "harness.h"

#include <fcntl.h>
#include <sys/stat.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* From the environment of `rs-idc-fake run`. */
static const char *app_arn;
static const char *access_role_arn;
static const char *app_role_arn;

/* The whole-call bound of every handle here. */
static char roomy_timeout[32];

/* ------------------------------------------------------------ small tools */

/*
 * A handle with the roomy time bound, the fake's plain application
 * credentials when `with_keys`, the test application and access role, and
 * `extra` options (see h_user_handle). NULL on failure (reported).
 */
#define file_handle(with_keys, extra, n_extra)                                              \
    h_user_handle(__FILE__, __LINE__, roomy_timeout, (with_keys), app_arn, access_role_arn, \
                  (extra), (n_extra), RS_IDC_OK)

/*
 * A plain token call (rs_idc_client_get_token) for cluster `id` that must
 * succeed with a token issued to `subject`. Hands the token back (the
 * caller frees it); NULL on failure (reported).
 */
static char *h_expect_file_user(const char *file, int line, rs_idc_client *client,
                                const char *id, const char *subject)
{
    const char *ids[] = {id};
    char *token = NULL;
    if (h_expect_client(file, line, client, H_CLUSTER, ids, 1, RS_IDC_OK, &token, NULL) ==
        RS_IDC_OK) {
        h_expect_subject(file, line, token, subject);
    }
    return token;
}
#define expect_file_user(client, id, subject) \
    h_expect_file_user(__FILE__, __LINE__, (client), (id), (subject))

/*
 * A web token file (see new_temp_file) that holds `first`, the first of
 * two users' web tokens, its path into `path`. 1 when it was made; else 0,
 * and both web tokens are released (either may be NULL: not made,
 * reported where it was asked for).
 */
static int h_users_file(const char *file, int line, char *first, char *second, char *path,
                        size_t size)
{
    if (first != NULL && second != NULL &&
        h_record(new_temp_file(first, path, size) == 0, file, line,
                 "new_temp_file(first, path, size) == 0")) {
        return 1;
    }
    h_free_secret(first);
    h_free_secret(second);
    return 0;
}
#define users_file(first, second, path, size) \
    h_users_file(__FILE__, __LINE__, (first), (second), (path), (size))

/* Removes the web token file made by users_file() and releases both web tokens. */
static void users_file_remove(const char *path, char *first, char *second)
{
    unlink(path);
    h_free_secret(first);
    h_free_secret(second);
}

/*
 * Rewrites `path` in place, as `cp -p`, `touch -r` or `rsync -t --inplace`
 * do: opened without O_TRUNC, `text` and a newline written over the old
 * bytes from offset 0, then the old access and modification times put
 * back. The inode stays the same. 0 on success; *before and *after get the
 * file's status before and after.
 */
static int rewrite_in_place(const char *path, const char *text, struct stat *before,
                            struct stat *after)
{
    if (stat(path, before) != 0) {
        return -1;
    }
    int fd = open(path, O_WRONLY);
    if (fd < 0) {
        return -1;
    }
    size_t len = strlen(text);
    int ok = 1;
    for (size_t done = 0; ok && done < len;) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        done += n > 0 ? (size_t)n : 0;
    }
    ok = ok && write(fd, "\n", 1) == 1;
    struct timespec times[2] = {before->st_atim, before->st_mtim};
    ok = ok && futimens(fd, times) == 0;
    ok = close(fd) == 0 && ok;
    return ok && stat(path, after) == 0 ? 0 : -1;
}

/* Whether two timestamps are equal. */
static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/*
 * Web tokens for `first` and `second` (subjects of one length, one
 * lifetime) of the same length, asserted. Both NULL on failure (reported).
 */
static void same_length_web_tokens(const char *first, const char *second, char **a, char **b)
{
    *a = *b = NULL;
    /* The payloads differ in the subject only, unless a second boundary changes
     * the number of digits of iat or exp in between: then ask again. */
    for (int attempt = 0; attempt < 3; attempt++) {
        h_free_secret(*a);
        h_free_secret(*b);
        *a = fake_web_token(first, 3600, "");
        *b = fake_web_token(second, 3600, "");
        if (*a == NULL || *b == NULL || strlen(*a) == strlen(*b)) {
            break;
        }
    }
    if (*a == NULL || *b == NULL ||
        !EXPECT(strlen(*a) == strlen(*b), "the web tokens of %s and %s have one length (%zu, %zu)",
                first, second, strlen(*a), strlen(*b))) {
        h_free_secret(*a);
        h_free_secret(*b);
        *a = *b = NULL;
        return;
    }
    printf("  web tokens of %s and %s: %zu bytes each\n", first, second, strlen(*a));
}

/* ------------------------------------------------ 1: rewritten in place */

static void a_file_rewritten_in_place_serves_the_new_user(void)
{
    char *alice = NULL, *bobby = NULL;
    same_length_web_tokens("inplace-alice", "inplace-bobby", &alice, &bobby);
    char path[512];
    if (!users_file(alice, bobby, path, sizeof path)) {
        return;
    }
    rs_idc_option file[] = {{"web_token_file", path}};
    rs_idc_client *f = file_handle(1, file, N_OF(file));
    if (f != NULL) {
        char *first = expect_file_user(f, "inplace-cluster", "inplace-alice");

        struct stat before, after;
        if (CHECK(rewrite_in_place(path, bobby, &before, &after) == 0)) {
            /* What the rewrite left: the same inode, size and times. */
            EXPECT(before.st_ino == after.st_ino && before.st_dev == after.st_dev,
                   "the rewrite keeps the inode");
            EXPECT(before.st_size == after.st_size, "the rewrite keeps the size (%lld, %lld)",
                   (long long)before.st_size, (long long)after.st_size);
            EXPECT(same_time(before.st_mtim, after.st_mtim) &&
                       same_time(before.st_atim, after.st_atim),
                   "the rewrite restores the access and modification times");

            char *second = expect_file_user(f, "inplace-cluster", "inplace-bobby");
            EXPECT(second == NULL || !same_token(first, second),
                   "the call after the rewrite does not get the previous user's token");
            rs_idc_free_token(second);
        }
        rs_idc_free_token(first);
        rs_idc_client_free(f);
    }
    users_file_remove(path, alice, bobby);
}

/* ---------------------------------- 2: a call after the change, mid-flight */

static void a_call_after_the_change_does_not_join_the_old_exchange(void)
{
    /* The first user's exchange (CreateTokenWithIAM) waits this long at the fake. */
    int slow_ms = under_valgrind() ? 8000 : 2500;
    char slow_alice[64];
    snprintf(slow_alice, sizeof slow_alice, "slow-%d-flight-alice", slow_ms);
    char *alice = fake_web_token(slow_alice, 3600, "");
    char *bob = fake_web_token("flight-bob", 3600, "");
    char path[512];
    if (!users_file(alice, bob, path, sizeof path)) {
        return;
    }
    rs_idc_option file[] = {{"web_token_file", path}};
    rs_idc_client *f = file_handle(1, file, N_OF(file));
    const char *ids[] = {"flight-cluster"};
    rs_idc_request *first = NULL;
    long before = fake_requests();
    if (f == NULL || !EXPECT_STATUS(rs_idc_client_start_token(f, ids, 1, &first), RS_IDC_OK) ||
        first == NULL) {
        rs_idc_client_free(f);
        users_file_remove(path, alice, bob);
        return;
    }
    int fd = rs_idc_request_fd(first);

    /* The event: the first user's exchange reached the fake (its request is counted
     * as soon as it is read; the answer waits slow_ms). */
    double deadline = now_seconds() + 20.0 * slow_factor();
    while (fake_requests() <= before && now_seconds() < deadline && !fd_readable(fd, 0)) {
        pause_seconds(0.005);
    }
    EXPECT(fake_requests() > before, "the first user's exchange reached the fake");

    /* The file now holds the second user's web token (a new file renamed over it). */
    CHECK(replace_file(path, bob) == 0);
    EXPECT(!fd_readable(fd, 0),
           "the first call is still in flight when the second one starts (slow-%d)", slow_ms);

    /* A call that starts now is the second user's. */
    char *second = expect_file_user(f, "flight-cluster", "flight-bob");

    /* And the call that started before the change is the first user's. */
    EXPECT(wait_readable(fd, 30.0 * slow_factor(), NULL), "the first call finishes");
    char *token = NULL;
    if (EXPECT_STATUS(rs_idc_request_finish(first, &token, NULL), RS_IDC_OK)) {
        EXPECT_SUBJECT(token, slow_alice);
        EXPECT(!same_token(token, second), "the two calls got different tokens");
    }
    rs_idc_free_token(token);
    rs_idc_free_token(second);
    rs_idc_request_free(first);
    rs_idc_client_free(f);
    users_file_remove(path, alice, bob);
}

/* --------------------------------- 3: the application role is per user */

static void the_application_role_session_is_not_shared_between_users(void)
{
    char *alice = fake_web_token("approle-alice", 3600, "");
    char *bob = fake_web_token("approle-bob", 3600, "");
    char path[512];
    if (!users_file(alice, bob, path, sizeof path)) {
        return;
    }
    rs_idc_option options[] = {{"application_role_arn", app_role_arn},
                               {"role_session_name", "rs-idc-c-file-test"},
                               {"web_token_file", path}};
    rs_idc_client *f = file_handle(0, options, N_OF(options));
    if (f != NULL) {
        struct fake_ops before = fake_ops();
        char *first = expect_file_user(f, "approle-cluster", "approle-alice");
        EXPECT_OPS("the file's first user through the application role", before, 4, 1, 1, 1, 1,
                   0);

        CHECK(replace_file(path, bob) == 0);
        before = fake_ops();
        char *second = expect_file_user(f, "approle-cluster", "approle-bob");
        /* The second user's web token assumes the application role afresh. */
        EXPECT_OPS("the file's next user assumes the application role with their own web token",
                   before, -1, 1, -1, 1, -1, -1);
        rs_idc_free_token(first);
        rs_idc_free_token(second);
        rs_idc_client_free(f);
    }
    users_file_remove(path, alice, bob);
}

/* ------------------------------------------------------------------ main */

int main(void)
{
    /* Part 3's handle has no credentials of its own: none may come from the
     * environment either. Done first, before any library thread exists. */
    unset_aws_credentials();
    need_env("AWS_ENDPOINT_URL");
    need_env("RS_IDC_TEST_PLAIN_ACCESS_KEY_ID");
    need_env("RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY");
    app_arn = need_env("RS_IDC_TEST_APPLICATION_ARN");
    access_role_arn = need_env("RS_IDC_TEST_ACCESS_ROLE_ARN");
    app_role_arn = need_env("RS_IDC_TEST_APPLICATION_ROLE_ARN");
    need_env("RS_IDC_FAKE_PORT");
    if (atomic_load(&h_failed) > 0) {
        return test_summary();
    }
    snprintf(roomy_timeout, sizeof roomy_timeout, "%d", (int)(20000 * slow_factor()));

    struct {
        const char *name;
        void (*run)(void);
    } parts[] = {
        {"1. a file rewritten in place", a_file_rewritten_in_place_serves_the_new_user},
        {"2. a call after the change, while the old exchange runs",
         a_call_after_the_change_does_not_join_the_old_exchange},
        {"3. the application role session is per user",
         the_application_role_session_is_not_shared_between_users},
    };
    for (size_t i = 0; i < N_OF(parts); i++) {
        double started = now_seconds();
        parts[i].run();
        printf("%s: %.2f s\n", parts[i].name, now_seconds() - started);
    }
    return test_summary();
}
