/*
 * compile.c - the public header compiles as strict C89 and as C++98.
 *
 * Built, not run, by `make test-header`: gcc -std=c89 -pedantic -Werror
 * and g++ -std=c++98 -pedantic -Werror (as C++ source). Every declaration
 * of the header is used once, so a construct either language refuses
 * fails the build.
 */

#include "rs_idc.h"

typedef void (*log_fn)(int level, const char *msg, void *userdata);

int main(void)
{
    int (*get_token)(const char **, size_t, char **, int64_t *) = rs_idc_get_token;
    int (*client_new)(const rs_idc_option *, size_t, rs_idc_client **) = rs_idc_client_new;
    int (*client_get)(rs_idc_client *, const char **, size_t, char **, int64_t *) =
        rs_idc_client_get_token;
    int (*client_serverless)(rs_idc_client *, const char **, size_t, char **, int64_t *) =
        rs_idc_client_get_serverless_token;
    int (*client_host)(rs_idc_client *, const char *, char **, int64_t *) =
        rs_idc_client_get_token_for_host;
    void (*client_free)(rs_idc_client *) = rs_idc_client_free;
    void (*free_token)(char *) = rs_idc_free_token;
    void (*cache_clear)(void) = rs_idc_cache_clear;
    void (*set_callback)(log_fn, void *) = rs_idc_set_log_callback;
    void (*set_level)(int) = rs_idc_set_log_level;
    const char *(*status_str)(int) = rs_idc_status_str;
    const char *(*last_error)(void) = rs_idc_last_error;
    const char *(*version)(void) = rs_idc_version;
    rs_idc_option option;
    int numbers[] = {RS_IDC_OK, RS_IDC_EINVAL, RS_IDC_ENOCREDS, RS_IDC_ENOREGION,
                     RS_IDC_EUNSUPPORTED, RS_IDC_ENOTFOUND, RS_IDC_ESTATE, RS_IDC_EDENIED,
                     RS_IDC_ETHROTTLED, RS_IDC_ETIMEOUT, RS_IDC_ENETWORK, RS_IDC_ESERVICE,
                     RS_IDC_EBADRESPONSE, RS_IDC_EINTERNAL, RS_IDC_LOG_OFF, RS_IDC_LOG_ERROR,
                     RS_IDC_LOG_WARN, RS_IDC_LOG_INFO, RS_IDC_LOG_DEBUG, RS_IDC_LOG_TRACE,
                     RS_IDC_MAX_IDENTIFIERS, RS_IDC_MAX_CLUSTER_ID_LEN, RS_IDC_MIN_WORKGROUP_LEN,
                     RS_IDC_MAX_WORKGROUP_LEN, RS_IDC_MAX_HOST_LEN, RS_IDC_MAX_OPTIONS,
                     RS_IDC_MAX_OPTION_KEY_LEN, RS_IDC_MAX_OPTION_VALUE_LEN,
                     RS_IDC_VERSION_MAJOR, RS_IDC_VERSION_MINOR, RS_IDC_VERSION_PATCH};
    option.key = "region";
    option.value = RS_IDC_VERSION;
    return get_token == 0 || client_new == 0 || client_get == 0 || client_serverless == 0 ||
           client_host == 0 || client_free == 0 || free_token == 0 || cache_clear == 0 ||
           set_callback == 0 || set_level == 0 || status_str == 0 || last_error == 0 ||
           version == 0 || option.key == 0 || numbers[0] != 0;
}
