/*
 * test_fork_resolving.c - fork() while another thread of the parent is
 * inside a slow credential lookup on a shared handle.
 *
 * The handle's profile gets its credentials from a credential_process.
 * Its first run (thread A's, the first call on the handle) says it has
 * started and then waits until the test releases it, so thread A holds
 * the handle's "one lookup at a time" lock for as long as the test wants;
 * the parent forks while it does. Thread A does not exist in the child, so
 * a child that waited for that lock would wait forever: it must do its
 * own lookup (the credential_process's later runs answer at once) and get
 * a token within a bound. Then the test releases thread A's lookup, and
 * the parent's call finishes too. Every step waits for an event (a file
 * appearing, a child ending), not for a guess at how long a step takes.
 */

#include "harness.h"

#include <fcntl.h>
#include <pthread.h>

static rs_idc_client *client;
static int thread_status = 1;

static void *first_call(void *unused)
{
    (void)unused;
    const char *ids[] = {"parent-cluster"};
    char *out = NULL;
    thread_status = rs_idc_client_get_token(client, ids, 1, &out, NULL);
    rs_idc_free_token(out);
    return NULL;
}

static void child_call(void *unused)
{
    (void)unused;
    char own[32];
    snprintf(own, sizeof own, "child-%ld", (long)getpid());
    const char *ids[] = {own};
    expect_client(client, H_CLUSTER, ids, 1, RS_IDC_OK);
}

/* The folder of the credential_process's marks: `first` (made by its first run),
 * `started` (that run is waiting) and `release` (made by the test). */
static char marks[] = "/tmp/rs-idc-fork-resolving-XXXXXX";

static int mark_exists(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", marks, name);
    return access(path, F_OK) == 0;
}

static int make_mark(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", marks, name);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    return fd >= 0 && close(fd) == 0;
}

/* Writes an AWS config file whose profile `slow` runs a credential_process
 * whose first run waits for the `release` mark. */
static int write_config(char *path)
{
    int fd = mkstemp(path);
    if (fd < 0) {
        return 0;
    }
    char text[2048];
    int len = snprintf(
        text, sizeof text,
        "[profile slow]\n"
        "region = us-east-1\n"
        "credential_process = /bin/sh -c 'if mkdir %s/first 2>/dev/null; then "
        ": > %s/started; while [ ! -e %s/release ]; do sleep 0.05; done; fi; printf "
        "\"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"%%s\\\",\\\"SecretAccessKey\\\":\\\"%%s\\\","
        "\\\"SessionToken\\\":\\\"%%s\\\"}\" \"$RS_IDC_TEST_IDC_ACCESS_KEY_ID\" "
        "\"$RS_IDC_TEST_IDC_SECRET_ACCESS_KEY\" \"$RS_IDC_TEST_IDC_SESSION_TOKEN\"'\n",
        marks, marks, marks);
    int ok = len > 0 && (size_t)len < sizeof text && write(fd, text, (size_t)len) == len;
    close(fd);
    return ok;
}

int main(void)
{
    need_env("RS_IDC_TEST_IDC_ACCESS_KEY_ID");
    char path[] = "/tmp/rs-idc-slow-profile-XXXXXX";
    CHECK(mkdtemp(marks) != NULL);
    CHECK(write_config(path));
    /* Only the profile may supply credentials. */
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    setenv("AWS_CONFIG_FILE", path, 1);

    const char *endpoint = need_env("AWS_ENDPOINT_URL");
    rs_idc_option options[] = {
        {"profile", "slow"},
        {"endpoint_url", endpoint},
        {"timeout_ms", "15000"},
    };
    EXPECT_STATUS(rs_idc_client_new(options, 3, &client), RS_IDC_OK);

    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, first_call, NULL) == 0);
    /* The event: thread A's lookup is running and waits for the release. */
    double bound = now_seconds() + 30.0 * slow_factor();
    while (!mark_exists("started") && now_seconds() < bound) {
        pause_seconds(0.01);
    }
    EXPECT(mark_exists("started"), "thread A's credential lookup started");
    double started = now_seconds();
    struct child c = start_child(child_call, NULL);
    int ok = finish_child(c, 10.0 * slow_factor(), "child forked during a lookup");
    EXPECT(ok, "the child got its own token instead of waiting for the parent's lookup");
    printf("child forked during a lookup: %s after %.2f s\n", ok ? "passed" : "FAILED",
           now_seconds() - started);
    CHECK(make_mark("release"));
    pthread_join(thread, NULL);
    EXPECT_STATUS(thread_status, RS_IDC_OK);

    rs_idc_client_free(client);
    unlink(path);
    const char *names[] = {"release", "started"};
    for (size_t i = 0; i < 2; i++) {
        char mark[128];
        snprintf(mark, sizeof mark, "%s/%s", marks, names[i]);
        unlink(mark);
    }
    char first[128];
    snprintf(first, sizeof first, "%s/first", marks);
    rmdir(first);
    rmdir(marks);
    return test_summary();
}
