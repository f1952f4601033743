/*
 * harness.h - the kit of rs-idc's C test programs (tests/c/test_*.c), also
 * used by tests/life/, bench/ and soak/. Its functions are compiled once
 * into an archive every program that includes this header links:
 *
 *   tests/c/harness.c      checks and counters, clocks, forked children,
 *                          descriptors and threads, files, URLs; calls
 *                          nothing of the library, so tests/life/ programs
 *                          that dlopen() it link this part alone
 *   tests/c/fake_client.c  one HTTP/1.0 client on 127.0.0.1, and on it
 *                          the fake's control endpoint (stats, reset, web
 *                          tokens, token subjects) and a browser's GET
 *   tests/c/calls.c        the library's calls checked (status and the
 *                          out/exp contract) and the handles tests make
 *
 * Every test program runs under `rs-idc-fake run -- PROGRAM`, which starts
 * the local fake Redshift endpoint on 127.0.0.1 and puts its address
 * (RS_IDC_FAKE_PORT) and test credentials in the environment. Nothing here
 * talks to anything but 127.0.0.1.
 *
 * What it offers, section by section below:
 * - checks: CHECK, EXPECT, EXPECT_STATUS, EXPECT_CONTAINS,
 *   EXPECT_LAST_ERROR, EXPECT_LACKS count passes and failures (atomics
 *   shared by all threads) and report each failure with file:line;
 *   test_summary() prints the counts and gives the exit status;
 * - clocks: now_seconds(), slow_factor() (10 under valgrind),
 *   pause_seconds();
 * - children: start_child() forks a child that runs checks,
 *   finish_child() waits for its verdict with a time bound;
 * - descriptors and threads: fd_readable(), wait_readable(),
 *   wait_all_readable(), open_fds(), open_fds_of(), thread_count();
 * - secrets, files, environment, URLs: wipe(), h_free_secret(),
 *   new_temp_file(), replace_file(), need_env(), h_env(),
 *   unset_aws_credentials(), query_value(), url_with_param();
 * - loopback and the fake: loopback_connect(), port_is_free(),
 *   loopback_get(), fake_request(), fake_control(), fake_stat() and what
 *   reads it (fake_requests(), fake_ops(), fake_signin_ops(),
 *   EXPECT_OPS, EXPECT_SIGNIN_OPS), fake_reset(), fake_web_token(),
 *   EXPECT_SUBJECT, EXPECT_ACCESS_SUBJECT;
 * - the library's calls: expect_status(), expect_client(),
 *   expect_browser() check a token call and its out/exp contract;
 *   test_handle(), h_fake_handle(), h_user_handle(), browser_handle()
 *   make handles.
 *
 * A token, secret key or session token is never printed: only lengths and
 * expiry times are.
 */

#ifndef RS_IDC_TEST_HARNESS_H
#define RS_IDC_TEST_HARNESS_H

/* What the harness's declarations need, and the system headers the test programs share. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_names.h"
#include "rs_idc.h"

/* ---- Checks ---------------------------------------------------------- */

/* Passed and failed checks of this process, counted from all threads. */
extern atomic_int h_passed;
extern atomic_int h_failed;

