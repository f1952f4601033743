/*
 * harness.h - a small header-only kit for rs-idc's C test programs.
 *
 * Every test program runs under `rs-idc-fake run -- PROGRAM`, which starts
 * the local fake Redshift endpoint on 127.0.0.1 and puts its address
 * (RS_IDC_FAKE_PORT) and test credentials in the environment. Nothing here
 * talks to anything but 127.0.0.1.
 *
 * - CHECK(cond) and EXPECT(cond, fmt, ...) count passes and failures and
 *   report each failure with file:line.
 * - EXPECT_STATUS(got, want), EXPECT_CONTAINS(text, part) and
 *   EXPECT_LAST_ERROR(part) report the status names and the thread's last
 *   error on failure.
 * - expect_status(ids, n, want) calls rs_idc_get_token and checks the
 *   out/exp contract as well as the status.
 * - expect_client(client, call, names, n, want) does the same for the
 *   token calls on a client handle (cluster, serverless or host name).
 * - test_handle(prefix, timeout_ms, extra, n) makes a handle with one
 *   identity's keys; h_fake_handle() one pointed at the fake with options
 *   of the caller's; both check the status through h_new_client().
 * - need_env(name) checks that a variable is set; h_env(name) reads one.
 * - fake_requests() reads the fake's request counter over a raw socket;
 *   fake_proxied() the count of its loopback proxy.
 * - loopback_addr(port) is 127.0.0.1:port; loopback_connect(port) a
 *   blocking socket connected to it.
 * - now_seconds() is a monotonic clock; slow_factor() is 10 when
 *   RS_IDC_TEST_SLOW is set (under valgrind), else 1.
 * - start_child(body, arg) forks a child that runs checks; finish_child()
 *   waits for it with a time bound (killing it on overrun) and tells
 *   whether its checks passed.
 * - test_summary() prints "N passed, M failed" and gives the exit status.
 *
 * Sections further down, each with a list of its own: per-user tokens
 * (web tokens, web token files), event loops and descriptors (threads
 * too), and the browser sign-in.
 *
 * A token, secret key or session token is never printed: only lengths and
 * expiry times are.
 */

#ifndef RS_IDC_TEST_HARNESS_H
#define RS_IDC_TEST_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rs_idc.h"

/* Counters; atomic because checks may run on many threads at once. */
static atomic_int h_passed;
static atomic_int h_failed;

/* Records one check. `fmt` describes what was expected (printed on failure). */
static inline int h_record(int ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        atomic_fetch_add(&h_passed, 1);
        return 1;
    }
    atomic_fetch_add(&h_failed, 1);
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* One fprintf per failure, so lines from several threads do not mix. */
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, text);
    return 0;
}

/* EXPECT(cond, "format", args...): the format explains the expectation. */
#define EXPECT(cond, ...) h_record(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* CHECK(cond): the condition's source text is the explanation. */
#define CHECK(cond) h_record(!!(cond), __FILE__, __LINE__, "%s", #cond)

static inline int h_expect_status(const char *file, int line, int got, int want)
{
    return h_record(got == want, file, line, "status %s (%d), expected %s (%d); last error: \"%s\"",
                    rs_idc_status_str(got), got, rs_idc_status_str(want), want,
                    rs_idc_last_error());
}

/* EXPECT_STATUS(got, want): prints both names and the last error on failure. */
#define EXPECT_STATUS(got, want) h_expect_status(__FILE__, __LINE__, (got), (want))

static inline int h_expect_contains(const char *file, int line, const char *what,
                                    const char *text, const char *part)
{
    int ok = text != NULL && part != NULL && strstr(text, part) != NULL;
    return h_record(ok, file, line, "%s \"%s\" should contain \"%s\"", what,
                    text ? text : "(null)", part ? part : "(null)");
}

/* EXPECT_CONTAINS(text, part): `text` holds `part`. Never use with a token. */
#define EXPECT_CONTAINS(text, part) \
    h_expect_contains(__FILE__, __LINE__, #text, (text), (part))

/* EXPECT_LAST_ERROR(part): this thread's last error holds `part`. */
#define EXPECT_LAST_ERROR(part) \
    h_expect_contains(__FILE__, __LINE__, "last error", rs_idc_last_error(), (part))

/* Seconds on a monotonic clock. */
static inline double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 10 when RS_IDC_TEST_SLOW is set (the Makefile sets it under valgrind). */
static inline double slow_factor(void)
{
    const char *slow = getenv("RS_IDC_TEST_SLOW");
    return slow != NULL && slow[0] != '\0' ? 10.0 : 1.0;
}

/* The value stored in *exp before a call, to see that a failure leaves it alone. */
#define H_EXP_SENTINEL ((int64_t)0x5a5a5a5a5a5a5a5aLL)

/*
 * Calls rs_idc_get_token(ids, n, &out, &exp) and checks the status and the
 * contract around it:
 * - failure: *out is NULL, *exp untouched, the last error is not empty;
 * - success: *out is a non-empty string, *exp lies in the future; the
 *   token is freed with rs_idc_free_token.
 * Stores the expiry in *exp_out when it is not NULL and the call succeeded.
 * Returns the status the call gave.
 */
static inline int h_expect_status_exp(const char *file, int line, const char **ids, size_t n,
                                      int want, int64_t *exp_out)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    int got = rs_idc_get_token(ids, n, &out, &exp);
    h_expect_status(file, line, got, want);
    if (got == RS_IDC_OK) {
        time_t now = time(NULL);
        int has_token = out != NULL && out != sentinel && out[0] != '\0';
        h_record(has_token, file, line, "a successful call hands out a non-empty token");
        h_record(exp > (int64_t)now, file, line,
                 "the expiry (%lld) lies in the future (now %lld)", (long long)exp,
                 (long long)now);
        if (out != sentinel) {
            rs_idc_free_token(out);
        }
        if (exp_out != NULL) {
            *exp_out = exp;
        }
    } else {
        h_record(out == NULL, file, line, "a failed call sets *out to NULL");
        h_record(exp == H_EXP_SENTINEL, file, line, "a failed call leaves *exp alone");
        h_record(rs_idc_last_error()[0] != '\0', file, line,
                 "a failed call leaves a last error");
        if (out != NULL && out != sentinel) {
            rs_idc_free_token(out);
        }
    }
    return got;
}

/* expect_status(ids, n, want): see h_expect_status_exp. */
#define expect_status(ids, n, want) \
    h_expect_status_exp(__FILE__, __LINE__, (ids), (n), (want), NULL)
/* expect_status_exp(ids, n, want, &exp): also hands back the expiry. */
#define expect_status_exp(ids, n, want, exp_out) \
    h_expect_status_exp(__FILE__, __LINE__, (ids), (n), (want), (exp_out))

/* Which token call h_expect_client() makes on a handle. */
enum h_client_call {
    H_CLUSTER,    /* rs_idc_client_get_token(client, names, n, ...) */
    H_SERVERLESS, /* rs_idc_client_get_serverless_token(client, names, n, ...) */
    H_HOST        /* rs_idc_client_get_token_for_host(client, names[0], ...) */
};

