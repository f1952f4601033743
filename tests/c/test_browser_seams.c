/*
 * test_browser_seams.c - where the browser sign-in meets the rest of the
 * library and the process: the cache calls, joined sign-ins with other
 * time bounds, the loopback listener's connections and threads, fork(),
 * and refused answers.
 *
 * The test plays the browser as test_browser.c does: the open-URL
 * callback records the authorize URL (and, for plain sign-ins, starts a
 * thread that GETs it on the fake, which signs `browser-user` in at once
 * and redirects, then GETs the redirect on the library's listener).
 * Plain sockets, 127.0.0.1 only.
 *
 *     test_browser_seams        every check below (about 20 s while they
 *                               fail, less once they pass)
 *     test_browser_seams N...   only checks N (1 to 6)
 *
 * Checks (each with its own listen_port from 27941 and its own issuer_url):
 *  1. rs_idc_forget_token() and rs_idc_cache_clear() reach the browser
 *     sign-in's token: a forgotten token is renewed with the refresh token
 *     (no browser); after a clear the browser opens again;
 *  2. a caller that joins a sign-in keeps its own idp_response_timeout_s:
 *     A (2 s; 4 under valgrind) times out, B (6 s; 30), which joined it,
 *     still signs in;
 *  3. the listener's readers are bounded: 300 idle connections (100 under
 *     valgrind) cost at most 8 threads, the sign-in still succeeds, and
 *     every one of them is closed once the call returned;
 *  4. a connection that sends its request one byte every 500 ms is closed
 *     once the call returned, and its thread ends;
 *  5. a child forked during a sign-in does not keep the listening socket:
 *     the parent signs in again on the same port while the child lives;
 *  6. redirects with a forged and with no state are refused, logged and
 *     named in the last error, without either state value.
 *
 * Checks run in the order 1, 2, 4, 5, 6, 3, so that the threads check 3
 * may leave behind today do not move check 4's baseline.
 *
 * Tokens, codes, states and URLs are never printed (lengths and counts are).
 */

#include "harness.h"

#include <fcntl.h>
#include <pthread.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PLAYS 8
#define URL_MAX 8192

/* A forged state value: never a real one, and looked for in messages and logs. */
static const char forged_state_value[] = "Zq9forgedStateValue7Kx";

/* ------------------------------------------------------------- events */

/*
 * Every event a check waits for (a callback call, a call that returned, a
 * connection the library closed) is announced under this lock on this
 * condition variable (monotonic clock).
 */
static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond;

static void events_init(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ev_cond, &attr);
    pthread_condattr_destroy(&attr);
}

/* Announces an event; call with ev_lock held. */
static void announce(void)
{
    pthread_cond_broadcast(&ev_cond);
}

/*
 * Waits at most `seconds` until ready(arg) holds (it is called with
 * ev_lock held). Returns 1 when it does.
 */
static int wait_for(int (*ready)(void *), void *arg, double seconds)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    double whole = (double)(time_t)seconds;
    until.tv_sec += (time_t)seconds;
    until.tv_nsec += (long)((seconds - whole) * 1e9);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ev_lock);
    int ok;
    while (!(ok = ready(arg))) {
        if (pthread_cond_timedwait(&ev_cond, &ev_lock, &until) == ETIMEDOUT) {
            ok = ready(arg);
            break;
        }
    }
    pthread_mutex_unlock(&ev_lock);
    return ok;
}

/* ---------------------------------------------------------- the browser */

/* What the callback does with a URL. */
enum play {
    PLAY_RECORD, /* records it only: the check answers it itself */
    PLAY_FOLLOW, /* records it and signs in on a thread of its own */
};

/* The one browser of the process (the callback's userdata). All fields under ev_lock. */
struct browser {
    enum play play;
    int opened;               /* callback calls */
    int bad_userdata;         /* calls with another userdata */
    char *latest;             /* a copy of the latest URL (holds a state): wiped when replaced */
    pthread_t threads[MAX_PLAYS];
    int n_threads;
    int page_status;          /* the listener's answer to the last followed redirect */
};

static struct browser browser;

/*
 * The browser's first step: GET the authorize URL on the fake and copy
 * the redirect (it holds a code and the state) into `location`. 0 when
 * the fake answered 302 with a Location, else -1.
 */
static int authorize(const char *url, char *location, size_t size)
{
    struct h_http_answer *answer = malloc(sizeof *answer);
    int ok = answer != NULL && loopback_get(url, answer) == 0 && answer->status == 302 &&
             answer->location[0] != '\0' && strlen(answer->location) < size;
    if (ok) {
        memcpy(location, answer->location, strlen(answer->location) + 1);
    }
    if (answer != NULL) {
        wipe(answer, sizeof *answer);
        free(answer);
    }
    return ok ? 0 : -1;
}

/*
 * The browser's second step: GET `location` on the library's listener.
 * Returns the listener's HTTP status, 0 when no whole answer came (for
 * example nothing listens any more). The start of the page goes to
 * `page` when it is not NULL.
 */
