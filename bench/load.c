/*
 * load.c - rs-idc under load: many threads, many client handles, two
 * identities, short-lived tokens, for a fixed time. Prints figures only
 * (never asserted).
 *
 *     bench_load [SECONDS [THREADS [HANDLES]]]     (defaults 60 16 8;
 *                                                   run under `rs-idc-fake run --`)
 *
 * Setup: HANDLES client handles made with rs_idc_client_new() from the
 * environment's endpoint and region, alternating the two identity-enhanced
 * test identities (RS_IDC_TEST_IDC_* and RS_IDC_TEST_IDC2_*), each with its
 * own whole-call bound (timeout_ms 10000, 15000, 20000, ...), so that no two
 * handles share a flight; the process-wide client (rs_idc_get_token(), the
 * environment's identity) is one more target. Each handle makes one
 * provisioned and one Serverless warm-up call for an identifier of its own
 * (so each opens its connections), the process-wide client one provisioned
 * call; then the start figures are taken.
 *
 * Work: THREADS threads, started together, loop until the time is up. Each
 * picks with its own xorshift generator a target (a handle or the
 * process-wide client), an API (provisioned or Serverless; the process-wide
 * client has only the provisioned one) and an identifier `ttl-N`, N from 4
 * to 12: the fake issues that token with an N-second life, so the cache
 * serves it for about half of that and then fetches it again. Every call is
 * timed alone (CLOCK_MONOTONIC) into a per-thread log-linear histogram
 * (power-of-two ranges split into 32 sub-buckets: 3 % resolution from 64 ns
 * to past 60 s, exact below 64 ns); the status must be RS_IDC_OK and the
 * token non-empty, and it is freed at once. Tokens are never printed.
 * With more threads than cores, a thread the scheduler stops in the middle
 * of a call counts the wait in that call: the max and the mean show the
 * scheduler's time slices more than the library.
 *
 * Output: one `name key=value ...` line per figure (and every 10 s the
 * calls of that second, RSS, open descriptors and threads), then a readable
 * summary. API calls are the fake's `requests` counter (control operation stats)
 * from the start figures to the end; RSS, open descriptors and threads are
 * read from /proc/self (RSS once a second, for its largest value). The
 * program fails (exit 1) only when a call fails or hands back no token, and
 * exits 2 on bad arguments or a missing environment.
 */

#include "../tests/c/harness.h"
#include "../tests/life/proc_stats.h"

#include <pthread.h>

#define MAX_SECONDS 86400
#define MAX_THREADS 256
#define MAX_HANDLES 64
#define TTL_MIN 4
#define TTL_MAX 12
#define N_TTL (TTL_MAX - TTL_MIN + 1)
#define IDENTITIES 2
/* Seconds shown one by one at the start and at the end of the run. */
#define EDGE_SECONDS 3
/* RSS, open descriptors and threads are also printed every this many seconds. */
#define SAMPLE_SECONDS 10

/* ---- latency histogram ------------------------------------------------ */

/*
 * Values below 64 ns have a bucket each; above, each power-of-two range
 * [2^m, 2^(m+1)) (m = 6 .. 35) is split into 32 equal sub-buckets. The last
 * bucket ends at 2^36 ns (68.7 s); longer values are counted there.
 */
#define SUB_BITS 5
#define SUB_COUNT (1 << SUB_BITS)
#define EXACT_LIMIT (2 * SUB_COUNT)
#define MAX_MSB 35
#define N_BUCKETS (EXACT_LIMIT + (MAX_MSB - SUB_BITS) * SUB_COUNT)

static unsigned msb64(uint64_t v)
{
    return 63u - (unsigned)__builtin_clzll(v);
}

static size_t bucket_of(uint64_t ns)
{
    if (ns < EXACT_LIMIT) {
        return (size_t)ns;
    }
    unsigned m = msb64(ns);
    if (m > MAX_MSB) {
        return N_BUCKETS - 1;
    }
    unsigned shift = m - SUB_BITS;
    size_t sub = (size_t)(ns >> shift) - SUB_COUNT;
    return EXACT_LIMIT + (size_t)(m - SUB_BITS - 1) * SUB_COUNT + sub;
}

/* The lowest value of a bucket and its width, in ns. */
static void bucket_range(size_t b, uint64_t *low, uint64_t *width)
{
    if (b < EXACT_LIMIT) {
        *low = b;
        *width = 1;
        return;
    }
    size_t rel = b - EXACT_LIMIT;
    unsigned m = (unsigned)(rel / SUB_COUNT) + SUB_BITS + 1;
    uint64_t sub = rel % SUB_COUNT;
    *low = (SUB_COUNT + sub) << (m - SUB_BITS);
    *width = (uint64_t)1 << (m - SUB_BITS);
}