/* The function an h_client_call stands for, for messages. */
static inline const char *h_call_name(enum h_client_call call)
{
    switch (call) {
    case H_CLUSTER:
        return "rs_idc_client_get_token";
    case H_SERVERLESS:
        return "rs_idc_client_get_serverless_token";
    case H_HOST:
        return "rs_idc_client_get_token_for_host";
    }
    return "?";
}

/*
 * Makes one token call on `client` (see enum h_client_call; for H_HOST the
 * host is names[0], or NULL when names is NULL, and n is not used) and
 * checks the status and the out/exp contract as h_expect_status_exp does.
 * On success the token is handed to *token_out when token_out is not NULL
 * (the caller frees it with rs_idc_free_token), else freed; the expiry is
 * stored in *exp_out when exp_out is not NULL. On failure *token_out is
 * set to NULL. Returns the status the call gave.
 */
static inline int h_expect_client(const char *file, int line, rs_idc_client *client,
                                  enum h_client_call call, const char **names, size_t n,
                                  int want, char **token_out, int64_t *exp_out)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    int got;
    switch (call) {
    case H_CLUSTER:
        got = rs_idc_client_get_token(client, names, n, &out, &exp);
        break;
    case H_SERVERLESS:
        got = rs_idc_client_get_serverless_token(client, names, n, &out, &exp);
        break;
    default:
        got = rs_idc_client_get_token_for_host(client, names != NULL ? names[0] : NULL, &out,
                                               &exp);
        break;
    }
    if (token_out != NULL) {
        *token_out = NULL;
    }
    h_record(got == want, file, line, "%s(%s%s): status %s (%d), expected %s (%d); last error: \"%s\"",
             h_call_name(call), names != NULL && names[0] != NULL ? names[0] : "NULL",
             call != H_HOST && n > 1 ? ", ..." : "", rs_idc_status_str(got), got,
             rs_idc_status_str(want), want, rs_idc_last_error());
    if (got == RS_IDC_OK) {
        time_t now = time(NULL);
        int has_token = out != NULL && out != sentinel && out[0] != '\0';
        h_record(has_token, file, line, "%s: a successful call hands out a non-empty token",
                 h_call_name(call));
        h_record(exp > (int64_t)now, file, line,
                 "%s: the expiry (%lld) lies in the future (now %lld)", h_call_name(call),
                 (long long)exp, (long long)now);
        if (exp_out != NULL) {
            *exp_out = exp;
        }
        if (out == sentinel) {
            return got;
        }
        if (token_out != NULL) {
            *token_out = out;
        } else {
            rs_idc_free_token(out);
        }
    } else {
        h_record(out == NULL, file, line, "%s: a failed call sets *out to NULL",
                 h_call_name(call));
        h_record(exp == H_EXP_SENTINEL, file, line, "%s: a failed call leaves *exp alone",
                 h_call_name(call));
        h_record(rs_idc_last_error()[0] != '\0', file, line,
                 "%s: a failed call leaves a last error", h_call_name(call));
        if (out != NULL && out != sentinel) {
            rs_idc_free_token(out);
        }
    }
    return got;
}

/* expect_client(client, call, names, n, want): see h_expect_client. */
#define expect_client(client, call, names, n, want) \
    h_expect_client(__FILE__, __LINE__, (client), (call), (names), (n), (want), NULL, NULL)
/* expect_client_token(...): also hands back the token (caller frees) and expiry. */
#define expect_client_token(client, call, names, n, want, token_out, exp_out)                \
    h_expect_client(__FILE__, __LINE__, (client), (call), (names), (n), (want), (token_out), \
                    (exp_out))

