#include <stdio.h>
#include <rs_idc.h>

int main(void)
{
    const char *ids[] = {"my-cluster"};
    char *token = NULL;
    int status = rs_idc_get_token(ids, 1, &token, NULL);
    if (status != RS_IDC_OK) {
        /* For example: "RS_IDC_ENOTFOUND: ClusterNotFound: ... (request id ...)" */
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
        return 1;
    }
    rs_idc_free_token(token);
    return 0;
}
