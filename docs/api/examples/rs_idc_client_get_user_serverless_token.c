#include <stdio.h>
#include <rs_idc.h>

int main(int argc, char **argv)
{
    rs_idc_option options[] = {
        {"idc_application_arn",
         "arn:aws:sso::123456789012:application/ssoins-1111111111111111/apl-2222222222222222"},
        {"access_role_arn", "arn:aws:iam::123456789012:role/RedshiftIdentityRole"},
    };
    const char *workgroups[] = {"my-workgroup"};
    rs_idc_client *client = NULL;
    char *token = NULL;
    int status;
    if (argc < 2 || rs_idc_client_new(options, 2, &client) != RS_IDC_OK)
        return 1;
    /* argv[1]: the user's web token, as the identity provider issued it. */
    status = rs_idc_client_get_user_serverless_token(client, argv[1], workgroups, 1,
                                                     &token, NULL);
    if (status != RS_IDC_OK)
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
    rs_idc_free_token(token);
    rs_idc_client_free(client);
    return status == RS_IDC_OK ? 0 : 1;
}
