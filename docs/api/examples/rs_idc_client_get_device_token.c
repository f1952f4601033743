#include <stdio.h>
#include <stdlib.h>
#include <rs_idc.h>

int main(void)
{
    const char *home = getenv("HOME");
    char folder[4096];
    snprintf(folder, sizeof folder, "%s/.cache/rs-idc", home != NULL ? home : "/tmp");
    rs_idc_option options[] = {
        {"issuer_url", "https://identitycenter.amazonaws.com/ssoins-1111111111111111"},
        {"region", "us-east-1"},
        {"idp_response_timeout_s", "300"},
        {"token_cache_dir", folder}, /* the next process needs no new sign-in */
    };
    rs_idc_client *client = NULL;
    char *access_token = NULL;
    int status = rs_idc_client_new(options, 4, &client);
    if (status == RS_IDC_OK)
        /* Shows a URL and a code on stderr; the person confirms them in a
           browser on any device. */
        status = rs_idc_client_get_device_token(client, &access_token, NULL);
    if (status != RS_IDC_OK) {
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
    } else {
        /* Log in with token_type=ACCESS_TOKEN. */
        rs_idc_free_token(access_token);
    }
    rs_idc_client_free(client);
    return status == RS_IDC_OK ? 0 : 1;
}