/* Whether two tokens are both there and equal (never prints them). */
static inline int same_token(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* `text` begins with `prefix`; `what` names the text in the failure. Never use with a token. */
static inline int h_expect_starts(const char *file, int line, const char *what,
                                  const char *text, const char *prefix)
{
    int ok = text != NULL && prefix != NULL && strncmp(text, prefix, strlen(prefix)) == 0;
    return h_record(ok, file, line, "%s \"%s\" should start with \"%s\"", what,
                    text ? text : "(null)", prefix ? prefix : "(null)");
}
/* EXPECT_LAST_ERROR_STARTS(prefix): this thread's last error begins with `prefix`. */
#define EXPECT_LAST_ERROR_STARTS(prefix) \
    h_expect_starts(__FILE__, __LINE__, "last error", rs_idc_last_error(), (prefix))

/* An environment variable that must be set (a check: it fails when the variable is missing); "" then. */
static inline const char *h_need_env(const char *file, int line, const char *name)
{
    const char *value = getenv(name);
    h_record(value != NULL && value[0] != '\0', file, line,
             "%s is set (run under `rs-idc-fake run --`)", name);
    return value != NULL ? value : "";
}
#define need_env(name) h_need_env(__FILE__, __LINE__, (name))

static inline int h_expect_lacks(const char *file, int line, const char *text_what,
                                 const char *text, const char *secret, const char *what);

/*
 * rs_idc_client_new() with up to 8 `options` followed by up to 16 `extra`
 * options, which must give `want`. The handle, or NULL unless the status
 * is RS_IDC_OK; a refused handle must leave *out NULL and a last error
 * without the secret_access_key option's value.
 */
static inline rs_idc_client *h_new_client(const char *file, int line,
                                          const rs_idc_option *options, size_t n_options,
                                          const rs_idc_option *extra, size_t n_extra, int want)
{
    rs_idc_option all[8 + 16];
    size_t n = 0;
    for (size_t i = 0; i < n_options && i < 8; i++) {
        all[n++] = options[i];
    }
    for (size_t i = 0; i < n_extra && i < 16; i++) {
        all[n++] = extra[i];
    }
    const char *secret = NULL;
    for (size_t i = 0; i < n; i++) {
        if (all[i].key != NULL && strcmp(all[i].key, "secret_access_key") == 0) {
            secret = all[i].value;
        }
    }
    rs_idc_client *client = NULL;
    int got = rs_idc_client_new(all, n, &client);
    h_expect_status(file, line, got, want);
    if (got != RS_IDC_OK) {
        h_record(client == NULL, file, line, "a refused handle leaves *out NULL");
        h_expect_lacks(file, line, "the last error", rs_idc_last_error(), secret,
                       "the secret access key");
        return NULL;
    }
    return client;
}

/*
 * A handle with region us-east-1, one identity's keys from the environment
 * of `rs-idc-fake run` (`prefix` is RS_IDC_TEST_IDC or RS_IDC_TEST_IDC2), a
 * whole-call bound of `timeout_ms`, two attempts, and up to 16 `extra`
 * options (the endpoint, a CA file, a proxy, ...). NULL on failure
 * (reported).
 */
static inline rs_idc_client *h_test_handle(const char *file, int line, const char *prefix,
                                           const char *timeout_ms, const rs_idc_option *extra,
                                           size_t n_extra)
{
    char id_name[64], secret_name[64], session_name[64];
    snprintf(id_name, sizeof id_name, "%s_ACCESS_KEY_ID", prefix);
    snprintf(secret_name, sizeof secret_name, "%s_SECRET_ACCESS_KEY", prefix);
    snprintf(session_name, sizeof session_name, "%s_SESSION_TOKEN", prefix);
    rs_idc_option options[] = {
        {"region", "us-east-1"},
        {"access_key_id", h_need_env(file, line, id_name)},
        {"secret_access_key", h_need_env(file, line, secret_name)},
        {"session_token", h_need_env(file, line, session_name)},
        {"timeout_ms", timeout_ms},
        {"max_attempts", "2"},
    };
    return h_new_client(file, line, options, sizeof options / sizeof options[0], extra, n_extra,
                        RS_IDC_OK);
}
#define test_handle(prefix, timeout_ms, extra, n_extra) \
    h_test_handle(__FILE__, __LINE__, (prefix), (timeout_ms), (extra), (n_extra))

/* An environment variable's value, or "" when it is not set (not a check: see need_env). */
static inline const char *h_env(const char *name)
{
    const char *value = getenv(name);
    return value != NULL ? value : "";
}

/*
 * A handle pointed at the fake (endpoint_url $AWS_ENDPOINT_URL) with
 * region us-east-1, a whole-call bound of `timeout_ms`, two attempts and
 * up to 16 `extra` options. `want` is the status rs_idc_client_new should
 * give (see h_new_client); the handle, NULL unless it is RS_IDC_OK.
 */
static inline rs_idc_client *h_fake_handle(const char *file, int line, const char *timeout_ms,
                                           const rs_idc_option *extra, size_t n_extra, int want)
{
    rs_idc_option options[] = {
        {"region", "us-east-1"},
        {"endpoint_url", h_env("AWS_ENDPOINT_URL")},
        {"timeout_ms", timeout_ms},
        {"max_attempts", "2"},
    };
    return h_new_client(file, line, options, sizeof options / sizeof options[0], extra, n_extra,
                        want);
}

/* The address 127.0.0.1:port. */
static inline struct sockaddr_in loopback_addr(int port)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

/* A blocking socket connected to 127.0.0.1:port, with 10 s send and receive bounds; -1 on error. */
static inline int loopback_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval limit = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    struct sockaddr_in addr = loopback_addr(port);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline int fake_request(const char *method, const char *path, const char *payload,
                               size_t len, int *http_status, char *body, size_t size);

/*
 * Sends one request without a body to the fake's control endpoint at
 * 127.0.0.1:$RS_IDC_FAKE_PORT and copies the answer's body into `body`
 * (see fake_request()). Returns 0 on a 200 answer whose body fitted, -1
 * otherwise.
 */
static inline int h_fake_control(const char *method, const char *path, char *body, size_t size)
{
    int status = 0;
    return fake_request(method, path, NULL, 0, &status, body, size) == 0 && status == 200 ? 0
                                                                                          : -1;
}

/* A counter from the fake's `GET /_fake/stats` ("requests", "tokens", or
 * "operation NAME"); -1 on error. */
static inline long h_stat_in(const char *stats, const char *name);

static inline long fake_stat(const char *name)
{
    char body[8192];
    if (h_fake_control("GET", "/_fake/stats", body, sizeof body) != 0) {
        return -1;
    }
    return h_stat_in(body, name);
}

/* The fake's count of one operation ("AssumeRole", "CreateToken:refresh_token", ...); -1 on error. */
static inline long fake_operation(const char *name)
{
    char line[128];
    snprintf(line, sizeof line, "operation %s", name);
    return fake_stat(line);
}

/* API requests the fake has received (faults included); -1 on error. */
static inline long fake_requests(void)
{
    return fake_stat("requests");
}

/* Requests the fake's loopback proxy relayed or tunnelled ("proxied"); -1 on error. */
static inline long fake_proxied(void)
{
    return fake_stat("proxied");
}

/* Zeroes the fake's counters (and the counts behind `fault-X-N`); 0 on success. */
static inline int fake_reset(void)
{
    char body[64];
    return h_fake_control("POST", "/_fake/reset", body, sizeof body);
}

/*
 * Waits at most `seconds` for child `pid` to end. Returns its exit status;
 * -1 when it overran (it is killed and reaped then) or ended by a signal.
 */
static inline int wait_child(pid_t pid, double seconds)
{
    double deadline = now_seconds() + seconds;
    for (;;) {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            if (WIFEXITED(status)) {
                return WEXITSTATUS(status);
            }
            fprintf(stderr, "child %ld ended by signal %d\n", (long)pid,
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
            return -1;
        }
        if (done < 0 && errno != EINTR) {
            return -1;
        }
        if (now_seconds() > deadline) {
            fprintf(stderr, "child %ld overran %.1f s: killed\n", (long)pid, seconds);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

/*
 * The verdict of a forked child that ran checks: 0 when they all passed
 * (and there was at least one), else 1.
 */
static inline int child_status(void)
{
    return atomic_load(&h_failed) == 0 && atomic_load(&h_passed) > 0 ? 0 : 1;
}

/* Whether this process runs under valgrind (it preloads its vgpreload_*.so). */
static inline int under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "/vgpreload_") != NULL;
}

/* The status valgrind exits with when it found errors (VALGRIND in the Makefile). */
#define H_VALGRIND_ERROR_EXIT 99

/* A forked child that runs checks; see start_child() and finish_child(). */
struct child {
    pid_t pid;
    int verdict_fd; /* read end of the pipe the child writes its verdict to */
};

/*
 * Forks a child that runs body(arg), writes its verdict ('P' or 'F') to a
 * pipe and leaves with _exit(). The child's counts start at zero, so its
 * verdict covers its own checks only (and it must run at least one). The
 * verdict travels through the pipe, not only the exit status, because
 * under valgrind a forked child's exit
 * status is valgrind's: after fork() the library deliberately keeps the
 * runtime and clients inherited from the parent without dropping them
 * (dropping them in the child could hang or close the parent's
 * connections), and blocks that only the parent's runtime threads pointed
 * at count as definitely lost in the child, where those threads are gone.
 * pid is -1 when the child could not be started.
 */
static inline struct child start_child(void (*body)(void *), void *arg)
{
    struct child c = {-1, -1};
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "pipe: %s\n", strerror(errno));
        return c;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        /* The verdict is the child's own: checks the parent ran before fork() do not count. */
        atomic_store(&h_passed, 0);
        atomic_store(&h_failed, 0);
        body(arg);
        char verdict = child_status() == 0 ? 'P' : 'F';
        ssize_t written = write(fds[1], &verdict, 1);
        close(fds[1]);
        _exit(written == 1 ? child_status() : 1);
    }
    close(fds[1]);
    if (pid < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        close(fds[0]);
        return c;
    }
    c.pid = pid;
    c.verdict_fd = fds[0];
    return c;
}

