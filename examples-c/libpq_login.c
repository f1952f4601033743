/*
 * libpq_login.c - log in to Amazon Redshift with an IAM Identity Center
 * auth token from rs-idc, over verified TLS, speaking the PostgreSQL v3
 * wire protocol the way Redshift's own drivers do. No libpq is needed: a
 * TCP socket and OpenSSL (the TLS library libpq-based drivers use).
 *
 *     usage: libpq_login [-h HOST] [-p PORT] [-U USER] [-d DATABASE]
 *                        [-m SSLMODE] [-c CAFILE] [-n NAMESPACE]
 *                        CLUSTER_ID | REDSHIFT_HOST_NAME
 *            libpq_login [the same options] -b ISSUER_URL [-r IDC_REGION]
 *                        [-l LISTEN_PORT] [-w SECONDS] [-N DISPLAY_NAME]
 *
 * The last argument says what the token is for: a cluster identifier
 * (rs_idc_get_token) or a Redshift host name such as
 * my-cluster.abc123.us-east-1.redshift.amazonaws.com
 * (rs_idc_client_get_token_for_host, which also reads the region from it).
 * The other settings default to libpq's environment variables:
 *
 *   -h HOST      $PGHOST, else localhost: the server to log in to; with
 *                verify-full its certificate must name it (a DNS name, or
 *                an IP address for an IP literal)
 *   -p PORT      $PGPORT, else 5439 (Redshift's port)
 *   -U USER      $PGUSER; optional: with IdP-token logins the server takes
 *                the user from the token, and `user` is left out
 *   -d DATABASE  $PGDATABASE, else "dev"
 *   -m SSLMODE   $PGSSLMODE, else verify-full, as libpq spells it:
 *                  verify-full  the chain is checked against the trust
 *                               anchors and the certificate must name HOST
 *                  verify-ca    the chain is checked, the name is not
 *                  require      encrypted, nothing is checked: anyone in the
 *                               path can pose as the server and take the
 *                               token (a warning is printed)
 *                disable, allow and prefer are refused: they may send the
 *                token in clear.
 *   -c CAFILE    $PGSSLROOTCERT: a PEM file of trust anchors; without it,
 *                or with "system" as in libpq, the system's trust store
 *                (OpenSSL's default paths)
 *   -n NAMESPACE identity_namespace, sent only when given
 *   $PGAPPNAME   application_name, else "libpq_login"
 *
 * The order is what keeps the token safe: TLS is set up and the server's
 * certificate verified first; only then is the token fetched and the
 * startup message sent. A server that answers 'N' to the SSLRequest, or
 * whose certificate fails the checks, is refused before either.
 *
 * Browser sign-in (-b): instead of a token for a cluster, a person signs
 * in to IAM Identity Center in their browser and logs in with the
 * Identity Center access token, as the official drivers'
 * BrowserIdcAuthPlugin does (rs_idc_client_get_browser_token; no AWS
 * credentials are needed). No CLUSTER_ID or host name is given then.
 *
 *   -b ISSUER_URL   the Identity Center issuer URL (option issuer_url)
 *   -r IDC_REGION   the Identity Center region (idc_region; default: the
 *                   AWS region of the environment)
 *   -l LISTEN_PORT  the loopback port the browser is sent back to
 *                   (listen_port, default 7890)
 *   -w SECONDS      how long the sign-in may take (idp_response_timeout_s,
 *                   default 120)
 *   -N NAME         the name the client registers under
 *                   (idc_client_display_name, default rs-idc); also sent
 *                   as the startup parameter of that name, as the drivers
 *                   do when one is given
 *   $RS_IDC_OPEN_WITH  a shell command that opens the sign-in page instead
 *                   of the system's opener (xdg-open, open on macOS), e.g.
 *                   "firefox --new-window". /bin/sh runs it with the URL
 *                   as its last argument, one word the shell never parses
 *                   (the script is  eval "$RS_IDC_OPEN_WITH"' "$1"'  with
 *                   the URL as $1), and the example waits for it, as for
 *                   xdg-open: it should return once the browser has the
 *                   page. Its output goes to stderr.
 *
 * The sign-in comes first there, before the connection: it waits for a
 * person, up to minutes, and a server may close a connection that sends
 * nothing for that long. The token is still sent only inside TLS, after
 * the server's certificate passed the checks; a server refused then gets
 * nothing.
 *
 * The login, message by message (F: client, B: server):
 *
 *   F SSLRequest      Int32 8, Int32 80877103, in clear
 *   B 'S'             one byte: TLS follows ('N': the server declines; the
 *                     example gives up, nothing else goes out)
 *     TLS handshake   TLS 1.2 or later; SNI = HOST unless it is an IP
 *                     address; the chain and the name checked (SSLMODE)
 *   -- everything below travels inside TLS --
 *   F StartupMessage  Int32 len, Int32 196608 (protocol 3.0), then name/value
 *                     C-string pairs and a final NUL: user (when given),
 *                     database, application_name, client_protocol_version,
 *                     client_encoding=UTF8, plugin_name=IdpTokenAuthPlugin,
 *                     idp_type=AwsIdc, token_type=SUBJECT_TOKEN,
 *                     identity_namespace (when given); with -b
 *                     plugin_name=BrowserIdcAuthPlugin and
 *                     token_type=ACCESS_TOKEN instead, and
 *                     idc_client_display_name (when given)
 *   B 'R' Int32 len, Int32 14     AuthenticationRequest: Redshift's
 *                                 "native IdP" request for a token
 *   F 'i' Int32 len = 4 + strlen(token) + 1, the token bytes, a NUL
 *   B 'R' Int32 8, Int32 0        AuthenticationOk
 *   B 'S' ParameterStatus (any number), 'K' BackendKeyData, 'N' notices
 *   B 'Z' Int32 5, Byte1 status   ReadyForQuery: logged in
 *   F 'X' Int32 4                 Terminate, then TLS close_notify
 *   B 'E' ErrorResponse may come instead at any point: fields of Byte1
 *         type + C string, ended by a NUL byte (S severity, C SQLSTATE,
 *         M message).
 *
 * Where each piece comes from in the official drivers:
 * - TLS is not optional. redshift_connector 2.2.0 (the Python driver),
 *   __init__.py connect(): with ssl=False an IdC plugin fails with
 *   "Authentication must use an SSL connection."; core.py
 *   Connection.__init__ sends the SSLRequest (ii_pack(8, 80877103)),
 *   raises "Server refuses SSL" unless the answer is 'S', and wraps the
 *   socket with sslmode verify-full (the default: CERT_REQUIRED and
 *   check_hostname) or verify-ca, trusting the system's certificates
 *   (load_default_certs) and its own files/redshift-ca-bundle.crt.
 * - The startup parameters: redshift_connector 2.2.0, core.py
 *   Connection.__init__ builds init_params: user (sent empty for an IdC
 *   plugin when no user is given; this example leaves it out instead,
 *   which says the same), database, application_name (there: the calling
 *   module's name when none is given), client_protocol_version (there:
 *   config.py DEFAULT_PROTOCOL_VERSION, ClientProtocolVersion.BINARY = 2;
 *   see CLIENT_PROTOCOL_VERSION below) and plugin_name = the
 *   credentials_provider, which idp_auth_helper.py
 *   IdpAuthHelper.load_credentials_provider turns from
 *   "IdpTokenAuthPlugin" into "redshift_connector.plugin.IdpTokenAuthPlugin"
 *   (Redshift takes that, the JDBC driver's class name below and the ODBC
 *   driver's bare name, which this example sends). It also sends its own driver_version,
 *   os_version and driver_discovery_version.
 *   Connection.set_idc_plugins_params adds idp_type = "AwsIdc",
 *   identity_namespace when one is given, and token_type = "SUBJECT_TOKEN"
 *   for IdpTokenAuthPlugin with access_key_id, secret_access_key and
 *   session_token (identity-enhanced credentials, which is what rs-idc
 *   turns into a token). client_encoding=UTF8 is plain PostgreSQL: the
 *   server's texts come in UTF-8 whatever the database's default.
 * - aws/amazon-redshift-jdbc-driver,
 *   src/main/java/com/amazon/redshift/core/v3/ConnectionFactoryImpl.java
 *   (commit de46a92): AUTH_REQ_IDP = 14; in doAuthentication(), case
 *   AUTH_REQ_IDP sends sendChar('i'), sendInteger4(4 + token.length + 1),
 *   send(token), sendChar(0); the idp_type and token_type startup
 *   parameters are added in getParametersForStartup() (IDP_TYPE_AWS_IDC =
 *   "AwsIdc"). The JDBC driver sends its class name,
 *   com.amazon.redshift.plugin.IdpTokenAuthPlugin, as plugin_name.
 * - aws/amazon-redshift-odbc-driver (commit af2dfff),
 *   src/pgclient/src/interfaces/libpq/fe-auth.c: case AUTH_REQ_IDP sends
 *   pqPacketSend(conn, 'i', idp_token, strlen(idp_token) + 1), the same
 *   bytes; src/odbc/rsodbc/rslibpq.c sends plugin_name, idp_type and
 *   token_type, with PLUGIN_IDP_TOKEN_AUTH = "IdpTokenAuthPlugin"
 *   (src/odbc/rsodbc/rsodbc.h).
 * - The browser sign-in's parameters: redshift_connector 2.2.0, core.py
 *   Connection.set_idc_plugins_params sends, for BrowserIdcAuthPlugin,
 *   idp_type = "AwsIdc", token_type = "ACCESS_TOKEN", identity_namespace
 *   and idc_client_display_name when they are given; the JDBC driver
 *   (ConnectionFactoryImpl.java getParametersForStartup(), commit 01f49ea,
 *   RedshiftConstants.IDC_PKCE_BROWSER_PLUGIN) sends idp_type AwsIdc,
 *   token_type TOKEN_TYPE_ACCESS_TOKEN = "ACCESS_TOKEN" and
 *   idc_client_display_name, and no identity_namespace. This example
 *   sends identity_namespace when -n gives one, as the Python driver
 *   does. The token goes in the same 'i' message.
 * - The trailing NUL of the 'i' message: the JDBC driver and the
 *   libpq-based ODBC driver send it, the Python driver does not
 *   (core.py Connection.handle_AUTHENTICATION_REQUEST, auth_code 14:
 *   create_message(b"i", token), the line writing a NUL commented out), so
 *   Redshift evidently takes both. This example sends it: the body is a PostgreSQL
 *   String, NUL-terminated like the password message 'p' that the same
 *   libpq code sends, and a server reading it as a C string finds its end
 *   without trusting the length field.
 *
 * The token is a secret: this program prints its length and expiry only,
 * hands it to SSL_write from the library's buffer without copying it, and
 * releases it with rs_idc_free_token() (which wipes it) as soon as it is
 * sent.
 *
 * Exit status: 0 logged in, 1 the TLS set-up, the token call or the login
 * failed, 2 usage.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* getaddrinfo, getopt, strnlen */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <spawn.h>
