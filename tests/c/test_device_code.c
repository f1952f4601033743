/*
 * test_device_code.c - the device-code sign-in from C against the fake:
 * rs_idc_client_get_device_token with rs_idc_set_device_code_callback.
 *
 * The test plays the person: its callback records the URL and code and,
 * on a thread of its own, opens the URL (the fake's verification page,
 * which approves the sign-in, or refuses it with &deny=1) once the fake
 * has told the library to keep waiting (authorization_pending). Checked:
 * the token and the calls made for it, the kept token, forgetting it
 * (renewed with the refresh token, no second code), a refused sign-in,
 * nobody confirming within idp_response_timeout_s, a callback that fails,
 * bad arguments; the code never appears in a message.
 *
 * Modes, each run by `make test-c` under a fake with matching options:
 *   (none)   the cases above
 *   slow     (--device-slow-downs 1) the first poll is told to slow down;
 *            the next, at the longer interval, gets the token
 *   expiry   (--device-code-ttl 1) nobody confirms and the code expires
 */

#include "harness.h"

#include <pthread.h>

enum visit { VISIT_NEVER, VISIT_APPROVE, VISIT_DENY };

/* The person at the other device. */
struct person {
    enum visit visit;
    int fail;     /* the callback returns non-zero */
    int shown;    /* how often the callback ran */
    char url[1024];
    char code[64];
    pthread_t visitor;
    int visiting; /* a visitor thread was started */
};

/* Opens the URL once the library was told to wait (one pending poll). */
static void *visit_later(void *arg)
{
    struct person *person = arg;
    char url[1100];
    double bound = now_seconds() + 30 * slow_factor();
    while (fake_stat(FAKE_OP_DEVICE_CODE) < 1 && now_seconds() < bound) {
        pause_seconds(0.01);
    }
    snprintf(url, sizeof url, "%s%s", person->url, person->visit == VISIT_DENY ? "&deny=1" : "");
    struct h_http_answer answer;
    loopback_get(url, &answer);
    return NULL;
}

static int show(const char *url, const char *code, void *userdata)
{
    struct person *person = userdata;
    person->shown++;
    snprintf(person->url, sizeof person->url, "%s", url);
    snprintf(person->code, sizeof person->code, "%s", code);
    if (person->fail) {
        return 1;
    }
    if (person->visit != VISIT_NEVER && !person->visiting) {
        person->visiting = pthread_create(&person->visitor, NULL, visit_later, person) == 0;
    }
    return 0;
}

/* The person's visitor thread, if one was started, has finished. */
static void part_with(struct person *person)
{
    if (person->visiting) {
        pthread_join(person->visitor, NULL);
        person->visiting = 0;
    }
}

/* Calls rs_idc_client_get_device_token and checks the out/exp contract. */
static int device_token(rs_idc_client *client, int want, char **token_out)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    int got = rs_idc_client_get_device_token(client, &out, &exp);
    EXPECT_STATUS(got, want);
    *token_out = NULL;
    if (got == RS_IDC_OK) {
        EXPECT(out != NULL && out != sentinel && out[0] != '\0', "a token is handed out");
        EXPECT(exp > (int64_t)time(NULL), "its expiry lies ahead");
        *token_out = out == sentinel ? NULL : out;
    } else {
        EXPECT(out == NULL, "a failed sign-in sets *out to NULL");
        EXPECT(exp == H_EXP_SENTINEL, "a failed sign-in leaves *exp alone");
    }
    return got;
}

static void signs_in_keeps_and_renews(void)
{
    struct person person = {.visit = VISIT_APPROVE};
    rs_idc_set_device_code_callback(show, &person);
    rs_idc_client *client = browser_handle("device-c", NULL, 27960, 20);
    char *token = NULL, *again = NULL;
    if (device_token(client, RS_IDC_OK, &token) == RS_IDC_OK) {
        EXPECT(person.shown == 1, "the code was shown once (%d)", person.shown);
        EXPECT(strncmp(person.url, "http://127.0.0.1:", 17) == 0, "a verification URL");
        EXPECT(person.code[0] != '\0' && strstr(person.url, person.code) != NULL,
               "the URL carries the code");
        EXPECT(fake_stat(FAKE_OP_REGISTER_CLIENT) == 1, "one client registered");
        EXPECT(fake_stat(FAKE_OP_START_DEVICE) == 1, "one device authorization");
        EXPECT(fake_stat(FAKE_OP_DEVICE_CODE) == 2,
               "one poll told to wait, one with the token (%ld)",
               fake_stat(FAKE_OP_DEVICE_CODE));
        EXPECT_LACKS(rs_idc_last_error(), person.code, "the last error");
        /* Kept: no request, no second code. */
        long requests = fake_requests();
        if (device_token(client, RS_IDC_OK, &again) == RS_IDC_OK) {
            EXPECT(same_token(token, again), "the kept token");
        }
        EXPECT(fake_requests() == requests, "no request for a kept token");
        rs_idc_free_token(again);
        /* Forgotten: renewed with the refresh token, no second code. */
        rs_idc_forget_token(token);
        if (device_token(client, RS_IDC_OK, &again) == RS_IDC_OK) {
            EXPECT(!same_token(token, again), "a new token after forgetting");
        }
        EXPECT(fake_stat(FAKE_OP_REFRESH_TOKEN) == 1, "renewed with the refresh token");
        EXPECT(person.shown == 1, "no second code (%d)", person.shown);
        rs_idc_free_token(again);
    }
    part_with(&person);
    rs_idc_free_token(token);
    rs_idc_client_free(client);
}

