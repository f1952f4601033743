#include <stdio.h>
#include <rs_idc.h>

/* A terminal tool shows the URL and the code in its own words; userdata is
   where it writes. */
static int show_code(const char *verification_uri_complete, const char *user_code,
                     void *userdata)
{
    FILE *terminal = (FILE *)userdata;
    fprintf(terminal, "Open %s on your phone or laptop and confirm the code %s.\n",
            verification_uri_complete, user_code);
    return 0; /* shown; the sign-in now waits for the person */
}

int main(void)
{
    rs_idc_set_device_code_callback(show_code, stderr);
    /* ... rs_idc_client_get_device_token() ... */
    rs_idc_set_device_code_callback(NULL, NULL); /* back to the default: stderr */
    return 0;
}