static int redirect(const char *location, char *page, size_t size)
{
    struct h_http_answer *answer = malloc(sizeof *answer);
    int status = 0;
    if (answer != NULL && loopback_get(location, answer) == 0) {
        status = answer->status;
        if (page != NULL) {
            snprintf(page, size, "%s", answer->body);
        }
    }
    if (answer != NULL) {
        wipe(answer, sizeof *answer);
        free(answer);
    }
    return status;
}

/*
 * A whole sign-in for authorize URL `url`: the fake, then the listener.
 * Returns the listener's status, 0 when it did not answer, -1 when the
 * fake did not redirect.
 */
static int sign_in_with(const char *url)
{
    char *location = malloc(URL_MAX);
    int status = -1;
    if (location != NULL && authorize(url, location, URL_MAX) == 0) {
        status = redirect(location, NULL, 0);
    }
    if (location != NULL) {
        wipe(location, URL_MAX);
        free(location);
    }
    return status;
}

static void *follow_thread(void *arg)
{
    char *url = arg;
    int status = sign_in_with(url);
    h_free_secret(url);
    pthread_mutex_lock(&ev_lock);
    browser.page_status = status;
    announce();
    pthread_mutex_unlock(&ev_lock);
    return NULL;
}

/* The open-URL callback: records the URL, and signs in when the play says so. */
static int open_url(const char *url, void *userdata)
{
    char *copy = url != NULL ? strdup(url) : NULL;
    char *for_thread = url != NULL ? strdup(url) : NULL;
    pthread_mutex_lock(&ev_lock);
    browser.opened++;
    if (userdata != &browser) {
        browser.bad_userdata++;
    }
    h_free_secret(browser.latest);
    browser.latest = copy;
    int started = 0;
    if (browser.play == PLAY_FOLLOW && for_thread != NULL && browser.n_threads < MAX_PLAYS &&
        pthread_create(&browser.threads[browser.n_threads], NULL, follow_thread, for_thread) ==
            0) {
        browser.n_threads++;
        started = 1;
    }
    int play = browser.play;
    announce();
    pthread_mutex_unlock(&ev_lock);
    if (!started) {
        h_free_secret(for_thread);
    }
    return play == PLAY_FOLLOW && !started ? -1 : 0;
}

/* Waits for the browser's threads, forgets what it saw and installs it with `play`. */
static void browser_reset(enum play play)
{
    pthread_mutex_lock(&ev_lock);
    int n = browser.n_threads;
    pthread_t threads[MAX_PLAYS];
    memcpy(threads, browser.threads, sizeof threads);
    browser.n_threads = 0;
    pthread_mutex_unlock(&ev_lock);
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_mutex_lock(&ev_lock);
    EXPECT(browser.bad_userdata == 0, "the callback gets its userdata back (%d other)",
           browser.bad_userdata);
    h_free_secret(browser.latest);
    browser.latest = NULL;
    browser.opened = 0;
    browser.bad_userdata = 0;
    browser.page_status = 0;
    browser.play = play;
    pthread_mutex_unlock(&ev_lock);
    rs_idc_set_open_url_callback(open_url, &browser);
}

/* The number of callback calls so far. */
static int browser_opened(void)
{
    pthread_mutex_lock(&ev_lock);
    int opened = browser.opened;
    pthread_mutex_unlock(&ev_lock);
    return opened;
}

/* A copy of the latest URL (release it with h_free_secret), or NULL. */
static char *browser_latest(void)
{
    pthread_mutex_lock(&ev_lock);
    char *url = browser.latest != NULL ? strdup(browser.latest) : NULL;
    pthread_mutex_unlock(&ev_lock);
    return url;
}

/* ---------------------------------------------------------- the handles */

/* Seconds scaled for valgrind, as an int option value. */
static int scaled(int seconds)
{
    return (int)(seconds * slow_factor());
}

/* ------------------------------------------------ sign-ins on a thread */

/* A rs_idc_client_get_browser_token() call on a thread of its own. */
struct call {
    const char *what;
    rs_idc_client *h;
    pthread_t thread;
    int started;
    /* Under ev_lock once started: */
    int done;
    int status;
    char *token;
    int64_t exp;
    double returned_at;
    char error[1024]; /* the thread's last error after a failure */
};

/* What *out holds before a call, to see that a failure leaves it NULL. */
static char call_sentinel[] = "sentinel";

static void *call_thread(void *arg)
{
    struct call *c = arg;
    char *out = call_sentinel;
    int64_t exp = H_EXP_SENTINEL;
    int status = rs_idc_client_get_browser_token(c->h, &out, &exp);
    double returned = now_seconds();
    pthread_mutex_lock(&ev_lock);
    c->status = status;
    c->token = out;
    c->exp = exp;
    c->returned_at = returned;
    snprintf(c->error, sizeof c->error, "%s", status != RS_IDC_OK ? rs_idc_last_error() : "");
    c->done = 1;
    announce();
    pthread_mutex_unlock(&ev_lock);
    return NULL;
}

