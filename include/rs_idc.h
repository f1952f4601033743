/*
 * rs_idc.h - Amazon Redshift IAM Identity Center auth tokens for C.
 *
 * Status numbers are fixed forever: new ones are appended, retired ones stay
 * reserved. Every function is thread-safe. Strings returned as const char *
 * belong to the library; tokens returned through char **out belong to the
 * caller and are released with rs_idc_free_token(). No function keeps a
 * pointer it was given after it returns, except the two callbacks and their
 * userdata: the log callback (rs_idc_set_log_callback()), kept until it is
 * replaced, and the open-URL callback (rs_idc_set_open_url_callback()),
 * kept until it is replaced and no browser sign-in is still opening its
 * URL with it.
 *
 * The functions are declared in reading order: the process-wide call and
 * its companions, client handles, per-user tokens, non-blocking requests,
 * the browser sign-in, logging. One page per function: docs/api/ in the
 * source tree, and man pages (man 3 rs_idc_get_token) once installed.
 */

#ifndef RS_IDC_H
#define RS_IDC_H

/* Generated from the Rust sources by cbindgen (build.rs). Do not edit: run make header. */

#include <stddef.h>
#include <stdint.h>

/* The version of the library this header belongs to (see also rs_idc_version()). */
#define RS_IDC_VERSION "0.1.0"
#define RS_IDC_VERSION_MAJOR 0
#define RS_IDC_VERSION_MINOR 1
#define RS_IDC_VERSION_PATCH 0

/*
 * RS_IDC_EXPORT marks every function of the library with default
 * visibility under GCC and Clang, so that code which hides its own symbols
 * (#pragma GCC visibility push(hidden) around the include) still links
 * with the shared library. RS_IDC_DEPRECATED(msg) marks a function that
 * is going away, with the message compilers show.
 */
#if defined(__GNUC__) && __GNUC__ >= 4
#define RS_IDC_EXPORT __attribute__((visibility("default")))
#else
#define RS_IDC_EXPORT
#endif

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ * 100 + __GNUC_MINOR__ >= 405)
#define RS_IDC_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(__GNUC__)
#define RS_IDC_DEPRECATED(msg) __attribute__((deprecated))
#else
#define RS_IDC_DEPRECATED(msg)
#endif

/**
 * The call succeeded.
 */
#define RS_IDC_OK 0

/**
 * An argument or option is invalid: NULL pointer, identifier count outside
 * 1..20, a malformed identifier, an unknown or malformed setting, or the
 * service rejected a parameter (RedshiftInvalidParameter, ValidationException).
 */
#define RS_IDC_EINVAL (-1)

/**
 * No AWS credentials could be resolved.
 */
#define RS_IDC_ENOCREDS (-2)

/**
 * No AWS region is configured or derivable.
 */
#define RS_IDC_ENOREGION (-3)

/**
 * The service refused the operation (UnsupportedOperation): for example the
 * credentials carry no IAM Identity Center identity, or the cluster has no
 * Identity Center integration.
 */
#define RS_IDC_EUNSUPPORTED (-4)

/**
 * The cluster or workgroup does not exist (ClusterNotFound,
 * ResourceNotFoundException).
 */
#define RS_IDC_ENOTFOUND (-5)

/**
 * The cluster or workgroup is in a state that does not allow the call
 * (InvalidClusterState, ConflictException).
 */
#define RS_IDC_ESTATE (-6)

/**
 * The credentials were refused: access denied, unknown or expired key,
 * signature mismatch.
 */
#define RS_IDC_EDENIED (-7)

/**
 * The service was still throttling when the retries ran out.
 */
#define RS_IDC_ETHROTTLED (-8)

/**
 * The call's time bound ran out.
 */
#define RS_IDC_ETIMEOUT (-9)

/**
 * DNS, connect, TLS or I/O failure.
 */
#define RS_IDC_ENETWORK (-10)

/**
 * Any other service error (5xx answers, unknown error codes).
 */
#define RS_IDC_ESERVICE (-11)

/**
 * The service answered "success" without a non-empty token and a future
 * expiry, or with an answer that cannot be parsed.
 */
#define RS_IDC_EBADRESPONSE (-12)

/**
 * An internal failure: a caught panic, or the runtime could not start.
 */
#define RS_IDC_EINTERNAL (-13)

/**
 * The user's web token was refused: malformed claims, expired, or turned
 * down by AWS STS (InvalidIdentityToken, IDPRejectedClaim, ExpiredToken)
 * or IAM Identity Center (InvalidGrant, ExpiredToken, InvalidClient,
 * UnauthorizedClient). The message names the service's code.
 */
#define RS_IDC_EIDENTITY (-14)

/**
 * A non-blocking request has not finished yet: wait until
 * rs_idc_request_fd() is readable, then finish it again.
 */
