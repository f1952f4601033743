/*
 * soak.c - many threads call rs-idc for a while; memory, descriptors and
 * threads must stay flat.
 *
 *     usage: soak [SECONDS]     (default 20; run under `rs-idc-fake run --`)
 *
 * Eight threads call the library without pause:
 *   - five ask for tokens the fake issues with a 4 to 6 s life (`ttl-4`,
 *     ...), alone or with a second cluster, so the cache serves them for
 *     2 to 3 s and then refreshes them, over and over;
 *   - one mixes those with `err-notfound` (RS_IDC_ENOTFOUND) and malformed
 *     identifiers or counts (RS_IDC_EINVAL, no network);
 *   - one makes a client handle (rs_idc_client_new), gets a cluster
 *     token, every fourth time a Serverless one and every eighth time one
 *     for a new cluster (which builds the handle's own SDK clients and
 *     HTTP pool), then frees it;
 *   - one serves a long-lived cached token and reads the last error.
 *
 * After a warm-up (a fifth of the run, at most 5 s) it prints the
 * resident memory (VmRSS), open descriptors and threads; at the end the
 * same, with the calls made, the outcomes by status and the fake's
 * request count. It fails (exit 1) when a call did not give the status it
 * should (a token where one is due, the expected error otherwise), or
 * when from warm-up to end the threads grew by more than 4, the
 * descriptors by more than 8 or the resident memory by more than 20 MiB.
 * The figures are printed either way. This is not a timed test: the only
 * clock is the run's length.
 */

#include "../tests/c/harness.h"
#include "../tests/life/proc_stats.h"

#include <pthread.h>

#define THREADS 8
#define MAX_THREAD_GROWTH 4
#define MAX_FD_GROWTH 8
#define MAX_RSS_GROWTH_KIB (20L * 1024)

/* Outcomes by status: index -status for RS_IDC_OK .. RS_IDC_EINTERNAL, then "other". */
#define STATUS_SLOTS 15
static atomic_long by_status[STATUS_SLOTS];
static atomic_long calls;
static atomic_long unexpected;
static atomic_long handles;
static atomic_int stop;

static void count(int got, int want, const char *what)
{
    int slot = got <= 0 && got > -(STATUS_SLOTS - 1) ? -got : STATUS_SLOTS - 1;
    atomic_fetch_add(&by_status[slot], 1);
    atomic_fetch_add(&calls, 1);
    if (got != want) {
        /* Print the first few only: a broken run should not flood the log. */
        if (atomic_fetch_add(&unexpected, 1) < 10) {
            fprintf(stderr, "soak: %s: got %s, expected %s: %s\n", what, rs_idc_status_str(got),
                    rs_idc_status_str(want), rs_idc_last_error());
        }
    }
}

/* One call of the default client; the token is checked and freed. */
static void call(const char **ids, size_t n, int want, const char *what)
{
    char *out = NULL;
    int64_t exp = 0;
    int got = rs_idc_get_token(ids, n, &out, &exp);
    if (got == RS_IDC_OK && (out == NULL || out[0] == '\0' || exp <= (int64_t)time(NULL))) {
        got = RS_IDC_EBADRESPONSE; /* counted as a failure of the library */
    }
    rs_idc_free_token(out);
    count(got, want, what);
}

/* Short-lived tokens, alone or with a second cluster. */
static void *short_lived(void *arg)
{
    int index = (int)(intptr_t)arg;
    static const char *sets[][2] = {
        {"ttl-4", NULL}, {"ttl-5", NULL}, {"ttl-6", NULL}, {"ttl-4", "soak-a"}, {"ttl-5", "soak-b"},
    };
    const size_t n_sets = sizeof sets / sizeof sets[0];
    for (size_t i = (size_t)index; !atomic_load(&stop); i++) {
        const char **ids = sets[i % n_sets];
        call(ids, ids[1] != NULL ? 2 : 1, RS_IDC_OK, ids[0]);
    }
    return NULL;
}

/* Short-lived tokens mixed with service errors and malformed input. */
static void *with_errors(void *unused)
{
    (void)unused;
    const char *good[] = {"ttl-4"};
    const char *missing[] = {"err-notfound"};
    const char *bad_char[] = {"bad_id"};
    const char *bad_start[] = {"-leading-hyphen"};
    const char *empty[] = {""};
    const char *null_id[] = {NULL};
    for (long i = 0; !atomic_load(&stop); i++) {
        switch (i % 8) {
        case 0:
            call(missing, 1, RS_IDC_ENOTFOUND, "err-notfound");
            break;
        case 1:
            call(bad_char, 1, RS_IDC_EINVAL, "bad_id");
            break;
        case 2:
            call(bad_start, 1, RS_IDC_EINVAL, "-leading-hyphen");
            break;
        case 3:
            call(empty, 1, RS_IDC_EINVAL, "an empty identifier");
            break;
        case 4:
            call(null_id, 1, RS_IDC_EINVAL, "a NULL identifier");
            break;
        case 5:
            call(good, 0, RS_IDC_EINVAL, "no identifiers");
            break;
        default:
            call(good, 1, RS_IDC_OK, "ttl-4");
            break;
        }
    }
    return NULL;
}

