/*
 * calls.c - the part of the C test harness that calls the library: token
 * calls checked with their out/exp contract, and the handles the tests
 * make. See harness.h.
 */

#include "harness.h"

int h_expect_status(const char *file, int line, int got, int want)
{
    return h_record(got == want, file, line, "status %s (%d), expected %s (%d); last error: \"%s\"",
                    rs_idc_status_str(got), got, rs_idc_status_str(want), want,
                    rs_idc_last_error());
}

int h_expect_outcome(const char *file, int line, const char *what, int got, int want,
                     const char *error, char *out, const char *sentinel, int64_t exp,
                     char **token_out, int64_t *exp_out)
{
    int ok = h_record(got == want, file, line,
                      "%s: status %s (%d), expected %s (%d); last error: \"%s\"", what,
                      rs_idc_status_str(got), got, rs_idc_status_str(want), want, error);
    int has_token = out != NULL && out != sentinel;
    if (got == RS_IDC_OK) {
        time_t now = time(NULL);
        ok &= h_record(has_token && out[0] != '\0', file, line,
                       "%s: a successful call hands out a non-empty token", what);
        ok &= h_record(exp > (int64_t)now, file, line,
                       "%s: the expiry (%lld) lies in the future (now %lld)", what,
                       (long long)exp, (long long)now);
        if (exp_out != NULL) {
            *exp_out = exp;
        }
    } else {
        ok &= h_record(out == NULL, file, line, "%s: a failed call sets *out to NULL", what);
        ok &= h_record(exp == H_EXP_SENTINEL, file, line, "%s: a failed call leaves *exp alone",
                       what);
        ok &= h_record(error[0] != '\0', file, line, "%s: a failed call leaves a last error",
                       what);
    }
    if (token_out != NULL) {
        *token_out = got == RS_IDC_OK && has_token ? out : NULL;
    }
    if (has_token && (token_out == NULL || got != RS_IDC_OK)) {
        rs_idc_free_token(out);
    }
    return ok;
}

int h_expect_status_exp(const char *file, int line, const char **ids, size_t n, int want,
                        int64_t *exp_out)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    int got = rs_idc_get_token(ids, n, &out, &exp);
    h_expect_outcome(file, line, "rs_idc_get_token", got, want, rs_idc_last_error(), out,
                     sentinel, exp, NULL, exp_out);
    return got;
}

const char *h_call_name(enum h_client_call call)
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

int h_expect_client(const char *file, int line, rs_idc_client *client, enum h_client_call call,
                    const char **names, size_t n, int want, char **token_out, int64_t *exp_out)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    const char *first = names != NULL ? names[0] : NULL;
    int got;
    switch (call) {
    case H_CLUSTER:
        got = rs_idc_client_get_token(client, names, n, &out, &exp);
        break;
    case H_SERVERLESS:
        got = rs_idc_client_get_serverless_token(client, names, n, &out, &exp);
        break;
    default:
        got = rs_idc_client_get_token_for_host(client, first, &out, &exp);
        break;
    }
    char what[256];
    snprintf(what, sizeof what, "%s(%s%s)", h_call_name(call), first != NULL ? first : "NULL",
             call != H_HOST && n > 1 ? ", ..." : "");
    h_expect_outcome(file, line, what, got, want, rs_idc_last_error(), out, sentinel, exp,
                     token_out, exp_out);
    return got;
}

int h_expect_browser(const char *file, int line, rs_idc_client *client, int want,
                     char **token_out, int64_t *exp_out)
{
    static char sentinel[] = "sentinel";
    char *out = sentinel;
    int64_t exp = H_EXP_SENTINEL;
    int got = rs_idc_client_get_browser_token(client, &out, &exp);
    h_expect_outcome(file, line, "rs_idc_client_get_browser_token", got, want,
                     rs_idc_last_error(), out, sentinel, exp, token_out, exp_out);
    return got;
}

/*
 * rs_idc_client_new() with up to 8 `options` followed by up to 16 `extra`
 * options, which must give `want`. The handle, or NULL unless the status
 * is RS_IDC_OK; a refused handle must leave *out NULL and a last error
 * without the secret_access_key option's value.
 */
static rs_idc_client *new_client(const char *file, int line, const rs_idc_option *options,
                                 size_t n_options, const rs_idc_option *extra, size_t n_extra,
                                 int want)
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

rs_idc_client *h_test_handle(const char *file, int line, const char *prefix,
                             const char *timeout_ms, const rs_idc_option *extra, size_t n_extra)
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
    return new_client(file, line, options, sizeof options / sizeof options[0], extra, n_extra,
                      RS_IDC_OK);
}

rs_idc_client *h_fake_handle(const char *file, int line, const char *timeout_ms,
                             const rs_idc_option *extra, size_t n_extra, int want)
{
    rs_idc_option options[] = {
        {"region", "us-east-1"},
        {"endpoint_url", h_env("AWS_ENDPOINT_URL")},
        {"timeout_ms", timeout_ms},
        {"max_attempts", "2"},
    };
    return new_client(file, line, options, sizeof options / sizeof options[0], extra, n_extra,
                      want);
}

rs_idc_client *h_user_handle(const char *file, int line, const char *timeout_ms, int with_keys,
                             const char *app, const char *role, const rs_idc_option *extra,
                             size_t n_extra, int want)
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

rs_idc_client *h_browser_handle(const char *file, int line, const char *name,
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