static void call_start(struct call *c, const char *what, rs_idc_client *h)
{
    memset(c, 0, sizeof *c);
    c->what = what;
    c->h = h;
    c->started = h != NULL && pthread_create(&c->thread, NULL, call_thread, c) == 0;
    EXPECT(c->started, "%s: the call's thread started", what);
}

static int call_done(void *arg)
{
    struct call *c = arg;
    return !c->started || c->done;
}

/* Waits at most `seconds` for the call to return; then joins it. 1 when it returned. */
static int call_wait(struct call *c, double seconds)
{
    if (!c->started) {
        return 0;
    }
    if (!wait_for(call_done, c, seconds)) {
        return 0;
    }
    pthread_join(c->thread, NULL);
    c->started = 0;
    c->done = 1;
    return 1;
}

/*
 * Checks a returned call as expect_browser() does (status, out/exp
 * contract), at the caller's line; prints the thread's last error on a
 * failure, never the token.
 */
static int h_expect_call(const char *file, int line, struct call *c, int want)
{
    if (!h_record(c->done, file, line, "%s: the call returned", c->what)) {
        return 0;
    }
    return h_expect_outcome(file, line, c->what, c->status, want, c->error, c->token,
                            call_sentinel, c->exp, &c->token, NULL);
}
#define EXPECT_CALL(c, want) h_expect_call(__FILE__, __LINE__, (c), (want))

/* Frees the call's token (never the sentinel). */
static void call_free(struct call *c)
{
    if (c->done && c->token != NULL && c->token != call_sentinel) {
        rs_idc_free_token(c->token);
    }
    c->token = NULL;
}

/* Predicate: the browser was asked to open a URL, or the call returned. */
static int opened_or_done(void *arg)
{
    struct call *c = arg;
    return browser.opened > 0 || !c->started || c->done;
}

/*
 * Waits for the call's first callback call (or its end). Returns 1 when
 * the browser was asked to open a URL; reported otherwise.
 */
static int h_wait_opened(const char *file, int line, struct call *c)
{
    wait_for(opened_or_done, c, 20 * slow_factor());
    int opened = browser_opened() > 0;
    h_record(opened, file, line, "%s: the callback was called while the sign-in waited%s",
             c->what, c->done ? " (the call returned first)" : "");
    return opened;
}
#define wait_opened(c) h_wait_opened(__FILE__, __LINE__, (c))

/* -------------------------------------------------- threads and sockets */

/*
 * Polls the thread count every 20 ms until it is at most `want` or
 * `seconds` have passed; returns the last count.
 */
static long threads_settle(long want, double seconds)
{
    double deadline = now_seconds() + seconds;
    long count = thread_count();
    while (count > want && now_seconds() < deadline) {
        pause_seconds(0.02);
        count = thread_count();
    }
    return count;
}

/* A non-blocking socket connecting to 127.0.0.1:port (maybe still in progress); -1 on error. */
static int connect_nonblocking(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    struct sockaddr_in addr = loopback_addr(port);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

/*
 * Waits at most `seconds` until every non-blocking connect of `fds` has
 * finished (connected or failed). Returns how many connected.
 */
static int wait_connected(const int *fds, int n, double seconds)
{
    struct pollfd *polls = calloc((size_t)n, sizeof *polls);
    char *finished = calloc((size_t)n, 1);
    int connected = 0, left = 0;
    for (int i = 0; i < n; i++) {
        left += fds[i] >= 0;
        if (fds[i] < 0 && finished != NULL) {
            finished[i] = 1;
        }
    }
    double deadline = now_seconds() + seconds;
    while (polls != NULL && finished != NULL && left > 0 && now_seconds() < deadline) {
        int k = 0;
        int index[1024];
        for (int i = 0; i < n && k < (int)N_OF(index); i++) {
            if (!finished[i]) {
                polls[k] = (struct pollfd){fds[i], POLLOUT, 0};
                index[k++] = i;
            }
        }
        if (poll(polls, (nfds_t)k, 50) <= 0) {
            continue;
        }
        for (int j = 0; j < k; j++) {
            if (polls[j].revents == 0) {
                continue;
            }
            int error = 0;
            socklen_t len = sizeof error;
            getsockopt(fds[index[j]], SOL_SOCKET, SO_ERROR, &error, &len);
            connected += error == 0 && (polls[j].revents & POLLOUT) != 0;
            finished[index[j]] = 1;
            left--;
        }
    }
    free(polls);
    free(finished);
    return connected;
}

/*
 * 1 when a non-blocking recv() that returned `got` (and set errno) saw its
 * connection end: end of file or an error such as a reset, not a retry.
 */
static int connection_ended(ssize_t got)
{
    return got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/*
 * Waits at most `seconds` until each socket of `fds` has seen its end: end
 * of file or an error such as a reset (what the library sends first is
 * read and dropped). Returns how many did.
 */
static int wait_all_closed(const int *fds, int n, double seconds)
{
    struct pollfd *polls = calloc((size_t)n, sizeof *polls);
    int *index = calloc((size_t)n, sizeof *index);
    char *ended = calloc((size_t)n, 1);
    int count = 0;
    for (int i = 0; i < n && ended != NULL; i++) {
        if (fds[i] < 0) {
            ended[i] = 1;
            count++;
        }
    }
    double deadline = now_seconds() + seconds;
    while (polls != NULL && index != NULL && ended != NULL && count < n) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (!ended[i]) {
                polls[k] = (struct pollfd){fds[i], POLLIN, 0};
                index[k++] = i;
            }
        }
        double left = deadline - now_seconds();
        if (left <= 0) {
            break;
        }
        int ready = poll(polls, (nfds_t)k, left < 0.05 ? 1 : 50);
        for (int j = 0; ready > 0 && j < k; j++) {
            if (polls[j].revents == 0) {
                continue;
            }
            char buffer[4096];
            ssize_t got = recv(fds[index[j]], buffer, sizeof buffer, MSG_DONTWAIT);
            if (connection_ended(got)) {
                ended[index[j]] = 1;
                count++;
            }
        }
    }
    free(polls);
    free(index);
    free(ended);
    return count;
}