/*
 * Waits at most `seconds` for the child (killing it on overrun) and
 * returns 1 when its checks all passed and it exited with 0. Under
 * valgrind, exit status 99 is accepted too when the verdict was a pass:
 * see start_child() for why. Errors valgrind finds in the parent still
 * fail the run.
 */
static inline int finish_child(struct child c, double seconds, const char *what)
{
    if (c.pid <= 0) {
        fprintf(stderr, "%s: the child did not start\n", what);
        return 0;
    }
    int status = wait_child(c.pid, seconds);
    char verdict = '?';
    if (read(c.verdict_fd, &verdict, 1) != 1) {
        verdict = '?';
    }
    close(c.verdict_fd);
    int exited_ok = status == 0 || (status == H_VALGRIND_ERROR_EXIT && under_valgrind());
    if (verdict != 'P' || !exited_ok) {
        fprintf(stderr, "%s: verdict %c, exit status %d\n", what, verdict, status);
        return 0;
    }
    return 1;
}

/*
 * Prints "N passed, M failed" and returns the exit status: 0 only when
 * nothing failed and at least one check ran.
 */
static inline int test_summary(void)
{
    int passed = atomic_load(&h_passed);
    int failed = atomic_load(&h_failed);
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 && passed > 0 ? 0 : 1;
}

/*
 * Per-user tokens (trusted identity propagation) against the fake.
 *
 * - fake_request() sends one request with a body to the fake's control
 *   endpoint and hands back the HTTP status and the answer's body.
 * - fake_web_token(sub, ttl, extra) gets a web token (JWT) the fake made
 *   for `sub`; fake_token_subject(token, ...) asks which user a Redshift
 *   token was issued to.
 * - fake_ops() reads the request counter and the per-operation counters
 *   of `GET /_fake/stats` at once; EXPECT_OPS() compares two readings.
 * - EXPECT_LACKS(text, secret, what) checks that a text (a last error, a
 *   log record) does not hold a secret, naming only `what`.
 * - wipe(buffer, size) and h_free_secret(text) wipe secrets (and free them).
 * - h_user_handle(...) makes a handle for per-user tokens: the fake's
 *   plain application keys, the application and the access role.
 * - unset_aws_credentials() takes the AWS credentials out of the
 *   environment, for handles that must have none but their own.
 * - new_temp_file(text, path, size) makes a web token file;
 *   replace_file(path, text) puts another web token in it (rename).
 */

/* The longest answer fake_request() takes from the fake, headers included. */
#define H_FAKE_ANSWER_MAX (64 * 1024)

/*
 * Sends `method path` with `len` bytes of `payload` (NULL when len is 0)
 * to 127.0.0.1:$RS_IDC_FAKE_PORT, stores the answer's HTTP status in
 * *http_status and copies its body into `body` (NUL-terminated). Returns
 * 0 when a whole answer arrived and its body fitted in `size` bytes, -1
 * otherwise.
 */
static inline int fake_request(const char *method, const char *path, const char *payload,
                               size_t len, int *http_status, char *body, size_t size)
{
    *http_status = 0;
    if (size > 0) {
        body[0] = '\0';
    }
    const char *port_text = getenv("RS_IDC_FAKE_PORT");
    if (port_text == NULL) {
        fprintf(stderr, "RS_IDC_FAKE_PORT is not set: run under `rs-idc-fake run --`\n");
        return -1;
    }
    char *end = NULL;
    long port = strtol(port_text, &end, 10);
    if (end == port_text || *end != '\0' || port <= 0 || port > 65535) {
        return -1;
    }
    char head[1024];
    int head_len = snprintf(head, sizeof head,
                            "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: %zu\r\n"
                            "Content-Type: text/plain\r\nConnection: close\r\n\r\n",
                            method, path, len);
    if (head_len < 0 || (size_t)head_len >= sizeof head) {
        return -1;
    }
    int fd = loopback_connect((int)port);
    if (fd < 0) {
        return -1;
    }
    const char *parts[2] = {head, payload};
    size_t lens[2] = {(size_t)head_len, payload != NULL ? len : 0};
    for (int i = 0; i < 2; i++) {
        size_t sent = 0;
        while (sent < lens[i]) {
            ssize_t n = send(fd, parts[i] + sent, lens[i] - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                close(fd);
                return -1;
            }
            sent += (size_t)n;
        }
    }
    char *answer = malloc(H_FAKE_ANSWER_MAX + 1);
    if (answer == NULL) {
        close(fd);
        return -1;
    }
    size_t have = 0;
    int whole = 0;
    for (;;) {
        if (have == H_FAKE_ANSWER_MAX) {
            break; /* too long: not taken */
        }
        ssize_t got = recv(fd, answer + have, H_FAKE_ANSWER_MAX - have, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got == 0) {
            whole = 1;
        }
        if (got <= 0) {
            break;
        }
        have += (size_t)got;
    }
    close(fd);
    answer[have] = '\0';
    int result = -1;
    int status = 0;
    const char *start = strstr(answer, "\r\n\r\n");
    if (whole && start != NULL && sscanf(answer, "HTTP/1.%*d %d", &status) == 1) {
        *http_status = status;
        size_t body_len = have - (size_t)(start + 4 - answer);
        if (body_len < size) {
            memcpy(body, start + 4, body_len);
            body[body_len] = '\0';
            result = 0;
        }
    }
    /* The answer may hold a web token: wiped before it is freed. */
    memset(answer, 0, have);
    free(answer);
    return result;
}

/*
 * A web token (JWT) the fake makes for `sub` (letters, digits and -_.@
 * only), expiring in `ttl` seconds (negative: already expired), with
 * `extra` query parameters appended ("&key=wrong", "&iss=...", or "").
 * Returns a malloc'ed string (release it with h_free_secret), or NULL on
 * failure (reported).
 */
static inline char *h_fake_web_token(const char *file, int line, const char *sub, long ttl,
                                     const char *extra)
{
    char path[512];
    int n = snprintf(path, sizeof path, "/_fake/web-token?sub=%s&ttl=%ld%s", sub, ttl,
                     extra != NULL ? extra : "");
    char *token = malloc(RS_IDC_MAX_WEB_TOKEN_LEN + 1);
    int status = 0;
    int got = -1;
    if (token != NULL && n > 0 && (size_t)n < sizeof path) {
        got = fake_request("GET", path, NULL, 0, &status, token, RS_IDC_MAX_WEB_TOKEN_LEN + 1);
    }
    if (!h_record(got == 0 && status == 200 && token[0] != '\0', file, line,
                  "the fake makes a web token for %s (HTTP status %d)", sub, status)) {
        free(token);
        return NULL;
    }
    return token;
}
#define fake_web_token(sub, ttl, extra) h_fake_web_token(__FILE__, __LINE__, (sub), (ttl), (extra))