/* The value at quantile q (nearest rank), as its bucket's midpoint, at most max_ns. */
static double quantile_ns(const uint64_t *hist, uint64_t total, double q, uint64_t max_ns)
{
    if (total == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)(q * (double)total);
    if ((double)rank < q * (double)total) {
        rank++;
    }
    if (rank == 0) {
        rank = 1;
    }
    uint64_t seen = 0;
    for (size_t b = 0; b < N_BUCKETS; b++) {
        seen += hist[b];
        if (seen >= rank) {
            uint64_t low, width;
            bucket_range(b, &low, &width);
            double mid = (double)low + (double)(width - 1) / 2.0;
            return mid < (double)max_ns ? mid : (double)max_ns;
        }
    }
    return (double)max_ns;
}

/* ---- targets and threads ---------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum call_kind { K_HANDLE_CLUSTER, K_HANDLE_SERVERLESS, K_PROCESS, N_KINDS };

static const char *const KIND_NAMES[N_KINDS] = {"handle_provisioned", "handle_serverless",
                                                "process_wide"};

static rs_idc_client *handles[MAX_HANDLES];
static long n_handles;
static char ttl_ids[N_TTL][16];

struct worker {
    /* Written by its own thread only; read by the main thread once a second. */
    _Alignas(64) atomic_ullong calls;
    int index;
    pthread_barrier_t *start;
    uint64_t kinds[N_KINDS];
    uint64_t stale;   /* tokens whose expiry was not in the future */
    uint64_t max_ns;
    uint64_t sum_ns;
    uint64_t done_ns;
    uint64_t hist[N_BUCKETS];
};

static atomic_int stop;
static atomic_int failed;

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/* One call; returns its time in ns. Exits the process (1) if it fails. */
static uint64_t one_call(rs_idc_client *client, enum call_kind kind, const char *id,
                         uint64_t *stale)
{
    const char *ids[] = {id};
    char *token = NULL;
    int64_t exp = 0;
    int status;
    uint64_t t0 = now_ns();
    switch (kind) {
    case K_HANDLE_CLUSTER:
        status = rs_idc_client_get_token(client, ids, 1, &token, &exp);
        break;
    case K_HANDLE_SERVERLESS:
        status = rs_idc_client_get_serverless_token(client, ids, 1, &token, &exp);
        break;
    default:
        status = rs_idc_get_token(ids, 1, &token, &exp);
        break;
    }
    uint64_t elapsed = now_ns() - t0;
    if (status != RS_IDC_OK || token == NULL || token[0] == '\0') {
        /* The first failure is reported; the others wait for the exit. */
        if (atomic_fetch_add(&failed, 1) == 0) {
            fprintf(stderr, "bench_load: %s(%s): %s%s: %s\n", KIND_NAMES[kind], id,
                    rs_idc_status_str(status),
                    status == RS_IDC_OK ? " without a token" : "", rs_idc_last_error());
            fflush(stdout);
            exit(1);
        }
        for (;;) {
            pause();
        }
    }
    if (stale != NULL && exp <= (int64_t)time(NULL)) {
        (*stale)++;
    }
    rs_idc_free_token(token);
    return elapsed;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(w->index + 1);
    seed ^= seed >> 31;
    if (seed == 0) {
        seed = 1;
    }
    const uint64_t targets = (uint64_t)n_handles + 1; /* the last is the process-wide client */
    uint64_t calls = 0;
    pthread_barrier_wait(w->start);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint64_t r = xorshift64(&seed);
        uint64_t target = r % targets;
        const char *id = ttl_ids[(r >> 32) % N_TTL];
        enum call_kind kind = target == (uint64_t)n_handles ? K_PROCESS
                              : ((r >> 24) & 1)             ? K_HANDLE_SERVERLESS
                                                            : K_HANDLE_CLUSTER;
        rs_idc_client *client = kind == K_PROCESS ? NULL : handles[target];
        uint64_t ns = one_call(client, kind, id, &w->stale);
        w->hist[bucket_of(ns)]++;
        w->sum_ns += ns;
        if (ns > w->max_ns) {
            w->max_ns = ns;
        }
        w->kinds[kind]++;
        calls++;
        atomic_store_explicit(&w->calls, calls, memory_order_relaxed);
    }
    w->done_ns = now_ns();
    return NULL;
}

