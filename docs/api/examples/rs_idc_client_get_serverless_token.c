#include <stdio.h>
#include <rs_idc.h>

int main(void)
{
    rs_idc_option options[] = {{"region", "us-east-1"}};
    const char *workgroups[] = {"my-workgroup"};
    rs_idc_client *client = NULL;
    char *token = NULL;
    int status = rs_idc_client_new(options, 1, &client);
    if (status == RS_IDC_OK)
        status = rs_idc_client_get_serverless_token(client, workgroups, 1, &token, NULL);
    if (status != RS_IDC_OK)
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
    rs_idc_free_token(token);
    rs_idc_client_free(client);
    return status == RS_IDC_OK ? 0 : 1;
}
