/*
 * test_browser.c - the browser sign-in (IAM Identity Center authorization
 * code with PKCE): rs_idc_set_open_url_callback() and
 * rs_idc_client_get_browser_token().
 *
 * The test plays the browser. Its open-URL callback returns at once and
 * starts a thread that does what a browser would: GET the authorize URL
 * on the fake (which signs `browser-user` in at once and answers 302),
 * read the Location header, and GET that URL on the library's loopback
 * listener, which answers with a page. Plain sockets, 127.0.0.1 only. The
 * fake names the user of an access token (its
 * control operation access_token_subject) and counts each step (stats).
 *
 *     test_browser         the parts below, a few seconds
 *     test_browser renew   renewal with the refresh token, without a
 *                          browser; run it under `rs-idc-fake run
 *                          --access-token-ttl 4 --` (about 3 s)
 *
 * Parts (each with its own listen_port from 27891 and its own issuer_url,
 * so that none shares another's kept token):
 *  1. a sign-in: browser-user's token, the callback called once with the
 *     authorize URL and the userdata; the next call is kept (no request,
 *     no callback);
 *  2. nobody signs in: RS_IDC_ETIMEOUT within idp_response_timeout_s, and
 *     the port is free afterwards;
 *  3. a redirect with a forged state: a 400 page, the code never
 *     exchanged, then RS_IDC_ETIMEOUT;
 *  4. listen_port in use: RS_IDC_ENETWORK naming listen_port, no browser;
 *  5. a callback that returns non-zero: RS_IDC_EIDENTITY at once;
 *  6. the user denies the sign-in: RS_IDC_EIDENTITY (access_denied);
 *  7. concurrent callers share one sign-in: one callback, one token;
 *  8. NULL client or out, and no issuer_url: RS_IDC_EINVAL;
 *  9. rs_idc_set_open_url_callback(NULL, NULL) restores the default opener
 *     (with PATH naming an empty folder, so that it cannot start).
 *
 * Tokens, codes and the authorize URL are never printed.
 */

#include "harness.h"

#include <pthread.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PLAYS 4
#define MAX_CALLERS 8

/* From the environment of `rs-idc-fake run`. */
static const char *endpoint;

/* ---------------------------------------------------------- the browser */

/* What the browser does with the URL it is asked to open. */
enum play {
    PLAY_FOLLOW, /* signs in: the authorize URL, then the redirect */
    PLAY_IDLE,   /* nothing: nobody is at the browser */
    PLAY_FORGE,  /* follows the redirect with another state */
    PLAY_DENY,   /* the user refuses (the fake's deny=1) */
    PLAY_REFUSE, /* the callback itself fails (returns 7) */
};

/* One browser: what it does, and what it saw. */
struct browser {
    enum play play;
    atomic_int opened;       /* callback calls */
    atomic_int bad_userdata; /* calls with another userdata */
    atomic_int bad_url;      /* calls with a URL that is not the fake's /authorize */
    pthread_mutex_t lock;
    pthread_t threads[MAX_PLAYS];
    int n_threads;
    int authorize_status; /* the fake's answer to the authorize URL */
    int page_status;      /* the listener's answer to the redirect */
    char page[1024];      /* the start of its page */
    char code[512];       /* the code of the redirect, to look for in messages */
};

static void browser_init(struct browser *b, enum play play)
{
    memset(b, 0, sizeof *b);
    b->play = play;
    pthread_mutex_init(&b->lock, NULL);
    rs_idc_set_open_url_callback(NULL, NULL);
}

/*
 * Uninstalls the callback and waits for the browser's threads; then checks
 * that this thread's last error does not hold the code the browser saw,
 * and wipes the code. What else it saw stays readable.
 */
static void browser_finish(struct browser *b)
{
    rs_idc_set_open_url_callback(NULL, NULL);
    EXPECT(atomic_load(&b->bad_userdata) == 0, "the callback gets its userdata back");
    EXPECT(atomic_load(&b->bad_url) == 0,
           "the callback gets the fake's /authorize URL with a state and an S256 challenge");
    pthread_mutex_lock(&b->lock);
    int n = b->n_threads;
    b->n_threads = 0;
    pthread_mutex_unlock(&b->lock);
    for (int i = 0; i < n; i++) {
        pthread_join(b->threads[i], NULL);
    }
    EXPECT_LACKS(rs_idc_last_error(), b->code, "the authorization code");
    wipe(b->code, sizeof b->code);
    pthread_mutex_destroy(&b->lock);
}