/* ---- setup ------------------------------------------------------------- */

static long parse_count(const char *s, long max, const char *what)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max) {
        fprintf(stderr, "bench_load: bad %s '%s' (1..%ld)\n", what, s, max);
        exit(2);
    }
    return v;
}

static const char *env_or_exit(const char *name)
{
    const char *value = getenv(name);
    if (value == NULL || value[0] == '\0') {
        fprintf(stderr, "bench_load: %s is not set: run under `rs-idc-fake run --`\n", name);
        exit(2);
    }
    return value;
}

static void make_handles(void)
{
    static const char *const prefixes[IDENTITIES] = {"RS_IDC_TEST_IDC", "RS_IDC_TEST_IDC2"};
    const char *endpoint = env_or_exit("AWS_ENDPOINT_URL");
    const char *region = env_or_exit("AWS_REGION");
    for (long i = 0; i < n_handles; i++) {
        const char *prefix = prefixes[i % IDENTITIES];
        char key_name[64], secret_name[64], session_name[64], timeout[24];
        snprintf(key_name, sizeof key_name, "%s_ACCESS_KEY_ID", prefix);
        snprintf(secret_name, sizeof secret_name, "%s_SECRET_ACCESS_KEY", prefix);
        snprintf(session_name, sizeof session_name, "%s_SESSION_TOKEN", prefix);
        snprintf(timeout, sizeof timeout, "%ld", 10000 + 5000 * i);
        rs_idc_option options[] = {
            {"endpoint_url", endpoint},
            {"region", region},
            {"access_key_id", env_or_exit(key_name)},
            {"secret_access_key", env_or_exit(secret_name)},
            {"session_token", env_or_exit(session_name)},
            {"timeout_ms", timeout},
        };
        int status = rs_idc_client_new(options, sizeof options / sizeof options[0], &handles[i]);
        if (status != RS_IDC_OK) {
            fprintf(stderr, "bench_load: rs_idc_client_new (handle %ld): %s: %s\n", i,
                    rs_idc_status_str(status), rs_idc_last_error());
            exit(2);
        }
    }
}

struct snapshot {
    long rss_kib;
    long fds;
    long threads;
    long requests;
    long tokens;
};

static struct snapshot take_snapshot(void)
{
    struct snapshot s = {proc_rss_kib(), proc_fd_count(), proc_thread_count(),
                         fake_stat(FAKE_COUNTER_REQUESTS), fake_stat(FAKE_COUNTER_TOKENS)};
    if (s.requests < 0 || s.tokens < 0) {
        fprintf(stderr, "bench_load: cannot read the fake's counters (control operation stats)\n");
        exit(2);
    }
    return s;
}

