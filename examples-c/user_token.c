/*
 * user_token.c - get Amazon Redshift tokens for several users of one
 * program (a BI server, a gateway, a connection pool) with rs-idc: each
 * user's token comes from that user's web token (the JWT their identity
 * provider issued), by trusted identity propagation with IAM Identity
 * Center.
 *
 *     usage: user_token --application-arn ARN --access-role-arn ARN
 *                       [--application-role-arn ARN]
 *                       (--cluster-id ID | --workgroup NAME)
 *                       USER_WEB_TOKEN_FILE...
 *
 *   --application-arn ARN       the IAM Identity Center application that
 *                               trusts the web tokens' issuer
 *                               (arn:aws:sso::ACCOUNT:application/ssoins-ID/apl-ID)
 *   --access-role-arn ARN       the role assumed with each user's identity
 *                               (arn:aws:iam::ACCOUNT:role/NAME)
 *   --application-role-arn ARN  optional: a role assumed with each web
 *                               token itself to sign the exchange, for a
 *                               program without AWS credentials of its own
 *   --cluster-id ID             a Redshift provisioned cluster, or
 *   --workgroup NAME            a Redshift Serverless workgroup
 *   USER_WEB_TOKEN_FILE         one file per user, each holding that
 *                               user's web token (at most
 *                               RS_IDC_MAX_WEB_TOKEN_LEN bytes)
 *
 * The program's own AWS credentials (which sign the exchange unless
 * --application-role-arn is given) and the rest of the configuration come
 * from the environment, as for every AWS SDK: AWS_REGION, the credential
 * chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an
 * instance role, ...), AWS_ENDPOINT_URL, and rs-idc's RS_IDC_TIMEOUT_MS.
 * Plain credentials without a session token are enough: they only call
 * SSO-OIDC CreateTokenWithIAM and STS AssumeRole; the token each user gets
 * comes from that user's own identity-enhanced credentials.
 *
 * For each file it prints the file name, the user's token length and its
 * expiry. The web tokens and the tokens are secrets: neither is printed,
 * and rs-idc never puts them in a message or a log record. The exit
 * status is 0 when every user got a token, 1 when any failed (each
 * failure is reported with its status name and rs_idc_last_error()), 2
 * for a usage error.
 *
 * Build (from the project's top directory, after `cargo build --release`):
 *
 *     cc -std=c11 -Iinclude examples-c/user_token.c -o user_token \
 *        -Ltarget/release -Wl,-rpath,$PWD/target/release -lrs_idc
 *
 * Try it on the local fake endpoint (`make demo` does this):
 *
 *     target/release/rs-idc-fake run -- sh -c '
 *       target/release/rs-idc-fake web-token alice > alice.jwt &&
 *       unset AWS_SESSION_TOKEN &&
 *       AWS_ACCESS_KEY_ID="$RS_IDC_TEST_PLAIN_ACCESS_KEY_ID" \
 *       AWS_SECRET_ACCESS_KEY="$RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY" \
 *       ./user_token --application-arn "$RS_IDC_TEST_APPLICATION_ARN" \
 *         --access-role-arn "$RS_IDC_TEST_ACCESS_ROLE_ARN" \
 *         --cluster-id my-cluster alice.jwt'
 */

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* for gmtime_r(), fdopen() and O_CLOEXEC */
#endif

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rs_idc.h"

/* Overwrites a buffer that held a secret; the volatile stores are not optimised away. */
static void wipe(char *buffer, size_t size)
{
    volatile char *p = buffer;
    while (size-- > 0) {
        *p++ = '\0';
    }
}

/*
 * Reads the web token in `path` into `buffer` (size RS_IDC_MAX_WEB_TOKEN_LEN
 * + 2) as a C string, without the line break a file usually ends with.
 * Returns 0, or -1 after printing why (a missing file, not a regular file,
 * too long, empty). Never prints what the file holds.
 */
static int read_web_token(const char *path, char *buffer, size_t size)
{
    /*
     * A regular file only: a FIFO or a device could block or never end.
     * O_NONBLOCK keeps open() itself from waiting on a FIFO.
     */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        return -1;
    }
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        fprintf(stderr, "error: %s: not a regular file\n", path);
        close(fd);
        return -1;
    }
    FILE *file = fdopen(fd, "r");
    if (file == NULL) {
        perror(path);
        close(fd);
        return -1;
    }
    /* Room for a line break after the longest token; a byte beyond that means too long. */
    size_t length = fread(buffer, 1, size - 1, file);
    int more = length == size - 1 && fgetc(file) != EOF;
    int failed = ferror(file);
    fclose(file);
    if (failed) {
        fprintf(stderr, "error: %s: cannot be read\n", path);
        wipe(buffer, size);
        return -1;
    }
    while (length > 0 && (buffer[length - 1] == '\n' || buffer[length - 1] == '\r' ||
                          buffer[length - 1] == ' ' || buffer[length - 1] == '\t')) {
        length--;
    }
    buffer[length] = '\0';
    if (more || length > RS_IDC_MAX_WEB_TOKEN_LEN) {
        fprintf(stderr, "error: %s: longer than %d bytes\n", path, RS_IDC_MAX_WEB_TOKEN_LEN);
        wipe(buffer, size);
        return -1;
    }
    if (length == 0) {
        fprintf(stderr, "error: %s: empty\n", path);
        return -1;
    }
    return 0;
}

