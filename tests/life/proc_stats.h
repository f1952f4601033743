/*
 * proc_stats.h - what a process holds, read from /proc/self: open file
 * descriptors, threads and resident memory. Used by the process-life
 * tests (tests/life/), the soak run (soak/) and the load benchmark
 * (bench/) to show that repeated work does not make these grow. The
 * descriptor and thread counts are the C test harness's (open_fds(),
 * thread_count()). Linux only.
 */

#ifndef RS_IDC_PROC_STATS_H
#define RS_IDC_PROC_STATS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../c/harness.h"

/* Open file descriptors of this process (the directory's own one not counted); -1 on error. */
static inline long proc_fd_count(void)
{
    return open_fds();
}

/* A number field ("Threads", "VmRSS", ...) of /proc/self/status; -1 when absent. */
static inline long proc_status_field(const char *name)
{
    FILE *status = fopen("/proc/self/status", "r");
    if (status == NULL) {
        return -1;
    }
    char line[256];
    size_t name_len = strlen(name);
    long value = -1;
    while (fgets(line, sizeof line, status) != NULL) {
        if (strncmp(line, name, name_len) == 0 && line[name_len] == ':') {
            value = strtol(line + name_len + 1, NULL, 10);
            break;
        }
    }
    fclose(status);
    return value;
}

/* Threads of this process; -1 on error. */
static inline long proc_thread_count(void)
{
    return thread_count();
}

/* Resident memory of this process in KiB; -1 on error. */
static inline long proc_rss_kib(void)
{
    return proc_status_field("VmRSS");
}

#endif /* RS_IDC_PROC_STATS_H */
