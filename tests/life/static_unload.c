/*
 * static_unload.c - load and unload a driver plug-in that links
 * librs_idc.a statically (tests/life/static_driver.c), with a fork() in
 * every round, as a driver manager that opens and closes a driver per
 * connection in a program that also starts child processes would.
 *
 *     usage: static_unload /path/to/static_driver.so [ROUNDS]   (default 50)
 *
 * The library in the plug-in starts runtime threads and registers
 * pthread_atfork handlers, all pointing into the plug-in's code for the
 * rest of the process. If dlclose() unmapped the plug-in, a worker that
 * wakes up, or a fork() that runs a handler still registered, would jump
 * into unmapped memory. The plug-in is linked with
 * `pkg-config --static --libs rs_idc`'s flags, which hold -Wl,-z,nodelete,
 * so dlclose() must leave it mapped.
 *
 * Each round dlopen()s the plug-in, calls driver_connect() (a token from
 * the fake, checked and freed inside the plug-in), forks a child that
 * checks one trivial thing and leaves with _exit(), waits for it, and
 * dlclose()s the plug-in. Most rounds ask for the same cluster (a cache
 * hit); every tenth asks for a new one, so the runtime does real work.
 * Checked as well:
 * - the loaded plug-in is marked NODELETE (DF_1_NODELETE in its dynamic
 *   section), and after each dlclose() it is still loaded (dlopen() with
 *   RTLD_NOLOAD finds it) at the same address. glibc also keeps an object
 *   loaded while a live thread has thread-local destructors registered
 *   from it, as the runtime's workers do, so on glibc a plug-in without
 *   the flag stays loaded too and only the NODELETE check fails; a loader
 *   without that rule unmaps it, and its orphaned workers crash the
 *   process while threads and descriptors pile up round after round;
 * - after the last round one more fork() gives a child that exits cleanly;
 * - file descriptors and threads do not pile up: the end may hold at most
 *   4 threads and 16 descriptors more than the start (the runtime's
 *   workers, its event descriptors, pooled connections) and at most 2 of
 *   each more than after round 10.
 *
 * This program is not linked with the library; it only needs libdl. Run
 * it under `rs-idc-fake run --`. It prints "N passed, M failed".
 */

#include <elf.h>
#include <link.h>

#include "life.h"

#define DEFAULT_ROUNDS 50
#define SETTLED_ROUND 10

typedef int (*connect_fn)(const char *cluster);
typedef const char *(*last_error_fn)(void);

/* What dl_iterate_phdr() looks for: the object loaded at `base`. */
struct flags_query {
    uintptr_t base;
    int found;
    int nodelete;
};

static int find_flags(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct flags_query *query = data;
    if ((uintptr_t)info->dlpi_addr != query->base) {
        return 0;
    }
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_DYNAMIC) {
            continue;
        }
        const ElfW(Dyn) *dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
        for (; dyn->d_tag != DT_NULL; dyn++) {
            if (dyn->d_tag == DT_FLAGS_1 && (dyn->d_un.d_val & DF_1_NODELETE) != 0) {
                query->nodelete = 1;
            }
        }
    }
    query->found = 1;
    return 1;
}

/* Where the plug-in is loaded (its link map's l_addr); 0 when unknown. */
static uintptr_t load_base(void *plugin)
{
    struct link_map *map = NULL;
    if (dlinfo(plugin, RTLD_DI_LINKMAP, &map) != 0 || map == NULL) {
        return 0;
    }
    return (uintptr_t)map->l_addr;
}

/*
 * A forked child's checks: it is a child of this process and can say so.
 * Its counts start from zero, so that its verdict is its own and not the
 * parent's failures inherited through fork().
 */
static void trivial_child(void *arg)
{
    pid_t parent = *(const pid_t *)arg;
    atomic_store(&h_passed, 0);
    atomic_store(&h_failed, 0);
    CHECK(getppid() == parent);
}

/* Forks a trivial child, waits for it and checks that it exited cleanly. */
static void fork_and_wait(const char *what)
{
    pid_t parent = getpid();
    struct child c = start_child(trivial_child, &parent);
    EXPECT(finish_child(c, 30.0 * slow_factor(), what), "%s exits cleanly", what);
}

