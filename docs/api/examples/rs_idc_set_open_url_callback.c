#include <stdio.h>
#include <rs_idc.h>

/* A desktop tool shows the URL in its own window instead of running
   xdg-open; userdata is the tool's window. */
static int show_url(const char *url, void *userdata)
{
    FILE *window = (FILE *)userdata;
    fprintf(window, "Sign in at: %s\n", url);
    return 0; /* asked; the sign-in now waits for the browser */
}

int main(void)
{
    rs_idc_set_open_url_callback(show_url, stdout);
    /* ... rs_idc_client_get_browser_token() ... */
    rs_idc_set_open_url_callback(NULL, NULL); /* back to xdg-open */
    return 0;
}
