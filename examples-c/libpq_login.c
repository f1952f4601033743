/*
 * libpq_login.c - log in to Amazon Redshift with an IAM Identity Center
 * auth token from rs-idc, speaking the PostgreSQL v3 wire protocol the way
 * Redshift's own drivers do. No libpq is needed: a plain TCP socket.
 *
 *     usage: libpq_login [-h HOST] [-p PORT] [-U USER] [-d DATABASE]
 *                        CLUSTER_ID | REDSHIFT_HOST_NAME
 *
 * The last argument says what the token is for: a cluster identifier
 * (rs_idc_get_token) or a Redshift host name such as
 * my-cluster.abc123.us-east-1.redshift.amazonaws.com
 * (rs_idc_client_get_token_for_host, which also reads the region from it).
 * HOST and PORT name the database server to log in to; they default to
 * $PGHOST and $PGPORT as in libpq, else 127.0.0.1 and 5439. USER ($PGUSER)
 * is optional: with IdP-token logins the server takes the user from the
 * token, and the drivers leave `user` out when none is given. DATABASE
 * ($PGDATABASE) defaults to "dev".
 *
 * This example sends the token over plain TCP, so it connects to loopback
 * addresses only. A real connection first sends an SSLRequest and wraps the
 * socket in TLS (what the drivers do with sslmode=verify-full); the
 * messages below stay the same inside TLS.
 *
 * The login, message by message (F: client, B: server):
 *
 *   F StartupMessage  Int32 len, Int32 196608 (protocol 3.0), then name/value
 *                     C-string pairs and a final NUL: user, database,
 *                     client_encoding=UTF8, plugin_name=IdpTokenAuthPlugin,
 *                     idp_type=AwsIdc, token_type=SUBJECT_TOKEN
 *   B 'R' Int32 len, Int32 14     AuthenticationRequest: Redshift's
 *                                 "native IdP" request for a token
 *   F 'i' Int32 len = 4 + strlen(token) + 1, the token bytes, a NUL
 *   B 'R' Int32 8, Int32 0        AuthenticationOk
 *   B 'S' ParameterStatus (any number), 'K' BackendKeyData, 'N' notices
 *   B 'Z' Int32 5, Byte1 status   ReadyForQuery: logged in
 *   F 'X' Int32 4                 Terminate
 *   B 'E' ErrorResponse may come instead at any point: fields of Byte1
 *         type + C string, ended by a NUL byte (S severity, C SQLSTATE,
 *         M message).
 *
 * The 'i' message and the startup parameters follow the official drivers:
 * - aws/amazon-redshift-jdbc-driver,
 *   src/main/java/com/amazon/redshift/core/v3/ConnectionFactoryImpl.java
 *   (commit de46a92): AUTH_REQ_IDP = 14; in doAuthentication(), case
 *   AUTH_REQ_IDP sends sendChar('i'), sendInteger4(4 + token.length + 1),
 *   send(token), sendChar(0); the idp_type and token_type startup
 *   parameters are added in getParametersForStartup() (IDP_TYPE_AWS_IDC =
 *   "AwsIdc").
 * - aws/amazon-redshift-odbc-driver (commit af2dfff),
 *   src/pgclient/src/interfaces/libpq/fe-auth.c: case AUTH_REQ_IDP sends
 *   pqPacketSend(conn, 'i', idp_token, strlen(idp_token) + 1), the same
 *   bytes; src/odbc/rsodbc/rslibpq.c sends plugin_name, idp_type and
 *   token_type, with PLUGIN_IDP_TOKEN_AUTH = "IdpTokenAuthPlugin"
 *   (src/odbc/rsodbc/rsodbc.h). The JDBC driver sends its class name,
 *   com.amazon.redshift.plugin.IdpTokenAuthPlugin, as plugin_name.
 *
 * The token is a secret: this program prints its length and expiry only,
 * sends it from the library's buffer without copying it, and releases it
 * with rs_idc_free_token() (which wipes it) as soon as it is sent.
 *
 * Exit status: 0 logged in, 1 the token call or the login failed, 2 usage.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getaddrinfo, getopt, strnlen */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "rs_idc.h"

