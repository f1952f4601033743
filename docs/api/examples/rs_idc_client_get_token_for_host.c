#include <stdio.h>
#include <rs_idc.h>

int main(int argc, char **argv)
{
    /* The host of the connection string, such as
       my-cluster.abc123.eu-west-1.redshift.amazonaws.com or a custom domain. */
    const char *host =
        argc > 1 ? argv[1] : "my-cluster.abc123.eu-west-1.redshift.amazonaws.com";
    rs_idc_client *client = NULL;
    char *token = NULL;
    int status = rs_idc_client_new(NULL, 0, &client);
    if (status == RS_IDC_OK)
        status = rs_idc_client_get_token_for_host(client, host, &token, NULL);
    if (status != RS_IDC_OK)
        fprintf(stderr, "%s: %s: %s\n", host, rs_idc_status_str(status), rs_idc_last_error());
    rs_idc_free_token(token);
    rs_idc_client_free(client);
    return status == RS_IDC_OK ? 0 : 1;
}