#include <sys/wait.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "rs_idc.h"

#define PROTOCOL_3_0 196608        /* 3 << 16 | 0 */
#define SSL_REQUEST_CODE 80877103  /* 1234 << 16 | 5679 */
#define AUTH_REQ_OK 0
#define AUTH_REQ_IDP 14            /* Redshift: send an IdP token ('i') */
#define IO_TIMEOUT_S 30            /* bound on every send and receive */
#define MAX_MESSAGE (1024 * 1024)  /* larger server messages are refused */

/*
 * Redshift's result formats (redshift_connector 2.2.0, config.py
 * ClientProtocolVersion): 0 BASE_SERVER, plain PostgreSQL; 1
 * EXTENDED_RESULT_METADATA, a longer RowDescription; 2 BINARY, also binary
 * values. The server may answer with a lower server_protocol_version,
 * which the client then follows (core.py
 * Connection.handle_PARAMETER_STATUS). This example runs no query and
 * decodes no result, so it asks for the plain formats; a driver sends the
 * highest version whose formats it decodes (the Python driver sends 2).
 */
#define CLIENT_PROTOCOL_VERSION "0"

enum sslmode { SSLMODE_REQUIRE, SSLMODE_VERIFY_CA, SSLMODE_VERIFY_FULL };

/*
 * How RS_IDC_OPEN_WITH is run: the shell reads the command from the
 * environment and appends "$1", the URL, as one word it never parses.
 */