/* A browser's work for one URL, on a thread of its own. */
struct play_job {
    struct browser *b;
    char *url;
};

static void *play_thread(void *arg)
{
    struct play_job *job = arg;
    struct browser *b = job->b;
    struct h_http_answer *first = malloc(sizeof *first);
    struct h_http_answer *page = malloc(sizeof *page);
    char *forged = malloc(sizeof first->location);
    if (first != NULL && page != NULL && forged != NULL && loopback_get(job->url, first) == 0) {
        pthread_mutex_lock(&b->lock);
        b->authorize_status = first->status;
        query_value(first->location, "code", b->code, sizeof b->code);
        pthread_mutex_unlock(&b->lock);
        const char *next = first->location;
        if (b->play == PLAY_FORGE) {
            /* The redirect with another value of its state. */
            int made = url_with_param(first->location, "state", "forged-by-someone-else", forged,
                                      sizeof first->location) == 0;
            next = made ? forged : "";
        }
        if (next[0] != '\0' && loopback_get(next, page) == 0) {
            pthread_mutex_lock(&b->lock);
            b->page_status = page->status;
            snprintf(b->page, sizeof b->page, "%s", page->body);
            pthread_mutex_unlock(&b->lock);
        }
    }
    /* The redirect holds the code: wiped. */
    if (first != NULL) {
        memset(first, 0, sizeof *first);
    }
    if (forged != NULL) {
        memset(forged, 0, sizeof first->location);
    }
    free(first);
    free(page);
    free(forged);
    free(job->url);
    free(job);
    return NULL;
}

/* The browser the callback was installed with (see browser_install). */
static struct browser *installed;

/*
 * The open-URL callback: records the call, checks the URL and userdata,
 * and starts the browser's thread (or fails, as `play` says).
 */
static int open_url(const char *url, void *userdata)
{
    struct browser *b = installed;
    atomic_fetch_add(&b->opened, 1);
    if (userdata != b) {
        atomic_fetch_add(&b->bad_userdata, 1);
    }
    char want[256];
    snprintf(want, sizeof want, "%s/authorize?", endpoint);
    if (url == NULL || strncmp(url, want, strlen(want)) != 0 ||
        strstr(url, "code_challenge_method=S256") == NULL || strstr(url, "state=") == NULL) {
        atomic_fetch_add(&b->bad_url, 1);
    }
    if (b->play == PLAY_REFUSE) {
        return 7;
    }
    if (b->play == PLAY_IDLE || url == NULL) {
        return 0;
    }
    struct play_job *job = malloc(sizeof *job);
    size_t len = strlen(url);
    char *copy = malloc(len + sizeof "&deny=1");
    if (job == NULL || copy == NULL) {
        free(job);
        free(copy);
        return -1;
    }
    memcpy(copy, url, len + 1);
    if (b->play == PLAY_DENY) {
        memcpy(copy + len, "&deny=1", sizeof "&deny=1");
    }
    job->b = b;
    job->url = copy;
    pthread_mutex_lock(&b->lock);
    int started = b->n_threads < MAX_PLAYS &&
                  pthread_create(&b->threads[b->n_threads], NULL, play_thread, job) == 0;
    if (started) {
        b->n_threads++;
    }
    pthread_mutex_unlock(&b->lock);
    if (!started) {
        free(copy);
        free(job);
        return -1;
    }
    return 0;
}

/* Installs the playing callback for `b`, with `b` as its userdata. */
static void browser_install(struct browser *b)
{
    installed = b;
    rs_idc_set_open_url_callback(open_url, b);
}

/* ---------------------------------------------------------------- parts */

