/*
 * static_driver.c - a database driver plug-in in miniature: a shared
 * object that links librs_idc.a statically, as a driver that must not
 * depend on librs_idc.so would. tests/life/static_unload.c loads and
 * unloads it.
 *
 * It is linked with `pkg-config --static --libs rs_idc`'s flags, which
 * hold -Wl,-z,nodelete: dlclose() then leaves it mapped. Without that
 * flag dlclose() could unmap the library's code while its runtime threads
 * and pthread_atfork handlers still point into it.
 */

#include <stdint.h>
#include <time.h>

#include "rs_idc.h"

/* The status of one token call for `cluster`; the token is checked and freed. */
int driver_connect(const char *cluster);
/* The calling thread's last error from the library. */
const char *driver_last_error(void);

int driver_connect(const char *cluster)
{
    const char *ids[] = {cluster};
    char *token = NULL;
    int64_t exp = 0;
    int status = rs_idc_get_token(ids, 1, &token, &exp);
    if (status == RS_IDC_OK && (token == NULL || token[0] == '\0' || exp <= (int64_t)time(NULL))) {
        status = RS_IDC_EBADRESPONSE;
    }
    rs_idc_free_token(token);
    return status;
}

const char *driver_last_error(void)
{
    return rs_idc_last_error();
}
