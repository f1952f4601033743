/*
 * test_fork_resolving.c - fork() while another thread of the parent is
 * inside a slow credential lookup on a shared handle.
 *
 * The handle's profile gets its credentials from a credential_process that
 * takes two seconds. Thread A makes the first call on the handle, so it
 * holds the handle's "one lookup at a time" lock for those two seconds;
 * meanwhile the parent forks. Thread A does not exist in the child, so a
 * child that waited for that lock would wait forever: it must do its own
 * lookup and get a token within a bound. The parent's call finishes too.
 */

#include "harness.h"

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

/* Writes an AWS config file whose profile `slow` runs a slow credential_process. */
static int write_config(char *path)
{
    int fd = mkstemp(path);
    if (fd < 0) {
        return 0;
    }
    const char *text =
        "[profile slow]\n"
        "region = us-east-1\n"
        "credential_process = /bin/sh -c 'sleep 2; printf "
        "\"{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"%s\\\",\\\"SecretAccessKey\\\":\\\"%s\\\","
        "\\\"SessionToken\\\":\\\"%s\\\"}\" \"$RS_IDC_TEST_IDC_ACCESS_KEY_ID\" "
        "\"$RS_IDC_TEST_IDC_SECRET_ACCESS_KEY\" \"$RS_IDC_TEST_IDC_SESSION_TOKEN\"'\n";
    ssize_t want = (ssize_t)strlen(text);
    int ok = write(fd, text, (size_t)want) == want;
    close(fd);
    return ok;
}

int main(void)
{
    need_env("RS_IDC_TEST_IDC_ACCESS_KEY_ID");
    char path[] = "/tmp/rs-idc-slow-profile-XXXXXX";
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
    usleep(500 * 1000); /* thread A is now inside the two-second lookup */
    double started = now_seconds();
    struct child c = start_child(child_call, NULL);
    int ok = finish_child(c, 10.0 * slow_factor(), "child forked during a lookup");
    EXPECT(ok, "the child got its own token instead of waiting for the parent's lookup");
    printf("child forked during a lookup: %s after %.2f s\n", ok ? "passed" : "FAILED",
           now_seconds() - started);
    pthread_join(thread, NULL);
    EXPECT_STATUS(thread_status, RS_IDC_OK);

    rs_idc_client_free(client);
    unlink(path);
    return test_summary();
}