/*
 * Sends a request for a page that is not the redirect on a new connection
 * to 127.0.0.1:port and waits at most `seconds` for the listener to answer
 * it or close it. Connections are accepted in the order they came, so an
 * answer means the library has taken every connection made before this
 * one. 1 when it answered or closed.
 */
static int probe_listener(int port, double seconds)
{
    int fd = loopback_connect(port);
    if (fd < 0) {
        return 0;
    }
    static const char request[] =
        "GET /rs-idc-test-probe HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    int sent = send(fd, request, sizeof request - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof request - 1);
    int answered = sent && wait_readable(fd, seconds, NULL);
    close(fd);
    return answered;
}

/* ------------------------------------------------------------ 1. cache */

/* 1. rs_idc_forget_token() and rs_idc_cache_clear() reach the browser's token. */
static void forget_and_clear(void)
{
    const int port = 27941;
    CHECK(port_is_free(port));
    browser_reset(PLAY_FOLLOW);
    rs_idc_client *h = browser_handle("seams-forget", NULL, port, scaled(20));
    if (h == NULL) {
        return;
    }
    struct signin_ops before = fake_signin_ops();
    char *first = NULL;
    int signed_in = expect_browser(h, RS_IDC_OK, &first, NULL) == RS_IDC_OK;
    EXPECT_SIGNIN_OPS("1. the first sign-in", before, 1, 1, 1, 0);
    EXPECT(browser_opened() == 1, "1. the first sign-in opened the browser once (%d)",
           browser_opened());
    if (!signed_in) {
        rs_idc_client_free(h);
        return;
    }

    /* Forgotten: renewed with the kept refresh token, no browser. */
    browser_reset(PLAY_FOLLOW);
    rs_idc_forget_token(first);
    before = fake_signin_ops();
    char *renewed = NULL;
    if (expect_browser(h, RS_IDC_OK, &renewed, NULL) == RS_IDC_OK) {
        EXPECT(!same_token(first, renewed),
               "1. after rs_idc_forget_token() the next call hands out another token, not the "
               "forgotten one");
        EXPECT_ACCESS_SUBJECT(renewed, "browser-user");
    }
    EXPECT_SIGNIN_OPS("1. after rs_idc_forget_token() (renewed with the refresh token)", before,
                      0, 0, 0, 1);
    EXPECT(browser_opened() == 0,
           "1. the renewal after rs_idc_forget_token() opens no browser (%d)", browser_opened());

    /* Cleared: a new sign-in in the browser. */
    browser_reset(PLAY_FOLLOW);
    rs_idc_cache_clear();
    before = fake_signin_ops();
    char *again = NULL;
    if (expect_browser(h, RS_IDC_OK, &again, NULL) == RS_IDC_OK) {
        EXPECT(!same_token(again, renewed) && !same_token(again, first),
               "1. after rs_idc_cache_clear() the next call hands out a new token, not a kept "
               "one");
        EXPECT_ACCESS_SUBJECT(again, "browser-user");
    }
    EXPECT(browser_opened() == 1,
           "1. after rs_idc_cache_clear() the next call signs in in the browser again (callback "
           "calls: %d)",
           browser_opened());
    EXPECT_SIGNIN_OPS("1. after rs_idc_cache_clear() (a new authorize and code)", before, -1, 1,
                      1, -1);
    browser_reset(PLAY_RECORD);
    rs_idc_free_token(first);
    rs_idc_free_token(renewed);
    rs_idc_free_token(again);
    rs_idc_client_free(h);
}

/* ------------------------------------------------------ 2. time bounds */

/* State of the browser side of check 2: a URL not yet tried, or B returned. */
struct joined_watch {
    int tried;       /* callback calls already answered */
    struct call *b;
};

static int new_url_or_done(void *arg)
{
    struct joined_watch *w = arg;
    return browser.opened > w->tried || !w->b->started || w->b->done;
}