/* Wipes `size` bytes of a buffer that held a secret (a code, a state, a token). */
static inline void wipe(void *buffer, size_t size)
{
    volatile char *p = buffer;
    for (size_t i = 0; i < size; i++) {
        p[i] = '\0';
    }
}

/* Wipes a malloc'ed secret string (a web token, a URL with a state) and frees it; NULL is fine. */
static inline void h_free_secret(char *secret)
{
    if (secret != NULL) {
        wipe(secret, strlen(secret));
        free(secret);
    }
}

/*
 * The user the fake issued Redshift token `token` to, copied into
 * `subject`. Returns 0 when the fake names one, 1 when it says the token
 * names no user (404), -1 on any other answer or failure.
 */
static inline int fake_token_subject(const char *token, char *subject, size_t size)
{
    int status = 0;
    if (token == NULL ||
        fake_request("POST", "/_fake/token-subject", token, strlen(token), &status, subject,
                     size) != 0) {
        return -1;
    }
    if (status == 404) {
        subject[0] = '\0';
        return 1;
    }
    return status == 200 ? 0 : -1;
}

/*
 * Checks that the fake issued `token` to user `want` (printing the
 * subject, never the token). Returns 1 when it did.
 */
static inline int h_expect_subject(const char *file, int line, const char *token,
                                   const char *want)
{
    char subject[512] = "";
    int got = fake_token_subject(token, subject, sizeof subject);
    const char *said = got == 0 ? subject : got == 1 ? "(it names no user)" : "(no answer)";
    return h_record(got == 0 && strcmp(subject, want) == 0, file, line,
                    "the token should be issued to \"%s\"; the fake says: %s", want, said);
}
#define EXPECT_SUBJECT(token, want) h_expect_subject(__FILE__, __LINE__, (token), (want))

/* The value of counter `name` in a `GET /_fake/stats` body; -1 if absent. */
static inline long h_stat_in(const char *stats, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *line = stats; line != NULL && *line != '\0';) {
        if (strncmp(line, name, name_len) == 0 && line[name_len] == ' ') {
            return strtol(line + name_len + 1, NULL, 10);
        }
        line = strchr(line, '\n');
        if (line != NULL) {
            line++;
        }
    }
    return -1;
}

/* One reading of the fake's counters; every field is -1 when it could not be read. */
struct fake_ops {
    long requests;     /* API requests, all services */
    long get_token;    /* GetIdentityCenterAuthToken (both Redshift APIs) */
    long assume_role;  /* STS AssumeRole */
    long web_identity; /* STS AssumeRoleWithWebIdentity */
    long jwt_bearer;   /* SSO-OIDC CreateTokenWithIAM with the web token */
    long refresh;      /* SSO-OIDC CreateTokenWithIAM with a refresh token */
};

/* Reads the fake's counters with one `GET /_fake/stats`. */
static inline struct fake_ops fake_ops(void)
{
    struct fake_ops ops = {-1, -1, -1, -1, -1, -1};
    char body[4096];
    int status = 0;
    if (fake_request("GET", "/_fake/stats", NULL, 0, &status, body, sizeof body) != 0 ||
        status != 200) {
        return ops;
    }
    ops.requests = h_stat_in(body, "requests");
    ops.get_token = h_stat_in(body, "operation GetIdentityCenterAuthToken");
    ops.assume_role = h_stat_in(body, "operation AssumeRole");
    ops.web_identity = h_stat_in(body, "operation AssumeRoleWithWebIdentity");
    ops.jwt_bearer = h_stat_in(body, "operation CreateTokenWithIAM:jwt-bearer");
    ops.refresh = h_stat_in(body, "operation CreateTokenWithIAM:refresh_token");
    return ops;
}

/*
 * Checks the counters moved from `before` by exactly: `requests` API
 * requests in all (-1: not checked), `get_token` Redshift token requests,
 * `assume_role` AssumeRole, `web_identity` AssumeRoleWithWebIdentity,
 * `jwt_bearer` and `refresh` CreateTokenWithIAM calls. One check; on
 * failure it prints every difference. Returns 1 when all matched.
 */
static inline int h_expect_ops(const char *file, int line, const char *what,
                               struct fake_ops before, long requests, long get_token,
                               long assume_role, long web_identity, long jwt_bearer,
                               long refresh)
{
    struct fake_ops now = fake_ops();
    long got[6] = {now.requests - before.requests,       now.get_token - before.get_token,
                   now.assume_role - before.assume_role, now.web_identity - before.web_identity,
                   now.jwt_bearer - before.jwt_bearer,   now.refresh - before.refresh};
    long want[6] = {requests, get_token, assume_role, web_identity, jwt_bearer, refresh};
    long read[6] = {before.requests,    before.get_token,  before.assume_role,
                    before.web_identity, before.jwt_bearer, before.refresh};
    long read_now[6] = {now.requests,    now.get_token,  now.assume_role,
                        now.web_identity, now.jwt_bearer, now.refresh};
    int ok = 1;
    for (int i = 0; i < 6; i++) {
        if (read[i] < 0 || read_now[i] < 0 || (want[i] >= 0 && got[i] != want[i])) {
            ok = 0;
        }
    }
    return h_record(ok, file, line,
                    "%s: the fake should see (requests %ld, GetIdentityCenterAuthToken %ld, "
                    "AssumeRole %ld, AssumeRoleWithWebIdentity %ld, CreateTokenWithIAM "
                    "jwt-bearer %ld, refresh_token %ld), it saw (%ld, %ld, %ld, %ld, %ld, %ld) "
                    "(-1 in the first list: not checked)",
                    what, want[0], want[1], want[2], want[3], want[4], want[5], got[0], got[1],
                    got[2], got[3], got[4], got[5]);
}
/* EXPECT_OPS(what, before, requests, get_token, assume_role, web_identity, jwt_bearer, refresh) */
#define EXPECT_OPS(what, before, requests, get_token, assume_role, web_identity, jwt_bearer, \
                   refresh)                                                                 \
    h_expect_ops(__FILE__, __LINE__, (what), (before), (requests), (get_token),              \
                 (assume_role), (web_identity), (jwt_bearer), (refresh))

