#include <stdio.h>
#include <rs_idc.h>

/* Stands for the driver's login with the token; 0 when it is refused. */
static int login(const char *token)
{
    return token != NULL;
}

int main(void)
{
    const char *ids[] = {"my-cluster"};
    char *token = NULL;
    if (rs_idc_get_token(ids, 1, &token, NULL) != RS_IDC_OK)
        return 1;
    if (!login(token)) {
        /* Refused: drop it from the cache, get a new one, retry once. */
        rs_idc_forget_token(token);
        rs_idc_free_token(token);
        token = NULL;
        if (rs_idc_get_token(ids, 1, &token, NULL) != RS_IDC_OK || !login(token)) {
            fprintf(stderr, "login refused: %s\n", rs_idc_last_error());
            rs_idc_free_token(token);
            return 1;
        }
    }
    rs_idc_free_token(token);
    return 0;
}
