#include <stdio.h>
#include <string.h>
#include <rs_idc.h>

int main(void)
{
    const char *ids[] = {"my-cluster"};
    char *token = NULL;
    int64_t expires = 0;
    int status = rs_idc_get_token(ids, 1, &token, &expires);
    if (status != RS_IDC_OK) {
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
        return 1;
    }
    /* Send token as the subject token (token_type=SUBJECT_TOKEN). */
    printf("a token of %lu bytes, valid until %lld\n",
           (unsigned long)strlen(token), (long long)expires);
    rs_idc_free_token(token);
    return 0;
}
