#include <stdio.h>
#include <rs_idc.h>

/* One handle for the whole server; each request brings its user's web
   token (a JWT from the identity provider). */
static int user_token(rs_idc_client *client, const char *web_token, char **out)
{
    const char *ids[] = {"my-cluster"};
    int status = rs_idc_client_get_user_token(client, web_token, ids, 1, out, NULL);
    if (status != RS_IDC_OK)
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
    return status;
}

int main(int argc, char **argv)
{
    rs_idc_option options[] = {
        {"idc_application_arn",
         "arn:aws:sso::123456789012:application/ssoins-1111111111111111/apl-2222222222222222"},
        {"access_role_arn", "arn:aws:iam::123456789012:role/RedshiftIdentityRole"},
    };
    rs_idc_client *client = NULL;
    char *token = NULL;
    if (argc < 2 || rs_idc_client_new(options, 2, &client) != RS_IDC_OK)
        return 1;
    if (user_token(client, argv[1], &token) == RS_IDC_OK)
        rs_idc_free_token(token); /* after the user's login */
    rs_idc_client_free(client);
    return 0;
}
