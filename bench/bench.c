/*
 * bench.c - rs-idc timings, printed as figures (never asserted).
 *
 *     bench cached CALLS_1 CALLS_PER_THREAD THREADS...
 *         One warm-up call fills the token cache, then CALLS_1 timed calls
 *         on one thread, then the mean of 10,000 calls with their
 *         rs_idc_free_token() timed as a whole (the best of 5 rounds), the
 *         same mean for rs_idc_client_get_token() on a handle made by
 *         rs_idc_client_new() (after its own warm-up call), then for each
 *         THREADS count that many threads (started together at a barrier)
 *         each time CALLS_PER_THREAD calls.
 *     bench uncached CALLS
 *         Sets RS_IDC_CACHE=0 before the first call, makes one warm-up call
 *         (builds the client and opens the connection), then CALLS timed
 *         calls; also the process CPU time (getrusage) per call.
 *     bench spawn RUNS CMD [ARGS...]
 *         fork+exec of CMD, RUNS times after one untimed warm-up run: the
 *         time to the first byte CMD writes to its standard output (it
 *         prints only once it holds its token) and to its exit.
 *
 * Every call is timed on its own with clock_gettime(CLOCK_MONOTONIC); the
 * timed region is rs_idc_get_token() alone (the token is freed after).
 * Output: one line per figure, `name key=value ...`, read by bench/run.py.
 * Tokens are never printed. The program fails (exit 1) only if a call or a
 * child process fails.
 */

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rs_idc.h"

#define MAX_THREADS 64

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Median and nearest-rank p99 of n samples (sorts them). */
static void summarize(uint64_t *v, size_t n, double *median, double *p99)
{
    qsort(v, n, sizeof *v, cmp_u64);
    *median = (n % 2) ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2.0;
    size_t rank = (size_t)((99 * (unsigned long long)n + 99) / 100); /* ceil(0.99 n) */
    *p99 = (double)v[rank > 0 ? rank - 1 : 0];
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size);
    if (p == NULL) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

static long parse_count(const char *s, long max)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max) {
        fprintf(stderr, "bench: bad count '%s' (1..%ld)\n", s, max);
        exit(2);
    }
    return v;
}

/* One call; on failure print the status and message (never a token), exit. */
static size_t one_call(const char *id, uint64_t *elapsed_ns)
{
    const char *ids[] = {id};
    char *token = NULL;
    int64_t exp = 0;
    uint64_t t0 = now_ns();
    int status = rs_idc_get_token(ids, 1, &token, &exp);
    uint64_t t1 = now_ns();
    if (status != RS_IDC_OK) {
        fprintf(stderr, "bench: rs_idc_get_token(%s): %s: %s\n", id, rs_idc_status_str(status),
                rs_idc_last_error());
        exit(1);
    }
    size_t len = strlen(token);
    rs_idc_free_token(token);
    if (elapsed_ns != NULL) {
        *elapsed_ns = t1 - t0;
    }
    return len;
}

/* The cost of the timing itself: median of back-to-back clock_gettime pairs. */
static double timer_overhead_ns(void)
{
    enum { N = 10001 };
    static uint64_t v[N];
    for (size_t i = 0; i < N; i++) {
        uint64_t t0 = now_ns();
        v[i] = now_ns() - t0;
    }
    double median, p99;
    summarize(v, N, &median, &p99);
    return median;
}

/* ---- cached ---------------------------------------------------------- */

static const char *const CACHED_ID = "bench-cached";
static const char *const CACHED_CLIENT_ID = "bench-cached-client";

enum { MEAN_CALLS = 10000, MEAN_ROUNDS = 5 };

/*
 * The best of MEAN_ROUNDS means of MEAN_CALLS cached calls with their
 * rs_idc_free_token(), back to back, each round timed as a whole: through
 * `client` (rs_idc_client_get_token) or, when it is NULL, the process-wide
 * client (rs_idc_get_token). In ns per call.
 */
static double best_mean_ns(rs_idc_client *client, const char *id)
{
    const char *ids[] = {id};
    double best = 0;
    for (int round = 0; round < MEAN_ROUNDS; round++) {
        uint64_t begin = now_ns();
        for (int i = 0; i < MEAN_CALLS; i++) {
            char *token = NULL;
            int status = client != NULL ? rs_idc_client_get_token(client, ids, 1, &token, NULL)
                                        : rs_idc_get_token(ids, 1, &token, NULL);
            if (status != RS_IDC_OK) {
                fprintf(stderr, "bench: a cached call failed: %s: %s\n",
                        rs_idc_status_str(status), rs_idc_last_error());
                exit(1);
            }
            rs_idc_free_token(token);
        }
        double mean = (double)(now_ns() - begin) / MEAN_CALLS;
        if (round == 0 || mean < best) {
            best = mean;
        }
    }
    return best;
}

