/*
 * What pools, event loops and custom domains get from the library, against
 * the local fake endpoint (run under `rs-idc-fake run --ttl 20 --`; `make
 * bench-pools` does). Prints figures only:
 *
 *   - the latency of calls made every 20 ms by 4 threads over SECONDS of
 *     20-second tokens from an endpoint that answers in 250 ms, with
 *     refresh ahead on and then off: p50, p99, max, and the calls that
 *     waited for the network;
 *   - the time from rs_idc_client_start_token() to a readable descriptor,
 *     for a cached and for an uncached token;
 *   - the lookups made for 1000 calls with one custom domain.
 *
 * usage: bench_pools [SECONDS]   (default 60)
 */
#include "../tests/c/harness.h"

#include <poll.h>
#include <pthread.h>

#define THREADS 4
#define MAX_CALLS (THREADS * 20000)

static double samples[MAX_CALLS];
static atomic_long n_samples;
static double seconds_to_run;

static double now_ms(void)
{
    return now_seconds() * 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static rs_idc_client *handle(const char *refresh_ahead)
{
    rs_idc_option extra[] = {{"refresh_ahead", refresh_ahead}};
    rs_idc_client *client = test_handle("RS_IDC_TEST_IDC", "20000", extra, 1);
    if (client == NULL) {
        exit(1);
    }
    return client;
}

static void *call_every_20ms(void *arg)
{
    rs_idc_client *client = arg;
    const char *ids[] = {"slow-250"};
    double end = now_ms() + seconds_to_run * 1000.0;
    while (now_ms() < end) {
        char *token = NULL;
        double start = now_ms();
        int rc = rs_idc_client_get_token(client, ids, 1, &token, NULL);
        double took = now_ms() - start;
        if (rc != RS_IDC_OK) {
            fprintf(stderr, "call failed: %s: %s\n", rs_idc_status_str(rc), rs_idc_last_error());
            exit(1);
        }
        rs_idc_free_token(token);
        long at = atomic_fetch_add(&n_samples, 1);
        if (at < MAX_CALLS) {
            samples[at] = took;
        }
        usleep(20000);
    }
    return NULL;
}

static void latencies(const char *refresh_ahead)
{
    rs_idc_client *client = handle(refresh_ahead);
    rs_idc_cache_clear();
    atomic_store(&n_samples, 0);
    long before = fake_requests();
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        pthread_create(&threads[i], NULL, call_every_20ms, client);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    long n = atomic_load(&n_samples);
    n = n < MAX_CALLS ? n : MAX_CALLS;
    qsort(samples, (size_t)n, sizeof samples[0], cmp_double);
    long waited = 0;
    for (long i = 0; i < n; i++) {
        waited += samples[i] >= 250.0;
    }
    printf("refresh ahead %-3s: %ld calls over %.0f s: p50 %.3f ms, p99 %.3f ms, max %.1f ms; "
           "%ld waited for the network; %ld requests\n",
           refresh_ahead, n, seconds_to_run, samples[n / 2], samples[n * 99 / 100], samples[n - 1],
           waited, fake_requests() - before);
    rs_idc_client_free(client);
}

/* Microseconds from start to a readable descriptor, then finished. */
static double start_to_ready_us(rs_idc_client *client, const char *id)
{
    const char *ids[] = {id};
    rs_idc_request *request = NULL;
    double start = now_ms();
    if (rs_idc_client_start_token(client, ids, 1, &request) != RS_IDC_OK) {
        fprintf(stderr, "start: %s\n", rs_idc_last_error());
        exit(1);
    }
    struct pollfd p = {.fd = rs_idc_request_fd(request), .events = POLLIN};
    while (poll(&p, 1, 10000) == 0) {
    }
    double took = (now_ms() - start) * 1000.0;
    char *token = NULL;
    if (rs_idc_request_finish(request, &token, NULL) != RS_IDC_OK) {
        fprintf(stderr, "finish: %s\n", rs_idc_last_error());
        exit(1);
    }
    rs_idc_free_token(token);
    rs_idc_request_free(request);
    return took;
}

static void requests(void)
{
    rs_idc_client *client = handle("on");
    start_to_ready_us(client, "warm-up");
    double cached = 0, uncached = 0;
    const int rounds = 200;
    for (int i = 0; i < rounds; i++) {
        cached += start_to_ready_us(client, "warm-up");
        char id[32];
        snprintf(id, sizeof id, "request-%d", i);
        uncached += start_to_ready_us(client, id);
    }
    printf("start to readable descriptor: cached %.1f us, uncached %.1f us (mean of %d)\n",
           cached / rounds, uncached / rounds, rounds);
    rs_idc_client_free(client);
}

static void custom_domain(void)
{
    rs_idc_client *client = handle("on");
    long describe = fake_stat(FAKE_OP_DESCRIBE_DOMAINS);
    long list = fake_stat(FAKE_OP_LIST_DOMAINS);
    double start = now_ms();
    for (int i = 0; i < 1000; i++) {
        char *token = NULL;
        if (rs_idc_client_get_token_for_host(client, "bench.clusters.rs-idc.test", &token, NULL) !=
            RS_IDC_OK) {
            fprintf(stderr, "custom domain: %s\n", rs_idc_last_error());
            exit(1);
        }
        rs_idc_free_token(token);
    }
    printf("1000 calls with one custom domain: %ld lookup(s) (%ld Redshift, %ld Serverless), "
           "%.2f us per call\n",
           fake_stat(FAKE_OP_DESCRIBE_DOMAINS) - describe +
               (fake_stat(FAKE_OP_LIST_DOMAINS) - list),
           fake_stat(FAKE_OP_DESCRIBE_DOMAINS) - describe,
           fake_stat(FAKE_OP_LIST_DOMAINS) - list, (now_ms() - start) * 1000.0 / 1000);
    rs_idc_client_free(client);
}

int main(int argc, char **argv)
{
    seconds_to_run = argc > 1 ? atof(argv[1]) : 60.0;
    if (seconds_to_run < 1 || seconds_to_run > 600) {
        fprintf(stderr, "usage: bench_pools [SECONDS (1..600)]\n");
        return 2;
    }
    requests();
    custom_domain();
    latencies("on");
    latencies("off");
    return 0;
}