#define RS_IDC_EAGAIN (-15)

/**
 * The longest host name read, in bytes (DNS allows 253).
 */
#define RS_IDC_MAX_HOST_LEN 253

/**
 * The most identifiers one call may name (clusters or workgroups).
 */
#define RS_IDC_MAX_IDENTIFIERS 20

/**
 * The longest cluster identifier, in characters.
 */
#define RS_IDC_MAX_CLUSTER_ID_LEN 63

/**
 * The shortest workgroup name, in characters.
 */
#define RS_IDC_MIN_WORKGROUP_LEN 3

/**
 * The longest workgroup name, in characters.
 */
#define RS_IDC_MAX_WORKGROUP_LEN 64

/**
 * Log level: nothing is logged (the default unless RS_IDC_LOG is set).
 */
#define RS_IDC_LOG_OFF 0

/**
 * Log level: failures.
 */
#define RS_IDC_LOG_ERROR 1

/**
 * Log level: conditions worth a look: retries, refused settings.
 */
#define RS_IDC_LOG_WARN 2

/**
 * Log level: one line per call to the service.
 */
#define RS_IDC_LOG_INFO 3

/**
 * Log level: cache decisions and the AWS SDK's progress.
 */
#define RS_IDC_LOG_DEBUG 4

/**
 * Log level: everything, the AWS SDK's internals included.
 */
#define RS_IDC_LOG_TRACE 5

/**
 * The most options one handle may be made from.
 */
#define RS_IDC_MAX_OPTIONS 64

/**
 * The longest option key, in bytes.
 */
#define RS_IDC_MAX_OPTION_KEY_LEN 64

/**
 * The longest option value, in bytes (session tokens can be long).
 */
#define RS_IDC_MAX_OPTION_VALUE_LEN (16 * 1024)

/**
 * The longest web token accepted, in bytes.
 */
#define RS_IDC_MAX_WEB_TOKEN_LEN (16 * 1024)

/**
 * The most threads the library runs for work no caller's thread runs
 * (non-blocking requests, refreshes ahead); more such calls wait their
 * turn, each within its own time bound.
 */
#define RS_IDC_MAX_WORKER_THREADS 8

/**
 * A client handle: settings, AWS SDK clients and a connection pool. Made
 * by rs_idc_client_new(), released by rs_idc_client_free(); many threads
 * may use one handle at once.
 */
typedef struct rs_idc_client rs_idc_client;

/**
 * A token call in progress, for event loops (see
 * rs_idc_client_start_token()). Released by rs_idc_request_free().
 */
typedef struct rs_idc_request rs_idc_request;

/**
 * One setting for rs_idc_client_new(): a key and its value, both
 * NUL-terminated C strings.
 *
 * Keys are case-insensitive; each may be given once. An option given
 * hides the environment variables in brackets, so a bad value there does
 * not matter:
 *
 *   region              an AWS region, e.g. us-east-1 (AWS_REGION)
 *   profile             a profile of the AWS config files (AWS_PROFILE)
 *   endpoint_url        https://...; plain http:// only to loopback or
 *                       with allow_http (AWS_ENDPOINT_URL)
 *   access_key_id       identity-enhanced credentials: the three come
 *   secret_access_key   together or not at all (AWS_ACCESS_KEY_ID,
 *   session_token       AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
 *   ca_file             PEM file of extra trusted CA certificates: a
 *                       regular file of at most 4 MiB, every block an
 *                       X.509 certificate (AWS_CA_BUNDLE)
 *   proxy               http://[user:password@]host:port for https://
 *                       calls (HTTPS_PROXY, ALL_PROXY)
 *   http_proxy          the same for plain http:// calls (HTTP_PROXY,
 *                       ALL_PROXY)
 *   no_proxy            comma-separated hosts that bypass the proxies;
 *                       loopback and link-local ones always do (NO_PROXY)
 *   connect_timeout_ms  1 to 3600000 (RS_IDC_CONNECT_TIMEOUT_MS)
 *   timeout_ms          whole call, retries included, 1 to 3600000
 *                       (RS_IDC_TIMEOUT_MS)
 *   max_attempts        1 to 10 (AWS_MAX_ATTEMPTS)
 *   cache               on or off; also 1/0, true/false, yes/no
 *                       (RS_IDC_CACHE)
 *   refresh_margin_s    seconds before expiry a cached token is
 *                       refreshed, 0 to 3600 (default: the smaller of 300
 *                       and half the token's lifetime)
 *   refresh_ahead       on or off: from the smaller of 60 s and half the
 *                       margin before that, a call still gets the cached
 *                       token and one background refresh starts (default
 *                       on; RS_IDC_REFRESH_AHEAD)
 *   allow_http          on or off: plain http:// off loopback
 *                       (RS_IDC_ALLOW_HTTP)
 *
 * Per-user tokens (see rs_idc_client_get_user_token()); the first two
 * go together and the others need them:
 *
 *   idc_application_arn   the IAM Identity Center application that
 *                         trusts the web tokens' issuer:
 *                         arn:aws:sso::ACCOUNT:application/ssoins-ID/apl-ID
 *   access_role_arn       the role assumed with each user's identity
 *                         context: arn:aws:iam::ACCOUNT:role/NAME
 *   application_role_arn  a role assumed with the web token itself to
 *                         sign the exchange, for a process without
 *                         credentials of its own (optional)
 *   web_token_file        a file holding the web token of a single-user
 *                         program, read again at each exchange and
 *                         whenever it changes; then
 *                         rs_idc_client_get_token(),
 *                         rs_idc_client_get_serverless_token() and
 *                         rs_idc_client_get_token_for_host() get that
 *                         user's token (optional)
 *   role_session_name     2 to 64 of A-Z a-z 0-9 +=,.@_- (default
 *                         rs-idc-web-identity for AssumeRoleWithWebIdentity,
 *                         rs-idc-identity-context for AssumeRole)
 *
 * Browser sign-in (see rs_idc_client_get_browser_token()):
 *
 *   issuer_url               the Identity Center issuer URL (needed)
 *   idc_region               the Identity Center region (default: the
 *                            handle's region)
 *   listen_port              the loopback port the browser is sent back
 *                            to, 1 to 65535 (default 7890)
 *   idp_response_timeout_s   how long the sign-in may take, 1 to 3600
 *                            (default 120)
 *   idc_client_display_name  the name the client registers under
 *                            (default rs-idc)
 *   token_cache_dir          a folder where the sign-in is kept across
 *                            processes (RS_IDC_TOKEN_CACHE_DIR; default:
 *                            in memory only)
 */