static int usage(const char *program)
{
    fprintf(stderr,
            "usage: %s --application-arn ARN --access-role-arn ARN\n"
            "          [--application-role-arn ARN]\n"
            "          (--cluster-id ID | --workgroup NAME) USER_WEB_TOKEN_FILE...\n",
            program);
    return 2;
}

int main(int argc, char **argv)
{
    const char *application_arn = NULL;
    const char *access_role_arn = NULL;
    const char *application_role_arn = NULL;
    const char *cluster_id = NULL;
    const char *workgroup = NULL;

    /* The flags, then the web token files. */
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--application-arn") == 0) {
            application_arn = argv[i + 1];
        } else if (strcmp(argv[i], "--access-role-arn") == 0) {
            access_role_arn = argv[i + 1];
        } else if (strcmp(argv[i], "--application-role-arn") == 0) {
            application_role_arn = argv[i + 1];
        } else if (strcmp(argv[i], "--cluster-id") == 0) {
            cluster_id = argv[i + 1];
        } else if (strcmp(argv[i], "--workgroup") == 0) {
            workgroup = argv[i + 1];
        } else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return usage(argv[0]);
        }
    }
    if (application_arn == NULL || access_role_arn == NULL ||
        (cluster_id == NULL) == (workgroup == NULL) || i >= argc ||
        strncmp(argv[i], "--", 2) == 0) {
        return usage(argv[0]);
    }

    /*
     * One handle for every user: make it once at start-up and share it
     * between threads. It keeps each user's credentials until shortly
     * before they expire, and each user's token until shortly before it
     * expires, so asking again for a user is cheap. Settings not given
     * here come from the environment.
     */
    rs_idc_option options[3] = {
        {"idc_application_arn", application_arn},
        {"access_role_arn", access_role_arn},
    };
    size_t n_options = 2;
    if (application_role_arn != NULL) {
        options[n_options++] = (rs_idc_option){"application_role_arn", application_role_arn};
    }
    rs_idc_client *client = NULL;
    int status = rs_idc_client_new(options, n_options, &client);
    if (status != RS_IDC_OK) {
        /* The message names the option at fault (never a secret). */
        fprintf(stderr, "error: %s: %s\n", rs_idc_status_str(status), rs_idc_last_error());
        return 1;
    }

    static char web_token[RS_IDC_MAX_WEB_TOKEN_LEN + 2];
    const char *target = cluster_id != NULL ? cluster_id : workgroup;
    int failures = 0;
    for (; i < argc; i++) {
        const char *path = argv[i];
        if (read_web_token(path, web_token, sizeof web_token) != 0) {
            failures++;
            continue;
        }

        char *token = NULL;  /* set by the library: the user's token, or NULL */
        int64_t expires = 0; /* set on success: expiry in Unix seconds, UTC */
        if (cluster_id != NULL) {
            status = rs_idc_client_get_user_token(client, web_token, &target, 1, &token, &expires);
        } else {
            status = rs_idc_client_get_user_serverless_token(client, web_token, &target, 1, &token,
                                                             &expires);
        }
        /* The web token is not needed any more: wipe it. */
        wipe(web_token, sizeof web_token);

        if (status != RS_IDC_OK) {
            /*
             * RS_IDC_EIDENTITY: the web token was refused (expired, not
             * trusted, the application not allowed): the user signs in
             * again. RS_IDC_EINVAL: not a web token at all.
             * RS_IDC_EDENIED: a role may not be assumed. The message has
             * the service's error code and request id, never the web token.
             */
            fprintf(stderr, "error: %s: %s: %s\n", path, rs_idc_status_str(status),
                    rs_idc_last_error());
            failures++;
            continue;
        }

        /* Show the length and the expiry only, never the token itself. */
        time_t at = (time_t)expires;
        struct tm utc;
        char when[32] = "?";
        if (gmtime_r(&at, &utc) != NULL) {
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
        }
        printf("%s: token %zu bytes for %s %s, expires %s (in %lld s)\n", path, strlen(token),
               cluster_id != NULL ? "cluster" : "workgroup", target, when,
               (long long)(expires - (int64_t)time(NULL)));

        /*
         * A driver hands the token to the server for this user's session
         * (token_type=SUBJECT_TOKEN) and releases it with
         * rs_idc_free_token(), which wipes it.
         */
        rs_idc_free_token(token);
    }

    rs_idc_client_free(client);
    return failures == 0 ? 0 : 1;
}
