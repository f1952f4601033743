/*
 * fake_client.c - the C test harness's one HTTP client, raw HTTP/1.0 over
 * a socket to 127.0.0.1, and what is built on it: requests to the fake's
 * control endpoint (stats, reset, web tokens, token subjects) and a
 * browser's GET of a loopback URL. Calls nothing of the library. See
 * harness.h.
 */

#include "harness.h"

/* The longest answer taken, headers included. */
#define H_ANSWER_MAX (64 * 1024)

struct sockaddr_in loopback_addr(int port)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

int loopback_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval limit = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    struct sockaddr_in addr = loopback_addr(port);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int port_is_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = loopback_addr(port);
    int free_port = bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 1) == 0;
    close(fd);
    return free_port;
}

/* Sends all `len` bytes of `data` on `fd`; 0 on success. */
static int send_all(int fd, const char *data, size_t len)
{
    for (size_t sent = 0; sent < len;) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        sent += (size_t)n;
    }
    return 0;
}

/* One whole answer: the text (headers and body) and where its parts are. */
struct answer {
    char *text;       /* malloc'ed, NUL-terminated; wiped and freed by answer_free */
    size_t len;       /* bytes in text */
    int status;       /* the HTTP status */
    const char *body; /* the body, within text */
};

static void answer_free(struct answer *a)
{
    if (a->text != NULL) {
        wipe(a->text, a->len);
        free(a->text);
    }
}

/*
 * The one HTTP client: sends `method path` to 127.0.0.1:port, with a
 * Content-Length (and `len` bytes of `payload`) unless the request is a
 * GET without a payload, and reads the answer until the peer closes. 0
 * when a whole answer (at most H_ANSWER_MAX bytes) with a status line came,
 * else -1. The request and the answer may hold a secret (a web token, an
 * authorization code): both are wiped before they are freed.
 */
static int http_exchange(int port, const char *method, const char *path, const char *payload,
                         size_t len, struct answer *out)
{
    memset(out, 0, sizeof *out);
    int with_body = payload != NULL || strcmp(method, "GET") != 0;
    size_t head_size = strlen(method) + strlen(path) + 192;
    char *head = malloc(head_size);
    int head_len = head == NULL ? -1
                   : with_body
                       ? snprintf(head, head_size,
                                  "%s %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nContent-Length: %zu\r\n"
                                  "Content-Type: text/plain\r\nConnection: close\r\n\r\n",
                                  method, path, port, payload != NULL ? len : 0)
                       : snprintf(head, head_size,
                                  "%s %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
                                  method, path, port);
    int fd = head_len > 0 && (size_t)head_len < head_size ? loopback_connect(port) : -1;
    int ok = fd >= 0 && send_all(fd, head, (size_t)head_len) == 0 &&
             (payload == NULL || send_all(fd, payload, len) == 0);
    if (head != NULL) {
        wipe(head, head_size);
        free(head);
    }
    out->text = ok ? malloc(H_ANSWER_MAX + 1) : NULL;
    int whole = 0;
    while (out->text != NULL && out->len < H_ANSWER_MAX) {
        ssize_t got = recv(fd, out->text + out->len, H_ANSWER_MAX - out->len, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            whole = got == 0;
            break;
        }
        out->len += (size_t)got;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (out->text == NULL) {
        return -1;
    }
    out->text[out->len] = '\0';
    const char *end = strstr(out->text, "\r\n\r\n");
    if (!whole || end == NULL || sscanf(out->text, "HTTP/1.%*d %d", &out->status) != 1) {
        answer_free(out);
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->body = end + 4;
    return 0;
}

int loopback_get(const char *url, struct h_http_answer *answer)
{
    memset(answer, 0, sizeof *answer);
    static const char prefix[] = "http://127.0.0.1:";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0) {
        return -1;
    }
    const char *port_text = url + sizeof prefix - 1;
    char *end = NULL;
    long port = strtol(port_text, &end, 10);
    if (end == port_text || port <= 0 || port > 65535 || (*end != '/' && *end != '\0')) {
        return -1;
    }
    struct answer a;
    if (http_exchange((int)port, "GET", *end == '/' ? end : "/", NULL, 0, &a) != 0) {
        return -1;
    }
    answer->status = a.status;
    for (const char *line = strstr(a.text, "\r\n"); line != NULL && line < a.body - 4;
         line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Location:", 9) == 0) {
            const char *value = line + 11;
            value += strspn(value, " \t");
            size_t len = strcspn(value, "\r\n");
            if (len < sizeof answer->location) {
                memcpy(answer->location, value, len);
                answer->location[len] = '\0';
            }
            break;
        }
    }
    snprintf(answer->body, sizeof answer->body, "%s", a.body);
    answer_free(&a);
    return 0;
}