static void refused_idle_and_failing(void)
{
    char *token = NULL;
    /* Refused at the verification page. */
    struct person denied = {.visit = VISIT_DENY};
    rs_idc_set_device_code_callback(show, &denied);
    rs_idc_client *client = browser_handle("device-denied", NULL, 27961, 20);
    device_token(client, RS_IDC_EIDENTITY, &token);
    EXPECT_LAST_ERROR("refused");
    EXPECT_LACKS(rs_idc_last_error(), denied.code, "the last error");
    part_with(&denied);
    rs_idc_client_free(client);

    /* Nobody confirms within idp_response_timeout_s. */
    struct person idle = {.visit = VISIT_NEVER};
    rs_idc_set_device_code_callback(show, &idle);
    client = browser_handle("device-idle", NULL, 27962, 2);
    double started = now_seconds();
    device_token(client, RS_IDC_ETIMEOUT, &token);
    EXPECT(now_seconds() - started < 2 + 5 * slow_factor(), "bounded by its 2 s");
    EXPECT_LAST_ERROR("idp_response_timeout_s");
    EXPECT_LACKS(rs_idc_last_error(), idle.code, "the last error");
    rs_idc_client_free(client);

    /* A callback that fails ends the sign-in at once. */
    struct person failing = {.fail = 1};
    rs_idc_set_device_code_callback(show, &failing);
    client = browser_handle("device-no-display", NULL, 27963, 20);
    device_token(client, RS_IDC_EIDENTITY, &token);
    EXPECT_LAST_ERROR("could not be shown");
    EXPECT(failing.shown == 1, "the callback ran once");
    rs_idc_client_free(client);
    rs_idc_set_device_code_callback(NULL, NULL);
}

static void bad_arguments(void)
{
    char *out = NULL;
    int64_t exp = 0;
    EXPECT_STATUS(rs_idc_client_get_device_token(NULL, &out, &exp), RS_IDC_EINVAL);
    rs_idc_client *plain = NULL;
    EXPECT_STATUS(rs_idc_client_new(NULL, 0, &plain), RS_IDC_OK);
    EXPECT_STATUS(rs_idc_client_get_device_token(plain, NULL, &exp), RS_IDC_EINVAL);
    EXPECT_STATUS(rs_idc_client_get_device_token(plain, &out, &exp), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("issuer_url");
    rs_idc_client_free(plain);
}

/* --device-slow-downs 1: told to slow down once, then the token. */
static void slows_down(void)
{
    struct person person = {.visit = VISIT_APPROVE};
    rs_idc_set_device_code_callback(show, &person);
    rs_idc_client *client = browser_handle("device-slow", NULL, 27964, 30);
    char *token = NULL;
    device_token(client, RS_IDC_OK, &token);
    EXPECT(fake_stat(FAKE_OP_DEVICE_CODE) == 2,
           "a poll told to slow down, then one at the longer interval (%ld)",
           fake_stat(FAKE_OP_DEVICE_CODE));
    part_with(&person);
    rs_idc_free_token(token);
    rs_idc_client_free(client);
    rs_idc_set_device_code_callback(NULL, NULL);
}

/* --device-code-ttl 1: nobody confirms before the code expires. */
static void expires(void)
{
    struct person person = {.visit = VISIT_NEVER};
    rs_idc_set_device_code_callback(show, &person);
    rs_idc_client *client = browser_handle("device-expiry", NULL, 27965, 30);
    char *token = NULL;
    device_token(client, RS_IDC_EIDENTITY, &token);
    EXPECT_LAST_ERROR("expired");
    rs_idc_client_free(client);
    rs_idc_set_device_code_callback(NULL, NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "slow") == 0) {
        slows_down();
    } else if (strcmp(mode, "expiry") == 0) {
        expires();
    } else {
        signs_in_keeps_and_renews();
        refused_idle_and_failing();
        bad_arguments();
    }
    return test_summary();
}