/* 1. A sign-in, then the kept token. */
static void sign_in_and_keep(void)
{
    struct browser b;
    browser_init(&b, PLAY_FOLLOW);
    browser_install(&b);
    rs_idc_client *h = browser_handle("c-kept", NULL, 27891, 20);
    if (h == NULL) {
        browser_finish(&b);
        return;
    }
    struct signin_ops before = fake_signin_ops();
    char *first = NULL;
    int64_t exp = 0;
    if (expect_browser(h, RS_IDC_OK, &first, &exp) == RS_IDC_OK) {
        EXPECT_ACCESS_SUBJECT(first, "browser-user");
        /* The fake's access tokens live an hour. */
        EXPECT(exp <= (int64_t)time(NULL) + 3600 + 5, "the expiry (%lld) is the token's",
               (long long)exp);
    }
    browser_finish(&b);
    EXPECT(atomic_load(&b.opened) == 1, "the callback ran once (it ran %d times)",
           atomic_load(&b.opened));
    EXPECT(b.authorize_status == 302, "the fake answered the authorize URL with 302 (%d)",
           b.authorize_status);
    EXPECT(b.page_status == 200, "the listener answered the redirect with 200 (%d)",
           b.page_status);
    EXPECT_CONTAINS(b.page, "You may close this window");
    EXPECT_SIGNIN_OPS("1. a sign-in", before, 1, 1, 1, 0);

    /* Kept: no request, no browser. */
    browser_init(&b, PLAY_FOLLOW);
    browser_install(&b);
    before = fake_signin_ops();
    long requests = fake_requests();
    char *again = NULL;
    if (expect_browser(h, RS_IDC_OK, &again, NULL) == RS_IDC_OK) {
        EXPECT(same_token(first, again), "the second call hands out the kept token");
    }
    EXPECT(fake_requests() == requests, "the kept token costs no request");
    EXPECT_SIGNIN_OPS("1. the kept token", before, 0, 0, 0, 0);
    browser_finish(&b);
    EXPECT(atomic_load(&b.opened) == 0, "no browser for the kept token (%d)",
           atomic_load(&b.opened));
    rs_idc_free_token(first);
    rs_idc_free_token(again);
    rs_idc_client_free(h);
}

/* 2. Nobody signs in. */
static void nobody_signs_in(void)
{
    struct browser b;
    browser_init(&b, PLAY_IDLE);
    browser_install(&b);
    rs_idc_client *h = browser_handle("c-idle", NULL, 27892, 2);
    if (h != NULL) {
        struct signin_ops before = fake_signin_ops();
        double started = now_seconds();
        expect_browser(h, RS_IDC_ETIMEOUT, NULL, NULL);
        double took = now_seconds() - started;
        EXPECT(took >= 1.9 && took < 2.0 + 3.0 * slow_factor(),
               "the sign-in gave up after idp_response_timeout_s (2 s), it took %.2f s", took);
        EXPECT_LAST_ERROR("idp_response_timeout_s");
        CHECK(port_is_free(27892));
        EXPECT_SIGNIN_OPS("2. nobody signs in", before, 1, 0, 0, 0);
    }
    browser_finish(&b);
    EXPECT(atomic_load(&b.opened) == 1, "the browser was opened once (%d)",
           atomic_load(&b.opened));
    rs_idc_client_free(h);
}

/* 3. A redirect with another state. */
static void forged_state(void)
{
    struct browser b;
    browser_init(&b, PLAY_FORGE);
    browser_install(&b);
    /* Under valgrind the library is slower to answer the browser. */
    int timeout_s = slow_factor() > 1 ? 5 : 2;
    rs_idc_client *h = browser_handle("c-forged", NULL, 27893, timeout_s);
    if (h != NULL) {
        struct signin_ops before = fake_signin_ops();
        expect_browser(h, RS_IDC_ETIMEOUT, NULL, NULL);
        EXPECT_SIGNIN_OPS("3. a forged state", before, 1, 1, 0, 0);
        browser_finish(&b);
        EXPECT(b.page_status == 400, "a forged state gets a 400 page (%d)", b.page_status);
        EXPECT(strstr(b.page, "You may close this window") == NULL,
               "a forged state gets no sign-in page");
        CHECK(port_is_free(27893));
    } else {
        browser_finish(&b);
    }
    rs_idc_client_free(h);
}