/* `text` does not hold `secret` (an empty or NULL secret counts as absent); names only `what`. */
static inline int h_expect_lacks(const char *file, int line, const char *text_what,
                                 const char *text, const char *secret, const char *what)
{
    int clean = text == NULL || secret == NULL || secret[0] == '\0' || strstr(text, secret) == NULL;
    return h_record(clean, file, line, "%s must not hold %s", text_what, what);
}
/* EXPECT_LACKS(text, secret, what): never prints either string. */
#define EXPECT_LACKS(text, secret, what) \
    h_expect_lacks(__FILE__, __LINE__, #text, (text), (secret), (what))

/*
 * A handle for per-user tokens (see h_fake_handle, with a whole-call bound
 * of `timeout_ms`): the fake's plain application credentials
 * (RS_IDC_TEST_PLAIN_*) when `with_keys`, the application `app` and access
 * role `role` (each left out when NULL), and up to 12 `extra` options.
 * `want` is the status rs_idc_client_new should give; the handle, NULL
 * unless it is RS_IDC_OK. Test programs wrap it in macros of their own.
 */
static inline rs_idc_client *h_user_handle(const char *file, int line, const char *timeout_ms,
                                           int with_keys, const char *app, const char *role,
                                           const rs_idc_option *extra, size_t n_extra, int want)
{
    rs_idc_option options[16];
    size_t n = 0;
    if (with_keys) {
        options[n++] = (rs_idc_option){"access_key_id", h_env("RS_IDC_TEST_PLAIN_ACCESS_KEY_ID")};
        options[n++] =
            (rs_idc_option){"secret_access_key", h_env("RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY")};
    }
    if (app != NULL) {
        options[n++] = (rs_idc_option){"idc_application_arn", app};
    }
    if (role != NULL) {
        options[n++] = (rs_idc_option){"access_role_arn", role};
    }
    for (size_t i = 0; i < n_extra && n < sizeof options / sizeof options[0]; i++) {
        options[n++] = extra[i];
    }
    return h_fake_handle(file, line, timeout_ms, options, n, want);
}

/*
 * Takes the AWS credentials (keys, session token, profile, web identity)
 * out of the environment, so that a handle has none but its own. Call it
 * before any library thread exists: unsetenv() is not thread-safe.
 */
static inline void unset_aws_credentials(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN", "AWS_PROFILE",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        unsetenv(vars[i]);
    }
}

#include <sys/stat.h>

/*
 * Writes `text` and a newline to `path` through a new file (mode 0600)
 * renamed over it; 0 on success.
 */
static inline int replace_file(const char *path, const char *text)
{
    char temp[512];
    int n = snprintf(temp, sizeof temp, "%s.new", path);
    FILE *f = n > 0 && (size_t)n < sizeof temp ? fopen(temp, "w") : NULL;
    if (f == NULL) {
        return -1;
    }
    chmod(temp, 0600);
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, f) == len && fputc('\n', f) != EOF;
    ok = fclose(f) == 0 && ok;
    return ok && rename(temp, path) == 0 ? 0 : -1;
}

/*
 * A new file (mode 0600) in $TMPDIR (or /tmp) holding `text` and a
 * newline, as a web token file; its path is written to `path`. 0 on
 * success.
 */
static inline int new_temp_file(const char *text, char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/rs-idc-web-token-XXXXXX",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    close(fd);
    return replace_file(path, text);
}


/*
 * Event loops and descriptors (non-blocking requests).
 *
 * - fd_readable(fd, ms) polls one descriptor for POLLIN, waiting at most
 *   `ms` milliseconds (0: just look).
 * - wait_readable(fd, seconds, &ticks) polls in 20 ms steps until `fd` is
 *   readable or `seconds` have passed, counting the steps that timed out;
 *   wait_all_readable(fds, n, seconds) waits so for many at once.
 * - open_fds() counts this process's open descriptors (/proc/self/fd);
 *   open_fds_of("socket:") only those of one kind; thread_count() its
 *   threads (/proc/self/task). tests/life/proc_stats.h uses both.
 * - pause_seconds(s) sleeps, resuming after signals.
 * - wall_seconds() is the real-time clock, to compare with token expiries.
 */

#include <dirent.h>
#include <poll.h>

/* 1 when `fd` is readable within `ms` milliseconds, else 0. */
static inline int fd_readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int ready;
    do {
        ready = poll(&p, 1, ms);
    } while (ready < 0 && errno == EINTR);
    return ready == 1 && (p.revents & POLLIN) != 0;
}

/*
 * Polls `fd` in 20 ms steps until it is readable or `seconds` have passed.
 * Returns 1 when it became readable; *ticks (when not NULL) gets the number
 * of steps that ended without it.
 */
static inline int wait_readable(int fd, double seconds, long *ticks)
{
    double deadline = now_seconds() + seconds;
    long idle = 0;
    int ready = 0;
    while (!(ready = fd_readable(fd, 20)) && now_seconds() < deadline) {
        idle++;
    }
    if (ticks != NULL) {
        *ticks = idle;
    }
    return ready;
}

/*
 * One poll() over `n` descriptors (each with events POLLIN; a negative fd
 * is skipped), in 50 ms steps, until each has been readable or `seconds`
 * have passed. Each that has been readable gets fd -1. Returns how many
 * were not (a negative fd from the start counts as not).
 */
static inline int wait_all_readable(struct pollfd *fds, int n, double seconds)
{
    double deadline = now_seconds() + seconds;
    int left = n;
    while (left > 0 && now_seconds() < deadline) {
        for (int i = 0; i < n; i++) {
            fds[i].revents = 0;
        }
        int ready = poll(fds, (nfds_t)n, 50);
        if (ready < 0 && errno != EINTR) {
            break;
        }
        for (int i = 0; i < n; i++) {
            if (fds[i].fd >= 0 && (fds[i].revents & POLLIN) != 0) {
                fds[i].fd = -1; /* poll() skips negative descriptors */
                left--;
            }
        }
    }
    return left;
}

/*
 * The number of open descriptors of this process whose target (as
 * /proc/self/fd shows it) begins with `kind`: "socket:", "pipe:",
 * "anon_inode:[eventfd]", "/" for files; NULL counts all. -1 on error.
 */
static inline long open_fds_of(const char *kind)
{
    DIR *dir = opendir("/proc/self/fd");
    if (dir == NULL) {
        return -1;
    }
    int own = dirfd(dir);
    long count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.' || atoi(entry->d_name) == own) {
            continue;
        }
        if (kind == NULL) {
            count++;
            continue;
        }
        char path[300], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", entry->d_name);
        ssize_t len = readlink(path, target, sizeof target - 1);
        if (len < 0) {
            continue; /* closed meanwhile */
        }
        target[len] = '\0';
        count += strncmp(target, kind, strlen(kind)) == 0;
    }
    closedir(dir);
    return count;
}

/* The number of open descriptors of this process; -1 on error. */
static inline long open_fds(void)
{
    return open_fds_of(NULL);
}

/* The number of threads of this process (entries of /proc/self/task); -1 on error. */
static inline long thread_count(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL) {
        return -1;
    }
    long count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        count += entry->d_name[0] != '.';
    }
    closedir(dir);
    return count;
}

