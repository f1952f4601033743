/*
 * life.h - what the process-life tests share: the C test harness, the
 * /proc/self counts, and looking up a symbol of a loaded object.
 */

#ifndef RS_IDC_LIFE_H
#define RS_IDC_LIFE_H

#include <dlfcn.h>

#include "../c/harness.h"
#include "proc_stats.h"

/* dlsym() into a function pointer of `size` bytes (POSIX: same representation). */
static inline int lookup(void *object, const char *name, void *fn, size_t size)
{
    dlerror();
    void *symbol = dlsym(object, name);
    const char *error = dlerror();
    if (!EXPECT(error == NULL && symbol != NULL && size == sizeof symbol, "dlsym(%s): %s", name,
                error != NULL ? error : "NULL")) {
        return -1;
    }
    memcpy(fn, &symbol, size);
    return 0;
}

struct counts {
    long fds;
    long threads;
};

static inline struct counts take_counts(const char *when)
{
    struct counts c = {proc_fd_count(), proc_thread_count()};
    printf("%-16s open fds %ld, threads %ld\n", when, c.fds, c.threads);
    EXPECT(c.fds >= 0 && c.threads > 0, "/proc/self is readable");
    return c;
}

#endif
