#include <rs_idc.h>

int main(void)
{
    const char *ids[] = {"my-cluster"};
    rs_idc_client *client = NULL;
    rs_idc_request *request = NULL;
    if (rs_idc_client_new(NULL, 0, &client) == RS_IDC_OK &&
        rs_idc_client_start_token(client, ids, 1, &request) == RS_IDC_OK) {
        /* The connection attempt was cancelled: nobody waits for the token
           any more. The call may still finish and fill the cache. */
        rs_idc_request_free(request);
    }
    rs_idc_client_free(client);
    return 0;
}
