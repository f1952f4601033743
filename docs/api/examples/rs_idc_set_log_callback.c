#include <stdio.h>
#include <rs_idc.h>

/* May run on several threads at once: fprintf locks the stream. */
static void log_line(int level, const char *msg, void *userdata)
{
    fprintf((FILE *)userdata, "rs-idc[%d]: %s\n", level, msg);
}

int main(void)
{
    rs_idc_set_log_callback(log_line, stderr);
    rs_idc_set_log_level(RS_IDC_LOG_INFO);
    /* ... token calls ... */
    rs_idc_set_log_callback(NULL, NULL); /* back to stderr */
    return 0;
}