static void sleep_until(uint64_t deadline_ns)
{
    struct timespec ts = {(time_t)(deadline_ns / 1000000000u),
                          (long)(deadline_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* Fetches a schedule needs if each cache entry were fetched once per refresh. */
static double fetches_per_s_estimate(long identities)
{
    /* Entries: identities x APIs x identifiers; a token of N s is served for N - N/2 s. */
    double per_pair = 0;
    for (int n = TTL_MIN; n <= TTL_MAX; n++) {
        per_pair += 1.0 / (double)(n - n / 2);
    }
    return per_pair * (double)identities * 2;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 4) {
        fprintf(stderr, "usage: bench_load [SECONDS [THREADS [HANDLES]]]\n");
        return 2;
    }
    long seconds = argc > 1 ? parse_count(argv[1], MAX_SECONDS, "SECONDS") : 60;
    long n_threads = argc > 2 ? parse_count(argv[2], MAX_THREADS, "THREADS") : 16;
    n_handles = argc > 3 ? parse_count(argv[3], MAX_HANDLES, "HANDLES") : 8;
    env_or_exit("RS_IDC_FAKE_PORT");
    for (int n = TTL_MIN; n <= TTL_MAX; n++) {
        snprintf(ttl_ids[n - TTL_MIN], sizeof ttl_ids[0], "ttl-%d", n);
    }

    printf("version rs_idc=%s\n", rs_idc_version());
    make_handles();
    long identities = n_handles < IDENTITIES ? n_handles : IDENTITIES;
    printf("config seconds=%ld threads=%ld handles=%ld identities=%ld process_wide=1 "
           "ids=ttl-%d..ttl-%d\n",
           seconds, n_threads, n_handles, identities, TTL_MIN, TTL_MAX);

    /*
     * Warm-up: every handle builds its SDK clients and opens its connections
     * (an identifier of its own, so the shared cache does not answer), the
     * process-wide client too.
     */
    uint64_t warm_max = 0;
    for (long i = 0; i < n_handles; i++) {
        char warm_id[32];
        snprintf(warm_id, sizeof warm_id, "warm-%ld", i);
        uint64_t a = one_call(handles[i], K_HANDLE_CLUSTER, warm_id, NULL);
        uint64_t b = one_call(handles[i], K_HANDLE_SERVERLESS, warm_id, NULL);
        warm_max = a > warm_max ? a : warm_max;
        warm_max = b > warm_max ? b : warm_max;
    }
    uint64_t warm_process = one_call(NULL, K_PROCESS, "warm-process", NULL);
    printf("warmup calls=%ld handle_max_ms=%.3f process_wide_ms=%.3f\n", 2 * n_handles + 1,
           (double)warm_max / 1e6, (double)warm_process / 1e6);

    struct worker *workers = aligned_alloc(64, sizeof(struct worker) * (size_t)n_threads);
    pthread_t *tids = calloc((size_t)n_threads, sizeof *tids);
    uint64_t *per_second = calloc((size_t)seconds + 1, sizeof *per_second);
    if (workers == NULL || tids == NULL || per_second == NULL) {
        fprintf(stderr, "bench_load: out of memory\n");
        return 2;
    }
    memset(workers, 0, sizeof(struct worker) * (size_t)n_threads);
    pthread_barrier_t start;
    if (pthread_barrier_init(&start, NULL, (unsigned)n_threads + 1) != 0) {
        fprintf(stderr, "bench_load: pthread_barrier_init failed\n");
        return 2;
    }

    struct snapshot first = take_snapshot();
    printf("start rss_kib=%ld fds=%ld threads=%ld api_calls=%ld tokens=%ld\n", first.rss_kib,
           first.fds, first.threads, first.requests, first.tokens);

    for (long i = 0; i < n_threads; i++) {
        atomic_init(&workers[i].calls, 0);
        workers[i].index = (int)i;
        workers[i].start = &start;
        if (pthread_create(&tids[i], NULL, work, &workers[i]) != 0) {
            fprintf(stderr, "bench_load: pthread_create failed\n");
            return 2;
        }
    }
    pthread_barrier_wait(&start);
    uint64_t t0 = now_ns();

    /* Calls done by the end of each second, and the process's figures then. */
    long mid_rss = 0, mid_fds = 0, mid_threads = 0, max_rss = first.rss_kib;
    for (long s = 1; s <= seconds; s++) {
        sleep_until(t0 + (uint64_t)s * 1000000000u);
        uint64_t sum = 0;
        for (long i = 0; i < n_threads; i++) {
            sum += atomic_load_explicit(&workers[i].calls, memory_order_relaxed);
        }
        per_second[s] = sum;
        long rss = proc_rss_kib();
        max_rss = rss > max_rss ? rss : max_rss;
        if (s % SAMPLE_SECONDS == 0 && s < seconds) {
            printf("sample t=%ld calls_per_s=%llu rss_kib=%ld fds=%ld threads=%ld\n", s,
                   (unsigned long long)(sum - per_second[s - 1]), rss,
                   proc_fd_count(), proc_thread_count());
        }
        if (s == (seconds + 1) / 2) {
            mid_rss = rss;
            mid_fds = proc_fd_count();
            mid_threads = proc_thread_count();
        }
    }
    atomic_store(&stop, 1);
    uint64_t t_end = t0;
    for (long i = 0; i < n_threads; i++) {
        pthread_join(tids[i], NULL);
        if (workers[i].done_ns > t_end) {
            t_end = workers[i].done_ns;
        }
    }
    pthread_barrier_destroy(&start);
    struct snapshot last = take_snapshot();

    /* Merge. */
    static uint64_t hist[N_BUCKETS];
    uint64_t total = 0, max_ns = 0, sum_ns = 0, stale = 0, kinds[N_KINDS] = {0};
    for (long i = 0; i < n_threads; i++) {
        for (size_t b = 0; b < N_BUCKETS; b++) {
            hist[b] += workers[i].hist[b];
            total += workers[i].hist[b];
        }
        for (int k = 0; k < N_KINDS; k++) {
            kinds[k] += workers[i].kinds[k];
        }
        sum_ns += workers[i].sum_ns;
        stale += workers[i].stale;
        if (workers[i].max_ns > max_ns) {
            max_ns = workers[i].max_ns;
        }
    }
    double wall = (double)(t_end - t0) / 1e9;
    double rate = (double)total / wall;
    double p50 = quantile_ns(hist, total, 0.50, max_ns) / 1e3;
    double p99 = quantile_ns(hist, total, 0.99, max_ns) / 1e3;
    double p999 = quantile_ns(hist, total, 0.999, max_ns) / 1e3;
    double mean = total > 0 ? (double)sum_ns / (double)total / 1e3 : 0;
    long api_calls = last.requests - first.requests;
    long tokens = last.tokens - first.tokens;

    for (long s = 1; s <= seconds; s++) {
        if (s <= EDGE_SECONDS || s > seconds - EDGE_SECONDS) {
            printf("second t=%ld calls_per_s=%llu\n", s,
                   (unsigned long long)(per_second[s] - per_second[s - 1]));
        }
    }
    uint64_t slowest_second = UINT64_MAX, fastest_second = 0;
    for (long s = 1; s <= seconds; s++) {
        uint64_t c = per_second[s] - per_second[s - 1];
        slowest_second = c < slowest_second ? c : slowest_second;
        fastest_second = c > fastest_second ? c : fastest_second;
    }
    printf("load calls=%llu seconds=%.3f calls_per_s=%.0f slowest_second=%llu "
           "fastest_second=%llu %s=%llu %s=%llu %s=%llu stale_expiry=%llu\n",
           (unsigned long long)total, wall, rate, (unsigned long long)slowest_second,
           (unsigned long long)fastest_second, KIND_NAMES[0], (unsigned long long)kinds[0],
           KIND_NAMES[1], (unsigned long long)kinds[1], KIND_NAMES[2],
           (unsigned long long)kinds[2], (unsigned long long)stale);
    printf("latency_us p50=%.3f p99=%.3f p999=%.3f max=%.3f mean=%.3f\n", p50, p99, p999,
           (double)max_ns / 1e3, mean);
    printf("api calls=%ld tokens=%ld calls_per_s=%.2f tokens_per_s=%.2f "
           "one_fetch_per_entry_per_s=%.2f\n",
           api_calls, tokens, (double)api_calls / wall, (double)tokens / wall,
           fetches_per_s_estimate(identities));
    printf("middle rss_kib=%ld fds=%ld threads=%ld\n", mid_rss, mid_fds, mid_threads);
    printf("end rss_kib=%ld rss_max_kib=%ld fds=%ld threads=%ld api_calls=%ld tokens=%ld\n",
           last.rss_kib, max_rss, last.fds, last.threads, last.requests, last.tokens);

    printf("\n");
    printf("rs-idc %s under load: %.1f s, %ld threads, %ld handles + the process-wide "
           "client, %ld identities, ttl-%d..ttl-%d\n",
           rs_idc_version(), wall, n_threads, n_handles, identities, TTL_MIN, TTL_MAX);
    printf("  calls          %llu (%.0f calls/s; per second %llu .. %llu)\n",
           (unsigned long long)total, rate, (unsigned long long)slowest_second,
           (unsigned long long)fastest_second);
    printf("  by kind        handle provisioned %llu, handle Serverless %llu, process-wide "
           "%llu\n",
           (unsigned long long)kinds[0], (unsigned long long)kinds[1],
           (unsigned long long)kinds[2]);
    printf("  latency        p50 %.2f µs, p99 %.2f µs, p99.9 %.2f µs, max %.1f µs, mean "
           "%.2f µs\n",
           p50, p99, p999, (double)max_ns / 1e3, mean);
    printf("  API calls      %ld (%.2f/s), tokens fetched %ld (%.2f/s); one fetch per cache "
           "entry per refresh would be %.2f/s\n",
           api_calls, (double)api_calls / wall, tokens, (double)tokens / wall,
           fetches_per_s_estimate(identities));
    printf("  RSS            %ld KiB at start, %ld in the middle, %ld at the end (at most %ld "
           "in the run)\n",
           first.rss_kib, mid_rss, last.rss_kib, max_rss);
    printf("  open fds       %ld at start, %ld in the middle, %ld at the end\n", first.fds,
           mid_fds, last.fds);
    printf("  threads        %ld at start, %ld in the middle (%ld of them workers), %ld at "
           "the end\n",
           first.threads, mid_threads, n_threads, last.threads);

    for (long i = 0; i < n_handles; i++) {
        rs_idc_client_free(handles[i]);
    }
    free(per_second);
    free(tids);
    free(workers);
    return 0;
}
