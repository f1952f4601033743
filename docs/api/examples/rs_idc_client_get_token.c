#include <stdio.h>
#include <rs_idc.h>

int main(void)
{
    rs_idc_option options[] = {{"region", "us-east-1"}, {"timeout_ms", "5000"}};
    const char *ids[] = {"my-cluster"};
    rs_idc_client *client = NULL;
    char *token = NULL;
    int64_t expires = 0;
    int status = rs_idc_client_new(options, 2, &client);
    if (status == RS_IDC_OK)
        status = rs_idc_client_get_token(client, ids, 1, &token, &expires);
    if (status != RS_IDC_OK) {
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
    } else {
        printf("token valid until %lld\n", (long long)expires);
        rs_idc_free_token(token);
    }
    rs_idc_client_free(client);
    return status == RS_IDC_OK ? 0 : 1;
}