static const char OPEN_WITH_SCRIPT[] = "eval \"$RS_IDC_OPEN_WITH\"' \"$1\"'";

extern char **environ;

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [-h HOST] [-p PORT] [-U USER] [-d DATABASE] [-m SSLMODE] "
            "[-c CAFILE] [-n NAMESPACE] CLUSTER_ID|REDSHIFT_HOST_NAME\n"
            "       %s [the same options] -b ISSUER_URL [-r IDC_REGION] [-l LISTEN_PORT] "
            "[-w SECONDS] [-N DISPLAY_NAME]\n"
            "       SSLMODE: verify-full (default), verify-ca or require\n"
            "       RS_IDC_OPEN_WITH: a command that opens the sign-in page (with -b)\n",
            prog, prog);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : fallback;
}

/* Reads an sslmode; returns 0, or -1 after saying why not. */
static int parse_sslmode(const char *text, enum sslmode *mode)
{
    if (strcmp(text, "verify-full") == 0) {
        *mode = SSLMODE_VERIFY_FULL;
    } else if (strcmp(text, "verify-ca") == 0) {
        *mode = SSLMODE_VERIFY_CA;
    } else if (strcmp(text, "require") == 0) {
        *mode = SSLMODE_REQUIRE;
    } else if (strcmp(text, "disable") == 0 || strcmp(text, "allow") == 0 ||
               strcmp(text, "prefer") == 0) {
        fprintf(stderr,
                "error: sslmode %s may send the token without TLS; use verify-full, "
                "verify-ca or require\n",
                text);
        return -1;
    } else {
        fprintf(stderr, "error: unknown sslmode %s\n", text);
        return -1;
    }
    return 0;
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

/* The browser sign-in's settings (-b, -r, -l, -w, -N); NULL: not given. */
struct browser_options {
    const char *issuer_url;
    const char *idc_region;
    const char *listen_port;
    const char *timeout_s;
    const char *display_name;
};

/*
 * The open-URL callback for RS_IDC_OPEN_WITH: runs the command with the
 * URL (see OPEN_WITH_SCRIPT), its output on stderr and SIGPIPE back to
 * the default, and waits for it. Returns 0 when it exited with 0.
 */
static int open_with_command(const char *url, void *userdata)
{
    (void)userdata;
    char *argv[] = {"sh", "-c", (char *)OPEN_WITH_SCRIPT, "libpq_login", (char *)url, NULL};
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        fprintf(stderr, "error: RS_IDC_OPEN_WITH: cannot start /bin/sh: %s\n", strerror(rc));
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "error: RS_IDC_OPEN_WITH ended with status %d\n",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 1;
    }
    return 0;
}

