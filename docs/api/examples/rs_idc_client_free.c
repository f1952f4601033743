#include <rs_idc.h>

int main(void)
{
    rs_idc_option options[] = {
        {"region", "us-east-1"},
        {"access_key_id", "ASIAEXAMPLE"},
        {"secret_access_key", "example-secret"},
        {"session_token", "example-session-token"},
    };
    rs_idc_client *client = NULL;
    if (rs_idc_client_new(options, 4, &client) != RS_IDC_OK)
        return 1;
    /* ... token calls; then, once no thread uses the handle any more: */
    rs_idc_client_free(client); /* wipes the secret key and session token */
    return 0;
}
