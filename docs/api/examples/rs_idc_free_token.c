#include <stdio.h>
#include <rs_idc.h>

int main(void)
{
    const char *ids[] = {"my-cluster"};
    char *token = NULL;
    if (rs_idc_get_token(ids, 1, &token, NULL) == RS_IDC_OK) {
        /* ... log in with the token ... */
    }
    rs_idc_free_token(token); /* wipes it; NULL after a failure is fine */
    return 0;
}
