/*
 * driver_options.c - how a database driver maps its connection string onto
 * rs-idc client options and calls, and gets an Amazon Redshift IAM Identity
 * Center auth token for the cluster or workgroup it connects to.
 *
 *     usage: driver_options ["Key=Value;Key=Value;..." | -]
 *
 * For example:
 *
 *     driver_options "ClusterId=my-cluster;Region=us-east-1;DisableCache=1"
 *     driver_options "serverless_work_group=my-wg;is_serverless=true;region=us-east-1"
 *     printf '%s' "$CONNECTION_STRING" | driver_options -
 *
 * With `-` the connection string is read from standard input: a string
 * that holds secrets (SecretAccessKey, https_proxy_password, ...) is better
 * not put on a command line, where other users may see it. Without an
 * argument it builds a connection string from the environment that
 * `rs-idc-fake run` sets up (the local fake endpoint and its test keys), so
 * `rs-idc-fake run -- driver_options` works as it is.
 *
 * Build (from the project's top directory, after `cargo build --release`):
 *
 *     cc -std=c11 -Iinclude examples-c/driver_options.c -o driver_options \
 *        -Ltarget/release -Wl,-rpath,$PWD/target/release -lrs_idc
 *
 * The connection string is read ODBC-style: `Key=Value` pairs separated by
 * `;`, a value in braces (`{a;b}`) may hold `;`. Keys are case-insensitive,
 * as in the official Redshift drivers, whose names are taken here: the ODBC
 * driver's (ODBC), the JDBC driver's (JDBC) and those of the Python driver
 * redshift_connector (Python). Names that differ only in case are one key
 * (the ODBC driver's ClusterId is JDBC's ClusterID); names of one setting
 * from different drivers are aliases, and giving two of them is an error.
 *
 * | connection string key(s)                         | rs-idc                                  |
 * | ------------------------------------------------ | --------------------------------------- |
 * | ClusterId (ODBC, JDBC), cluster_identifier (Py)  | ids of rs_idc_client_get_token()        |
 * | Workgroup (ODBC), serverlessWorkGroup (JDBC),    | names of                                |
 * |   serverless_work_group (Python)                 |   rs_idc_client_get_serverless_token()  |
 * | Serverless (ODBC), isServerless (JDBC),          | 1: the serverless call (with Workgroup, |
 * |   is_serverless (Python)                         |   or a serverless Host)                 |
 * | Host (JDBC, Python), Server (ODBC)               | rs_idc_client_get_token_for_host(), if  |
 * |                                                  |   no ClusterId or Workgroup is given    |
 * | Region (all)                                     | option region                           |
 * | EndpointUrl (ODBC, JDBC), endpoint_url (Python)  | option endpoint_url                     |
 * | CaFile (ODBC)                                    | option ca_file                          |
 * | DisableCache (ODBC), IAMDisableCache (JDBC),     | option cache: off when 1, on when 0     |
 * |   iam_disable_cache (Python)                     |                                         |
 * | AccessKeyID (all), access_key_id (Python)        | option access_key_id      (the three    |
 * | SecretAccessKey (all), secret_access_key (Py)    | option secret_access_key   go together; |
 * | SessionToken (all), session_token (Python)       | option session_token       secrets)     |
 * | https_proxy_host, https_proxy_port,              | option proxy: http://[USER:PASSWORD@]   |
 * |   https_proxy_username, https_proxy_password     |   HOST:PORT, user and password          |
 * |   (ODBC: the proxy of its AWS calls)             |   percent-encoded (password: secret)    |
 * | Timeout (this example's own, seconds)            | option timeout_ms (times 1000)          |
 *
 * The ODBC driver's ProxyHost, ProxyPort, ProxyUid and ProxyPwd are the
 * proxy of the database connection itself (the driver hands them to
 * libpq), not of the AWS calls, so they are left to the driver, like Port,
 * Database, UID, PWD and every other key. The JDBC and Python drivers have
 * no proxy keys of their own (JDBC takes the JVM's proxy settings); the
 * library reads HTTPS_PROXY and NO_PROXY from the environment when the
 * proxy option is not given. Settings not given come from the environment
 * as for rs_idc_get_token(): AWS_REGION, the AWS credential chain,
 * AWS_ENDPOINT_URL, and so on.
 *
 * A bad value is reported with the connection string key at fault: the
 * ones this example reads itself (Serverless, DisableCache, the proxy
 * keys, Timeout) here, the others through rs_idc_client_new(), whose
 * message names the option, mapped back to the key it came from.
 *
 * The token and the secrets are never printed: only the token's length
 * and expiry, the keys, and the values that are not secret.
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* for gmtime_r() and strncasecmp() */
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "rs_idc.h"