#define PROTOCOL_3_0 196608        /* 3 << 16 | 0 */
#define AUTH_REQ_OK 0
#define AUTH_REQ_IDP 14            /* Redshift: send an IdP token ('i') */
#define IO_TIMEOUT_S 30            /* bound on every send and receive */
#define MAX_MESSAGE (1024 * 1024)  /* larger server messages are refused */

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-h HOST] [-p PORT] [-U USER] [-d DATABASE] "
            "CLUSTER_ID|REDSHIFT_HOST_NAME\n",
            prog);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : fallback;
}

/* ---- the token ------------------------------------------------------ */

/*
 * Gets a token for a cluster identifier, or for a Redshift host name (a
 * name with a dot) through a client handle made from the environment.
 * Returns 0 and sets *token (free with rs_idc_free_token) or prints why not
 * and returns -1.
 */
static int get_token(const char *target, char **token, int64_t *expires)
{
    int status;
    if (strchr(target, '.') != NULL) {
        rs_idc_client *client = NULL;
        status = rs_idc_client_new(NULL, 0, &client);
        if (status == RS_IDC_OK) {
            status = rs_idc_client_get_token_for_host(client, target, token, expires);
        }
        /* Read the message before rs_idc_client_free, on this thread. */
        if (status != RS_IDC_OK) {
            fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
        }
        rs_idc_client_free(client);
    } else {
        const char *ids[1] = {target};
        status = rs_idc_get_token(ids, 1, token, expires);
        if (status != RS_IDC_OK) {
            fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
        }
    }
    return status == RS_IDC_OK ? 0 : -1;
}

/* ---- the connection ------------------------------------------------- */

static int is_loopback(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)addr;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
}

/*
 * Resolves host:port and keeps its loopback addresses only (see the note at
 * the top). Returns the list (free with freeaddrinfo) or NULL after saying
 * why.
 */
static struct addrinfo *resolve_loopback(const char *host, const char *port)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "error: cannot resolve %s:%s: %s\n", host, port, gai_strerror(rc));
        return NULL;
    }
    for (struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        if (!is_loopback(ai->ai_addr)) {
            fprintf(stderr,
                    "error: %s is not a loopback address; this example sends the token "
                    "without TLS and connects to loopback only\n",
                    host);
            freeaddrinfo(list);
            return NULL;
        }
    }
    return list;
}

/* Connects to the first address that answers. Returns the socket or -1. */
static int connect_first(const struct addrinfo *list, const char *host, const char *port)
{
    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            continue;
        }
        struct timeval limit = {IO_TIMEOUT_S, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            return fd;
        }
        fprintf(stderr, "error: cannot connect to %s:%s: %s\n", host, port, strerror(errno));
        close(fd);
    }
    return -1;
}