struct worker {
    pthread_barrier_t *start;
    uint64_t *samples;
    size_t calls;
    uint64_t done_ns;
};

static void *cached_worker(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    for (size_t i = 0; i < w->calls; i++) {
        one_call(CACHED_ID, &w->samples[i]);
    }
    w->done_ns = now_ns();
    return NULL;
}

static int run_cached(long calls1, long per_thread, int nthreads_list, char **threads_args)
{
    printf("version rs_idc=%s\n", rs_idc_version());
    printf("timer overhead_ns=%.0f\n", timer_overhead_ns());

    uint64_t first_ns = 0;
    size_t len = one_call(CACHED_ID, &first_ns); /* warm-up: builds the client, fills the cache */
    printf("cached_warmup first_call_ms=%.3f token_len=%zu\n", (double)first_ns / 1e6, len);

    /* One thread. */
    uint64_t *v = xmalloc((size_t)calls1 * sizeof *v);
    uint64_t t0 = now_ns();
    for (long i = 0; i < calls1; i++) {
        one_call(CACHED_ID, &v[i]);
    }
    uint64_t wall = now_ns() - t0;
    double median, p99;
    summarize(v, (size_t)calls1, &median, &p99);
    printf("cached threads=1 calls=%ld median_us=%.3f p99_us=%.3f calls_per_s=%.0f\n", calls1,
           median / 1e3, p99 / 1e3, (double)calls1 / ((double)wall / 1e9));
    free(v);

    /* The mean of a cached call with its free, back to back, timed as a whole. */
    printf("cached_mean calls=%d rounds=%d best_mean_us=%.3f\n", MEAN_CALLS, MEAN_ROUNDS,
           best_mean_ns(NULL, CACHED_ID) / 1e3);

    /* The same through a handle, after its warm-up call (a miss: another cluster). */
    rs_idc_client *client = NULL;
    if (rs_idc_client_new(NULL, 0, &client) != RS_IDC_OK) {
        fprintf(stderr, "bench: rs_idc_client_new: %s\n", rs_idc_last_error());
        exit(1);
    }
    const char *client_ids[] = {CACHED_CLIENT_ID};
    char *token = NULL;
    uint64_t begin_client = now_ns();
    int status = rs_idc_client_get_token(client, client_ids, 1, &token, NULL);
    uint64_t first_client_ns = now_ns() - begin_client;
    if (status != RS_IDC_OK) {
        fprintf(stderr, "bench: rs_idc_client_get_token: %s: %s\n", rs_idc_status_str(status),
                rs_idc_last_error());
        exit(1);
    }
    rs_idc_free_token(token);
    printf("cached_client_mean calls=%d rounds=%d best_mean_us=%.3f first_call_ms=%.3f\n",
           MEAN_CALLS, MEAN_ROUNDS, best_mean_ns(client, CACHED_CLIENT_ID) / 1e3,
           (double)first_client_ns / 1e6);
    rs_idc_client_free(client);

    /* N threads, each timing its own calls. */
    for (int k = 0; k < nthreads_list; k++) {
        int n = (int)parse_count(threads_args[k], MAX_THREADS);
        size_t total = (size_t)n * (size_t)per_thread;
        uint64_t *all = xmalloc(total * sizeof *all);
        struct worker workers[MAX_THREADS];
        pthread_t tids[MAX_THREADS];
        pthread_barrier_t start;
        if (pthread_barrier_init(&start, NULL, (unsigned)n + 1) != 0) {
            fprintf(stderr, "bench: pthread_barrier_init failed\n");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            workers[i] = (struct worker){&start, all + (size_t)i * (size_t)per_thread,
                                         (size_t)per_thread, 0};
            if (pthread_create(&tids[i], NULL, cached_worker, &workers[i]) != 0) {
                fprintf(stderr, "bench: pthread_create failed\n");
                exit(1);
            }
        }
        pthread_barrier_wait(&start);
        uint64_t begin = now_ns();
        uint64_t end = begin;
        for (int i = 0; i < n; i++) {
            pthread_join(tids[i], NULL);
            if (workers[i].done_ns > end) {
                end = workers[i].done_ns;
            }
        }
        pthread_barrier_destroy(&start);
        summarize(all, total, &median, &p99);
        printf("cached threads=%d calls=%zu median_us=%.3f p99_us=%.3f calls_per_s=%.0f\n", n,
               total, median / 1e3, p99 / 1e3, (double)total / ((double)(end - begin) / 1e9));
        free(all);
    }
    return 0;
}

