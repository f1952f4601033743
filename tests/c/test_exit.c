/*
 * test_exit.c - a process that ends while calls are in flight ends, with
 * its own exit status, without delay.
 *
 * The parent runs this same program again (fork + exec of argv[0] with a
 * case name) for each case. The child puts threads inside calls that do
 * not finish soon: `fault-hang` (never answered) and `fault-trickle` (one
 * byte every 250 ms), with a whole-call bound of 60 s, and makes sure the
 * requests reached the fake. Then it tells the parent through a pipe and
 * ends:
 *
 *   return    returns from main() with 41
 *   exit      another thread calls exit(42) while main() is itself inside
 *             a hanging call
 *   busy      main() calls exit(43) while two threads get cached tokens
 *             and free them (rs_idc_free_token) in a tight loop
 *   early     main() calls exit(44) right after starting threads whose
 *             first calls are still building the runtime and clients
 *   atexit    an atexit() handler gets a cached token and a new one while
 *             calls hang on other threads, then the process exits with 45
 *   threads   main() calls exit(46) while short-lived threads fail a call
 *             (each leaves a thread-local last error) and end
 *
 * The parent checks each child's exit status and that it was gone within
 * 5 s (times slow_factor()) of saying it was about to end: no hang in
 * atexit handlers, thread-local destructors or the library's runtime.
 * A child that overruns is killed and the case fails.
 */

#include "harness.h"

#include <poll.h>
#include <pthread.h>

/* ------------------------------------------------------------------ */
/* The child side                                                     */
/* ------------------------------------------------------------------ */

/* The pipe to the parent (argv[2]); -1 when not run as a child. */
static int ready_fd = -1;

/* Tells the parent that the process is about to end. */
static void say_ready(void)
{
    char byte = 'R';
    if (write(ready_fd, &byte, 1) != 1) {
        _exit(3);
    }
}

/* A setup step failed in the child: a distinct status the parent reports. */
static void child_fail(const char *what)
{
    fprintf(stderr, "test_exit child %ld: %s\n", (long)getpid(), what);
    _exit(2);
}

/* A call that does not finish soon; the thread never gets past it. */
static void *slow_call(void *arg)
{
    const char *first = arg;
    char own[48];
    snprintf(own, sizeof own, "slow-%ld-%p", (long)getpid(), (void *)&own);
    /* Sorted before the call: `first` ("fault-...") must stay first. */
    const char *ids[] = {first, own};
    char *out = NULL;
    rs_idc_get_token(ids, 2, &out, NULL);
    rs_idc_free_token(out);
    return NULL;
}

/* Starts `n` threads in slow calls with `first` as the fault identifier. */
static void start_slow(const char *first, int n)
{
    for (int i = 0; i < n; i++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, slow_call, (void *)first) != 0) {
            child_fail("cannot start a thread");
        }
        pthread_detach(thread);
    }
}

/* Waits (bounded) until the fake has seen `want` requests more than `before`. */
static void await_requests(long before, long want)
{
    double deadline = now_seconds() + 10.0 * slow_factor();
    while (now_seconds() < deadline) {
        long seen = fake_requests();
        if (seen >= 0 && seen - before >= want) {
            return;
        }
        usleep(10 * 1000);
    }
    child_fail("the slow requests did not reach the fake");
}

/* Two hanging and one trickling call in flight, sent for sure. */
static void calls_in_flight(void)
{
    long before = fake_requests();
    if (before < 0) {
        child_fail("the fake's stats are not readable");
    }
    start_slow("fault-hang", 2);
    start_slow("fault-trickle", 1);
    await_requests(before, 3);
}

/* A token that the cache now holds, for the loops and handlers below. */
static const char *cached[] = {"exit-cached"};

static void warm_cache(void)
{
    char *out = NULL;
    if (rs_idc_get_token(cached, 1, &out, NULL) != RS_IDC_OK) {
        child_fail("no token for exit-cached");
    }
    rs_idc_free_token(out);
}

static atomic_long loop_calls;

/* Cached tokens, freed at once, as fast as it goes. */
static void *cache_loop(void *unused)
{
    (void)unused;
    for (;;) {
        char *out = NULL;
        if (rs_idc_get_token(cached, 1, &out, NULL) != RS_IDC_OK) {
            child_fail("a cached token call failed");
        }
        rs_idc_free_token(out);
        atomic_fetch_add(&loop_calls, 1);
    }
    return NULL;
}

/* "exit": waits until main() is in its call, then exits from this thread. */
static void *exit_from_thread(void *arg)
{
    long before = *(long *)arg;
    await_requests(before, 1);
    say_ready();
    exit(42);
}

/* "atexit": calls into the library while the process is exiting. */
static void call_at_exit(void)
{
    char *out = NULL;
    if (rs_idc_get_token(cached, 1, &out, NULL) != RS_IDC_OK) {
        child_fail("no cached token in an atexit handler");
    }
    rs_idc_free_token(out);
    char own[32];
    snprintf(own, sizeof own, "atexit-%ld", (long)getpid());
    const char *ids[] = {own};
    out = NULL;
    if (rs_idc_get_token(ids, 1, &out, NULL) != RS_IDC_OK) {
        child_fail("no new token in an atexit handler");
    }
    rs_idc_free_token(out);
}