/* Sleeps `seconds`, resuming after signals. */
static inline void pause_seconds(double seconds)
{
    if (seconds <= 0) {
        return;
    }
    struct timespec left;
    left.tv_sec = (time_t)seconds;
    left.tv_nsec = (long)((seconds - (double)left.tv_sec) * 1e9);
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

/* Seconds on the real-time clock (Unix time, with fractions). */
static inline double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/*
 * The browser sign-in (rs_idc_client_get_browser_token) against the fake.
 *
 * - expect_browser(client, want, &token, &exp) makes the call and checks
 *   the out/exp contract as expect_client() does.
 * - fake_access_token_subject(token, ...) asks which user the fake issued
 *   an access token of the sign-in to; EXPECT_ACCESS_SUBJECT(token, want)
 *   checks it.
 * - fake_signin_ops() reads the sign-in counters of `GET /_fake/stats`;
 *   EXPECT_SIGNIN_OPS() compares two readings.
 * - loopback_get(url, &answer) sends `GET` for an http://127.0.0.1:PORT/
 *   URL (and no other) and hands back the status, the Location header and
 *   the start of the body, as a browser that does not follow redirects.
 * - port_is_free(port) tells whether a listener can be bound on
 *   127.0.0.1:port.
 * - browser_handle(name, display, port, timeout_s) makes a handle for the
 *   sign-in of issuer ssoins-NAME on listen_port `port`.
 * - query_value(url, name, ...) reads a query parameter of a URL;
 *   url_with_param(url, name, value, ...) replaces or drops one.
 */

#include <strings.h>

/*
 * Calls rs_idc_client_get_browser_token(client, &out, &exp) and checks the
 * status and the out/exp contract as h_expect_client does. On success the
 * token goes to *token_out when token_out is not NULL (the caller frees
 * it), else it is freed; the expiry goes to *exp_out when not NULL. On
 * failure *token_out is NULL. Returns the status.
 */
static inline int h_expect_browser(const char *file, int line, rs_idc_client *client, int want,
                                   char **token_out, int64_t *exp_out)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    int got = rs_idc_client_get_browser_token(client, &out, &exp);
    if (token_out != NULL) {
        *token_out = NULL;
    }
    h_record(got == want, file, line,
             "rs_idc_client_get_browser_token: status %s (%d), expected %s (%d); last error: "
             "\"%s\"",
             rs_idc_status_str(got), got, rs_idc_status_str(want), want, rs_idc_last_error());
    if (got == RS_IDC_OK) {
        time_t now = time(NULL);
        h_record(out != NULL && out != sentinel && out[0] != '\0', file, line,
                 "a successful sign-in hands out a non-empty token");
        h_record(exp > (int64_t)now, file, line,
                 "the expiry (%lld) lies in the future (now %lld)", (long long)exp,
                 (long long)now);
        if (exp_out != NULL) {
            *exp_out = exp;
        }
        if (out == sentinel || out == NULL) {
            return got;
        }
        if (token_out != NULL) {
            *token_out = out;
        } else {
            rs_idc_free_token(out);
        }
        return got;
    }
    h_record(out == NULL, file, line, "a failed sign-in sets *out to NULL");
    h_record(exp == H_EXP_SENTINEL, file, line, "a failed sign-in leaves *exp alone");
    h_record(rs_idc_last_error()[0] != '\0', file, line, "a failed sign-in leaves a last error");
    if (out != NULL && out != sentinel) {
        rs_idc_free_token(out);
    }
    return got;
}
/* expect_browser(client, want, token_out, exp_out): see h_expect_browser. */
#define expect_browser(client, want, token_out, exp_out) \
    h_expect_browser(__FILE__, __LINE__, (client), (want), (token_out), (exp_out))

/*
 * The user the fake issued access token `token` (of the browser sign-in)
 * to, copied into `subject`. Returns 0 when the fake names one, 1 when it
 * says the token names no user (404), -1 on any other answer or failure.
 */
static inline int fake_access_token_subject(const char *token, char *subject, size_t size)
{
    int status = 0;
    if (token == NULL ||
        fake_request("POST", "/_fake/access-token-subject", token, strlen(token), &status,
                     subject, size) != 0) {
        return -1;
    }
    if (status == 404) {
        subject[0] = '\0';
        return 1;
    }
    return status == 200 ? 0 : -1;
}

/* Checks that the fake issued access token `token` to `want` (printing the subject only). */
static inline int h_expect_access_subject(const char *file, int line, const char *token,
                                          const char *want)
{
    char subject[512] = "";
    int got = fake_access_token_subject(token, subject, sizeof subject);
    const char *said = got == 0 ? subject : got == 1 ? "(it names no user)" : "(no answer)";
    return h_record(got == 0 && strcmp(subject, want) == 0, file, line,
                    "the access token should be issued to \"%s\"; the fake says: %s", want, said);
}
#define EXPECT_ACCESS_SUBJECT(token, want) h_expect_access_subject(__FILE__, __LINE__, (token), (want))

/* One reading of the fake's sign-in counters; every field is -1 when it could not be read. */
struct signin_ops {
    long requests;  /* API requests, all services */
    long register_; /* SSO-OIDC RegisterClient */
    long authorize; /* the browser's GET /authorize */
    long code;      /* CreateToken with the authorization code */
    long refresh;   /* CreateToken with the refresh token */
};

/* Reads the sign-in counters with one `GET /_fake/stats`. */
static inline struct signin_ops fake_signin_ops(void)
{
    struct signin_ops ops = {-1, -1, -1, -1, -1};
    char body[4096];
    int status = 0;
    if (fake_request("GET", "/_fake/stats", NULL, 0, &status, body, sizeof body) != 0 ||
        status != 200) {
        return ops;
    }
    ops.requests = h_stat_in(body, "requests");
    ops.register_ = h_stat_in(body, "operation RegisterClient");
    ops.authorize = h_stat_in(body, "operation Authorize");
    ops.code = h_stat_in(body, "operation CreateToken:authorization_code");
    ops.refresh = h_stat_in(body, "operation CreateToken:refresh_token");
    return ops;
}

/*
 * Checks the sign-in counters moved from `before` by exactly `register_`
 * RegisterClient, `authorize` Authorize, `code` and `refresh` CreateToken
 * calls (-1: not checked). One check; on failure it prints all four.
 */
static inline int h_expect_signin_ops(const char *file, int line, const char *what,
                                      struct signin_ops before, long register_, long authorize,
                                      long code, long refresh)
{
    struct signin_ops now = fake_signin_ops();
    long got[4] = {now.register_ - before.register_, now.authorize - before.authorize,
                   now.code - before.code, now.refresh - before.refresh};
    long want[4] = {register_, authorize, code, refresh};
    long read[8] = {before.register_, before.authorize, before.code, before.refresh,
                    now.register_,    now.authorize,    now.code,    now.refresh};
    int ok = 1;
    for (int i = 0; i < 8; i++) {
        ok &= read[i] >= 0;
    }
    for (int i = 0; i < 4; i++) {
        ok &= want[i] < 0 || got[i] == want[i];
    }
    return h_record(ok, file, line,
                    "%s: the fake should see (RegisterClient %ld, Authorize %ld, CreateToken "
                    "authorization_code %ld, refresh_token %ld), it saw (%ld, %ld, %ld, %ld)",
                    what, want[0], want[1], want[2], want[3], got[0], got[1], got[2], got[3]);
}
/* EXPECT_SIGNIN_OPS(what, before, register_, authorize, code, refresh) */
#define EXPECT_SIGNIN_OPS(what, before, register_, authorize, code, refresh)                 \
    h_expect_signin_ops(__FILE__, __LINE__, (what), (before), (register_), (authorize), \
                        (code), (refresh))