typedef struct {
  /**
   * The option's key.
   */
  const char *key;
  /**
   * The option's value.
   */
  const char *value;
} rs_idc_option;

/**
 * How the library asks the host to open a URL in the user's browser
 * (see rs_idc_set_open_url_callback()). url is a NUL-terminated https or
 * http URL, valid during the call; userdata is the pointer given with the
 * callback. Return 0 when the browser was asked to open it; any other
 * value fails the sign-in at once. The callback should return promptly:
 * the sign-in waits for the browser only after it returns. It must not
 * throw or longjmp.
 */
typedef int (*rs_idc_open_url_fn)(const char *url, void *userdata);

/**
 * How the library shows the person the device-code sign-in's URL and
 * code (see rs_idc_set_device_code_callback()). verification_uri_complete
 * is the URL to open in a browser on any device (the code is in it);
 * user_code is the code the page asks the person to confirm; both are
 * NUL-terminated and valid during the call; userdata is the pointer given
 * with the callback. Return 0 when they were shown; any other value fails
 * the sign-in at once. The callback should return promptly: the library
 * polls for the sign-in after it returns. It must not throw or longjmp.
 */
typedef int (*rs_idc_device_code_fn)(const char *verification_uri_complete,
                                     const char *user_code,
                                     void *userdata);