#define MAX_PAIRS 64
/* The longest connection string read from standard input. */
#define MAX_INPUT (64 * 1024)

/* One Key=Value pair of the connection string (pointing into a copy of it). */
struct pair {
    char *key;
    char *value;
};

/* Trims spaces and tabs at both ends, in place. */
static char *trim(char *text)
{
    while (*text == ' ' || *text == '\t') {
        text++;
    }
    size_t len = strlen(text);
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t')) {
        text[--len] = '\0';
    }
    return text;
}

/*
 * Splits `text` (modified in place) into Key=Value pairs. Returns the
 * number of pairs, or -1 for a malformed string (the message names no
 * value, since a value may be a secret).
 */
static int parse_pairs(char *text, struct pair *pairs, int max)
{
    int n = 0;
    char *p = text;
    while (*p != '\0') {
        while (*p == ';' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        char *key = p;
        while (*p != '\0' && *p != '=' && *p != ';') {
            p++;
        }
        if (*p != '=') {
            fprintf(stderr, "error: pair %d of the connection string has no '='\n", n + 1);
            return -1;
        }
        *p++ = '\0';
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        char *value;
        if (*p == '{') {
            /* {value}: anything up to the closing brace, ';' included. */
            value = ++p;
            while (*p != '\0' && *p != '}') {
                p++;
            }
            if (*p != '}') {
                fprintf(stderr, "error: the value of %s has no closing '}'\n", trim(key));
                return -1;
            }
            *p++ = '\0';
            while (*p != '\0' && *p != ';') {
                p++;
            }
        } else {
            value = p;
            while (*p != '\0' && *p != ';' && *p != '\n' && *p != '\r') {
                p++;
            }
        }
        if (*p != '\0') {
            *p++ = '\0';
        }
        if (n == max) {
            fprintf(stderr, "error: more than %d pairs in the connection string\n", max);
            return -1;
        }
        pairs[n].key = trim(key);
        pairs[n].value = trim(value);
        n++;
    }
    return n;
}

/*
 * The keys of the official drivers this example reads, in groups of
 * aliases (at most four names each); the first name is the one shown.
 */
enum setting {
    S_CLUSTER,
    S_WORKGROUP,
    S_SERVERLESS,
    S_HOST,
    S_REGION,
    S_ENDPOINT,
    S_CA_FILE,
    S_DISABLE_CACHE,
    S_ACCESS_KEY_ID,
    S_SECRET_ACCESS_KEY,
    S_SESSION_TOKEN,
    S_PROXY_HOST,
    S_PROXY_PORT,
    S_PROXY_USER,
    S_PROXY_PASSWORD,
    S_TIMEOUT,
    S_COUNT
};

static const struct {
    const char *names[4];
    const char *option; /* the rs_idc_option it maps onto one to one, or NULL */
    int secret;         /* never printed */
} settings[S_COUNT] = {
    [S_CLUSTER] = {{"ClusterId", "cluster_identifier"}, NULL, 0},
    [S_WORKGROUP] = {{"Workgroup", "serverlessWorkGroup", "serverless_work_group"}, NULL, 0},
    [S_SERVERLESS] = {{"Serverless", "isServerless", "is_serverless"}, NULL, 0},
    [S_HOST] = {{"Host", "Server"}, NULL, 0},
    [S_REGION] = {{"Region"}, "region", 0},
    [S_ENDPOINT] = {{"EndpointUrl", "endpoint_url"}, "endpoint_url", 0},
    [S_CA_FILE] = {{"CaFile"}, "ca_file", 0},
    [S_DISABLE_CACHE] = {{"DisableCache", "IAMDisableCache", "iam_disable_cache"}, NULL, 0},
    [S_ACCESS_KEY_ID] = {{"AccessKeyID", "access_key_id"}, "access_key_id", 0},
    [S_SECRET_ACCESS_KEY] = {{"SecretAccessKey", "secret_access_key"}, "secret_access_key", 1},
    [S_SESSION_TOKEN] = {{"SessionToken", "session_token"}, "session_token", 1},
    [S_PROXY_HOST] = {{"https_proxy_host"}, NULL, 0},
    [S_PROXY_PORT] = {{"https_proxy_port"}, NULL, 0},
    [S_PROXY_USER] = {{"https_proxy_username"}, NULL, 0},
    [S_PROXY_PASSWORD] = {{"https_proxy_password"}, NULL, 1},
    [S_TIMEOUT] = {{"Timeout"}, NULL, 0},
};

/* Which setting a key names (case-insensitive), or S_COUNT. */
static enum setting setting_of(const char *key)
{
    for (int s = 0; s < S_COUNT; s++) {
        for (int a = 0; a < 4 && settings[s].names[a] != NULL; a++) {
            if (strcasecmp(key, settings[s].names[a]) == 0) {
                return (enum setting)s;
            }
        }
    }
    return S_COUNT;
}

/* The pair given for each setting (NULL when none). */
struct given {
    const struct pair *of[S_COUNT];
};

/* Fills `given` from the pairs; -1 when one setting is given twice. */
static int collect(const struct pair *pairs, int n, struct given *given)
{
    memset(given, 0, sizeof *given);
    for (int i = 0; i < n; i++) {
        enum setting s = setting_of(pairs[i].key);
        if (s == S_COUNT) {
            /* The key's name only: its value could be a password. */
            printf("left to the driver: %s\n", pairs[i].key);
            continue;
        }
        if (given->of[s] != NULL) {
            fprintf(stderr, "error: %s and %s name the same setting: give one of them\n",
                    given->of[s]->key, pairs[i].key);
            return -1;
        }
        given->of[s] = &pairs[i];
    }
    return 0;
}

/* The value given for setting `s`, or NULL. */
static const char *value_of(const struct given *given, enum setting s)
{
    return given->of[s] != NULL ? given->of[s]->value : NULL;
}

/* The key as the connection string spelled it (or the usual name). */
static const char *key_of(const struct given *given, enum setting s)
{
    return given->of[s] != NULL ? given->of[s]->key : settings[s].names[0];
}

/*
 * A driver's boolean: 1/0, true/false, yes/no, on/off (any case). Returns
 * 1 or 0, -1 when the setting is not given, -2 (reported, naming the key)
 * for anything else.
 */
static int boolean_of(const struct given *given, enum setting s)
{
    const char *value = value_of(given, s);
    if (value == NULL) {
        return -1;
    }
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            return 1;
        }
        if (strcasecmp(value, no[i]) == 0) {
            return 0;
        }
    }
    fprintf(stderr, "error: %s must be 1 or 0 (also true/false, yes/no, on/off)\n",
            key_of(given, s));
    return -2;
}