int fake_request(const char *method, const char *path, const char *payload, size_t len,
                 int *http_status, char *body, size_t size)
{
    *http_status = 0;
    if (size > 0) {
        body[0] = '\0';
    }
    const char *port_text = getenv("RS_IDC_FAKE_PORT");
    if (port_text == NULL) {
        fprintf(stderr, "RS_IDC_FAKE_PORT is not set: run under `rs-idc-fake run --`\n");
        return -1;
    }
    char *end = NULL;
    long port = strtol(port_text, &end, 10);
    struct answer a;
    if (end == port_text || *end != '\0' || port <= 0 || port > 65535 ||
        http_exchange((int)port, method, path, payload != NULL ? payload : "",
                      payload != NULL ? len : 0, &a) != 0) {
        return -1;
    }
    *http_status = a.status;
    size_t body_len = a.len - (size_t)(a.body - a.text);
    int result = -1;
    if (body_len < size) {
        memcpy(body, a.body, body_len + 1);
        result = 0;
    }
    answer_free(&a);
    return result;
}

int fake_control(const char *op, const char *members, char *body, size_t size)
{
    char request[4096];
    int n = snprintf(request, sizeof request, "{\"op\":\"%s\"%s}", op, members);
    int status = 0;
    return n > 0 && (size_t)n < sizeof request &&
                   fake_request("POST", "/_fake/control", request, (size_t)n, &status, body,
                                size) == 0 && status == 200
               ? 0
               : -1;
}

/* Where the value of member `name` starts in a flat JSON `body`; NULL if absent. */
static const char *json_value(const char *body, const char *name)
{
    char key[160];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(body, key);
    return at != NULL ? at + strlen(key) : NULL;
}

int json_member(const char *body, const char *name, char *out, size_t size)
{
    const char *value = json_value(body, name);
    size_t len = value != NULL && *value == '"' ? strcspn(value + 1, "\"") : size;
    if (len >= size) {
        return -1;
    }
    memcpy(out, value + 1, len);
    out[len] = '\0';
    return 0;
}

int fake_reset(void)
{
    char body[64];
    return fake_control(FAKE_CONTROL_RESET, "", body, sizeof body);
}

/*
 * The one stats reader: counters `names[i]` (FAKE_COUNTER_*, FAKE_OP_*)
 * into values[i] from one stats request; each is -1 when it could not be
 * read.
 */
static void read_stats(const char *const *names, long *values, size_t n)
{
    char body[8192];
    int read = fake_control(FAKE_CONTROL_STATS, "", body, sizeof body) == 0;
    for (size_t i = 0; i < n; i++) {
        const char *value = read ? json_value(body, names[i]) : NULL;
        values[i] = value != NULL ? strtol(value, NULL, 10) : -1;
    }
}

long fake_stat(const char *name)
{
    long value;
    read_stats(&name, &value, 1);
    return value;
}

long fake_requests(void)
{
    return fake_stat(FAKE_COUNTER_REQUESTS);
}

/*
 * Counters read before and now moved by exactly want[i] each (-1: not
 * checked; every reading must have worked). One check; on failure it
 * prints each counter's name, the moves wanted and those seen.
 */
static int expect_moves(const char *file, int line, const char *what,
                        const char *const *labels, const long *before, const long *now,
                        const long *want, size_t n)
{
    char text[768];
    size_t used = 0;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        long moved = now[i] - before[i];
        ok &= before[i] >= 0 && now[i] >= 0 && (want[i] < 0 || moved == want[i]);
        int added = snprintf(text + used, sizeof text - used, "%s%s %ld/%ld", i ? ", " : "",
                             labels[i], want[i], moved);
        used += added > 0 && (size_t)added < sizeof text - used ? (size_t)added : 0;
    }
    return h_record(ok, file, line,
                    "%s: the fake should see moves (wanted/seen; -1 wanted: not checked, "
                    "a counter that could not be read fails): %s",
                    what, text);
}

static const char *const ops_stats[] = {
    FAKE_COUNTER_REQUESTS,  FAKE_OP_GET_TOKEN,      FAKE_OP_ASSUME_ROLE,
    FAKE_OP_ASSUME_ROLE_WITH_WEB_IDENTITY, FAKE_OP_IAM_JWT_BEARER, FAKE_OP_IAM_REFRESH_TOKEN,
};