/* 2. A joined sign-in keeps its own time bound. */
static void joined_keeps_its_bound(void)
{
    const int port = 27942;
    const int a_timeout = slow_factor() > 1 ? 4 : 2;
    const int b_timeout = slow_factor() > 1 ? 30 : 6;
    CHECK(port_is_free(port));
    browser_reset(PLAY_RECORD);
    rs_idc_client *ha = browser_handle("seams-joined", NULL, port, a_timeout);
    rs_idc_client *hb = browser_handle("seams-joined", NULL, port, b_timeout);
    if (ha == NULL || hb == NULL) {
        rs_idc_client_free(ha);
        rs_idc_client_free(hb);
        return;
    }
    static char a_what[96], b_what[96];
    snprintf(a_what, sizeof a_what, "2. handle A (idp_response_timeout_s %d)", a_timeout);
    snprintf(b_what, sizeof b_what, "2. handle B (idp_response_timeout_s %d), joined A's sign-in",
             b_timeout);
    struct call a, b;
    call_start(&a, a_what, ha);
    if (!wait_opened(&a)) {
        call_wait(&a, (a_timeout + 20) * slow_factor());
        call_free(&a);
        rs_idc_client_free(ha);
        rs_idc_client_free(hb);
        return;
    }
    /* A waits for the browser: B joins its sign-in. */
    call_start(&b, b_what, hb);
    call_wait(&a, (a_timeout + 20) * slow_factor());
    EXPECT_CALL(&a, RS_IDC_ETIMEOUT);

    /* The browser comes back late: it answers the latest URL, and any newer one. */
    struct joined_watch watch = {0, &b};
    int answered = 0, tries = 0;
    double deadline = now_seconds() + (b_timeout + 20) * slow_factor();
    while (b.started && now_seconds() < deadline) {
        if (!wait_for(new_url_or_done, &watch, deadline - now_seconds())) {
            break;
        }
        pthread_mutex_lock(&ev_lock);
        int b_done = b.done;
        int opened = browser.opened;
        char *url = opened > watch.tried && browser.latest != NULL ? strdup(browser.latest)
                                                                     : NULL;
        pthread_mutex_unlock(&ev_lock);
        if (b_done) {
            h_free_secret(url);
            break;
        }
        watch.tried = opened;
        if (url != NULL) {
            tries++;
            answered |= sign_in_with(url) == 200;
            h_free_secret(url);
        }
    }
    call_wait(&b, 20 * slow_factor());
    EXPECT_CALL(&b, RS_IDC_OK);
    printf("   (2: the browser answered %d URL(s) of %d callback call(s); a sign-in page: %s)\n",
           tries, browser_opened(), answered ? "yes" : "no");
    browser_reset(PLAY_RECORD);
    CHECK(port_is_free(port));
    call_free(&a);
    call_free(&b);
    rs_idc_client_free(ha);
    rs_idc_client_free(hb);
}

/* --------------------------------------------------- 3. many connections */