/* Appends `text` to buf (of `size` bytes, holding `*len`), percent-encoding
 * all but the unreserved characters of RFC 3986. -1 when it does not fit. */
static int append_encoded(char *buf, size_t size, size_t *len, const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
                    *p == '~';
        size_t need = plain ? 1 : 3;
        if (*len + need >= size) {
            return -1;
        }
        if (plain) {
            buf[(*len)++] = (char)*p;
        } else {
            buf[(*len)++] = '%';
            buf[(*len)++] = hex[*p >> 4];
            buf[(*len)++] = hex[*p & 15];
        }
    }
    buf[*len] = '\0';
    return 0;
}

/* Appends plain `text`; -1 when it does not fit. */
static int append(char *buf, size_t size, size_t *len, const char *text)
{
    size_t add = strlen(text);
    if (*len + add >= size) {
        return -1;
    }
    memcpy(buf + *len, text, add + 1);
    *len += add;
    return 0;
}

/*
 * The proxy option from the https_proxy_* keys, written to `buf`:
 * http://[USER[:PASSWORD]@]HOST:PORT, with the user and password
 * percent-encoded. Returns 1 when a proxy was built, 0 when no proxy key
 * is given, -1 for a bad combination or value (reported, naming the key).
 */
static int proxy_of(const struct given *given, char *buf, size_t size)
{
    const char *host = value_of(given, S_PROXY_HOST);
    const char *port = value_of(given, S_PROXY_PORT);
    const char *user = value_of(given, S_PROXY_USER);
    const char *password = value_of(given, S_PROXY_PASSWORD);
    if (host == NULL) {
        for (int s = S_PROXY_PORT; s <= S_PROXY_PASSWORD; s++) {
            if (given->of[s] != NULL) {
                fprintf(stderr, "error: %s needs %s\n", key_of(given, (enum setting)s),
                        key_of(given, S_PROXY_HOST));
                return -1;
            }
        }
        return 0;
    }
    if (host[0] == '\0' || strpbrk(host, "/@?# ") != NULL) {
        fprintf(stderr, "error: %s must be a host name or address\n",
                key_of(given, S_PROXY_HOST));
        return -1;
    }
    char *end = NULL;
    long number = port != NULL ? strtol(port, &end, 10) : 0;
    if (port == NULL || end == port || *end != '\0' || number < 1 || number > 65535) {
        fprintf(stderr, "error: %s must be a port number from 1 to 65535\n",
                key_of(given, S_PROXY_PORT));
        return -1;
    }
    if (password != NULL && user == NULL) {
        fprintf(stderr, "error: %s needs %s\n", key_of(given, S_PROXY_PASSWORD),
                key_of(given, S_PROXY_USER));
        return -1;
    }
    size_t len = 0;
    int bad = append(buf, size, &len, "http://");
    if (user != NULL) {
        bad |= append_encoded(buf, size, &len, user);
        if (password != NULL) {
            bad |= append(buf, size, &len, ":");
            bad |= append_encoded(buf, size, &len, password);
        }
        bad |= append(buf, size, &len, "@");
    }
    /* An IPv6 address goes in brackets. */
    int v6 = strchr(host, ':') != NULL && host[0] != '[';
    bad |= append(buf, size, &len, v6 ? "[" : "");
    bad |= append(buf, size, &len, host);
    bad |= append(buf, size, &len, v6 ? "]:" : ":");
    bad |= append(buf, size, &len, port);
    if (bad) {
        fprintf(stderr, "error: the https_proxy_* values are too long\n");
        return -1;
    }
    return 1;
}