/* What loopback_get() got back. */
struct h_http_answer {
    int status;          /* the HTTP status; 0 when no whole answer came */
    char location[8192]; /* the Location header, or "" */
    char body[1024];     /* the start of the body */
};

/*
 * `GET url` for an http://127.0.0.1:PORT[/PATH] URL (any other URL is
 * refused: nothing here leaves loopback), without following a redirect.
 * Fills *answer and returns 0 when a whole answer arrived, else -1. The
 * answer may hold an authorization code: it is wiped before it is freed.
 */
static inline int loopback_get(const char *url, struct h_http_answer *answer)
{
    memset(answer, 0, sizeof *answer);
    static const char prefix[] = "http://127.0.0.1:";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0) {
        return -1;
    }
    const char *port_text = url + sizeof prefix - 1;
    char *end = NULL;
    long port = strtol(port_text, &end, 10);
    if (end == port_text || port <= 0 || port > 65535 || (*end != '/' && *end != '\0')) {
        return -1;
    }
    const char *path = *end == '/' ? end : "/";
    size_t head_size = strlen(path) + 128;
    char *head = malloc(head_size);
    if (head == NULL) {
        return -1;
    }
    int head_len = snprintf(head, head_size,
                            "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%ld\r\nConnection: close\r\n\r\n",
                            path, port);
    int fd = head_len >= 0 && (size_t)head_len < head_size ? loopback_connect((int)port) : -1;
    int ok = fd >= 0;
    for (size_t sent = 0; ok && sent < (size_t)head_len;) {
        ssize_t n = send(fd, head + sent, (size_t)head_len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        sent += n > 0 ? (size_t)n : 0;
    }
    memset(head, 0, head_size);
    free(head);
    char *text = ok ? malloc(H_FAKE_ANSWER_MAX + 1) : NULL;
    size_t have = 0;
    int whole = 0;
    while (text != NULL && have < H_FAKE_ANSWER_MAX) {
        ssize_t got = recv(fd, text + have, H_FAKE_ANSWER_MAX - have, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            whole = got == 0;
            break;
        }
        have += (size_t)got;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (text == NULL) {
        return -1;
    }
    text[have] = '\0';
    int result = -1;
    const char *body = strstr(text, "\r\n\r\n");
    int status = 0;
    if (whole && body != NULL && sscanf(text, "HTTP/1.%*d %d", &status) == 1) {
        answer->status = status;
        for (const char *line = strstr(text, "\r\n"); line != NULL && line < body;
             line = strstr(line + 2, "\r\n")) {
            if (strncasecmp(line + 2, "Location:", 9) == 0) {
                const char *value = line + 11;
                value += strspn(value, " \t");
                size_t len = strcspn(value, "\r\n");
                if (len < sizeof answer->location) {
                    memcpy(answer->location, value, len);
                    answer->location[len] = '\0';
                }
                break;
            }
        }
        snprintf(answer->body, sizeof answer->body, "%s", body + 4);
        result = 0;
    }
    memset(text, 0, have);
    free(text);
    return result;
}

/* 1 when a listener can be bound on 127.0.0.1:port (with SO_REUSEADDR, as servers bind). */
static inline int port_is_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = loopback_addr(port);
    int free_port = bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 1) == 0;
    close(fd);
    return free_port;
}

/*
 * A handle for the sign-in of issuer ssoins-NAME on listen_port `port`,
 * bounded by idp_response_timeout_s `timeout_s`, under display name
 * `display` (NULL: the default), pointed at the fake (see h_fake_handle:
 * its other calls are bounded by 10 s, 100 s under valgrind). NULL on
 * failure (reported).
 */
static inline rs_idc_client *h_browser_handle(const char *file, int line, const char *name,
                                              const char *display, int port, int timeout_s)
{
    char issuer[128], port_text[16], timeout_text[16], roomy[32];
    snprintf(issuer, sizeof issuer, "https://identitycenter.amazonaws.com/ssoins-%s", name);
    snprintf(port_text, sizeof port_text, "%d", port);
    snprintf(timeout_text, sizeof timeout_text, "%d", timeout_s);
    snprintf(roomy, sizeof roomy, "%d", (int)(10000 * slow_factor()));
    rs_idc_option options[4] = {
        {"issuer_url", issuer},
        {"listen_port", port_text},
        {"idp_response_timeout_s", timeout_text},
    };
    size_t n = 3;
    if (display != NULL) {
        options[n++] = (rs_idc_option){"idc_client_display_name", display};
    }
    return h_fake_handle(file, line, roomy, options, n, RS_IDC_OK);
}
/* browser_handle(name, display, port, timeout_s): see h_browser_handle. */
#define browser_handle(name, display, port, timeout_s) \
    h_browser_handle(__FILE__, __LINE__, (name), (display), (port), (timeout_s))

/* The value of query parameter `name` in `url` (up to & or the end), copied into `out`. */
static inline void query_value(const char *url, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    const char *query = strchr(url, '?');
    size_t len = strlen(name);
    for (const char *p = query; p != NULL; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, name, len) == 0 && p[1 + len] == '=') {
            const char *value = p + 2 + len;
            size_t n = strcspn(value, "&");
            if (n < size) {
                memcpy(out, value, n);
                out[n] = '\0';
            }
            return;
        }
    }
}

/*
 * `url` with query parameter `name` set to `value`, or dropped when value
 * is NULL, into `out`. 0, or -1 when `url` has no such parameter or `out`
 * is too small.
 */
static inline int url_with_param(const char *url, const char *name, const char *value, char *out,
                                 size_t size)
{
    const char *query = strchr(url, '?');
    size_t len = strlen(name);
    const char *at = NULL;
    for (const char *p = query; p != NULL; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, name, len) == 0 && p[1 + len] == '=') {
            at = p;
            break;
        }
    }
    if (at == NULL) {
        return -1;
    }
    const char *start = at + 2 + len;              /* the value */
    const char *end = start + strcspn(start, "&"); /* after it */
    int n;
    if (value != NULL) {
        n = snprintf(out, size, "%.*s%s%s", (int)(start - url), url, value, end);
    } else if (*at == '?') {
        /* ?name=v&rest -> ?rest; ?name=v -> ? */
        n = snprintf(out, size, "%.*s%s", (int)(at + 1 - url), url, *end == '&' ? end + 1 : end);
    } else {
        n = snprintf(out, size, "%.*s%s", (int)(at - url), url, end);
    }
    return n > 0 && (size_t)n < size ? 0 : -1;
}

#endif /* RS_IDC_TEST_HARNESS_H */