/* Client handles made, used and freed, again and again. */
static void *handle_churn(void *unused)
{
    (void)unused;
    const char *endpoint = getenv("AWS_ENDPOINT_URL");
    rs_idc_option options[] = {
        {"region", "us-east-1"},
        {"endpoint_url", endpoint != NULL ? endpoint : ""},
        {"timeout_ms", "20000"},
    };
    const char *cluster[] = {"ttl-4"};
    const char *workgroup[] = {"ttl-5"};
    for (long i = 0; !atomic_load(&stop); i++) {
        rs_idc_client *client = NULL;
        int got = rs_idc_client_new(options, sizeof options / sizeof options[0], &client);
        count(got, RS_IDC_OK, "rs_idc_client_new");
        if (got != RS_IDC_OK) {
            continue;
        }
        char *out = NULL;
        count(rs_idc_client_get_token(client, cluster, 1, &out, NULL), RS_IDC_OK,
              "handle: ttl-4");
        rs_idc_free_token(out);
        if (i % 4 == 0) {
            out = NULL;
            count(rs_idc_client_get_serverless_token(client, workgroup, 1, &out, NULL), RS_IDC_OK,
                  "handle: serverless ttl-5");
            rs_idc_free_token(out);
        }
        if (i % 8 == 0) {
            char fresh[48];
            snprintf(fresh, sizeof fresh, "soak-h-%ld", i);
            const char *ids[] = {fresh};
            out = NULL;
            count(rs_idc_client_get_token(client, ids, 1, &out, NULL), RS_IDC_OK,
                  "handle: a new cluster");
            rs_idc_free_token(out);
        }
        rs_idc_client_free(client);
        atomic_fetch_add(&handles, 1);
    }
    return NULL;
}

/* A long-lived cached token, and the thread's last error. */
static void *steady(void *unused)
{
    (void)unused;
    const char *ids[] = {"soak-steady"};
    while (!atomic_load(&stop)) {
        call(ids, 1, RS_IDC_OK, "soak-steady");
        if (rs_idc_last_error() == NULL) {
            count(RS_IDC_EINTERNAL, RS_IDC_OK, "rs_idc_last_error() gave NULL");
        }
    }
    return NULL;
}

struct figures {
    long rss_kib;
    long fds;
    long threads;
};

static struct figures take(const char *when)
{
    struct figures f = {proc_rss_kib(), proc_fd_count(), proc_thread_count()};
    printf("%-22s RSS %ld KiB, open fds %ld, threads %ld\n", when, f.rss_kib, f.fds, f.threads);
    fflush(stdout);
    return f;
}

static void sleep_seconds(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int main(int argc, char **argv)
{
    double seconds = 20.0;
    if (argc > 2 || (argc == 2 && (seconds = strtod(argv[1], NULL)) <= 0.0)) {
        fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
        return 2;
    }
    double warm_up = seconds / 5.0 < 5.0 ? seconds / 5.0 : 5.0;
    printf("soak: %d threads for %.0f s (warm-up %.1f s)\n", THREADS, seconds, warm_up);
    long requests_before = fake_requests();
    EXPECT(requests_before >= 0, "the fake's stats are readable (run under rs-idc-fake run --)");

    pthread_t threads[THREADS];
    void *(*bodies[THREADS])(void *) = {short_lived,  short_lived,  short_lived, short_lived,
                                        short_lived,  with_errors,  handle_churn, steady};
    int started = 0;
    for (int i = 0; i < THREADS; i++) {
        if (!EXPECT(pthread_create(&threads[i], NULL, bodies[i], (void *)(intptr_t)i) == 0,
                    "thread %d starts", i)) {
            break;
        }
        started++;
    }

    double begin = now_seconds();
    sleep_seconds(warm_up);
    long calls_at_start = atomic_load(&calls);
    struct figures start = take("after warm-up:");
    sleep_seconds(seconds - warm_up);
    struct figures end = take("at the end:");
    long calls_at_end = atomic_load(&calls);
    atomic_store(&stop, 1);
    for (int i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
    }
    double took = now_seconds() - begin;
    take("threads joined:");

    long total = atomic_load(&calls);
    printf("calls: %ld in %.1f s (%.0f/s; %.0f/s after warm-up)\n", total, took,
           (double)total / took, (double)(calls_at_end - calls_at_start) / (seconds - warm_up));
    printf("by status:");
    for (int slot = 0; slot < STATUS_SLOTS; slot++) {
        long n = atomic_load(&by_status[slot]);
        if (n > 0) {
            printf(" %s %ld", slot < STATUS_SLOTS - 1 ? rs_idc_status_str(-slot) : "other", n);
        }
    }
    printf("\nhandles made and freed: %ld\n", atomic_load(&handles));
    long requests = fake_requests();
    printf("fake requests: %ld\n", requests >= 0 ? requests - requests_before : -1);
    printf("unexpected outcomes: %ld\n", atomic_load(&unexpected));
    printf("growth from warm-up to end: RSS %+ld KiB, open fds %+ld, threads %+ld\n",
           end.rss_kib - start.rss_kib, end.fds - start.fds, end.threads - start.threads);

    EXPECT(total > 0 && atomic_load(&by_status[0]) > 0, "calls were made and tokens were got");
    EXPECT(atomic_load(&unexpected) == 0, "every call gave the status it should (%ld did not)",
           atomic_load(&unexpected));
    EXPECT(start.rss_kib > 0 && end.rss_kib - start.rss_kib <= MAX_RSS_GROWTH_KIB,
           "resident memory grew by %ld KiB, at most %ld allowed", end.rss_kib - start.rss_kib,
           MAX_RSS_GROWTH_KIB);
    EXPECT(start.fds >= 0 && end.fds - start.fds <= MAX_FD_GROWTH,
           "open fds grew by %ld, at most %d allowed", end.fds - start.fds, MAX_FD_GROWTH);
    EXPECT(start.threads > 0 && end.threads - start.threads <= MAX_THREAD_GROWTH,
           "threads grew by %ld, at most %d allowed", end.threads - start.threads,
           MAX_THREAD_GROWTH);
    return test_summary();
}