/* ---- uncached -------------------------------------------------------- */

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int run_uncached(long calls)
{
    /* Read by the library on its first call: the cache is off from here on. */
    if (setenv("RS_IDC_CACHE", "0", 1) != 0) {
        fprintf(stderr, "bench: setenv failed\n");
        return 1;
    }
    const char *id = "bench-uncached";
    uint64_t first_ns = 0;
    size_t len = one_call(id, &first_ns); /* warm-up: client, runtime, connection */
    printf("uncached_warmup first_call_ms=%.3f token_len=%zu\n", (double)first_ns / 1e6, len);

    uint64_t *v = xmalloc((size_t)calls * sizeof *v);
    double cpu0 = cpu_seconds();
    uint64_t t0 = now_ns();
    for (long i = 0; i < calls; i++) {
        one_call(id, &v[i]);
    }
    uint64_t wall = now_ns() - t0;
    double cpu = cpu_seconds() - cpu0;
    double median, p99;
    summarize(v, (size_t)calls, &median, &p99);
    printf("uncached calls=%ld median_ms=%.4f p99_ms=%.4f cpu_ms_per_call=%.4f calls_per_s=%.0f\n",
           calls, median / 1e6, p99 / 1e6, cpu * 1e3 / (double)calls,
           (double)calls / ((double)wall / 1e9));
    free(v);
    return 0;
}

/* ---- spawn ----------------------------------------------------------- */

/* One fork+exec of argv; times to the child's first output byte and exit. */
static void spawn_once(char **argv, uint64_t *first_ns, uint64_t *exit_ns)
{
    int fds[2];
    if (pipe(fds) != 0) {
        perror("bench: pipe");
        exit(1);
    }
    fflush(stdout);
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench: fork");
        exit(1);
    }
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
            _exit(127);
        }
        close(fds[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    char buf[4096];
    int got_first = 0;
    *first_ns = 0;
    for (;;) {
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        if (!got_first) {
            *first_ns = now_ns() - t0;
            got_first = 1;
        }
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("bench: waitpid");
            exit(1);
        }
    }
    *exit_ns = now_ns() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !got_first) {
        fprintf(stderr, "bench: %s failed (status %d)\n", argv[0], status);
        exit(1);
    }
}

static int run_spawn(long runs, char **argv)
{
    uint64_t first, done;
    spawn_once(argv, &first, &done); /* warm-up: page cache, dynamic loader */
    uint64_t *f = xmalloc((size_t)runs * sizeof *f);
    uint64_t *e = xmalloc((size_t)runs * sizeof *e);
    for (long i = 0; i < runs; i++) {
        spawn_once(argv, &f[i], &e[i]);
    }
    double fm, fp, em, ep;
    summarize(f, (size_t)runs, &fm, &fp);
    summarize(e, (size_t)runs, &em, &ep);
    printf("spawn runs=%ld first_output_median_ms=%.2f first_output_max_ms=%.2f "
           "exit_median_ms=%.2f\n",
           runs, fm / 1e6, (double)f[runs - 1] / 1e6, em / 1e6);
    free(f);
    free(e);
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench cached CALLS_1 CALLS_PER_THREAD THREADS...\n"
                    "       bench uncached CALLS\n"
                    "       bench spawn RUNS CMD [ARGS...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 4 && strcmp(argv[1], "cached") == 0) {
        return run_cached(parse_count(argv[2], 100000000), parse_count(argv[3], 10000000),
                          argc - 4, argv + 4);
    }
    if (argc == 3 && strcmp(argv[1], "uncached") == 0) {
        return run_uncached(parse_count(argv[2], 1000000));
    }
    if (argc >= 4 && strcmp(argv[1], "spawn") == 0) {
        return run_spawn(parse_count(argv[2], 10000), argv + 3);
    }
    return usage();
}