/* 4. listen_port already in use. */
static void busy_port(void)
{
    struct browser b;
    browser_init(&b, PLAY_FOLLOW);
    browser_install(&b);
    int taken = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = loopback_addr(27894);
    int bound = taken >= 0 && bind(taken, (struct sockaddr *)&addr, sizeof addr) == 0 &&
                listen(taken, 1) == 0;
    rs_idc_client *h = browser_handle("c-busy", NULL, 27894, 10);
    if (CHECK(bound) && h != NULL) {
        expect_browser(h, RS_IDC_ENETWORK, NULL, NULL);
        EXPECT_LAST_ERROR("listen_port");
        EXPECT_LAST_ERROR("27894");
    }
    if (taken >= 0) {
        close(taken);
    }
    browser_finish(&b);
    EXPECT(atomic_load(&b.opened) == 0, "no browser without a listener (%d)",
           atomic_load(&b.opened));
    rs_idc_client_free(h);
}

/* 5. The host cannot open a browser. */
static void callback_fails(void)
{
    struct browser b;
    browser_init(&b, PLAY_REFUSE);
    browser_install(&b);
    rs_idc_client *h = browser_handle("c-nodisplay", NULL, 27895, 30);
    if (h != NULL) {
        struct signin_ops before = fake_signin_ops();
        double started = now_seconds();
        expect_browser(h, RS_IDC_EIDENTITY, NULL, NULL);
        double took = now_seconds() - started;
        EXPECT(took < 2.0 * slow_factor(), "a failing callback ends the sign-in at once (%.2f s)",
               took);
        EXPECT_LAST_ERROR("returned 7");
        CHECK(port_is_free(27895));
        EXPECT_SIGNIN_OPS("5. a failing callback", before, 1, 0, 0, 0);
    }
    browser_finish(&b);
    EXPECT(atomic_load(&b.opened) == 1, "the callback ran once (%d)", atomic_load(&b.opened));
    rs_idc_client_free(h);
}

/* 6. The user says no. */
static void user_denies(void)
{
    struct browser b;
    browser_init(&b, PLAY_DENY);
    browser_install(&b);
    rs_idc_client *h = browser_handle("c-deny", NULL, 27896, 20);
    if (h != NULL) {
        struct signin_ops before = fake_signin_ops();
        expect_browser(h, RS_IDC_EIDENTITY, NULL, NULL);
        EXPECT_LAST_ERROR("access_denied");
        EXPECT_SIGNIN_OPS("6. the user denies", before, 1, 1, 0, 0);
        CHECK(port_is_free(27896));
    }
    browser_finish(&b);
    EXPECT(b.page_status == 200, "the listener answered the refusal with a page (%d)",
           b.page_status);
    EXPECT_CONTAINS(b.page, "refused");
    rs_idc_client_free(h);
}

/* 7. Concurrent callers. */
struct caller {
    rs_idc_client *h;
    pthread_t thread;
    int status;
    char *token;
};

static void *call_browser(void *arg)
{
    struct caller *c = arg;
    c->status = expect_browser(c->h, RS_IDC_OK, &c->token, NULL);
    return NULL;
}

static void concurrent_callers(void)
{
    struct browser b;
    browser_init(&b, PLAY_FOLLOW);
    browser_install(&b);
    rs_idc_client *h = browser_handle("c-shared", NULL, 27897, 20);
    if (h != NULL) {
        struct signin_ops before = fake_signin_ops();
        struct caller callers[MAX_CALLERS];
        int n = slow_factor() > 1 ? 4 : MAX_CALLERS;
        int started = 0;
        for (int i = 0; i < n; i++) {
            callers[i] = (struct caller){h, 0, 0, NULL};
            if (pthread_create(&callers[i].thread, NULL, call_browser, &callers[i]) != 0) {
                break;
            }
            started++;
        }
        EXPECT(started == n, "%d callers started (%d)", n, started);
        for (int i = 0; i < started; i++) {
            pthread_join(callers[i].thread, NULL);
        }
        int same = 1;
        for (int i = 0; i < started; i++) {
            same &= callers[i].status == RS_IDC_OK && same_token(callers[0].token, callers[i].token);
        }
        EXPECT(same, "all %d callers got the same token", started);
        if (started > 0 && callers[0].token != NULL) {
            EXPECT_ACCESS_SUBJECT(callers[0].token, "browser-user");
        }
        for (int i = 0; i < started; i++) {
            rs_idc_free_token(callers[i].token);
        }
        EXPECT_SIGNIN_OPS("7. concurrent callers", before, 1, 1, 1, 0);
    }
    browser_finish(&b);
    EXPECT(atomic_load(&b.opened) == 1, "one browser for all callers (%d)",
           atomic_load(&b.opened));
    rs_idc_client_free(h);
}

