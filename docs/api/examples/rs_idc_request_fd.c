#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <rs_idc.h>

/* Waits at most timeout_ms for a request; 1 when its outcome is ready. */
static int wait_for(const rs_idc_request *request, int timeout_ms)
{
    struct pollfd ready;
    ready.fd = rs_idc_request_fd(request);
    ready.events = POLLIN;
    ready.revents = 0;
    return ready.fd >= 0 && poll(&ready, 1, timeout_ms) == 1;
}

int main(void)
{
    const char *ids[] = {"my-cluster"};
    rs_idc_client *client = NULL;
    rs_idc_request *request = NULL;
    int done = 0;
    if (rs_idc_client_new(NULL, 0, &client) == RS_IDC_OK &&
        rs_idc_client_start_token(client, ids, 1, &request) == RS_IDC_OK)
        done = wait_for(request, 30000);
    rs_idc_request_free(request);
    rs_idc_client_free(client);
    return done ? 0 : 1;
}