/* 3. The listener's readers are bounded. */
static void idle_connections_are_bounded(void)
{
    const int port = 27943;
    const int n = slow_factor() > 1 ? 100 : 300;
    CHECK(port_is_free(port));
    browser_reset(PLAY_RECORD);
    rs_idc_client *h = browser_handle("seams-readers", NULL, port, scaled(30));
    if (h == NULL) {
        return;
    }
    int *fds = malloc((size_t)n * sizeof *fds);
    if (!CHECK(fds != NULL)) {
        rs_idc_client_free(h);
        return;
    }
    for (int i = 0; i < n; i++) {
        fds[i] = -1;
    }
    struct signin_ops before = fake_signin_ops();
    /* The sign-in's own thread counts in the baseline. */
    long baseline = thread_count() + 1;
    struct call c;
    call_start(&c, "3. a sign-in with idle connections open", h);
    if (wait_opened(&c)) {
        int made = 0;
        for (int i = 0; i < n; i++) {
            fds[i] = connect_nonblocking(port);
            made += fds[i] >= 0;
        }
        EXPECT(made == n, "3. %d idle connections were started (%d)", n, made);
        int connected = wait_connected(fds, n, 10 * slow_factor());
        int probed = probe_listener(port, 10 * slow_factor());
        long threads = thread_count();
        printf("   (3: %d of %d idle connections connected; probe answered: %s; threads: "
               "baseline %ld, now %ld)\n",
               connected, n, probed ? "yes" : "no", baseline, threads);
        EXPECT(threads >= 0 && threads <= baseline + 8,
               "3. with %d idle connections open the process has at most %ld threads (baseline "
               "%ld + 8); it has %ld",
               n, baseline + 8, baseline, threads);
        char *url = browser_latest();
        int page = url != NULL ? sign_in_with(url) : -1;
        h_free_secret(url);
        EXPECT(page == 200, "3. the listener answers the redirect with a sign-in page (%d) "
                            "while %d idle connections are open",
               page, n);
    }
    call_wait(&c, 40 * slow_factor());
    EXPECT_CALL(&c, RS_IDC_OK);
    EXPECT_SIGNIN_OPS("3. the sign-in", before, 1, 1, 1, 0);
    if (c.done) {
        int open = 0;
        for (int i = 0; i < n; i++) {
            open += fds[i] >= 0;
        }
        double closing_bound = 3 * slow_factor();
        int closed = wait_all_closed(fds, n, closing_bound);
        EXPECT(closed == n,
               "3. within %.0f s after the call returned the library closed every idle "
               "connection: %d of %d saw end of file or a reset (%d were open)",
               closing_bound, closed, n, open);
    }
    for (int i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    free(fds);
    browser_reset(PLAY_RECORD);
    call_free(&c);
    rs_idc_client_free(h);
}

/* ---------------------------------------------------- 4. a slow sender */

/* A connection that sends a request one byte every 500 ms, from a thread. */
struct trickle {
    int fd;
    pthread_t thread;
    atomic_int stop;
    atomic_long sent;
    /* Under ev_lock: */
    int ended;        /* the thread ended */
    int closed;       /* ... because the library closed the connection */
    int how_errno;    /* 0: end of file; else the error of the send or receive */
};

static void *trickle_thread(void *arg)
{
    struct trickle *t = arg;
    static const char head[] = "GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: ";
    int closed = 0, how = 0;
    size_t i = 0;
    while (!atomic_load(&t->stop)) {
        struct pollfd p = {t->fd, POLLIN, 0};
        int ready = poll(&p, 1, 500);
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready > 0) {
            char buffer[1024];
            ssize_t got = recv(t->fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (connection_ended(got)) {
                closed = 1;
                how = got == 0 ? 0 : errno;
                break;
            }
            continue; /* an answer's bytes: read on until the end */
        }
        char byte = i < sizeof head - 1 ? head[i] : 'a';
        ssize_t n = send(t->fd, &byte, 1, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR && errno != EAGAIN) {
            closed = 1;
            how = errno;
            break;
        }
        if (n == 1) {
            i++;
            atomic_fetch_add(&t->sent, 1);
        }
    }
    pthread_mutex_lock(&ev_lock);
    t->ended = 1;
    t->closed = closed;
    t->how_errno = how;
    announce();
    pthread_mutex_unlock(&ev_lock);
    return NULL;
}

static int trickle_ended(void *arg)
{
    return ((struct trickle *)arg)->ended;
}

/* 4. A slow connection does not outlive the sign-in. */
static void slow_connection_is_closed(void)
{
    const int port = 27944;
    CHECK(port_is_free(port));
    browser_reset(PLAY_RECORD);
    rs_idc_client *h = browser_handle("seams-slow", NULL, port, scaled(30));
    if (h == NULL) {
        return;
    }
    long baseline = thread_count();
    struct call c;
    call_start(&c, "4. a sign-in with a slow connection open", h);
    struct trickle *t = calloc(1, sizeof *t);
    if (t != NULL) {
        t->fd = -1;
    }
    int trickling = 0;
    if (CHECK(t != NULL) && wait_opened(&c)) {
        t->fd = loopback_connect(port);
        trickling = CHECK(t->fd >= 0) &&
                    CHECK(pthread_create(&t->thread, NULL, trickle_thread, t) == 0);
        if (trickling) {
            /* The library has taken the slow connection once it answered a later one. */
            EXPECT(probe_listener(port, 10 * slow_factor()),
                   "4. the listener answered a request made after the slow connection");
        }
        char *url = browser_latest();
        int page = url != NULL ? sign_in_with(url) : -1;
        h_free_secret(url);
        EXPECT(page == 200, "4. the listener answers the redirect with a sign-in page (%d)", page);
    }
    call_wait(&c, 40 * slow_factor());
    EXPECT_CALL(&c, RS_IDC_OK);
    if (trickling && c.done) {
        double closing_bound = 5 * slow_factor();
        int ended = wait_for(trickle_ended, t, closing_bound);
        pthread_mutex_lock(&ev_lock);
        int closed = t->closed, how = t->how_errno;
        pthread_mutex_unlock(&ev_lock);
        EXPECT(ended && closed,
               "4. within %.0f s after the call returned the library closed the connection that "
               "sends a byte every 500 ms (%ld bytes sent; it is %s)",
               closing_bound, atomic_load(&t->sent),
               closed ? (how == 0 ? "closed: end of file" : strerror(how)) : "still open");
        /* The writer thread is still there when the connection is. */
        long want = baseline + (ended ? 0 : 1);
        if (ended) {
            pthread_join(t->thread, NULL);
            trickling = 0;
        }
        long threads = threads_settle(want, 3 * slow_factor());
        EXPECT(threads >= 0 && threads <= want,
               "4. the thread count comes back to the baseline (%ld%s) once the call returned; "
               "it is %ld",
               baseline, ended ? "" : ", plus the test's writer", threads);
    }
    if (trickling) {
        atomic_store(&t->stop, 1);
        pthread_join(t->thread, NULL);
    }
    if (t != NULL && t->fd >= 0) {
        close(t->fd);
    }
    free(t);
    browser_reset(PLAY_RECORD);
    call_free(&c);
    rs_idc_client_free(h);
}

/* --------------------------------------------------------- 5. fork() */

/* 5. A forked child does not keep the listening socket. */
static void forked_child_keeps_no_listener(void)
{
    const int port = 27945;
    CHECK(port_is_free(port));
    browser_reset(PLAY_RECORD);
    rs_idc_client *h = browser_handle("seams-fork", "rs-idc-seams-fork-1", port, scaled(20));
    rs_idc_client *h2 = browser_handle("seams-fork", "rs-idc-seams-fork-2", port, scaled(20));
    if (h == NULL || h2 == NULL) {
        rs_idc_client_free(h);
        rs_idc_client_free(h2);
        return;
    }
    struct call c;
    call_start(&c, "5. the parent's sign-in during fork()", h);
    pid_t child = -1;
    int pipe_fds[2] = {-1, -1};
    if (wait_opened(&c) && CHECK(pipe(pipe_fds) == 0)) {
        fflush(stdout);
        fflush(stderr);
        child = fork();
        if (child == 0) {
            /* The child only waits, holding whatever it inherited. */
            char byte;
            close(pipe_fds[1]);
            while (read(pipe_fds[0], &byte, 1) < 0 && errno == EINTR) {
            }
            _exit(0);
        }
        CHECK(child > 0);
        close(pipe_fds[0]);
        char *url = browser_latest();
        int page = url != NULL ? sign_in_with(url) : -1;
        h_free_secret(url);
        EXPECT(page == 200, "5. the listener answers the redirect with a sign-in page (%d)", page);
    }
    call_wait(&c, 40 * slow_factor());
    EXPECT_CALL(&c, RS_IDC_OK);
    if (child > 0 && c.done) {
        int status = 0;
        EXPECT(waitpid(child, &status, WNOHANG) == 0, "5. the child is still alive");
        /* Another sign-in (another display name) on the same port, in the parent. */
        browser_reset(PLAY_FOLLOW);
        struct signin_ops before = fake_signin_ops();
        if (expect_browser(h2, RS_IDC_OK, NULL, NULL) != RS_IDC_OK) {
            fprintf(stderr, "   (5: the second sign-in on port %d failed while the forked child "
                            "lives)\n",
                    port);
        }
        EXPECT_SIGNIN_OPS("5. the second sign-in", before, 1, 1, 1, 0);
        EXPECT(waitpid(child, &status, WNOHANG) == 0,
               "5. the child was still alive during the second sign-in");
    }
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    if (pipe_fds[1] >= 0) {
        close(pipe_fds[1]);
    }
    browser_reset(PLAY_RECORD);
    call_free(&c);
    rs_idc_client_free(h);
    rs_idc_client_free(h2);
}

/* ---------------------------------------------------- 6. wrong states */

/* What the log callback keeps: the records' text, and which mention a state. */
static struct {
    pthread_mutex_t lock;
    char text[64 * 1024];
    size_t len;
    int records;
    int state_records;
} sink = {PTHREAD_MUTEX_INITIALIZER, "", 0, 0, 0};

static void log_to_sink(int level, const char *line, void *userdata)
{
    (void)level;
    (void)userdata;
    if (line == NULL) {
        return;
    }
    pthread_mutex_lock(&sink.lock);
    sink.records++;
    sink.state_records += strstr(line, "state") != NULL;
    size_t len = strlen(line);
    if (sink.len + len + 2 < sizeof sink.text) {
        memcpy(sink.text + sink.len, line, len);
        sink.len += len;
        sink.text[sink.len++] = '\n';
        sink.text[sink.len] = '\0';
    }
    pthread_mutex_unlock(&sink.lock);
}

/* 6. A wrong or missing state is logged and reported. */
static void wrong_state_is_reported(void)
{
    const int port = 27946;
    const int timeout_s = slow_factor() > 1 ? 10 : 3;
    CHECK(port_is_free(port));
    browser_reset(PLAY_RECORD);
    rs_idc_client *h = browser_handle("seams-state", NULL, port, timeout_s);
    if (h == NULL) {
        return;
    }
    pthread_mutex_lock(&sink.lock);
    sink.len = 0;
    sink.text[0] = '\0';
    sink.records = 0;
    sink.state_records = 0;
    pthread_mutex_unlock(&sink.lock);
    rs_idc_set_log_level(RS_IDC_LOG_WARN);
    rs_idc_set_log_callback(log_to_sink, NULL);

    char state[256] = "", code[512] = "";
    char *location = malloc(URL_MAX);
    char *forged = malloc(URL_MAX);
    char *stateless = malloc(URL_MAX);
    int forged_status = -1, stateless_status = -1;
    struct signin_ops before = fake_signin_ops();
    struct call c;
    call_start(&c, "6. a sign-in answered with a wrong and a missing state", h);
    if (CHECK(location != NULL && forged != NULL && stateless != NULL) && wait_opened(&c)) {
        char *url = browser_latest();
        if (url != NULL) {
            query_value(url, "state", state, sizeof state);
        }
        EXPECT(state[0] != '\0', "6. the authorize URL has a state");
        if (url != NULL && CHECK(authorize(url, location, URL_MAX) == 0)) {
            query_value(location, "code", code, sizeof code);
            if (CHECK(url_with_param(location, "state", forged_state_value, forged, URL_MAX) ==
                      0)) {
                forged_status = redirect(forged, NULL, 0);
            }
            if (CHECK(url_with_param(location, "state", NULL, stateless, URL_MAX) == 0)) {
                stateless_status = redirect(stateless, NULL, 0);
            }
        }
        h_free_secret(url);
    }
    call_wait(&c, (timeout_s + 20) * slow_factor());
    EXPECT(forged_status == 400, "6. a redirect with a forged state is refused with 400 (%d)",
           forged_status);
    EXPECT(stateless_status == 400, "6. a redirect without a state is refused with 400 (%d)",
           stateless_status);
    EXPECT_CALL(&c, RS_IDC_ETIMEOUT);
    EXPECT_SIGNIN_OPS("6. no code exchanged", before, -1, 1, 0, 0);
    /* Stop the records before they are read. */
    rs_idc_set_log_callback(NULL, NULL);
    rs_idc_set_log_level(RS_IDC_LOG_OFF);

    const char *message = c.error;
    int secret_in_message = (state[0] != '\0' && strstr(message, state) != NULL) ||
                            strstr(message, forged_state_value) != NULL ||
                            (code[0] != '\0' && strstr(message, code) != NULL);
    EXPECT(strstr(message, "state") != NULL,
           "6. the last error says that an answer with a wrong or missing state was refused: "
           "\"%s\" should contain \"state\"",
           secret_in_message ? "(withheld: it holds a state or the code)" : message);
    EXPECT_LACKS(message, state, "the real state");
    EXPECT_LACKS(message, forged_state_value, "the forged state");
    EXPECT_LACKS(message, code, "the authorization code");
    pthread_mutex_lock(&sink.lock);
    EXPECT(sink.state_records > 0,
           "6. a log record (at warn level or above) mentions the refused state (%d records, "
           "%d mention a state)",
           sink.records, sink.state_records);
    const char *log_text = sink.text;
    EXPECT_LACKS(log_text, state, "the real state");
    EXPECT_LACKS(log_text, forged_state_value, "the forged state");
    EXPECT_LACKS(log_text, code, "the authorization code");
    wipe(sink.text, sizeof sink.text);
    sink.len = 0;
    pthread_mutex_unlock(&sink.lock);

    wipe(state, sizeof state);
    wipe(code, sizeof code);
    if (location != NULL) {
        wipe(location, URL_MAX);
    }
    if (forged != NULL) {
        wipe(forged, URL_MAX);
    }
    if (stateless != NULL) {
        wipe(stateless, URL_MAX);
    }
    free(location);
    free(forged);
    free(stateless);
    CHECK(port_is_free(port));
    browser_reset(PLAY_RECORD);
    call_free(&c);
    rs_idc_client_free(h);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    static const struct {
        int number;
        const char *name;
        void (*run)(void);
    } checks[] = {
        {1, "1. forget and clear reach browser tokens", forget_and_clear},
        {2, "2. a joined sign-in keeps its own time bound", joined_keeps_its_bound},
        {4, "4. a slow connection does not outlive the sign-in", slow_connection_is_closed},
        {5, "5. a forked child does not keep the listening socket",
         forked_child_keeps_no_listener},
        {6, "6. a wrong or missing state is logged and reported", wrong_state_is_reported},
        {3, "3. the listener's readers are bounded", idle_connections_are_bounded},
    };
    int wanted[7] = {0};
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        long number = strtol(argv[i], &end, 10);
        if (end == argv[i] || *end != '\0' || number < 1 || number > 6) {
            fprintf(stderr, "usage: %s [CHECK 1-6]...\n", argv[0]);
            return 2;
        }
        wanted[number] = 1;
    }
    need_env("AWS_ENDPOINT_URL");
    need_env("RS_IDC_FAKE_PORT");
    if (atomic_load(&h_failed) > 0) {
        return test_summary();
    }
    signal(SIGPIPE, SIG_IGN);
    events_init();

    double all = now_seconds();
    for (size_t i = 0; i < N_OF(checks); i++) {
        if (argc > 1 && !wanted[checks[i].number]) {
            continue;
        }
        double started = now_seconds();
        printf("== %s\n", checks[i].name);
        fflush(stdout);
        checks[i].run();
        printf("%s: %.2f s\n", checks[i].name, now_seconds() - started);
        fflush(stdout);
    }
    browser_reset(PLAY_RECORD);
    rs_idc_set_open_url_callback(NULL, NULL);
    printf("all: %.2f s\n", now_seconds() - all);
    return test_summary();
}