/* "threads": a failing call (bad identifier) leaves a last error, then the thread ends. */
static void *fail_and_end(void *unused)
{
    (void)unused;
    const char *ids[] = {"not_valid"};
    char *out = NULL;
    if (rs_idc_get_token(ids, 1, &out, NULL) != RS_IDC_EINVAL) {
        child_fail("a bad identifier was not refused");
    }
    return NULL;
}

static int run_child(const char *name)
{
    /* The slow calls must still be in flight when the process ends. */
    setenv("RS_IDC_TIMEOUT_MS", "60000", 1);

    if (strcmp(name, "return") == 0) {
        warm_cache();
        calls_in_flight();
        say_ready();
        return 41;
    }
    if (strcmp(name, "exit") == 0) {
        warm_cache();
        calls_in_flight();
        static long before;
        before = fake_requests();
        pthread_t thread;
        if (pthread_create(&thread, NULL, exit_from_thread, &before) != 0) {
            child_fail("cannot start a thread");
        }
        slow_call("fault-hang"); /* never returns before the exit */
        child_fail("a hanging call returned");
    }
    if (strcmp(name, "busy") == 0) {
        warm_cache();
        calls_in_flight();
        for (int i = 0; i < 2; i++) {
            pthread_t thread;
            if (pthread_create(&thread, NULL, cache_loop, NULL) != 0) {
                child_fail("cannot start a thread");
            }
        }
        double deadline = now_seconds() + 10.0 * slow_factor();
        while (atomic_load(&loop_calls) < 10000 && now_seconds() < deadline) {
            usleep(1000);
        }
        if (atomic_load(&loop_calls) < 10000) {
            child_fail("the cache loops did not get going");
        }
        say_ready();
        exit(43);
    }
    if (strcmp(name, "early") == 0) {
        start_slow("fault-hang", 2);
        start_slow("fault-trickle", 1);
        say_ready();
        exit(44);
    }
    if (strcmp(name, "atexit") == 0) {
        warm_cache();
        calls_in_flight();
        if (atexit(call_at_exit) != 0) {
            child_fail("atexit failed");
        }
        say_ready();
        exit(45);
    }
    if (strcmp(name, "threads") == 0) {
        calls_in_flight();
        for (int i = 0; i < 64; i++) {
            pthread_t thread;
            if (pthread_create(&thread, NULL, fail_and_end, NULL) != 0) {
                child_fail("cannot start a thread");
            }
            pthread_detach(thread);
            if (i == 48) {
                say_ready();
                exit(46);
            }
        }
    }
    child_fail("unknown case");
    return 2;
}

/* ------------------------------------------------------------------ */
/* The parent side                                                    */
/* ------------------------------------------------------------------ */

struct exit_case {
    const char *name;
    int status;
    const char *what;
};

static const struct exit_case cases[] = {
    {"return", 41, "return from main() with calls in flight"},
    {"exit", 42, "exit() from a thread while main() is in a call"},
    {"busy", 43, "exit() while threads take and free cached tokens"},
    {"early", 44, "exit() while the first calls start the runtime"},
    {"atexit", 45, "calls from an atexit() handler while others hang"},
    {"threads", 46, "exit() while threads with a last error end"},
};

/* How long a child may take from "about to end" to gone. */
static double exit_limit(void)
{
    return 5.0 * slow_factor();
}

/* How long a child may take to set up its calls. */
static double setup_limit(void)
{
    return 20.0 * slow_factor();
}

static void run_case(const char *self, const struct exit_case *c)
{
    int fds[2];
    if (!CHECK(pipe(fds) == 0)) {
        return;
    }
    fflush(stdout);
    fflush(stderr);
    double started = now_seconds();
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char fd_text[16];
        snprintf(fd_text, sizeof fd_text, "%d", fds[1]);
        execl(self, self, c->name, fd_text, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", self, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    if (!EXPECT(pid > 0, "%s: fork: %s", c->name, strerror(errno))) {
        close(fds[0]);
        return;
    }

    /* Wait (bounded) for "about to end", or for the pipe to close. */
    struct pollfd p = {fds[0], POLLIN, 0};
    char byte = 0;
    int ready = poll(&p, 1, (int)(setup_limit() * 1000)) == 1 && read(fds[0], &byte, 1) == 1 &&
                byte == 'R';
    close(fds[0]);
    double ready_at = now_seconds();
    EXPECT(ready, "%s: the child set up its calls within %.0f s", c->name, setup_limit());

    int status = wait_child(pid, ready ? exit_limit() : 1.0);
    double took = now_seconds() - ready_at;
    EXPECT(status == c->status, "%s (%s): exit status %d, expected %d", c->name, c->what, status,
           c->status);
    EXPECT(took < exit_limit(), "%s (%s): ended %.2f s after saying so, bound %.1f s", c->name,
           c->what, took, exit_limit());
    printf("%-8s %-52s status %d, setup %.2f s, ended %.3f s later\n", c->name, c->what, status,
           ready_at - started, took);
}

int main(int argc, char **argv)
{
    if (argc == 3) {
        ready_fd = atoi(argv[2]);
        return run_child(argv[1]);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    EXPECT(fake_requests() >= 0, "the fake's stats are readable");
    /* argv[0] as run (also right under valgrind); /proc/self/exe when found through PATH. */
    const char *self = strchr(argv[0], '/') != NULL ? argv[0] : "/proc/self/exe";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(self, &cases[i]);
    }
    /* The fake and the library still serve this process. */
    const char *ids[] = {"exit-parent"};
    expect_status(ids, 1, RS_IDC_OK);
    return test_summary();
}