/* 8. Bad arguments and a handle without issuer_url. */
static void invalid_arguments(void)
{
    struct browser b;
    browser_init(&b, PLAY_FOLLOW);
    browser_install(&b);
    long requests = fake_requests();
    char *out = NULL;
    int64_t exp = H_EXP_SENTINEL;
    EXPECT_STATUS(rs_idc_client_get_browser_token(NULL, &out, &exp), RS_IDC_EINVAL);
    CHECK(out == NULL);
    CHECK(exp == H_EXP_SENTINEL);
    rs_idc_client *h = browser_handle("c-args", NULL, 27898, 10);
    if (h != NULL) {
        EXPECT_STATUS(rs_idc_client_get_browser_token(h, NULL, &exp), RS_IDC_EINVAL);
        CHECK(exp == H_EXP_SENTINEL);
    }
    rs_idc_client_free(h);

    rs_idc_option plain[] = {{"region", "us-east-1"}, {"endpoint_url", endpoint}};
    rs_idc_client *none = NULL;
    if (EXPECT_STATUS(rs_idc_client_new(plain, N_OF(plain), &none), RS_IDC_OK)) {
        expect_browser(none, RS_IDC_EINVAL, NULL, NULL);
        EXPECT_LAST_ERROR("issuer_url");
    }
    rs_idc_client_free(none);
    EXPECT(fake_requests() == requests, "bad arguments make no request");

    /* Options the sign-in refuses. */
    const char *bad[][2] = {
        {"listen_port", "0"},
        {"listen_port", "65536"},
        {"idp_response_timeout_s", "0"},
        {"idp_response_timeout_s", "3601"},
        {"issuer_url", "not a url"},
    };
    for (size_t i = 0; i < N_OF(bad); i++) {
        rs_idc_option options[] = {{"region", "us-east-1"}, {bad[i][0], bad[i][1]}};
        rs_idc_client *refused = NULL;
        int got = rs_idc_client_new(options, N_OF(options), &refused);
        EXPECT(got == RS_IDC_EINVAL, "%s=%s is refused (%s)", bad[i][0], bad[i][1],
               rs_idc_status_str(got));
        EXPECT_LAST_ERROR(bad[i][0]);
        rs_idc_client_free(refused);
    }
    browser_finish(&b);
    EXPECT(atomic_load(&b.opened) == 0, "no browser for bad arguments (%d)",
           atomic_load(&b.opened));
}

/* 9. NULL restores the default opener. */
static void default_opener_restored(void)
{
    struct browser b;
    browser_init(&b, PLAY_FOLLOW);
    browser_install(&b);
    rs_idc_set_open_url_callback(NULL, NULL);
    /* The default runs xdg-open (open on macOS) from PATH: with PATH naming
       an empty folder it cannot start, so no browser opens here. */
    char dir[] = "/tmp/rs-idc-test-browser-XXXXXX";
    const char *path = getenv("PATH");
    char *saved = path != NULL ? strdup(path) : NULL;
    rs_idc_client *h = browser_handle("c-default", NULL, 27899, 10);
    if (CHECK(mkdtemp(dir) != NULL) && h != NULL) {
        setenv("PATH", dir, 1);
        expect_browser(h, RS_IDC_EIDENTITY, NULL, NULL);
#ifdef __APPLE__
        EXPECT_LAST_ERROR(": open");
#else
        EXPECT_LAST_ERROR("xdg-open");
#endif
        if (saved != NULL) {
            setenv("PATH", saved, 1);
        } else {
            unsetenv("PATH");
        }
        rmdir(dir);
        CHECK(port_is_free(27899));
    }
    free(saved);
    rs_idc_client_free(h);
    browser_finish(&b);
    EXPECT(atomic_load(&b.opened) == 0, "the reset callback is not called (%d)",
           atomic_load(&b.opened));
}