/*
 * A connection string from the environment of `rs-idc-fake run`, in a
 * buffer the caller frees; NULL when that environment is missing.
 */
static char *connection_string_from_environment(void)
{
    const char *endpoint = getenv("AWS_ENDPOINT_URL");
    const char *region = getenv("AWS_REGION");
    const char *key_id = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *session = getenv("AWS_SESSION_TOKEN");
    const char *ca_file = getenv("RS_IDC_FAKE_CA_FILE");
    if (endpoint == NULL || region == NULL || key_id == NULL || secret == NULL ||
        session == NULL) {
        return NULL;
    }
    const char *format = "Host=pool-cluster.abc123.%s.redshift.amazonaws.com;Port=5439;"
                         "Database=dev;Region=%s;EndpointUrl=%s;AccessKeyID=%s;"
                         "SecretAccessKey={%s};SessionToken={%s};Timeout=20;%s%s%s";
    int len = snprintf(NULL, 0, format, region, region, endpoint, key_id, secret, session,
                       ca_file ? "CaFile=" : "", ca_file ? ca_file : "", ca_file ? ";" : "");
    if (len < 0) {
        return NULL;
    }
    char *text = malloc((size_t)len + 1);
    if (text != NULL) {
        snprintf(text, (size_t)len + 1, format, region, region, endpoint, key_id, secret,
                 session, ca_file ? "CaFile=" : "", ca_file ? ca_file : "",
                 ca_file ? ";" : "");
    }
    return text;
}

/* The connection string on standard input (at most MAX_INPUT bytes), or NULL. */
static char *connection_string_from_stdin(void)
{
    char *text = malloc(MAX_INPUT + 1);
    if (text == NULL) {
        return NULL;
    }
    size_t have = fread(text, 1, MAX_INPUT + 1, stdin);
    if (have > MAX_INPUT || ferror(stdin)) {
        fprintf(stderr, "error: the connection string on standard input is longer than %d "
                        "bytes or cannot be read\n",
                MAX_INPUT);
        memset(text, 0, have > MAX_INPUT ? MAX_INPUT + 1 : have);
        free(text);
        return NULL;
    }
    text[have] = '\0';
    return text;
}

/* Overwrites a buffer that held secrets (`size` bytes). */
static void wipe(char *buf, size_t size)
{
    volatile char *p = buf;
    for (size_t i = 0; i < size; i++) {
        p[i] = '\0';
    }
}

