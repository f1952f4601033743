#include <stdio.h>
#include <rs_idc.h>

int main(void)
{
    rs_idc_option options[] = {
        {"region", "eu-west-1"},
        {"timeout_ms", "10000"},
        {"cache", "on"},
    };
    rs_idc_client *client = NULL;
    int status = rs_idc_client_new(options, sizeof options / sizeof options[0], &client);
    if (status != RS_IDC_OK) {
        /* The message names the option at fault, never a secret. */
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
        return 1;
    }
    /* ... rs_idc_client_get_token(client, ...) from any thread ... */
    rs_idc_client_free(client);
    return 0;
}