/* ------------------------------------------ renew mode (--access-token-ttl 4) */

/*
 * With access tokens of 4 s, the margin is 2 s (half the life): past it,
 * the next call renews the token with the refresh token, without a
 * browser and without registering again.
 */
static void renewal(void)
{
    struct browser b;
    browser_init(&b, PLAY_FOLLOW);
    browser_install(&b);
    rs_idc_client *h = browser_handle("c-renew", NULL, 27900, 20);
    if (h == NULL) {
        browser_finish(&b);
        return;
    }
    struct signin_ops before = fake_signin_ops();
    char *first = NULL;
    int64_t exp = 0;
    int signed_in = expect_browser(h, RS_IDC_OK, &first, &exp) == RS_IDC_OK;
    double returned = now_seconds();
    browser_finish(&b);
    EXPECT_SIGNIN_OPS("renew: the sign-in", before, 1, 1, 1, 0);
    if (!signed_in) {
        rs_idc_client_free(h);
        return;
    }
    if (!EXPECT(exp <= (int64_t)time(NULL) + 5, "the access token lives 4 s (expires in %lld s)",
                (long long)(exp - (int64_t)time(NULL)))) {
        fprintf(stderr, "(this mode needs `rs-idc-fake run --access-token-ttl 4 --`)\n");
    }

    /* Past the margin: the refresh token, no browser. The token was made
       before the call returned, so its margin is at most 2 s after that. */
    browser_init(&b, PLAY_FOLLOW);
    browser_install(&b);
    pause_seconds(returned + 2.3 - now_seconds());
    before = fake_signin_ops();
    char *renewed = NULL;
    if (expect_browser(h, RS_IDC_OK, &renewed, NULL) == RS_IDC_OK) {
        EXPECT(!same_token(first, renewed), "a new token after the margin");
        EXPECT_ACCESS_SUBJECT(renewed, "browser-user");
    }
    EXPECT_SIGNIN_OPS("renew: the renewal", before, 0, 0, 0, 1);
    browser_finish(&b);
    EXPECT(atomic_load(&b.opened) == 0, "no browser for the renewal (%d)",
           atomic_load(&b.opened));
    rs_idc_free_token(first);
    rs_idc_free_token(renewed);
    rs_idc_client_free(h);
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    int renew_mode = argc > 1 && strcmp(argv[1], "renew") == 0;
    if (argc > 2 || (argc == 2 && !renew_mode)) {
        fprintf(stderr, "usage: %s [renew]\n", argv[0]);
        return 2;
    }
    endpoint = need_env("AWS_ENDPOINT_URL");
    need_env("RS_IDC_FAKE_PORT");
    if (atomic_load(&h_failed) > 0) {
        return test_summary();
    }

    double started = now_seconds();
    if (renew_mode) {
        renewal();
        printf("renew mode: %.2f s\n", now_seconds() - started);
        rs_idc_set_open_url_callback(NULL, NULL);
        return test_summary();
    }

    static const struct {
        const char *name;
        void (*run)(void);
    } parts[] = {
        {"1. a sign-in, then the kept token", sign_in_and_keep},
        {"2. nobody signs in", nobody_signs_in},
        {"3. a forged state", forged_state},
        {"4. listen_port in use", busy_port},
        {"5. a failing callback", callback_fails},
        {"6. the user denies", user_denies},
        {"7. concurrent callers", concurrent_callers},
        {"8. bad arguments", invalid_arguments},
        {"9. the default opener restored", default_opener_restored},
    };
    for (size_t i = 0; i < N_OF(parts); i++) {
        started = now_seconds();
        parts[i].run();
        printf("%s: %.2f s\n", parts[i].name, now_seconds() - started);
    }
    rs_idc_set_open_url_callback(NULL, NULL);
    return test_summary();
}
