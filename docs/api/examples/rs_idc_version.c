#include <stdio.h>
#include <string.h>
#include <rs_idc.h>

int main(void)
{
    printf("built with rs-idc %s, running with %s\n", RS_IDC_VERSION, rs_idc_version());
    if (strcmp(RS_IDC_VERSION, rs_idc_version()) != 0)
        fprintf(stderr, "warning: another version of librs_idc was loaded\n");
    return 0;
}