/*
 * Signs the person in through the browser (opened with RS_IDC_OPEN_WITH
 * when it is set) and gets the Identity Center access token. Returns 0
 * and sets *token (free with rs_idc_free_token), or prints why not and
 * returns -1.
 */
static int get_browser_token(const struct browser_options *b, char **token, int64_t *expires)
{
    rs_idc_option options[5];
    size_t n = 0;
    options[n++] = (rs_idc_option){"issuer_url", b->issuer_url};
    if (b->idc_region != NULL) {
        options[n++] = (rs_idc_option){"idc_region", b->idc_region};
    }
    if (b->listen_port != NULL) {
        options[n++] = (rs_idc_option){"listen_port", b->listen_port};
    }
    if (b->timeout_s != NULL) {
        options[n++] = (rs_idc_option){"idp_response_timeout_s", b->timeout_s};
    }
    if (b->display_name != NULL) {
        options[n++] = (rs_idc_option){"idc_client_display_name", b->display_name};
    }
    rs_idc_client *client = NULL;
    int status = rs_idc_client_new(options, n, &client);
    if (status == RS_IDC_OK) {
        int own_opener = env_or("RS_IDC_OPEN_WITH", NULL) != NULL;
        if (own_opener) {
            rs_idc_set_open_url_callback(open_with_command, NULL);
        }
        printf("signing in through the browser (%s)\n",
               own_opener ? "opened with RS_IDC_OPEN_WITH" : "the system's opener");
        fflush(stdout);
        status = rs_idc_client_get_browser_token(client, token, expires);
        if (own_opener) {
            rs_idc_set_open_url_callback(NULL, NULL);
        }
    }
    if (status != RS_IDC_OK) {
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
    } else {
        printf("signed in\n");
    }
    rs_idc_client_free(client);
    return status == RS_IDC_OK ? 0 : -1;
}

