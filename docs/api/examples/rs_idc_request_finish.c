#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <rs_idc.h>

/* Called by the event loop whenever the request's descriptor is readable;
   0 while it is still running, 1 once it is done. */
static int on_readable(rs_idc_request *request)
{
    char *token = NULL;
    int64_t expires = 0;
    int status = rs_idc_request_finish(request, &token, &expires);
    if (status == RS_IDC_EAGAIN)
        return 0;
    if (status == RS_IDC_OK) {
        printf("token valid until %lld\n", (long long)expires);
        rs_idc_free_token(token);
    } else {
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
    }
    return 1;
}

int main(void)
{
    const char *ids[] = {"my-cluster"};
    rs_idc_client *client = NULL;
    rs_idc_request *request = NULL;
    struct pollfd ready;
    if (rs_idc_client_new(NULL, 0, &client) == RS_IDC_OK &&
        rs_idc_client_start_token(client, ids, 1, &request) == RS_IDC_OK) {
        ready.fd = rs_idc_request_fd(request);
        ready.events = POLLIN;
        do {
            poll(&ready, 1, -1);
        } while (!on_readable(request));
    }
    rs_idc_request_free(request);
    rs_idc_client_free(client);
    return 0;
}
