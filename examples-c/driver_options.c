/*
 * driver_options.c - how a database driver maps its connection string onto
 * rs-idc client options and gets an Amazon Redshift IAM Identity Center
 * auth token for the host it connects to.
 *
 *     usage: driver_options ["Key=Value;Key=Value;..."]
 *
 * For example:
 *
 *     driver_options "Host=pool-cluster.abc123.us-east-1.redshift.amazonaws.com;
 *                     Region=us-east-1;AccessKeyID=...;SecretAccessKey=...;
 *                     SessionToken=...;Timeout=20"
 *
 * Without an argument it builds a connection string from the environment
 * that `rs-idc-fake run` sets up (the local fake endpoint and its test
 * keys), so `rs-idc-fake run -- driver_options` works as it is.
 *
 * Build (from the project's top directory, after `cargo build --release`):
 *
 *     cc -std=c11 -Iinclude examples-c/driver_options.c -o driver_options \
 *        -Ltarget/release -Wl,-rpath,$PWD/target/release -lrs_idc
 *
 * The connection string is read ODBC-style: `Key=Value` pairs separated by
 * `;`, keys case-insensitive, a value in braces (`{a;b}`) may hold `;`.
 * The keys are those of the official Redshift drivers; each maps onto one
 * rs_idc_option key:
 *
 * | connection string key    | rs_idc_option key      | notes                               |
 * | ------------------------ | ---------------------- | ----------------------------------- |
 * | Host                     | (none)                 | rs_idc_client_get_token_for_host()  |
 * | ClusterID                | (none)                 | rs_idc_client_get_token(); wins     |
 * | Workgroup                | (none)                 | ..._get_serverless_token(); wins    |
 * | Region                   | region                 |                                     |
 * | EndpointUrl              | endpoint_url           | tests and private endpoints         |
 * | AccessKeyID              | access_key_id          | the three go together:              |
 * | SecretAccessKey          | secret_access_key      | identity-enhanced credentials       |
 * | SessionToken             | session_token          | (secret: never printed)             |
 * | CaFile                   | ca_file                | PEM file of extra trusted CAs       |
 * | Proxy                    | proxy                  | http://host:port                    |
 * | ProxyHost + ProxyPort    | proxy                  | joined into http://HOST:PORT        |
 * | Timeout                  | timeout_ms             | seconds here, times 1000            |
 *
 * Any other key (Port, Database, UID, ...) belongs to the rest of the
 * driver and is left alone here. Settings not given come from the
 * environment, as for rs_idc_get_token(): AWS_REGION, the AWS credential
 * chain, AWS_ENDPOINT_URL, and so on.
 *
 * The token and the secrets are never printed: only the token's length
 * and expiry, and the names (not values) of the keys.
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

#define MAX_PAIRS 32

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
        while (*p == ';' || *p == ' ' || *p == '\t' || *p == '\n') {
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
            while (*p != '\0' && *p != ';') {
                p++;
            }
        }
        if (*p == ';') {
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

/* The value of `key` (case-insensitive), or NULL. */
static const char *lookup(const struct pair *pairs, int n, const char *key)
{
    for (int i = 0; i < n; i++) {
        if (strcasecmp(pairs[i].key, key) == 0) {
            return pairs[i].value;
        }
    }
    return NULL;
}

/* Connection string keys that map one to one onto an rs_idc_option key. */
static const struct {
    const char *driver_key;
    const char *option_key;
} direct[] = {
    {"Region", "region"},
    {"EndpointUrl", "endpoint_url"},
    {"AccessKeyID", "access_key_id"},
    {"SecretAccessKey", "secret_access_key"},
    {"SessionToken", "session_token"},
    {"CaFile", "ca_file"},
    {"Proxy", "proxy"},
};

/* The keys this example reads itself (not passed on as options). */
static int handled_elsewhere(const char *key)
{
    static const char *const keys[] = {"Host", "ClusterID", "Workgroup",
                                       "ProxyHost", "ProxyPort", "Timeout"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcasecmp(key, keys[i]) == 0) {
            return 1;
        }
    }
    return 0;
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

/* Overwrites a buffer that held secrets before freeing it. */
static void wipe_and_free(char *text)
{
    if (text != NULL) {
        volatile char *p = text;
        while (*p != '\0') {
            *p++ = '\0';
        }
        free(text);
    }
}

