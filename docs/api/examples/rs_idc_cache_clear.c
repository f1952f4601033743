#include <rs_idc.h>

/* A driver's "credentials changed" hook: the next call asks the services
   again instead of serving what the process kept. */
static void on_credentials_rotated(void)
{
    rs_idc_cache_clear();
}

int main(void)
{
    on_credentials_rotated();
    return 0;
}
