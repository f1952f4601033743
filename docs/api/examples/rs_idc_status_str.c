#include <stdio.h>
#include <rs_idc.h>

int main(void)
{
    int status;
    for (status = RS_IDC_OK; status >= RS_IDC_EAGAIN; status--)
        printf("%4d %s\n", status, rs_idc_status_str(status));
    return 0;
}
