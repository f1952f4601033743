/*
 * harness.c - the part of the C test harness that calls nothing of the
 * library: checks and their counters, clocks, forked children,
 * descriptors and threads, secrets, files, the environment and URLs.
 * See harness.h.
 */

#include "harness.h"

#include <stdarg.h>

atomic_int h_passed;
atomic_int h_failed;

int h_record(int ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        atomic_fetch_add(&h_passed, 1);
        return 1;
    }
    atomic_fetch_add(&h_failed, 1);
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* One fprintf per failure, so lines from several threads do not mix. */
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, text);
    return 0;
}

int h_expect_contains(const char *file, int line, const char *what, const char *text,
                      const char *part)
{
    int ok = text != NULL && part != NULL && strstr(text, part) != NULL;
    return h_record(ok, file, line, "%s \"%s\" should contain \"%s\"", what,
                    text ? text : "(null)", part ? part : "(null)");
}

int h_expect_lacks(const char *file, int line, const char *text_what, const char *text,
                   const char *secret, const char *what)
{
    int clean = text == NULL || secret == NULL || secret[0] == '\0' || strstr(text, secret) == NULL;
    return h_record(clean, file, line, "%s must not hold %s", text_what, what);
}

/* 0 when the checks counted so far all passed and there was at least one, else 1. */
static int verdict(void)
{
    return atomic_load(&h_failed) == 0 && atomic_load(&h_passed) > 0 ? 0 : 1;
}

int test_summary(void)
{
    printf("%d passed, %d failed\n", atomic_load(&h_passed), atomic_load(&h_failed));
    fflush(stdout);
    return verdict();
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double slow_factor(void)
{
    const char *slow = getenv("RS_IDC_TEST_SLOW");
    return slow != NULL && slow[0] != '\0' ? 10.0 : 1.0;
}

void pause_seconds(double seconds)
{
    if (seconds <= 0) {
        return;
    }
    struct timespec left;
    left.tv_sec = (time_t)seconds;
    left.tv_nsec = (long)((seconds - (double)left.tv_sec) * 1e9);
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

int wait_child(pid_t pid, double seconds)
{
    double deadline = now_seconds() + seconds;
    for (;;) {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) {
            if (WIFEXITED(status)) {
                return WEXITSTATUS(status);
            }
            fprintf(stderr, "child %ld ended by signal %d\n", (long)pid,
                    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
            return -1;
        }
        if (done < 0 && errno != EINTR) {
            return -1;
        }
        if (now_seconds() > deadline) {
            fprintf(stderr, "child %ld overran %.1f s: killed\n", (long)pid, seconds);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        pause_seconds(0.01);
    }
}

int under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "/vgpreload_") != NULL;
}

/* The status valgrind exits with when it found errors (VALGRIND in the Makefile). */
#define H_VALGRIND_ERROR_EXIT 99

struct child start_child(void (*body)(void *), void *arg)
{
    struct child c = {-1, -1};
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "pipe: %s\n", strerror(errno));
        return c;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        /* The verdict is the child's own: checks the parent ran before fork() do not count. */
        atomic_store(&h_passed, 0);
        atomic_store(&h_failed, 0);
        body(arg);
        char said = verdict() == 0 ? 'P' : 'F';
        ssize_t written = write(fds[1], &said, 1);
        close(fds[1]);
        _exit(written == 1 ? verdict() : 1);
    }
    close(fds[1]);
    if (pid < 0) {
        fprintf(stderr, "fork: %s\n", strerror(errno));
        close(fds[0]);
        return c;
    }
    c.pid = pid;
    c.verdict_fd = fds[0];
    return c;
}

int finish_child(struct child c, double seconds, const char *what)
{
    if (c.pid <= 0) {
        fprintf(stderr, "%s: the child did not start\n", what);
        return 0;
    }
    int status = wait_child(c.pid, seconds);
    char said = '?';
    if (read(c.verdict_fd, &said, 1) != 1) {
        said = '?';
    }
    close(c.verdict_fd);
    int exited_ok = status == 0 || (status == H_VALGRIND_ERROR_EXIT && under_valgrind());
    if (said != 'P' || !exited_ok) {
        fprintf(stderr, "%s: verdict %c, exit status %d\n", what, said, status);
        return 0;
    }
    return 1;
}

int fd_readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    int ready;
    do {
        ready = poll(&p, 1, ms);
    } while (ready < 0 && errno == EINTR);
    return ready == 1 && (p.revents & POLLIN) != 0;
}

int wait_readable(int fd, double seconds, long *ticks)
{
    double deadline = now_seconds() + seconds;
    long idle = 0;
    int ready = 0;
    while (!(ready = fd_readable(fd, 20)) && now_seconds() < deadline) {
        idle++;
    }
    if (ticks != NULL) {
        *ticks = idle;
    }
    return ready;
}