/*
 * After rs_idc_client_new() refused the options: the connection string
 * key(s) behind the option its message names. The message starts with
 * "KEY: ..." for a bad value, "options[i]: ..." for a bad key, and names
 * the three credential options when one of them is missing.
 */
static void report_option_at_fault(const rs_idc_option *options, const char *const *sources,
                                   size_t n)
{
    const char *message = rs_idc_last_error();
    for (size_t i = 0; i < n; i++) {
        char index[32];
        snprintf(index, sizeof index, "options[%zu]:", i);
        size_t key_len = strlen(options[i].key);
        int named = strncmp(message, index, strlen(index)) == 0 ||
                    (strncmp(message, options[i].key, key_len) == 0 && message[key_len] == ':');
        if (named) {
            fprintf(stderr, "error: the value of %s (option %s) is at fault\n", sources[i],
                    options[i].key);
            return;
        }
    }
    if (strstr(message, "go together") != NULL) {
        fprintf(stderr, "error: AccessKeyID, SecretAccessKey and SessionToken go together\n");
    }
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: %s [\"Key=Value;...\" | -]\n", argv[0]);
        return 2;
    }
    /* A private, writable copy: parsing cuts it into pairs. */
    char *text = argc < 2                   ? connection_string_from_environment()
                 : strcmp(argv[1], "-") == 0 ? connection_string_from_stdin()
                                             : strdup(argv[1]);
    if (text == NULL) {
        fprintf(stderr,
                "usage: %s \"Key=Value;...\" | - (or run it under `rs-idc-fake run --`)\n",
                argv[0]);
        return 2;
    }

    /* Parsing puts NULs into the text: its length now, to wipe all of it at the end. */
    size_t text_len = strlen(text);
    int status = 1;
    rs_idc_client *client = NULL;
    char *token = NULL;
    char proxy[2048] = "";
    struct pair pairs[MAX_PAIRS];
    struct given given;
    int n = parse_pairs(text, pairs, MAX_PAIRS);
    if (n < 0 || collect(pairs, n, &given) != 0) {
        goto done;
    }

    /*
     * Map the connection string onto options; sources[i] is the key that
     * options[i] came from, to name it when the option is refused.
     */
    rs_idc_option options[RS_IDC_MAX_OPTIONS];
    const char *sources[RS_IDC_MAX_OPTIONS];
    size_t n_options = 0;
    for (int s = 0; s < S_COUNT; s++) {
        if (settings[s].option != NULL && given.of[s] != NULL) {
            sources[n_options] = given.of[s]->key;
            options[n_options++] = (rs_idc_option){settings[s].option, given.of[s]->value};
        }
    }
    /* DisableCache=1 turns the token cache off; 0 keeps it on. */
    int disable_cache = boolean_of(&given, S_DISABLE_CACHE);
    if (disable_cache == -2) {
        goto done;
    }
    if (disable_cache >= 0) {
        sources[n_options] = key_of(&given, S_DISABLE_CACHE);
        options[n_options++] = (rs_idc_option){"cache", disable_cache ? "off" : "on"};
    }
    /* The https_proxy_* keys make one proxy URL. */
    int has_proxy = proxy_of(&given, proxy, sizeof proxy);
    if (has_proxy < 0) {
        goto done;
    }
    if (has_proxy) {
        sources[n_options] = "https_proxy_host/port/username/password";
        options[n_options++] = (rs_idc_option){"proxy", proxy};
    }
    /* Timeout in seconds; the library takes milliseconds, whole call, retries included. */
    char timeout_ms[32];
    const char *timeout = value_of(&given, S_TIMEOUT);
    if (timeout != NULL) {
        char *end = NULL;
        long seconds = strtol(timeout, &end, 10);
        if (end == timeout || *end != '\0' || seconds < 1 || seconds > 3600) {
            fprintf(stderr, "error: %s must be a whole number of seconds from 1 to 3600\n",
                    key_of(&given, S_TIMEOUT));
            goto done;
        }
        snprintf(timeout_ms, sizeof timeout_ms, "%ld", seconds * 1000);
        sources[n_options] = key_of(&given, S_TIMEOUT);
        options[n_options++] = (rs_idc_option){"timeout_ms", timeout_ms};
    }

    /* Show the mapping: keys, and values only where they are not secret. */
    for (size_t i = 0; i < n_options; i++) {
        int secret = strcmp(options[i].key, "secret_access_key") == 0 ||
                     strcmp(options[i].key, "session_token") == 0;
        if (options[i].value == proxy) {
            /* The proxy URL may carry a password: its host and port only. */
            printf("%s -> proxy = http://%s%s:%s\n", sources[i],
                   value_of(&given, S_PROXY_USER) != NULL ? "***@" : "",
                   value_of(&given, S_PROXY_HOST), value_of(&given, S_PROXY_PORT));
        } else if (secret) {
            printf("%s -> %s (secret, not shown)\n", sources[i], options[i].key);
        } else {
            printf("%s -> %s = %s\n", sources[i], options[i].key, options[i].value);
        }
    }

    /*
     * Make the handle. Every option is checked here (a bad one gives
     * RS_IDC_EINVAL and a message naming the option, never a secret value);
     * nothing is contacted yet. A driver keeps the handle for the life of
     * its connection pool and shares it between threads.
     */
    int got = rs_idc_client_new(options, n_options, &client);
    if (got != RS_IDC_OK) {
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(got), rs_idc_last_error());
        report_option_at_fault(options, sources, n_options);
        goto done;
    }

    /*
     * The call: serverless for a Workgroup (or Serverless=1 with a
     * serverless Host), provisioned for a ClusterId, else by the Host.
     */
    int64_t expires = 0;
    const char *cluster_id = value_of(&given, S_CLUSTER);
    const char *workgroup = value_of(&given, S_WORKGROUP);
    const char *host = value_of(&given, S_HOST);
    int serverless = boolean_of(&given, S_SERVERLESS);
    if (serverless == -2) {
        goto done;
    }
    if (workgroup != NULL && serverless == 0) {
        fprintf(stderr, "error: %s names a Redshift Serverless workgroup, but %s is 0\n",
                key_of(&given, S_WORKGROUP), key_of(&given, S_SERVERLESS));
        goto done;
    }
    if (serverless == 1 && workgroup == NULL && cluster_id != NULL) {
        fprintf(stderr, "error: %s names a provisioned cluster, but %s is 1: give %s\n",
                key_of(&given, S_CLUSTER), key_of(&given, S_SERVERLESS),
                key_of(&given, S_WORKGROUP));
        goto done;
    }
    if (workgroup != NULL) {
        const char *names[] = {workgroup};
        printf("workgroup: %s (serverless)\n", workgroup);
        got = rs_idc_client_get_serverless_token(client, names, 1, &token, &expires);
    } else if (cluster_id != NULL) {
        const char *ids[] = {cluster_id};
        printf("cluster: %s\n", cluster_id);
        got = rs_idc_client_get_token(client, ids, 1, &token, &expires);
    } else if (host != NULL) {
        /*
         * A Redshift host name (either kind) is read locally; any other DNS
         * name is looked up as a custom domain name of a cluster or
         * workgroup. An IP address is refused: give ClusterId or Workgroup.
         */
        printf("host: %s\n", host);
        got = rs_idc_client_get_token_for_host(client, host, &token, &expires);
    } else {
        fprintf(stderr, "error: the connection string names no ClusterId, Workgroup or Host\n");
        goto done;
    }
    if (got != RS_IDC_OK) {
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(got), rs_idc_last_error());
        goto done;
    }

    /* The length and expiry only, never the token itself. */
    time_t at = (time_t)expires;
    struct tm utc;
    char when[32] = "?";
    if (gmtime_r(&at, &utc) != NULL) {
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    }
    printf("token: %zu bytes, expires %s (in %lld s)\n", strlen(token), when,
           (long long)(expires - (int64_t)time(NULL)));
    /*
     * A driver now sends the token to the server with
     * token_type=SUBJECT_TOKEN, and asks the handle again for the next
     * connection: cached tokens cost a copy. If the server refuses the
     * token, the driver calls rs_idc_forget_token(token), gets a new one
     * and retries the login once.
     */
    status = 0;

done:
    rs_idc_free_token(token);
    rs_idc_client_free(client);
    wipe(proxy, sizeof proxy); /* it may hold the proxy password */
    wipe(text, text_len);      /* it held the secrets of the connection string */
    free(text);
    return status;
}