/* Records one check; `fmt` describes what was expected (printed on failure). 1 when ok. */
int h_record(int ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* EXPECT(cond, "format", args...): the format explains the expectation. */
#define EXPECT(cond, ...) h_record(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* CHECK(cond): the condition's source text is the explanation. */
#define CHECK(cond) h_record(!!(cond), __FILE__, __LINE__, "%s", #cond)

/* Status `got` is `want`; prints both names and the thread's last error on failure. */
int h_expect_status(const char *file, int line, int got, int want);
/* EXPECT_STATUS(got, want): see h_expect_status. */
#define EXPECT_STATUS(got, want) h_expect_status(__FILE__, __LINE__, (got), (want))

/* `text` holds `part`; `what` names the text in the failure. Never use with a token. */
int h_expect_contains(const char *file, int line, const char *what, const char *text,
                      const char *part);
/* EXPECT_CONTAINS(text, part): `text` holds `part`. Never use with a token. */
#define EXPECT_CONTAINS(text, part) h_expect_contains(__FILE__, __LINE__, #text, (text), (part))
/* EXPECT_LAST_ERROR(part): this thread's last error holds `part`. */
#define EXPECT_LAST_ERROR(part) \
    h_expect_contains(__FILE__, __LINE__, "last error", rs_idc_last_error(), (part))

/* `text` does not hold `secret` (an empty or NULL one counts as absent); names only `what`. */
int h_expect_lacks(const char *file, int line, const char *text_what, const char *text,
                   const char *secret, const char *what);
/* EXPECT_LACKS(text, secret, what): never prints either string. */
#define EXPECT_LACKS(text, secret, what) \
    h_expect_lacks(__FILE__, __LINE__, #text, (text), (secret), (what))

/* Prints "N passed, M failed"; the exit status: 0 only when none failed and some ran. */
int test_summary(void);

/* Whether two tokens are both there and equal (never prints them). */
static inline int same_token(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* ---- Clocks ---------------------------------------------------------- */

/* Seconds on a monotonic clock. */
double now_seconds(void);
/* 10 when RS_IDC_TEST_SLOW is set (the Makefile sets it under valgrind), else 1. */
double slow_factor(void);
/* Sleeps `seconds`, resuming after signals. */
void pause_seconds(double seconds);

/* ---- Forked children ------------------------------------------------- */

/* A forked child that runs checks; see start_child() and finish_child(). */
struct child {
    pid_t pid;      /* -1 when the child could not be started */
    int verdict_fd; /* read end of the pipe the child writes its verdict to */
};

/*
 * Forks a child that runs body(arg) with its counts at zero (it must run
 * at least one check), writes its verdict ('P' or 'F') to a pipe and
 * leaves with _exit(). The verdict travels through the pipe, not only the
 * exit status, because under valgrind a forked child's exit status is
 * valgrind's: after fork() the library keeps the runtime and clients
 * inherited from the parent without dropping them, and blocks that only
 * the parent's runtime threads pointed at count as definitely lost in the
 * child, where those threads are gone.
 */
struct child start_child(void (*body)(void *), void *arg);
/*
 * Waits at most `seconds` for the child (killing it on overrun); 1 when
 * its checks all passed and it exited with 0 (or, under valgrind, with
 * valgrind's error status after a passing verdict: see start_child).
 */
int finish_child(struct child c, double seconds, const char *what);
/* Waits at most `seconds` for `pid`; its exit status, -1 on overrun (killed, reaped) or signal. */
int wait_child(pid_t pid, double seconds);
/* Whether this process runs under valgrind (it preloads its vgpreload_*.so). */
int under_valgrind(void);

/* ---- Descriptors and threads ----------------------------------------- */

/* 1 when `fd` is readable within `ms` milliseconds (0: just look), else 0. */
int fd_readable(int fd, int ms);
/* Polls `fd` in 20 ms steps for at most `seconds`; 1 when readable. *ticks: idle steps. */
int wait_readable(int fd, double seconds, long *ticks);
/*
 * Polls `n` descriptors (events POLLIN; a negative fd is skipped) in 50 ms
 * steps until each has been readable or `seconds` have passed; each that
 * was gets fd -1. Returns how many were not.
 */
int wait_all_readable(struct pollfd *fds, int n, double seconds);
/* Open descriptors whose /proc/self/fd target begins with `kind` ("socket:"; NULL: all); -1 on error. */
long open_fds_of(const char *kind);
/* Open descriptors of this process; -1 on error. */
long open_fds(void);
/* Threads of this process (/proc/self/task); -1 on error. */
long thread_count(void);

/* ---- Secrets, files, environment, URLs ------------------------------- */

/* Wipes `size` bytes of a buffer that held a secret (a code, a state, a token). */
void wipe(void *buffer, size_t size);
/* Wipes a malloc'ed secret string (a web token, a URL with a state) and frees it; NULL is fine. */
void h_free_secret(char *secret);
/* Writes `text` and a newline to `path` through a new 0600 file renamed over it; 0 on success. */
int replace_file(const char *path, const char *text);
/* A new 0600 file in $TMPDIR (or /tmp) holding `text` and a newline; its path into `path`. 0 on success. */
int new_temp_file(const char *text, char *path, size_t size);

/* A variable that must be set (a check: it fails when it is missing); "" then. */
const char *h_need_env(const char *file, int line, const char *name);
#define need_env(name) h_need_env(__FILE__, __LINE__, (name))
/* An environment variable's value, or "" when it is not set (not a check). */
const char *h_env(const char *name);
/* Unsets the AWS credential variables; call before any library thread exists. */
void unset_aws_credentials(void);

/* The value of query parameter `name` in `url` (up to & or the end) into `out`; "" if absent. */
void query_value(const char *url, const char *name, char *out, size_t size);
/* `url` with parameter `name` set to `value` (NULL: dropped) into `out`; -1 if absent or too long. */
int url_with_param(const char *url, const char *name, const char *value, char *out, size_t size);

/* ---- Loopback and the fake's control endpoint ------------------------ */

/* The address 127.0.0.1:port. */
struct sockaddr_in loopback_addr(int port);
/* A blocking socket connected to 127.0.0.1:port, with 10 s send and receive bounds; -1 on error. */
int loopback_connect(int port);
/* 1 when a listener can be bound on 127.0.0.1:port (with SO_REUSEADDR, as servers bind). */
int port_is_free(int port);

/* What loopback_get() got back. */
struct h_http_answer {
    int status;          /* the HTTP status; 0 when no whole answer came */
    char location[8192]; /* the Location header, or "" */
    char body[1024];     /* the start of the body */
};
/*
 * `GET url` for an http://127.0.0.1:PORT[/PATH] URL (any other is
 * refused), without following a redirect, as a browser. 0 when a whole
 * answer arrived (in *answer), else -1.
 */
int loopback_get(const char *url, struct h_http_answer *answer);

/*
 * Sends `method path` with `len` bytes of `payload` to the fake at
 * 127.0.0.1:$RS_IDC_FAKE_PORT; its HTTP status into *http_status, its body
 * into `body`. 0 when a whole answer came and its body fitted, else -1.
 */
int fake_request(const char *method, const char *path, const char *payload, size_t len,
                 int *http_status, char *body, size_t size);
/*
 * One request of the fake's control API: `{"op":OP MEMBERS}`, `op` a
 * FAKE_CONTROL_* name of fake_names.h (generated from the fake by make),
 * `members` more JSON members (",\"sub\":\"alice\"", or ""). The JSON
 * answer into `body`; 0 on a 200 answer whose body fitted, else -1.
 */
int fake_control(const char *op, const char *members, char *body, size_t size);
/* The string member `name` of a control answer into `out` (no escapes); -1 if absent. */
int json_member(const char *body, const char *name, char *out, size_t size);
/* Zeroes the fake's counters (and the counts behind `fault-X-N`); 0 on success. */
int fake_reset(void);

/* A counter of the fake's stats (FAKE_COUNTER_* or FAKE_OP_*); -1 on error. */
long fake_stat(const char *name);
/* API requests the fake has received (faults included); -1 on error. */
long fake_requests(void);

/* One reading of the per-user exchange's counters; each is -1 when it could not be read. */
struct fake_ops {
    long requests;     /* API requests, all services */
    long get_token;    /* GetIdentityCenterAuthToken (both Redshift APIs) */
    long assume_role;  /* STS AssumeRole */
    long web_identity; /* STS AssumeRoleWithWebIdentity */
    long jwt_bearer;   /* SSO-OIDC CreateTokenWithIAM with the web token */
    long refresh;      /* SSO-OIDC CreateTokenWithIAM with a refresh token */
};
/* Reads them with one stats request. */
struct fake_ops fake_ops(void);
/* The counters moved from `before` by exactly the numbers given (-1: not checked); one check. */
int h_expect_ops(const char *file, int line, const char *what, struct fake_ops before,
                 long requests, long get_token, long assume_role, long web_identity,
                 long jwt_bearer, long refresh);
#define EXPECT_OPS(what, before, requests, get_token, assume_role, web_identity, jwt_bearer, \
                   refresh)                                                                 \
    h_expect_ops(__FILE__, __LINE__, (what), (before), (requests), (get_token),              \
                 (assume_role), (web_identity), (jwt_bearer), (refresh))

/* One reading of the browser sign-in's counters; each is -1 when it could not be read. */
struct signin_ops {
    long requests;  /* API requests, all services */
    long register_; /* SSO-OIDC RegisterClient */
    long authorize; /* the browser's GET /authorize */
    long code;      /* CreateToken with the authorization code */
    long refresh;   /* CreateToken with the refresh token */
};
/* Reads them with one stats request. */
struct signin_ops fake_signin_ops(void);
/* The sign-in counters moved from `before` by exactly the numbers given (-1: not checked). */
int h_expect_signin_ops(const char *file, int line, const char *what, struct signin_ops before,
                        long register_, long authorize, long code, long refresh);
#define EXPECT_SIGNIN_OPS(what, before, register_, authorize, code, refresh)            \
    h_expect_signin_ops(__FILE__, __LINE__, (what), (before), (register_), (authorize), \
                        (code), (refresh))

/*
 * A web token (JWT) the fake makes for `sub` (letters, digits and -_.@),
 * expiring in `ttl` seconds (negative: expired), with `extra` JSON
 * members (WRONG_KEY, or ""). Malloc'ed (release with
 * h_free_secret), or NULL on failure (reported).
 */
char *h_fake_web_token(const char *file, int line, const char *sub, long ttl, const char *extra);
#define WRONG_KEY ",\"wrong_key\":true"
#define fake_web_token(sub, ttl, extra) h_fake_web_token(__FILE__, __LINE__, (sub), (ttl), (extra))

/* The fake issued Redshift token `token` to user `want` (printing the subject only). */
int h_expect_subject(const char *file, int line, const char *token, const char *want);
#define EXPECT_SUBJECT(token, want) h_expect_subject(__FILE__, __LINE__, (token), (want))
/* The fake issued access token `token` of the browser sign-in to user `want`. */
int h_expect_access_subject(const char *file, int line, const char *token, const char *want);
#define EXPECT_ACCESS_SUBJECT(token, want) \
    h_expect_access_subject(__FILE__, __LINE__, (token), (want))

/* ---- The library's calls and handles --------------------------------- */

/* The value stored in *exp before a call, to see that a failure leaves it alone. */
#define H_EXP_SENTINEL ((int64_t)0x5a5a5a5a5a5a5a5aLL)

/*
 * Checks what token call `what` left: status `got` is `want` (the message
 * shows `error`, the thread's last error); on success `out` is a
 * non-empty token (not `sentinel`, which *out held before the call) and
 * `exp` lies in the future; on failure `out` is NULL, `exp` is still
 * H_EXP_SENTINEL and `error` is not empty. The token goes to *token_out
 * (NULL on failure) when token_out is not NULL, else it is freed; the
 * expiry to *exp_out on success when exp_out is not NULL. 1 when all held.
 */
int h_expect_outcome(const char *file, int line, const char *what, int got, int want,
                     const char *error, char *out, const char *sentinel, int64_t exp,
                     char **token_out, int64_t *exp_out);

/* rs_idc_get_token(ids, n, ...) gives `want`, with the out/exp contract; the expiry to *exp_out. */
int h_expect_status_exp(const char *file, int line, const char **ids, size_t n, int want,
                        int64_t *exp_out);
#define expect_status(ids, n, want) \
    h_expect_status_exp(__FILE__, __LINE__, (ids), (n), (want), NULL)
#define expect_status_exp(ids, n, want, exp_out) \
    h_expect_status_exp(__FILE__, __LINE__, (ids), (n), (want), (exp_out))

/* Which token call h_expect_client() makes on a handle. */
enum h_client_call {
    H_CLUSTER,    /* rs_idc_client_get_token(client, names, n, ...) */
    H_SERVERLESS, /* rs_idc_client_get_serverless_token(client, names, n, ...) */
    H_HOST        /* rs_idc_client_get_token_for_host(client, names[0], ...) */
};
/* The function an h_client_call stands for, for messages. */
const char *h_call_name(enum h_client_call call);
/*
 * One token call on `client` (for H_HOST the host is names[0], or NULL when
 * names is NULL) gives `want`, checked as h_expect_outcome does.
 */
int h_expect_client(const char *file, int line, rs_idc_client *client, enum h_client_call call,
                    const char **names, size_t n, int want, char **token_out, int64_t *exp_out);
#define expect_client(client, call, names, n, want) \
    h_expect_client(__FILE__, __LINE__, (client), (call), (names), (n), (want), NULL, NULL)
#define expect_client_token(client, call, names, n, want, token_out, exp_out)                \
    h_expect_client(__FILE__, __LINE__, (client), (call), (names), (n), (want), (token_out), \
                    (exp_out))

/* rs_idc_client_get_browser_token(client, ...) gives `want`, checked as h_expect_outcome does. */
int h_expect_browser(const char *file, int line, rs_idc_client *client, int want,
                     char **token_out, int64_t *exp_out);
#define expect_browser(client, want, token_out, exp_out) \
    h_expect_browser(__FILE__, __LINE__, (client), (want), (token_out), (exp_out))

/*
 * A handle with region us-east-1, one identity's keys from the fake's
 * environment (`prefix` RS_IDC_TEST_IDC or RS_IDC_TEST_IDC2), a whole-call
 * bound of `timeout_ms`, two attempts and up to 16 `extra` options. NULL
 * on failure (reported).
 */
rs_idc_client *h_test_handle(const char *file, int line, const char *prefix,
                             const char *timeout_ms, const rs_idc_option *extra, size_t n_extra);
#define test_handle(prefix, timeout_ms, extra, n_extra) \
    h_test_handle(__FILE__, __LINE__, (prefix), (timeout_ms), (extra), (n_extra))

/*
 * A handle pointed at the fake ($AWS_ENDPOINT_URL), region us-east-1, a
 * whole-call bound of `timeout_ms`, two attempts and up to 16 `extra`
 * options; rs_idc_client_new must give `want` (a refusal leaves *out NULL
 * and a last error without the secret key). NULL unless RS_IDC_OK.
 */
rs_idc_client *h_fake_handle(const char *file, int line, const char *timeout_ms,
                             const rs_idc_option *extra, size_t n_extra, int want);

/*
 * A handle for per-user tokens (h_fake_handle's): the fake's plain
 * application keys when `with_keys`, the application `app` and access
 * role `role` (each left out when NULL), up to 12 `extra` options.
 */
rs_idc_client *h_user_handle(const char *file, int line, const char *timeout_ms, int with_keys,
                             const char *app, const char *role, const rs_idc_option *extra,
                             size_t n_extra, int want);

/*
 * A handle for the browser sign-in of issuer ssoins-NAME on listen_port
 * `port`, bounded by idp_response_timeout_s `timeout_s`, under display
 * name `display` (NULL: the default), pointed at the fake with its other
 * calls bounded by 10 s (100 s under valgrind). NULL on failure.
 */
rs_idc_client *h_browser_handle(const char *file, int line, const char *name,
                                const char *display, int port, int timeout_s);
#define browser_handle(name, display, port, timeout_s) \
    h_browser_handle(__FILE__, __LINE__, (name), (display), (port), (timeout_s))

#endif /* RS_IDC_TEST_HARNESS_H */