int main(int argc, char **argv)
{
    if (argc > 2) {
        fprintf(stderr, "usage: %s [\"Key=Value;...\"]\n", argv[0]);
        return 2;
    }
    /* A private, writable copy: parsing cuts it into pairs. */
    char *text = argc == 2 ? strdup(argv[1]) : connection_string_from_environment();
    if (text == NULL) {
        fprintf(stderr, "usage: %s \"Key=Value;...\" (or run it under `rs-idc-fake run --`)\n",
                argv[0]);
        return 2;
    }

    int status = 1;
    rs_idc_client *client = NULL;
    char *token = NULL;
    struct pair pairs[MAX_PAIRS];
    int n = parse_pairs(text, pairs, MAX_PAIRS);
    if (n < 0) {
        goto done;
    }

    /* Map the connection string onto options. */
    rs_idc_option options[RS_IDC_MAX_OPTIONS];
    size_t n_options = 0;
    for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) {
        const char *value = lookup(pairs, n, direct[i].driver_key);
        if (value != NULL) {
            options[n_options++] = (rs_idc_option){direct[i].option_key, value};
        }
    }
    /* ProxyHost and ProxyPort together make one proxy URL (unless Proxy is given). */
    char proxy[512];
    const char *proxy_host = lookup(pairs, n, "ProxyHost");
    const char *proxy_port = lookup(pairs, n, "ProxyPort");
    if (proxy_host != NULL && lookup(pairs, n, "Proxy") == NULL) {
        snprintf(proxy, sizeof proxy, "http://%s%s%s", proxy_host, proxy_port ? ":" : "",
                 proxy_port ? proxy_port : "");
        options[n_options++] = (rs_idc_option){"proxy", proxy};
    }
    /* Timeout in seconds; the library takes milliseconds, whole call, retries included. */
    char timeout_ms[32];
    const char *timeout = lookup(pairs, n, "Timeout");
    if (timeout != NULL) {
        char *end = NULL;
        long seconds = strtol(timeout, &end, 10);
        if (end == timeout || *end != '\0' || seconds < 1 || seconds > 3600) {
            fprintf(stderr, "error: Timeout must be a whole number of seconds from 1 to 3600\n");
            goto done;
        }
        snprintf(timeout_ms, sizeof timeout_ms, "%ld", seconds * 1000);
        options[n_options++] = (rs_idc_option){"timeout_ms", timeout_ms};
    }
    for (int i = 0; i < n; i++) {
        int mapped = handled_elsewhere(pairs[i].key);
        for (size_t j = 0; j < sizeof direct / sizeof direct[0]; j++) {
            mapped |= strcasecmp(pairs[i].key, direct[j].driver_key) == 0;
        }
        if (!mapped) {
            /* The key's name only: its value could be a password. */
            printf("left to the driver: %s\n", pairs[i].key);
        }
    }
    printf("options:");
    for (size_t i = 0; i < n_options; i++) {
        printf(" %s", options[i].key);
    }
    printf("\n");

    /*
     * Make the handle. Every option is checked here (a bad one gives
     * RS_IDC_EINVAL and a message naming the key, never a secret value);
     * nothing is contacted yet. A driver keeps the handle for the life of
     * its connection pool and shares it between threads.
     */
    int got = rs_idc_client_new(options, n_options, &client);
    if (got != RS_IDC_OK) {
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(got), rs_idc_last_error());
        goto done;
    }

    /* The token: for ClusterID or Workgroup when given, else for the Host. */
    int64_t expires = 0;
    const char *cluster_id = lookup(pairs, n, "ClusterID");
    const char *workgroup = lookup(pairs, n, "Workgroup");
    const char *host = lookup(pairs, n, "Host");
    if (cluster_id != NULL) {
        const char *ids[] = {cluster_id};
        printf("cluster: %s\n", cluster_id);
        got = rs_idc_client_get_token(client, ids, 1, &token, &expires);
    } else if (workgroup != NULL) {
        const char *names[] = {workgroup};
        printf("workgroup: %s\n", workgroup);
        got = rs_idc_client_get_serverless_token(client, names, 1, &token, &expires);
    } else if (host != NULL) {
        /*
         * Only Redshift host names can be read this way; for a custom
         * domain name the driver needs ClusterID or Workgroup.
         */
        printf("host: %s\n", host);
        got = rs_idc_client_get_token_for_host(client, host, &token, &expires);
    } else {
        fprintf(stderr, "error: the connection string names no Host, ClusterID or Workgroup\n");
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
     * connection: cached tokens cost a copy.
     */
    status = 0;

done:
    rs_idc_free_token(token);
    rs_idc_client_free(client);
    wipe_and_free(text); /* it held the secrets of the connection string */
    return status;
}