int wait_all_readable(struct pollfd *fds, int n, double seconds)
{
    double deadline = now_seconds() + seconds;
    int left = n;
    while (left > 0 && now_seconds() < deadline) {
        for (int i = 0; i < n; i++) {
            fds[i].revents = 0;
        }
        int ready = poll(fds, (nfds_t)n, 50);
        if (ready < 0 && errno != EINTR) {
            break;
        }
        for (int i = 0; i < n; i++) {
            if (fds[i].fd >= 0 && (fds[i].revents & POLLIN) != 0) {
                fds[i].fd = -1; /* poll() skips negative descriptors */
                left--;
            }
        }
    }
    return left;
}

/*
 * The entries of directory `path` that do not start with '.', except
 * descriptor number of the directory itself when `skip_own`, and only
 * those whose link target begins with `kind` when it is not NULL. -1 on
 * error.
 */
static long count_entries(const char *path, int skip_own, const char *kind)
{
    DIR *dir = opendir(path);
    if (dir == NULL) {
        return -1;
    }
    int own = skip_own ? dirfd(dir) : -1;
    long count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.' || atoi(entry->d_name) == own) {
            continue;
        }
        if (kind == NULL) {
            count++;
            continue;
        }
        char link[300], target[256];
        snprintf(link, sizeof link, "%s/%s", path, entry->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len < 0) {
            continue; /* closed meanwhile */
        }
        target[len] = '\0';
        count += strncmp(target, kind, strlen(kind)) == 0;
    }
    closedir(dir);
    return count;
}

long open_fds_of(const char *kind)
{
    return count_entries("/proc/self/fd", 1, kind);
}

long open_fds(void)
{
    return open_fds_of(NULL);
}

long thread_count(void)
{
    return count_entries("/proc/self/task", 0, NULL);
}

void wipe(void *buffer, size_t size)
{
    volatile char *p = buffer;
    for (size_t i = 0; i < size; i++) {
        p[i] = '\0';
    }
}

void h_free_secret(char *secret)
{
    if (secret != NULL) {
        wipe(secret, strlen(secret));
        free(secret);
    }
}

int replace_file(const char *path, const char *text)
{
    char temp[512];
    int n = snprintf(temp, sizeof temp, "%s.new", path);
    FILE *f = n > 0 && (size_t)n < sizeof temp ? fopen(temp, "w") : NULL;
    if (f == NULL) {
        return -1;
    }
    chmod(temp, 0600);
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, f) == len && fputc('\n', f) != EOF;
    ok = fclose(f) == 0 && ok;
    return ok && rename(temp, path) == 0 ? 0 : -1;
}

int new_temp_file(const char *text, char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/rs-idc-web-token-XXXXXX",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    close(fd);
    return replace_file(path, text);
}

const char *h_need_env(const char *file, int line, const char *name)
{
    const char *value = getenv(name);
    h_record(value != NULL && value[0] != '\0', file, line,
             "%s is set (run under `rs-idc-fake run --`)", name);
    return value != NULL ? value : "";
}

const char *h_env(const char *name)
{
    const char *value = getenv(name);
    return value != NULL ? value : "";
}

void unset_aws_credentials(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN", "AWS_PROFILE",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        unsetenv(vars[i]);
    }
}

/* Where parameter `name` of `url`'s query starts: its '?' or '&'; NULL if absent. */
static const char *find_param(const char *url, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = strchr(url, '?'); p != NULL; p = strchr(p + 1, '&')) {
        if (strncmp(p + 1, name, len) == 0 && p[1 + len] == '=') {
            return p;
        }
    }
    return NULL;
}

void query_value(const char *url, const char *name, char *out, size_t size)
{
    out[0] = '\0';
    const char *at = find_param(url, name);
    if (at != NULL) {
        const char *value = at + 2 + strlen(name);
        size_t n = strcspn(value, "&");
        if (n < size) {
            memcpy(out, value, n);
            out[n] = '\0';
        }
    }
}

int url_with_param(const char *url, const char *name, const char *value, char *out, size_t size)
{
    const char *at = find_param(url, name);
    if (at == NULL) {
        return -1;
    }
    const char *start = at + 2 + strlen(name);     /* the value */
    const char *end = start + strcspn(start, "&"); /* after it */
    int n;
    if (value != NULL) {
        n = snprintf(out, size, "%.*s%s%s", (int)(start - url), url, value, end);
    } else if (*at == '?') {
        /* ?name=v&rest -> ?rest; ?name=v -> ? */
        n = snprintf(out, size, "%.*s%s", (int)(at + 1 - url), url, *end == '&' ? end + 1 : end);
    } else {
        n = snprintf(out, size, "%.*s%s", (int)(at - url), url, end);
    }
    return n > 0 && (size_t)n < size ? 0 : -1;
}