/* One round; returns 0 when the plug-in could not be used at all. */
static int one_round(const char *path, int round, uintptr_t *base)
{
    void *plugin = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!EXPECT(plugin != NULL, "round %d: dlopen(%s): %s", round, path,
                plugin == NULL ? dlerror() : "")) {
        return 0;
    }
    connect_fn driver_connect = NULL;
    last_error_fn driver_last_error = NULL;
    if (lookup(plugin, "driver_connect", &driver_connect, sizeof driver_connect) != 0 ||
        lookup(plugin, "driver_last_error", &driver_last_error, sizeof driver_last_error) != 0) {
        dlclose(plugin);
        return 0;
    }

    uintptr_t here = load_base(plugin);
    if (round == 1) {
        *base = here;
        struct flags_query query = {here, 0, 0};
        dl_iterate_phdr(find_flags, &query);
        EXPECT(here != 0 && query.found, "the loaded plug-in is found by dl_iterate_phdr");
        EXPECT(query.nodelete,
               "the plug-in is marked NODELETE (linked with -Wl,-z,nodelete from "
               "pkg-config --static --libs rs_idc)");
    } else {
        EXPECT(here == *base, "round %d: the plug-in is where it was in round 1", round);
    }

    char fresh[48];
    snprintf(fresh, sizeof fresh, "st-%ld-%d", (long)getpid(), round);
    const char *cluster = round % 10 == 0 ? fresh : "static-cached";
    int status = driver_connect(cluster);
    EXPECT(status == RS_IDC_OK, "round %d (%s): driver_connect gives %d; last error \"%s\"", round,
           cluster, status, status != RS_IDC_OK ? driver_last_error() : "");

    char what[64];
    snprintf(what, sizeof what, "round %d: the forked child", round);
    fork_and_wait(what);

    EXPECT(dlclose(plugin) == 0, "round %d: dlclose: %s", round, dlerror());

    /* Still loaded: dlopen(RTLD_NOLOAD) finds it (and takes a reference, given back). */
    void *again = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    EXPECT(again != NULL, "round %d: the plug-in stays loaded after dlclose", round);
    if (again != NULL) {
        dlclose(again);
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : NULL;
    long rounds = DEFAULT_ROUNDS;
    if (argc > 2) {
        char *end = NULL;
        rounds = strtol(argv[2], &end, 10);
        if (end == argv[2] || *end != '\0' || rounds < 1 || rounds > 100000) {
            rounds = -1;
        }
    }
    if (path == NULL || path[0] == '\0' || argc > 3 || rounds < 1) {
        fprintf(stderr, "usage: %s /path/to/static_driver.so [ROUNDS]\n", argv[0]);
        return 2;
    }
    long requests_before = fake_requests();
    EXPECT(requests_before >= 0, "the fake's stats are readable");

    struct counts start = take_counts("before round 1");
    struct counts settled = start;
    uintptr_t base = 0;
    double started = now_seconds();
    int done = 0;
    for (int round = 1; round <= rounds; round++) {
        if (!one_round(path, round, &base)) {
            break;
        }
        done = round;
        if (round == SETTLED_ROUND) {
            settled = take_counts("after round 10");
        }
    }
    double took = now_seconds() - started;
    char when[48];
    snprintf(when, sizeof when, "after round %d", done);
    struct counts end = take_counts(when);
    printf("%d rounds in %.2f s\n", done, took);
    EXPECT(done == rounds, "%d of %ld rounds ran", done, rounds);

    /* The plug-in is closed now; a fork() must still run cleanly. */
    fork_and_wait("the child forked after the last dlclose");

    EXPECT(end.threads <= start.threads + 4, "threads: %ld at the end, %ld at the start",
           end.threads, start.threads);
    EXPECT(end.fds <= start.fds + 16, "open fds: %ld at the end, %ld at the start", end.fds,
           start.fds);
    if (rounds >= SETTLED_ROUND) {
        EXPECT(end.threads <= settled.threads + 2, "threads: %ld at the end, %ld after round %d",
               end.threads, settled.threads, SETTLED_ROUND);
        EXPECT(end.fds <= settled.fds + 2, "open fds: %ld at the end, %ld after round %d",
               end.fds, settled.fds, SETTLED_ROUND);
    }

    /* Every tenth round asked for a new cluster: the runtime did real work. */
    long made = fake_requests() - requests_before;
    EXPECT(made >= 1 + done / 10, "the fake saw %ld requests, expected at least %d", made,
           1 + done / 10);
    return test_summary();
}