#ifdef __cplusplus
extern "C" {
#endif  /* __cplusplus */

/* ========================================================================
 * The process-wide call and its companions
 * ======================================================================== */

/**
 * Gets an IAM Identity Center auth token for Amazon Redshift provisioned
 * clusters. The call uses the process-wide client, which reads its
 * settings from the environment on first use.
 *
 * ids, n: n cluster identifiers, 1 to RS_IDC_MAX_IDENTIFIERS (20), each 1 to
 * 63 ASCII letters, digits and hyphens, starting with a letter, not
 * ending with a hyphen, without two hyphens in a row. Case, order and
 * duplicates do not matter. They are checked before any network traffic.
 * out: receives a new NUL-terminated token; release it with
 * rs_idc_free_token().
 * exp: receives the token's expiry in Unix seconds (UTC); may be NULL.
 *
 * Returns RS_IDC_OK, or a negative RS_IDC_E* status; then *out is NULL,
 * *exp is left alone and rs_idc_last_error() says why.
 *
 * Settings, read once: AWS_REGION or AWS_DEFAULT_REGION, AWS_PROFILE, the
 * config and credentials files and the rest of the AWS credential chain,
 * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_REDSHIFT, AWS_MAX_ATTEMPTS,
 * AWS_RETRY_MODE, AWS_CA_BUNDLE, HTTPS_PROXY, HTTP_PROXY, ALL_PROXY,
 * NO_PROXY, RS_IDC_TIMEOUT_MS (whole call, retries included, default
 * 20000), RS_IDC_CONNECT_TIMEOUT_MS (default 3000), RS_IDC_CACHE (0 turns
 * the cache off) and RS_IDC_ALLOW_HTTP. Credentials taken from the
 * environment are read again when they change.
 *
 * Cache: tokens are kept per API, region, endpoint, complete credentials
 * (access key id, secret key and session token, through a keyed hash) and
 * identifier set, and served while more than the smaller of five minutes
 * and half their lifetime is left; a cached answer costs a copy.
 * Concurrent calls for the same set and credentials make one request when
 * their time bounds, attempts, proxies and CA certificates match too.
 *
 * Threads: any thread, at once, also one owned by another async runtime,
 * and after fork() in the child.
 *
 * Pointers: ids must point to n pointers, each a C string; out must be
 * writable; exp NULL or writable. NULL ids, out or ids[i] give
 * RS_IDC_EINVAL.
 */
RS_IDC_EXPORT int rs_idc_get_token(const char **ids, size_t n, char **out, int64_t *exp);

/**
 * Wipes a token returned by this library and frees it.
 *
 * token: a token from rs_idc_get_token() or another token call, not yet
 * freed; NULL is fine and does nothing.
 *
 * The token's bytes are overwritten before the memory goes back to the
 * allocator (plain free() also works, without the wipe).
 *
 * Threads: any thread, also another than the one that got the token.
 *
 * Pointers: token must be NULL or a token from this library.
 */
RS_IDC_EXPORT void rs_idc_free_token(char *token);

/**
 * What went wrong in the calling thread's last failing call: one line
 * with the AWS error code and request id where there is one. Never holds
 * a token, a secret key, a session token or a password. Empty if this
 * thread has had no failure.
 *
 * Returns a string that belongs to the library, never NULL, valid until
 * the next failing call on the same thread.
 *
 * Threads: any thread; each thread has its own last error.
 */
RS_IDC_EXPORT const char *rs_idc_last_error(void);

/**
 * The name of a status number, such as "RS_IDC_ENOTFOUND" for -5.
 *
 * status: a status number, such as one a call returned.
 *
 * Returns a static string, never NULL: the status's name, or
 * "RS_IDC_UNKNOWN" for a number that is not assigned.
 *
 * Threads: any thread.
 */
RS_IDC_EXPORT const char *rs_idc_status_str(int status);

/**
 * The library's version, such as "0.1.0". The header's RS_IDC_VERSION is
 * the version it was made for.
 *
 * Returns a static string, never NULL.
 *
 * Threads: any thread.
 */
RS_IDC_EXPORT const char *rs_idc_version(void);

/* ========================================================================
 * Client handles
 * ======================================================================== */

/**
 * Makes a client handle from n options (see rs_idc_option). Settings not
 * given come from the environment, as for rs_idc_get_token().
 * A web_token_file must be a regular file when the handle is made.
 *
 * options, n: n options, at most RS_IDC_MAX_OPTIONS; options may be NULL
 * when n is 0.
 * out: receives the new handle; release it with rs_idc_client_free().
 *
 * Every option is checked here, and nothing is contacted until the first
 * token call.
 *
 * Returns RS_IDC_OK, or RS_IDC_EINVAL for an unknown key, a key given
 * twice, a malformed value, credentials without all three parts or an
 * unusable CA file; then *out is NULL and rs_idc_last_error() names the
 * key (never a secret value or a password).
 *
 * Threads: any thread.
 *
 * Pointers: options must point to n options whose keys are C strings and
 * whose values are C strings or NULL; out must be writable.
 */
RS_IDC_EXPORT int rs_idc_client_new(const rs_idc_option *options, size_t n, rs_idc_client **out);

/**
 * Gets a token for Redshift provisioned clusters with the settings of a
 * client handle. The call is rs_idc_get_token() with the handle's
 * settings in place of the environment's.
 *
 * client: a handle from rs_idc_client_new(); NULL gives RS_IDC_EINVAL.
 * ids, n, out, exp: as for rs_idc_get_token().
 *
 * Returns RS_IDC_OK or a negative status, as rs_idc_get_token() does.
 *
 * Threads: as for rs_idc_get_token(); many threads may use one handle at
 * once.
 *
 * Pointers: client must be NULL or a live handle; the others as for
 * rs_idc_get_token().
 */
RS_IDC_EXPORT
int rs_idc_client_get_token(rs_idc_client *client,
                            const char **ids,
                            size_t n,
                            char **out,
                            int64_t *exp);

/**
 * Gets a token for Redshift Serverless workgroups (the API
 * redshift-serverless:GetIdentityCenterAuthToken).
 *
 * client, out, exp: as for rs_idc_client_get_token().
 * workgroups, n: n names, 1 to RS_IDC_MAX_IDENTIFIERS, each 3 to 64
 * lower-case ASCII letters, digits and hyphens, checked before any
 * network traffic.
 *
 * Otherwise as rs_idc_client_get_token().
 *
 * Returns RS_IDC_OK or a negative status, as rs_idc_client_get_token()
 * does.
 *
 * Threads: any thread; many threads may use one handle at once.
 *
 * Pointers: as rs_idc_client_get_token(), with workgroups for ids.
 */
RS_IDC_EXPORT
int rs_idc_client_get_serverless_token(rs_idc_client *client,
                                       const char **workgroups,
                                       size_t n,
                                       char **out,
                                       int64_t *exp);

/**
 * Gets a token for the cluster or workgroup a host name names, as the
 * official drivers read it.
 *
 * client, out, exp: as for rs_idc_client_get_token().
 * host: at most RS_IDC_MAX_HOST_LEN bytes, one of:
 * - CLUSTER.ID.REGION.redshift.amazonaws.com or
 *   WORKGROUP.ACCOUNT.REGION.redshift-serverless.amazonaws.com (also
 *   under amazonaws.com.cn), read locally. The host's region is used
 *   unless the handle has a region option; the process keeps clients for
 *   at most 32 such regions (of all handles).
 * - any other DNS name: a custom domain name. Redshift
 *   DescribeCustomDomainAssociations, then Redshift Serverless
 *   ListCustomDomainAssociations, in the handle's region, say which
 *   cluster or workgroup it is (RS_IDC_ENOTFOUND when neither knows it);
 *   the answer is kept for an hour per region, endpoint and identity.
 *
 * The handle's time bound (timeout_ms) covers the whole call, the lookup
 * included. An IP address, or a name with a scheme, port or path, gives
 * RS_IDC_EINVAL: pass the identifier instead. Otherwise as
 * rs_idc_client_get_token().
 *
 * Returns RS_IDC_OK or a negative status, as rs_idc_client_get_token()
 * does, and RS_IDC_ENOTFOUND for a custom domain name neither service
 * knows.
 *
 * Threads: any thread; many threads may use one handle at once.
 *
 * Pointers: client must be NULL or a live handle; host NULL or a C
 * string; out and exp as for rs_idc_get_token().
 */
RS_IDC_EXPORT
int rs_idc_client_get_token_for_host(rs_idc_client *client,
                                     const char *host,
                                     char **out,
                                     int64_t *exp);

/**
 * Releases a client handle and wipes its secret settings.
 *
 * client: a handle from rs_idc_client_new(); NULL is fine and does
 * nothing.
 *
 * Threads: no call on the handle may be running or follow.
 *
 * Pointers: client must be NULL or a live handle from rs_idc_client_new().
 */
RS_IDC_EXPORT void rs_idc_client_free(rs_idc_client *client);

/**
 * Empties everything the process keeps: cached tokens, users'
 * credentials and web token files, custom-domain mappings, browser
 * sign-ins (access and refresh tokens, registered clients) and the
 * clients kept for regions of host names. What is dropped is wiped. The
 * next call asks the services again (a browser sign-in opens the browser
 * again).
 *
 * Threads: any thread; calls running at the same time may still return
 * a token they had already taken from the cache.
 */
RS_IDC_EXPORT void rs_idc_cache_clear(void);

/**
 * Forgets a token: a driver whose login was refused with a token it got
 * from this library calls this, so that the next call fetches a new
 * one instead of the cached one. Then retry the login once:
 *
 *   login refused -> rs_idc_forget_token(token) -> get a token -> retry
 *
 * token: the refused token, a C string: any token from this library,
 * also a browser sign-in's access token (token_type=ACCESS_TOKEN). If it
 * is still kept it is dropped (the comparison runs in constant time); a
 * browser sign-in keeps its refresh token, so the next call renews it
 * without the browser when it can. NULL or a token that is not kept does
 * nothing. The caller still frees its copy with rs_idc_free_token().
 *
 * Threads: any thread.
 *
 * Pointers: token must be NULL or a C string.
 */
RS_IDC_EXPORT void rs_idc_forget_token(const char *token);

/* ========================================================================
 * Per-user tokens
 * ======================================================================== */

/**
 * Gets one user's token for Redshift provisioned clusters from that
 * user's identity-provider token. This is trusted identity propagation
 * with IAM Identity Center, for a program that acts for many users (a BI
 * server, a gateway, a pool).
 *
 * client: a handle made with the options idc_application_arn and
 * access_role_arn (else RS_IDC_EINVAL).
 * web_token: the user's token from their identity provider, a JWT (an
 * OIDC ID or access token), at most RS_IDC_MAX_WEB_TOKEN_LEN bytes.
 * ids, n, out, exp: as for rs_idc_client_get_token().
 *
 * The exchange: the handle's own credentials (or, with
 * application_role_arn, that role assumed with the web token) call
 * SSO-OIDC CreateTokenWithIAM with the web token; the identity context it
 * returns is given to STS AssumeRole of access_role_arn; the user's
 * identity-enhanced credentials then get the token. They are kept per
 * handle and web token until shortly before they expire (then renewed
 * with the refresh token, or the web token when that is refused), at most
 * 4096 users in the process, and concurrent calls for one user make one
 * exchange. Tokens are cached per user by the same rule as every token:
 * users never receive each other's.
 *
 * Returns RS_IDC_OK, or a negative status: RS_IDC_EINVAL for a web token
 * that is not a JWT with a numeric exp claim, RS_IDC_EIDENTITY for an
 * expired one (both before any network traffic) and for a web token or
 * application the services refuse (the message has the service's code
 * and request id), RS_IDC_EDENIED when a role may not be assumed; the
 * others as rs_idc_client_get_token(). The web token is a secret: it is
 * never in a message or a log record.
 *
 * Threads: any thread; many threads may use one handle at once, for one
 * user or for many.
 *
 * Pointers: client must be NULL or a live handle; web_token NULL or a C
 * string; the others as for rs_idc_get_token().
 */
RS_IDC_EXPORT
int rs_idc_client_get_user_token(rs_idc_client *client,
                                 const char *web_token,
                                 const char **ids,
                                 size_t n,
                                 char **out,
                                 int64_t *exp);

/**
 * Gets one user's token for Redshift Serverless workgroups from that
 * user's identity-provider token. The call is
 * rs_idc_client_get_user_token() for workgroups.
 *
 * client, web_token, out, exp: as for rs_idc_client_get_user_token().
 * workgroups, n: n names, as for rs_idc_client_get_serverless_token().
 *
 * Returns RS_IDC_OK or a negative status, as
 * rs_idc_client_get_user_token() does.
 *
 * Threads: any thread; many threads may use one handle at once, for one
 * user or for many.
 *
 * Pointers: as rs_idc_client_get_user_token(), with workgroups for ids.
 */
RS_IDC_EXPORT
int rs_idc_client_get_user_serverless_token(rs_idc_client *client,
                                            const char *web_token,
                                            const char **workgroups,
                                            size_t n,
                                            char **out,
                                            int64_t *exp);

/* ========================================================================
 * Non-blocking requests
 * ======================================================================== */

/**
 * Starts a token call for Redshift provisioned clusters without
 * blocking. It is for event-loop clients (libpq-style connect polling,
 * libuv, nginx, language runtimes): wait until rs_idc_request_fd() is
 * readable, then call rs_idc_request_finish().
 *
 * client, ids, n: as for rs_idc_client_get_token(). They are checked here: a
 * bad input fails at once, with no request and no network traffic.
 * out: receives the request; release it with rs_idc_request_free().
 *
 * A cached token makes the request ready at once. A call for the same
 * token already in flight takes the request as a listener: any number of
 * requests, one call, no thread. Otherwise the call runs on the library's
 * pool of at most RS_IDC_MAX_WORKER_THREADS threads (more requests wait
 * their turn), sharing the cache and the calls in flight with every other
 * caller, bounded by the handle's time bound from this call on.
 *
 * Returns RS_IDC_OK, or a negative status (then *out is NULL).
 *
 * Threads: any thread. A request belongs to the process that started it.
 * The handle may be freed before its requests.
 *
 * Pointers: client must be NULL or a live handle; ids as for
 * rs_idc_get_token(); out must be writable.
 */
RS_IDC_EXPORT
int rs_idc_client_start_token(rs_idc_client *client,
                              const char **ids,
                              size_t n,
                              rs_idc_request **out);

/**
 * The file descriptor of a request: readable (POLLIN) once its outcome is
 * ready, and from then on until the request is freed. Do not read from
 * it or close it.
 *
 * request: a request from rs_idc_client_start_token(), or NULL.
 *
 * Returns the descriptor, or -1 for NULL.
 *
 * Threads: any thread of the process that started the request.
 *
 * Pointers: request must be NULL or a live request.
 */
RS_IDC_EXPORT int rs_idc_request_fd(const rs_idc_request *request);

/**
 * The outcome of a request, once rs_idc_request_fd() is readable. May be
 * called again; each success hands out a new copy of the token.
 *
 * request: a request from rs_idc_client_start_token(); NULL gives
 * RS_IDC_EINVAL.
 * out: receives a new copy of the token; release each with
 * rs_idc_free_token().
 * exp: receives the token's expiry in Unix seconds (UTC); may be NULL.
 *
 * Returns RS_IDC_EAGAIN while the request runs (then *out is NULL), else
 * exactly what rs_idc_client_get_token() would return, with the token in
 * *out and its expiry in *exp.
 *
 * Threads: any thread of the process that started the request.
 *
 * Pointers: request must be NULL (RS_IDC_EINVAL) or a live request; out
 * and exp as for rs_idc_get_token().
 */
RS_IDC_EXPORT int rs_idc_request_finish(rs_idc_request *request, char **out, int64_t *exp);

/**
 * Releases a request, finished or not. Freeing an unfinished request
 * drops this caller's interest only: the call it started may still
 * complete and fill the cache for others.
 *
 * request: a request from rs_idc_client_start_token(); NULL is fine and
 * does nothing.
 *
 * Threads: any thread; no call on the request may be running or follow.
 *
 * Pointers: request must be NULL or a live request, not used afterwards.
 */
RS_IDC_EXPORT void rs_idc_request_free(rs_idc_request *request);

/* ========================================================================
 * Sign-ins for people: browser and device code
 * ======================================================================== */

/**
 * Signs a person in through their browser with IAM Identity Center and
 * returns the Identity Center access token. The sign-in is the
 * authorization code flow with PKCE, as the official drivers'
 * BrowserIdcAuthPlugin does it; send the token to Redshift with
 * token_type=ACCESS_TOKEN.
 *
 * client: a handle made with the option issuer_url (the Identity Center
 * issuer URL), and optionally idc_region (default: the handle's region;
 * a handle with no region of its own takes this one),
 * listen_port (default 7890), idp_response_timeout_s (default 120) and
 * idc_client_display_name (default rs-idc), token_cache_dir (default
 * none: kept in memory only).
 * out: receives the access token; release it with rs_idc_free_token().
 * exp: receives its expiry in Unix seconds; may be NULL.
 *
 * The flow: SSO-OIDC RegisterClient (a public client for the redirect
 * URI http://127.0.0.1:PORT/, kept until its secret expires), a random
 * state and PKCE verifier, a listener on 127.0.0.1:listen_port bound
 * before the browser is opened (through rs_idc_set_open_url_callback()),
 * the authorize URL on the SSO-OIDC endpoint of idc_region, the redirect
 * checked against the state (another state, or none, is refused, logged
 * and never exchanged), CreateToken with the code and the verifier, and a
 * page telling the user they may close the window. The listener reads at
 * most 4 connections at once, each for at most 5 s, on the calling
 * thread, and closes them all when the sign-in ends; a forked child does
 * not keep it. The access token is kept per issuer, region, display
 * name and endpoint until its margin, then renewed with the refresh
 * token without a browser; the browser opens again only when that fails.
 * With token_cache_dir the sign-in is also kept on disk, for the next
 * process: a folder of the user's own (made 0700; refused when another
 * user owns it or others may write to it), one file (0600) per sign-in,
 * a lock file so that racing processes sign in once; a corrupt or
 * foreign file is ignored and replaced. Concurrent callers with the same
 * settings share one sign-in, each within its own
 * idp_response_timeout_s: when a shorter bound ends the shared sign-in,
 * a caller with a longer one signs in again in the time it has left.
 * rs_idc_forget_token() and rs_idc_cache_clear() reach the kept access
 * token, on disk too.
 *
 * Returns RS_IDC_OK, or: RS_IDC_EINVAL without issuer_url, or with a
 * token_cache_dir that is refused (the message says why);
 * RS_IDC_ETIMEOUT when nobody signs in within idp_response_timeout_s (the
 * message says how many answers with a wrong or missing state were
 * refused);
 * RS_IDC_ENETWORK when listen_port is in use (the message says so);
 * RS_IDC_EIDENTITY when the callback returns non-zero, the sign-in is
 * refused, or the code is not accepted; the listener is closed on every
 * path. Codes, verifiers and tokens are never in a message or a log.
 *
 * Threads: any thread; the call blocks until the sign-in ends.
 *
 * Pointers: client must be NULL or a live handle; out and exp as for
 * rs_idc_get_token().
 */
RS_IDC_EXPORT int rs_idc_client_get_browser_token(rs_idc_client *client, char **out, int64_t *exp);

/**
 * Sets how the browser sign-in opens its URL: fn is called with the URL
 * and userdata on the thread that called
 * rs_idc_client_get_browser_token().
 *
 * fn: the callback (see rs_idc_open_url_fn), or NULL to restore the
 * default, which runs xdg-open (open on macOS).
 * userdata: passed to fn as it is; the library never reads it.
 *
 * Threads: any thread; a sign-in already opening its URL uses the
 * callback it started with.
 *
 * Pointers: fn and userdata are kept until they are replaced and no
 * sign-in is still opening its URL with them; userdata is passed back as
 * is.
 */
RS_IDC_EXPORT void rs_idc_set_open_url_callback(rs_idc_open_url_fn fn, void *userdata);

/**
 * Signs a person in with a device code, for a machine without a browser
 * (a remote shell), and returns the Identity Center access token: send
 * it to Redshift with token_type=ACCESS_TOKEN.
 *
 * client: a handle made with the option issuer_url, and optionally
 * idc_region, idp_response_timeout_s (default 120),
 * idc_client_display_name and token_cache_dir, as for
 * rs_idc_client_get_browser_token().
 * out: receives the access token; release it with rs_idc_free_token().
 * exp: receives its expiry in Unix seconds; may be NULL.
 *
 * The flow: SSO-OIDC RegisterClient (a public client with the
 * urn:ietf:params:oauth:grant-type:device_code grant, kept until its
 * secret expires), StartDeviceAuthorization, the verification URL and
 * user code shown through rs_idc_set_device_code_callback() (by default
 * on standard error), then CreateToken with the device code at the
 * interval the service asks for, longer when it says slow_down, until
 * the person has confirmed. The access token is kept and renewed with
 * its refresh token exactly as the browser sign-in's, in memory and with
 * token_cache_dir on disk; both sign-ins share what is kept for the same
 * issuer, region, display name and endpoint.
 *
 * Returns RS_IDC_OK, or: RS_IDC_EINVAL without issuer_url or with a
 * refused token_cache_dir; RS_IDC_ETIMEOUT when nobody confirms the code
 * within idp_response_timeout_s; RS_IDC_EIDENTITY when the callback
 * returns non-zero, the person refuses (access_denied), or the device
 * code expires (expired_token). Device codes, user codes, client secrets
 * and tokens are never in a message or a log.
 *
 * Threads: any thread; the call blocks until the sign-in ends.
 *
 * Pointers: client must be NULL or a live handle; out and exp as for
 * rs_idc_get_token().
 */
RS_IDC_EXPORT int rs_idc_client_get_device_token(rs_idc_client *client, char **out, int64_t *exp);

/**
 * Sets how the device-code sign-in shows its URL and code: fn is called
 * with them and userdata on the thread that called
 * rs_idc_client_get_device_token().
 *
 * fn: the callback (see rs_idc_device_code_fn), or NULL to restore the
 * default, which writes the URL and the code to standard error.
 * userdata: passed to fn as it is; the library never reads it.
 *
 * Threads: any thread; a sign-in already showing its code uses the
 * callback it started with.
 *
 * Pointers: fn and userdata are kept until they are replaced and no
 * sign-in is still showing its code with them; userdata is passed back
 * as is.
 */
RS_IDC_EXPORT void rs_idc_set_device_code_callback(rs_idc_device_code_fn fn, void *userdata);

/* ========================================================================
 * Logging
 * ======================================================================== */

/**
 * Hands every log record, the library's and the AWS SDK's, to a callback
 * instead of writing it to stderr.
 *
 * cb: called with the level (RS_IDC_LOG_ERROR to RS_IDC_LOG_TRACE), one
 * NUL-terminated line that is valid only during the call, and userdata;
 * NULL sends records back to stderr.
 * userdata: passed to cb as it is; the library never reads it.
 *
 * Which records are made is set by rs_idc_set_log_level() or the RS_IDC_LOG
 * environment variable (error, warn, info, debug, trace); the default is
 * none. Records never hold a token, a secret key, a session token or a
 * password.
 *
 * Threads: cb runs on the threads that call into the library, possibly on
 * several at once: a call's records come from the thread that made it,
 * or from the thread driving the calls in flight at that moment, or from
 * a short-lived thread named rs-idc-call (for a call made from a thread
 * of another async runtime).
 * It should return quickly and must not call into rs-idc, except to
 * replace itself with this function. It must not throw a C++ exception or
 * longjmp out of the library. When this function returns, no thread is
 * still inside the previous callback, so its userdata may be released at
 * once; called from inside the previous callback, it waits for the other
 * threads only.
 *
 * Pointers: cb must be NULL or a function that may be called from any
 * thread with userdata, until it is replaced.
 */
RS_IDC_EXPORT
void rs_idc_set_log_callback(void (*cb)(int level, const char *msg, void *userdata),
                             void *userdata);

/**
 * Sets which log records are made. Overrides the RS_IDC_LOG environment
 * variable.
 *
 * level: RS_IDC_LOG_OFF (none) up to RS_IDC_LOG_TRACE (all); numbers
 * outside are clamped.
 *
 * Threads: any thread; records already being made may still appear.
 */
RS_IDC_EXPORT void rs_idc_set_log_level(int level);

#ifdef __cplusplus
}  /* extern "C" */
#endif  /* __cplusplus */

#endif  /* RS_IDC_H */
