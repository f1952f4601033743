#include <stdlib.h>
#include <rs_idc.h>

int main(void)
{
    /* A driver's own switch, such as LogLevel=4 in a connection string. */
    const char *debug = getenv("MY_DRIVER_DEBUG");
    rs_idc_set_log_level(debug != NULL ? RS_IDC_LOG_DEBUG : RS_IDC_LOG_WARN);
    /* ... token calls: records go to stderr or the log callback ... */
    rs_idc_set_log_level(RS_IDC_LOG_OFF);
    return 0;
}
