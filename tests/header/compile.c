/*
 * compile.c - the public header compiles as strict C89 and as C++98.
 *
 * Built, not run, by `make test-header`: gcc -std=c89 -pedantic -Werror
 * and g++ -std=c++98 -pedantic -Werror (as C++ source). Every function of
 * the header is used once, in the header's order, so a construct either
 * language refuses fails the build, and so does a declaration without a
 * symbol (the programs are linked). The checks on the macros are made by
 * the compiler: an array of negative size fails the build. The header is
 * included with hidden visibility, as code that hides its own symbols
 * does: the functions still link because RS_IDC_EXPORT gives them default
 * visibility.
 */

#if defined(__GNUC__)
#pragma GCC visibility push(hidden)
#endif
#include "rs_idc.h"
#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#define STRING(x) #x
#define EXPANDED(x) STRING(x)

/* Negative statuses are parenthesised: (-1), not -1. */
typedef char einval_is_parenthesised[sizeof(EXPANDED(RS_IDC_EINVAL)) == sizeof("(-1)") ? 1 : -1];
typedef char eagain_is_parenthesised[sizeof(EXPANDED(RS_IDC_EAGAIN)) == sizeof("(-15)") ? 1 : -1];
typedef char statuses_keep_their_values[RS_IDC_EINVAL == -1 && RS_IDC_EAGAIN == -15 ? 1 : -1];

/* The export macro marks the functions with GCC and Clang. */
#if defined(__GNUC__)
typedef char export_is_visibility[sizeof(EXPANDED(RS_IDC_EXPORT)) > 1 ? 1 : -1];
#endif

/* The deprecation macro is ready for a declaration, with its message. */
RS_IDC_DEPRECATED("use rs_idc_get_token() instead")
RS_IDC_EXPORT int rs_idc_compile_test_deprecated(void);

typedef void (*log_fn)(int level, const char *msg, void *userdata);

int main(void)
{
    /* The process-wide call and its companions */
    int (*get_token)(const char **, size_t, char **, int64_t *) = rs_idc_get_token;
    void (*free_token)(char *) = rs_idc_free_token;
    const char *(*last_error)(void) = rs_idc_last_error;
    const char *(*status_str)(int) = rs_idc_status_str;
    const char *(*version)(void) = rs_idc_version;
    /* Client handles */
    int (*client_new)(const rs_idc_option *, size_t, rs_idc_client **) = rs_idc_client_new;
    int (*client_get)(rs_idc_client *, const char **, size_t, char **, int64_t *) =
        rs_idc_client_get_token;
    int (*client_serverless)(rs_idc_client *, const char **, size_t, char **, int64_t *) =
        rs_idc_client_get_serverless_token;
    int (*client_host)(rs_idc_client *, const char *, char **, int64_t *) =
        rs_idc_client_get_token_for_host;
    void (*client_free)(rs_idc_client *) = rs_idc_client_free;
    void (*cache_clear)(void) = rs_idc_cache_clear;
    void (*forget_token)(const char *) = rs_idc_forget_token;
    /* Per-user tokens */
    int (*user_token)(rs_idc_client *, const char *, const char **, size_t, char **,
                      int64_t *) = rs_idc_client_get_user_token;
    int (*user_serverless)(rs_idc_client *, const char *, const char **, size_t, char **,
                           int64_t *) = rs_idc_client_get_user_serverless_token;
    /* Non-blocking requests */
    int (*start_token)(rs_idc_client *, const char **, size_t, rs_idc_request **) =
        rs_idc_client_start_token;
    int (*request_fd)(const rs_idc_request *) = rs_idc_request_fd;
    int (*request_finish)(rs_idc_request *, char **, int64_t *) = rs_idc_request_finish;
    void (*request_free)(rs_idc_request *) = rs_idc_request_free;
    /* Browser sign-in */
    int (*browser_token)(rs_idc_client *, char **, int64_t *) = rs_idc_client_get_browser_token;
    void (*set_open_url)(rs_idc_open_url_fn, void *) = rs_idc_set_open_url_callback;
    /* Logging */
    void (*set_callback)(log_fn, void *) = rs_idc_set_log_callback;
    void (*set_level)(int) = rs_idc_set_log_level;
    rs_idc_option option;
    int numbers[] = {RS_IDC_OK, RS_IDC_EINVAL, RS_IDC_ENOCREDS, RS_IDC_ENOREGION,
                     RS_IDC_EUNSUPPORTED, RS_IDC_ENOTFOUND, RS_IDC_ESTATE, RS_IDC_EDENIED,
                     RS_IDC_ETHROTTLED, RS_IDC_ETIMEOUT, RS_IDC_ENETWORK, RS_IDC_ESERVICE,
                     RS_IDC_EBADRESPONSE, RS_IDC_EINTERNAL, RS_IDC_EIDENTITY, RS_IDC_EAGAIN,
                     RS_IDC_LOG_OFF, RS_IDC_LOG_ERROR,
                     RS_IDC_LOG_WARN, RS_IDC_LOG_INFO, RS_IDC_LOG_DEBUG, RS_IDC_LOG_TRACE,
                     RS_IDC_MAX_IDENTIFIERS, RS_IDC_MAX_CLUSTER_ID_LEN, RS_IDC_MIN_WORKGROUP_LEN,
                     RS_IDC_MAX_WORKGROUP_LEN, RS_IDC_MAX_HOST_LEN, RS_IDC_MAX_OPTIONS,
                     RS_IDC_MAX_OPTION_KEY_LEN, RS_IDC_MAX_OPTION_VALUE_LEN,
                     RS_IDC_MAX_WEB_TOKEN_LEN, RS_IDC_MAX_WORKER_THREADS,
                     RS_IDC_VERSION_MAJOR, RS_IDC_VERSION_MINOR, RS_IDC_VERSION_PATCH};
    option.key = "region";
    option.value = RS_IDC_VERSION;
    return get_token == 0 || free_token == 0 || last_error == 0 || status_str == 0 ||
           version == 0 || client_new == 0 || client_get == 0 || client_serverless == 0 ||
           client_host == 0 || client_free == 0 || cache_clear == 0 || forget_token == 0 ||
           user_token == 0 || user_serverless == 0 || start_token == 0 || request_fd == 0 ||
           request_finish == 0 || request_free == 0 || browser_token == 0 ||
           set_open_url == 0 || set_callback == 0 || set_level == 0 || option.key == 0 ||
           numbers[0] != 0;
}