/* ---- the connection ------------------------------------------------- */

/*
 * Resolves host:port and connects to the first address that answers.
 * Returns the socket or -1 after saying why.
 */
static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, "error: cannot resolve %s:%s: %s\n", host, port, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    int last_error = 0;
    for (const struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            last_error = errno;
            continue;
        }
        struct timeval limit = {IO_TIMEOUT_S, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            last_error = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0) {
        fprintf(stderr, "error: cannot connect to %s:%s: %s\n", host, port,
                strerror(last_error));
    }
    return fd;
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

/* Sends all n bytes on the plain socket (the SSLRequest only); 0 or -1. */
static int send_plain(int fd, const unsigned char *buf, size_t n)
{
    while (n > 0) {
        ssize_t sent = send(fd, buf, n, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent <= 0) {
            fprintf(stderr, "error: send: %s\n",
                    errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
            return -1;
        }
        buf += sent;
        n -= (size_t)sent;
    }
    return 0;
}

/* ---- TLS ------------------------------------------------------------- */

/* Set once an SSL call fails fatally: no close_notify may follow then. */
static int tls_broken;

/* Prints OpenSSL's queued errors after `what`, then clears the queue. */
static void print_openssl_errors(const char *what)
{
    unsigned long e = ERR_get_error();
    if (e == 0) {
        fprintf(stderr, "error: %s\n", what);
    }
    for (; e != 0; e = ERR_get_error()) {
        char text[256];
        ERR_error_string_n(e, text, sizeof text);
        fprintf(stderr, "error: %s: %s\n", what, text);
    }
}

/*
 * Says why an SSL call returned rc <= 0, in plain words where there are
 * some (the server closed the connection, a timeout, an OS error), else
 * with OpenSSL's messages.
 */
static void print_tls_io_error(SSL *ssl, int rc, const char *what)
{
    int saved_errno = errno;
    int err = SSL_get_error(ssl, rc);
    tls_broken = 1;
    unsigned long e = ERR_peek_error();
    if (err == SSL_ERROR_ZERO_RETURN ||
        (err == SSL_ERROR_SYSCALL && e == 0 && saved_errno == 0)
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
        || (err == SSL_ERROR_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
#endif
    ) {
        fprintf(stderr, "error: the server closed the connection\n");
    } else if (err == SSL_ERROR_SYSCALL && e == 0) {
        fprintf(stderr, "error: %s: %s\n", what,
                saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ? "timed out"
                                                                    : strerror(saved_errno));
    } else {
        print_openssl_errors(what);
    }
    ERR_clear_error();
}

/* Writes all n bytes through TLS; returns 0 or -1 after saying why. */
static int tls_write_all(SSL *ssl, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        errno = 0;
        int rc = SSL_write(ssl, p, chunk);
        if (rc <= 0) {
            print_tls_io_error(ssl, rc, "send");
            return -1;
        }
        p += rc;
        n -= (size_t)rc;
    }
    return 0;
}

/* Reads exactly n bytes through TLS; returns 0, or -1 after saying why. */
static int tls_read_exact(SSL *ssl, unsigned char *buf, size_t n)
{
    size_t have = 0;
    while (have < n) {
        size_t want = n - have;
        int chunk = want > INT_MAX ? INT_MAX : (int)want;
        errno = 0;
        int rc = SSL_read(ssl, buf + have, chunk);
        if (rc <= 0) {
            print_tls_io_error(ssl, rc, "receive");
            return -1;
        }
        have += (size_t)rc;
    }
    return 0;
}

static int is_ip_literal(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/*
 * The TLS settings, made before anything goes on the network: TLS 1.2 or
 * later; for verify-ca and verify-full, the trust anchors from CAFILE, or
 * the system's when there is none. Returns the context or NULL after
 * saying why.
 */
static SSL_CTX *make_tls_context(enum sslmode mode, const char *cafile)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        print_openssl_errors("cannot make a TLS context");
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        print_openssl_errors("cannot require TLS 1.2");
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (mode == SSLMODE_REQUIRE) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return ctx;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int loaded = cafile != NULL ? SSL_CTX_load_verify_locations(ctx, cafile, NULL)
                                : SSL_CTX_set_default_verify_paths(ctx);
    if (loaded != 1) {
        char what[512];
        snprintf(what, sizeof what, "cannot load the trust anchors from %s",
                 cafile != NULL ? cafile : "the system's default paths");
        print_openssl_errors(what);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/*
 * Asks the server for TLS on the connected socket and performs the
 * handshake with the checks of `mode`. Returns the TLS session, or NULL
 * after saying why (the socket is left to the caller). Nothing but the
 * SSLRequest and the handshake's own messages has been sent then.
 */
static SSL *start_tls(int fd, SSL_CTX *ctx, enum sslmode mode, const char *host)
{
    unsigned char request[8];
    put_u32(request, 8);
    put_u32(request + 4, SSL_REQUEST_CODE);
    if (send_plain(fd, request, sizeof request) != 0) {
        return NULL;
    }
    /* One byte only: anything after it belongs to the TLS handshake. */
    unsigned char answer = 0;
    ssize_t got;
    do {
        got = recv(fd, &answer, 1, 0);
    } while (got < 0 && errno == EINTR);
    if (got == 0) {
        fprintf(stderr, "error: the server closed the connection after the SSLRequest\n");
        return NULL;
    }
    if (got < 0) {
        fprintf(stderr, "error: receive: %s\n",
                errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : strerror(errno));
        return NULL;
    }
    if (answer == 'N') {
        fprintf(stderr, "error: the server declined TLS (it answered 'N' to the SSLRequest); "
                        "the token is never sent without TLS\n");
        return NULL;
    }
    if (answer != 'S') {
        fprintf(stderr, "error: protocol: the server answered 0x%02x to the SSLRequest\n",
                answer);
        return NULL;
    }

    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
        print_openssl_errors("cannot start TLS");
        SSL_free(ssl);
        return NULL;
    }
    int ip = is_ip_literal(host);
    /* SNI carries DNS names only (RFC 6066). */
    if (!ip && SSL_set_tlsext_host_name(ssl, host) != 1) {
        print_openssl_errors("cannot set the server name");
        SSL_free(ssl);
        return NULL;
    }
    if (mode == SSLMODE_VERIFY_FULL) {
        /* The certificate must name HOST: a DNS name (a wildcard only as a
           whole left-most label) or, for an IP literal, an IP address. */
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        int ok;
        if (ip) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(param, host);
        } else {
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = X509_VERIFY_PARAM_set1_host(param, host, 0);
        }
        if (ok != 1) {
            print_openssl_errors("cannot set the host name to check");
            SSL_free(ssl);
            return NULL;
        }
    }

    errno = 0;
    int rc = SSL_connect(ssl);
    long verify = SSL_get_verify_result(ssl);
    if (rc != 1) {
        if (mode != SSLMODE_REQUIRE && verify != X509_V_OK) {
            fprintf(stderr,
                    "error: the server's certificate was refused (sslmode %s): %s; "
                    "no token was sent\n",
                    mode == SSLMODE_VERIFY_FULL ? "verify-full" : "verify-ca",
                    X509_verify_cert_error_string(verify));
            ERR_clear_error();
        } else {
            print_tls_io_error(ssl, rc, "TLS handshake");
        }
        SSL_free(ssl);
        return NULL;
    }
    /* The handshake fails on a bad chain already; check again that there
       was a certificate and that it passed, not merely that none failed. */
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    int has_cert = SSL_get0_peer_certificate(ssl) != NULL;
#else
    X509 *cert = SSL_get_peer_certificate(ssl);
    int has_cert = cert != NULL;
    X509_free(cert);
#endif
    if (mode != SSLMODE_REQUIRE && (!has_cert || verify != X509_V_OK)) {
        fprintf(stderr, "error: the server's certificate was not verified\n");
        SSL_free(ssl);
        return NULL;
    }
    printf("TLS: %s, %s; certificate %s\n", SSL_get_version(ssl), SSL_get_cipher_name(ssl),
           mode == SSLMODE_VERIFY_FULL ? "verified for this host"
           : mode == SSLMODE_VERIFY_CA ? "chain verified (host name not checked: verify-ca)"
                                       : "NOT verified (sslmode require)");
    if (mode == SSLMODE_REQUIRE) {
        fprintf(stderr, "warning: sslmode require does not check who the server is; "
                        "anyone in the path can take the token\n");
    }
    return ssl;
}

/* ---- messages ------------------------------------------------------- */

/* Appends "name\0value\0" to buf; returns the new length or 0 if it does not fit. */
static size_t put_param(unsigned char *buf, size_t len, size_t size, const char *name,
                        const char *value)
{
    size_t a = strlen(name) + 1;
    size_t b = strlen(value) + 1;
    if (a + b + 1 > size - len) {
        return 0;
    }
    memcpy(buf + len, name, a);
    memcpy(buf + len + a, value, b);
    return len + a + b;
}

struct login_params {
    const char *user;      /* NULL: left out, the server takes it from the token */
    const char *database;
    const char *application_name;
    const char *identity_namespace; /* NULL: left out */
    const char *plugin_name;        /* IdpTokenAuthPlugin or BrowserIdcAuthPlugin */
    const char *token_type;         /* SUBJECT_TOKEN or ACCESS_TOKEN */
    const char *display_name;       /* idc_client_display_name; NULL: left out */
};

static int send_startup(SSL *ssl, const struct login_params *p)
{
    unsigned char buf[2048];
    size_t len = 8;
    const char *params[][2] = {
        {"user", p->user},
        {"database", p->database},
        {"application_name", p->application_name},
        {"client_protocol_version", CLIENT_PROTOCOL_VERSION},
        {"client_encoding", "UTF8"},
        {"plugin_name", p->plugin_name},
        {"idp_type", "AwsIdc"},
        {"token_type", p->token_type},
        {"identity_namespace", p->identity_namespace},
        {"idc_client_display_name", p->display_name},
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        if (params[i][1] == NULL) {
            continue; /* not given: left out */
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
    return tls_write_all(ssl, buf, len);
}

/*
 * The IdP token message: 'i', Int32 length (itself, the token and its NUL),
 * the token, NUL. The token goes to SSL_write straight from the library's
 * buffer, NUL included.
 */
static int send_idp_token(SSL *ssl, const char *token)
{
    size_t n = strlen(token);
    if (n == 0 || n > MAX_MESSAGE) {
        fprintf(stderr, "error: unusable token length %zu\n", n);
        return -1;
    }
    unsigned char head[5];
    head[0] = 'i';
    put_u32(head + 1, (uint32_t)(4 + n + 1));
    if (tls_write_all(ssl, head, sizeof head) != 0) {
        return -1;
    }
    return tls_write_all(ssl, token, n + 1);
}

static int send_terminate(SSL *ssl)
{
    static const unsigned char msg[5] = {'X', 0, 0, 0, 4};
    return tls_write_all(ssl, msg, sizeof msg);
}

/*
 * Reads one server message: its type in *type, its body (length n) in a
 * new buffer *body with a NUL after it. Returns 0 or -1.
 */
static int read_message(SSL *ssl, char *type, unsigned char **body, size_t *n)
{
    unsigned char head[5];
    if (tls_read_exact(ssl, head, sizeof head) != 0) {
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
    if (tls_read_exact(ssl, *body, *n) != 0) {
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
 * Runs the login inside TLS. `token` is sent when the server asks for it
 * and freed (wiped) right after; *token is NULL afterwards. Returns 0 when
 * the server is ready for queries.
 */
static int login(SSL *ssl, const struct login_params *p, char **token)
{
    if (send_startup(ssl, p) != 0) {
        return -1;
    }
    int authenticated = 0;
    int parameters = 0;
    for (;;) {
        char type = 0;
        unsigned char *body = NULL;
        size_t n = 0;
        if (read_message(ssl, &type, &body, &n) != 0) {
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
                int rc = send_idp_token(ssl, *token);
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
    const char *host = env_or("PGHOST", "localhost");
    const char *port = env_or("PGPORT", "5439");
    const char *sslmode_text = env_or("PGSSLMODE", "verify-full");
    const char *cafile = env_or("PGSSLROOTCERT", NULL);
    struct login_params params = {
        env_or("PGUSER", NULL),
        env_or("PGDATABASE", "dev"),
        env_or("PGAPPNAME", "libpq_login"),
        NULL,
        "IdpTokenAuthPlugin",
        "SUBJECT_TOKEN",
        NULL,
    };
    struct browser_options browser = {NULL, NULL, NULL, NULL, NULL};

    int opt;
    while ((opt = getopt(argc, argv, "h:p:U:d:m:c:n:b:r:l:w:N:")) != -1) {
        switch (opt) {
        case 'h':
            host = optarg;
            break;
        case 'p':
            port = optarg;
            break;
        case 'U':
            params.user = optarg[0] != '\0' ? optarg : NULL;
            break;
        case 'd':
            params.database = optarg;
            break;
        case 'm':
            sslmode_text = optarg;
            break;
        case 'c':
            cafile = optarg;
            break;
        case 'n':
            params.identity_namespace = optarg[0] != '\0' ? optarg : NULL;
            break;
        case 'b':
            browser.issuer_url = optarg;
            break;
        case 'r':
            browser.idc_region = optarg;
            break;
        case 'l':
            browser.listen_port = optarg;
            break;
        case 'w':
            browser.timeout_s = optarg;
            break;
        case 'N':
            browser.display_name = optarg;
            break;
        default:
            usage(argv[0]);
            return 2;
        }
    }
    enum sslmode mode = SSLMODE_VERIFY_FULL;
    int browser_mode = browser.issuer_url != NULL;
    int browser_flags = browser.idc_region != NULL || browser.listen_port != NULL ||
                        browser.timeout_s != NULL || browser.display_name != NULL;
    if (!browser_mode && browser_flags) {
        fprintf(stderr, "error: -r, -l, -w and -N go with -b\n");
        usage(argv[0]);
        return 2;
    }
    if (optind != argc - (browser_mode ? 0 : 1) || parse_sslmode(sslmode_text, &mode) != 0) {
        if (browser_mode && optind < argc) {
            fprintf(stderr, "error: -b names no cluster: the access token is the person's\n");
        }
        usage(argv[0]);
        return 2;
    }
    const char *target = browser_mode ? NULL : argv[optind];
    if (browser_mode) {
        params.plugin_name = "BrowserIdcAuthPlugin";
        params.token_type = "ACCESS_TOKEN";
        params.display_name = browser.display_name;
    }

    /* A peer that hangs up makes SSL_write fail with EPIPE instead of
       killing the process. (A library would not change the process's
       signal handling; libpq blocks SIGPIPE around its writes.) */
    signal(SIGPIPE, SIG_IGN);

    if (cafile != NULL && (cafile[0] == '\0' || strcmp(cafile, "system") == 0)) {
        cafile = NULL; /* the system's trust store */
    }

    /* 1. The TLS settings and trust anchors, before any traffic. */
    SSL_CTX *ctx = make_tls_context(mode, cafile);
    if (ctx == NULL) {
        return 1;
    }

    /* With -b, the sign-in in the browser: it waits for a person, so it
       comes before the connection (see the top of this file). */
    char *token = NULL;
    int64_t expires = 0;
    if (browser_mode && get_browser_token(&browser, &token, &expires) != 0) {
        SSL_CTX_free(ctx);
        return 1;
    }

    /* 2. The connection, TLS and the server's certificate. */
    int fd = connect_to(host, port);
    if (fd < 0) {
        rs_idc_free_token(token);
        SSL_CTX_free(ctx);
        return 1;
    }
    printf("connected to %s:%s\n", host, port);
    SSL *ssl = start_tls(fd, ctx, mode, host);
    if (ssl == NULL) {
        rs_idc_free_token(token); /* never sent: the server was refused */
        close(fd);
        SSL_CTX_free(ctx);
        return 1;
    }

    /* 3. The token, from rs-idc, now that the server has proved who it is
       (with -b, the access token is sent only now). */
    int rc = -1;
    if (token != NULL || get_token(target, &token, &expires) == 0) {
        printf("token: %zu bytes, expires in %lld s\n", strlen(token),
               (long long)(expires - (int64_t)time(NULL)));

        /* 4. The login. */
        rc = login(ssl, &params, &token);
        rs_idc_free_token(token); /* NULL once sent; wipes it on the other paths */
        if (rc == 0) {
            printf("login ok\n");
            send_terminate(ssl);
        }
    }
    if (!tls_broken) {
        SSL_shutdown(ssl); /* close_notify; the server's answer is not awaited */
    }
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    return rc == 0 ? 0 : 1;
}