/* Sends all of iov[0..count); returns 0 or -1. */
static int send_all(int fd, struct iovec *iov, int count)
{
    while (count > 0) {
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)count;
        ssize_t sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "error: send: %s\n",
                    errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            return -1;
        }
        size_t left = (size_t)sent;
        while (count > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* Reads exactly n bytes; returns 0, or -1 after saying why. */
static int recv_all(int fd, unsigned char *buf, size_t n)
{
    size_t have = 0;
    while (have < n) {
        ssize_t got = recv(fd, buf + have, n - have, 0);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got == 0) {
            fprintf(stderr, "error: the server closed the connection\n");
            return -1;
        }
        if (got < 0) {
            fprintf(stderr, "error: receive: %s\n",
                    errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            return -1;
        }
        have += (size_t)got;
    }
    return 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* ---- messages ------------------------------------------------------- */

/* Appends "name\0value\0" to buf; returns the new length or 0 if it does not fit. */
static size_t put_param(unsigned char *buf, size_t len, size_t size, const char *name,
                        const char *value)
{
    size_t a = strlen(name) + 1;
    size_t b = strlen(value) + 1;
    if (len + a + b + 1 > size) {
        return 0;
    }
    memcpy(buf + len, name, a);
    memcpy(buf + len + a, value, b);
    return len + a + b;
}

static int send_startup(int fd, const char *user, const char *database)
{
    unsigned char buf[1024];
    size_t len = 8;
    const char *params[][2] = {
        {"user", user},
        {"database", database},
        {"client_encoding", "UTF8"},
        {"plugin_name", "IdpTokenAuthPlugin"},
        {"idp_type", "AwsIdc"},
        {"token_type", "SUBJECT_TOKEN"},
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        if (params[i][1] == NULL) {
            continue; /* no user: the server takes it from the token */
        }
        len = put_param(buf, len, sizeof buf, params[i][0], params[i][1]);
        if (len == 0) {
            fprintf(stderr, "error: the startup parameters are too long\n");
            return -1;
        }
    }
    buf[len++] = '\0';
    put_u32(buf, (uint32_t)len);
    put_u32(buf + 4, PROTOCOL_3_0);
    struct iovec iov[1] = {{buf, len}};
    return send_all(fd, iov, 1);
}

/*
 * The IdP token message: 'i', Int32 length (itself, the token and its NUL),
 * the token, NUL. The token goes out straight from the library's buffer.
 */
static int send_idp_token(int fd, const char *token)
{
    size_t n = strlen(token);
    if (n == 0 || n > MAX_MESSAGE) {
        fprintf(stderr, "error: unusable token length %zu\n", n);
        return -1;
    }
    unsigned char head[5];
    head[0] = 'i';
    put_u32(head + 1, (uint32_t)(4 + n + 1));
    struct iovec iov[2] = {{head, sizeof head}, {(void *)token, n + 1}};
    return send_all(fd, iov, 2);
}

static int send_terminate(int fd)
{
    unsigned char msg[5] = {'X', 0, 0, 0, 4};
    struct iovec iov[1] = {{msg, sizeof msg}};
    return send_all(fd, iov, 1);
}

/*
 * Reads one server message: its type in *type, its body (length n) in a
 * new buffer *body with a NUL after it. Returns 0 or -1.
 */
static int read_message(int fd, char *type, unsigned char **body, size_t *n)
{
    unsigned char head[5];
    if (recv_all(fd, head, sizeof head) != 0) {
        return -1;
    }
    uint32_t len = get_u32(head + 1);
    if (len < 4 || len - 4 > MAX_MESSAGE) {
        fprintf(stderr, "error: protocol: message '%c' with length %u\n",
                head[0] >= 0x20 && head[0] < 0x7f ? head[0] : '?', (unsigned)len);
        return -1;
    }
    *type = (char)head[0];
    *n = len - 4;
    *body = malloc(*n + 1);
    if (*body == NULL) {
        fprintf(stderr, "error: out of memory\n");
        return -1;
    }
    if (recv_all(fd, *body, *n) != 0) {
        free(*body);
        *body = NULL;
        return -1;
    }
    (*body)[*n] = '\0';
    return 0;
}

/*
 * Prints the fields of an ErrorResponse or NoticeResponse body: severity,
 * SQLSTATE and message, e.g. "FATAL 28000: authentication failed".
 */
static void print_fields(const char *what, const unsigned char *body, size_t n)
{
    const char *severity = "", *code = "", *message = "", *detail = "";
    size_t i = 0;
    while (i < n && body[i] != '\0') {
        char field = (char)body[i++];
        const char *value = (const char *)body + i;
        size_t len = strnlen(value, n - i); /* body[n] is NUL: always terminated */
        switch (field) {
        case 'S':
            severity = value;
            break;
        case 'C':
            code = value;
            break;
        case 'M':
            message = value;
            break;
        case 'D':
            detail = value;
            break;
        default:
            break;
        }
        i += len + 1;
    }
    fprintf(stderr, "%s: %s %s: %s%s%s\n", what, severity, code, message,
            detail[0] != '\0' ? " - " : "", detail);
}

/*
 * Runs the login on a connected socket. `token` is sent when the server
 * asks for it and freed (wiped) right after; *token is NULL afterwards.
 * Returns 0 when the server is ready for queries.
 */
static int login(int fd, const char *user, const char *database, char **token)
{
    if (send_startup(fd, user, database) != 0) {
        return -1;
    }
    int authenticated = 0;
    int parameters = 0;
    for (;;) {
        char type = 0;
        unsigned char *body = NULL;
        size_t n = 0;
        if (read_message(fd, &type, &body, &n) != 0) {
            return -1;
        }
        int result = 1; /* 1 go on, 0 done, -1 failed */
        switch (type) {
        case 'R': {
            uint32_t code = n >= 4 ? get_u32(body) : UINT32_MAX;
            if (code == AUTH_REQ_IDP && !authenticated && *token != NULL) {
                printf("server asks for an IdP token (AuthenticationRequest %u)\n",
                       (unsigned)code);
                size_t sent = strlen(*token);
                int rc = send_idp_token(fd, *token);
                rs_idc_free_token(*token);
                *token = NULL;
                if (rc != 0) {
                    result = -1;
                } else {
                    printf("sent the token (%zu bytes)\n", sent);
                }
            } else if (code == AUTH_REQ_OK && !authenticated && *token == NULL) {
                authenticated = 1;
                printf("authentication ok\n");
            } else {
                /* Never answer another method (a password, say) with the token. */
                fprintf(stderr, "error: unexpected authentication request %u\n",
                        (unsigned)code);
                result = -1;
            }
            break;
        }
        case 'S': {
            const char *name = (const char *)body;
            size_t name_len = strnlen(name, n);
            const char *value = name_len < n ? name + name_len + 1 : "";
            printf("parameter %s = %s\n", name, value);
            parameters++;
            break;
        }
        case 'K':
            printf("backend key data received\n");
            break;
        case 'N':
            print_fields("notice", body, n);
            break;
        case 'E':
            print_fields("server error", body, n);
            result = -1;
            break;
        case 'Z':
            if (!authenticated) {
                fprintf(stderr, "error: protocol: ReadyForQuery before AuthenticationOk\n");
                result = -1;
            } else {
                printf("ready for query (%d parameters, transaction status %c)\n", parameters,
                       n >= 1 && body[0] >= 0x20 && body[0] < 0x7f ? body[0] : '?');
                result = 0;
            }
            break;
        default:
            fprintf(stderr, "error: protocol: unexpected message type 0x%02x\n",
                    (unsigned char)type);
            result = -1;
            break;
        }
        free(body);
        if (result <= 0) {
            return result;
        }
    }
}

int main(int argc, char **argv)
{
    const char *host = env_or("PGHOST", "127.0.0.1");
    const char *port = env_or("PGPORT", "5439");
    const char *user = env_or("PGUSER", NULL);
    const char *database = env_or("PGDATABASE", "dev");

    int opt;
    while ((opt = getopt(argc, argv, "h:p:U:d:")) != -1) {
        switch (opt) {
        case 'h':
            host = optarg;
            break;
        case 'p':
            port = optarg;
            break;
        case 'U':
            user = optarg[0] != '\0' ? optarg : NULL;
            break;
        case 'd':
            database = optarg;
            break;
        default:
            usage(argv[0]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(argv[0]);
        return 2;
    }
    const char *target = argv[optind];

    /* 1. Where to log in: checked before anything is sent anywhere. */
    struct addrinfo *addrs = resolve_loopback(host, port);
    if (addrs == NULL) {
        return 1;
    }

    /* 2. The token, from rs-idc. */
    char *token = NULL;
    int64_t expires = 0;
    if (get_token(target, &token, &expires) != 0) {
        freeaddrinfo(addrs);
        return 1;
    }
    printf("token: %zu bytes, expires in %lld s\n", strlen(token),
           (long long)(expires - (int64_t)time(NULL)));

    /* 3. The connection and the login. */
    int fd = connect_first(addrs, host, port);
    freeaddrinfo(addrs);
    if (fd < 0) {
        rs_idc_free_token(token);
        return 1;
    }
    printf("connected to %s:%s\n", host, port);
    int rc = login(fd, user, database, &token);
    rs_idc_free_token(token); /* NULL once sent; wipes it on the other paths */
    if (rc == 0) {
        printf("login ok\n");
        send_terminate(fd);
    }
    close(fd);
    return rc == 0 ? 0 : 1;
}
