/*
 * test_log_callback.c - the lifetime of a log callback.
 *
 * - Replacing the callback while another thread is inside it: the call
 *   that replaces it returns only once that thread has left the old
 *   callback, so the host may release the old callback's userdata at once.
 * - A callback that replaces itself from inside (against the advice, but
 *   allowed): no deadlock, and the new callback gets the next records.
 *
 * Records are produced by failing calls (err-notfound), which the library
 * logs at warn level on the calling thread. Lines are never printed.
 */

#include "harness.h"

#include <pthread.h>

/* What the slow callback's userdata points to. */
struct slow_sink {
    atomic_int entered;  /* deliveries that started */
    atomic_int inside;   /* deliveries running now */
    atomic_int finished; /* deliveries that ran to their end */
};

static void slow_callback(int level, const char *line, void *userdata)
{
    struct slow_sink *sink = userdata;
    (void)level;
    (void)line;
    atomic_fetch_add(&sink->entered, 1);
    atomic_fetch_add(&sink->inside, 1);
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
    atomic_fetch_add(&sink->finished, 1);
    atomic_fetch_sub(&sink->inside, 1);
}

static atomic_int quiet_records;

static void quiet_callback(int level, const char *line, void *userdata)
{
    (void)level;
    (void)line;
    (void)userdata;
    atomic_fetch_add(&quiet_records, 1);
}

/* A failing call: one warn record on this thread. */
static void *failing_call(void *arg)
{
    (void)arg;
    const char *ids[] = {"err-notfound"};
    char *token = NULL;
    int status = rs_idc_get_token(ids, 1, &token, NULL);
    EXPECT_STATUS(status, RS_IDC_ENOTFOUND);
    rs_idc_free_token(token);
    return NULL;
}

static void replacing_waits_for_the_old_callback(void)
{
    struct slow_sink *sink = calloc(1, sizeof *sink);
    if (!CHECK(sink != NULL)) {
        return;
    }
    rs_idc_set_log_level(RS_IDC_LOG_WARN);
    rs_idc_set_log_callback(slow_callback, sink);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, failing_call, NULL) == 0);
    double give_up = now_seconds() + 20 * slow_factor();
    while (atomic_load(&sink->entered) == 0 && now_seconds() < give_up) {
        struct timespec pause = {0, 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    EXPECT(atomic_load(&sink->entered) > 0, "the other thread reached the callback");
    rs_idc_set_log_callback(quiet_callback, NULL);
    /* Returned: nobody is inside the old callback any more. */
    EXPECT(atomic_load(&sink->inside) == 0,
           "no delivery to the old callback is running after the replacement returned (%d)",
           atomic_load(&sink->inside));
    EXPECT(atomic_load(&sink->finished) == atomic_load(&sink->entered),
           "every delivery to the old callback ended before the replacement returned");
    int entered = atomic_load(&sink->entered);
    /* What a host does next: release the old userdata. */
    free(sink);
    pthread_join(thread, NULL);
    failing_call(NULL);
    EXPECT(entered > 0 && atomic_load(&quiet_records) > 0,
           "later records reach the new callback (%d)", atomic_load(&quiet_records));
    rs_idc_set_log_callback(NULL, NULL);
}

static atomic_int self_replacing_records;

static void self_replacing_callback(int level, const char *line, void *userdata)
{
    (void)level;
    (void)line;
    (void)userdata;
    atomic_fetch_add(&self_replacing_records, 1);
    rs_idc_set_log_callback(quiet_callback, NULL);
}

static void a_callback_may_replace_itself(void)
{
    atomic_store(&quiet_records, 0);
    rs_idc_set_log_level(RS_IDC_LOG_WARN);
    rs_idc_set_log_callback(self_replacing_callback, NULL);
    failing_call(NULL);
    failing_call(NULL);
    EXPECT(atomic_load(&self_replacing_records) == 1,
           "the self-replacing callback ran once (%d)", atomic_load(&self_replacing_records));
    EXPECT(atomic_load(&quiet_records) > 0, "the next records went to its replacement");
    rs_idc_set_log_callback(NULL, NULL);
    rs_idc_set_log_level(RS_IDC_LOG_OFF);
}

int main(void)
{
    replacing_waits_for_the_old_callback();
    a_callback_may_replace_itself();
    return test_summary();
}
