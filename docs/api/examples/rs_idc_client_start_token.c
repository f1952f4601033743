#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <rs_idc.h>

int main(void)
{
    const char *ids[] = {"my-cluster"};
    rs_idc_client *client = NULL;
    rs_idc_request *request = NULL;
    struct pollfd ready;
    char *token = NULL;
    int status = rs_idc_client_new(NULL, 0, &client);
    if (status == RS_IDC_OK)
        status = rs_idc_client_start_token(client, ids, 1, &request);
    if (status != RS_IDC_OK) { /* bad input: no request, no traffic */
        fprintf(stderr, "%s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
        rs_idc_client_free(client);
        return 1;
    }
    /* An event loop would add the descriptor to its own set. */
    ready.fd = rs_idc_request_fd(request);
    ready.events = POLLIN;
    while (poll(&ready, 1, -1) < 0) {
    }
    status = rs_idc_request_finish(request, &token, NULL);
    rs_idc_request_free(request);
    rs_idc_free_token(token);
    rs_idc_client_free(client);
    return status == RS_IDC_OK ? 0 : 1;
}