struct fake_ops fake_ops(void)
{
    long v[6];
    read_stats(ops_stats, v, 6);
    return (struct fake_ops){v[0], v[1], v[2], v[3], v[4], v[5]};
}

int h_expect_ops(const char *file, int line, const char *what, struct fake_ops before,
                 long requests, long get_token, long assume_role, long web_identity,
                 long jwt_bearer, long refresh)
{
    struct fake_ops now = fake_ops();
    long b[6] = {before.requests,     before.get_token,  before.assume_role,
                 before.web_identity, before.jwt_bearer, before.refresh};
    long n[6] = {now.requests,     now.get_token,  now.assume_role,
                 now.web_identity, now.jwt_bearer, now.refresh};
    long w[6] = {requests, get_token, assume_role, web_identity, jwt_bearer, refresh};
    return expect_moves(file, line, what, ops_stats, b, n, w, 6);
}

static const char *const signin_stats[] = {
    FAKE_OP_REGISTER_CLIENT, FAKE_OP_AUTHORIZE,     FAKE_OP_CODE,
    FAKE_OP_REFRESH_TOKEN,   FAKE_COUNTER_REQUESTS,
};

struct signin_ops fake_signin_ops(void)
{
    long v[5];
    read_stats(signin_stats, v, 5);
    return (struct signin_ops){v[4], v[0], v[1], v[2], v[3]};
}

int h_expect_signin_ops(const char *file, int line, const char *what, struct signin_ops before,
                        long register_, long authorize, long code, long refresh)
{
    struct signin_ops now = fake_signin_ops();
    long b[4] = {before.register_, before.authorize, before.code, before.refresh};
    long n[4] = {now.register_, now.authorize, now.code, now.refresh};
    long w[4] = {register_, authorize, code, refresh};
    return expect_moves(file, line, what, signin_stats, b, n, w, 4);
}

char *h_fake_web_token(const char *file, int line, const char *sub, long ttl, const char *extra)
{
    char members[512];
    int n = snprintf(members, sizeof members, ",\"sub\":\"%s\",\"ttl\":%ld%s", sub, ttl,
                     extra != NULL ? extra : "");
    char *body = malloc(RS_IDC_MAX_WEB_TOKEN_LEN + 64);
    char *token = malloc(RS_IDC_MAX_WEB_TOKEN_LEN + 1);
    int got = token != NULL && body != NULL && n > 0 && (size_t)n < sizeof members &&
              fake_control(FAKE_CONTROL_WEB_TOKEN, members, body,
                           RS_IDC_MAX_WEB_TOKEN_LEN + 64) == 0 &&
              json_member(body, "token", token, RS_IDC_MAX_WEB_TOKEN_LEN + 1) == 0;
    h_free_secret(body);
    if (!h_record(got && token[0] != '\0', file, line, "the fake makes a web token for %s",
                  sub)) {
        free(token);
        return NULL;
    }
    return token;
}

/*
 * Asks the fake (control operation `op` with the token) whom it issued
 * `token` to, and checks that it is `want`; `kind` names the token in the
 * message, which shows the subject, never the token.
 */
static int expect_subject_at(const char *file, int line, const char *op, const char *kind,
                             const char *token, const char *want)
{
    char subject[512] = "";
    char body[1024] = "";
    char *members = token != NULL ? malloc(strlen(token) + 16) : NULL;
    if (members != NULL) {
        sprintf(members, ",\"token\":\"%s\"", token);
    }
    int got = members != NULL && fake_control(op, members, body, sizeof body) == 0 &&
              json_member(body, "subject", subject, sizeof subject) == 0;
    h_free_secret(members);
    return h_record(got && strcmp(subject, want) == 0, file, line,
                    "the %s should be issued to \"%s\"; the fake says: %s", kind, want,
                    got ? subject : "(no user, or no answer)");
}

int h_expect_subject(const char *file, int line, const char *token, const char *want)
{
    return expect_subject_at(file, line, FAKE_CONTROL_TOKEN_SUBJECT, "token", token, want);
}

int h_expect_access_subject(const char *file, int line, const char *token, const char *want)
{
    return expect_subject_at(file, line, FAKE_CONTROL_ACCESS_TOKEN_SUBJECT, "access token",
                             token, want);
}
