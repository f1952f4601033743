/*
 * rs_idc.h - Amazon Redshift IAM Identity Center auth tokens for C.
 *
 * Status numbers are fixed forever: new ones are appended, retired ones stay
 * reserved. Every function is thread-safe. Strings returned as `const char *`
 * belong to the library; tokens returned through `char **out` belong to the
 * caller and are released with rs_idc_free_token().
 */

#ifndef RS_IDC_H
#define RS_IDC_H

/* Generated from the Rust sources by cbindgen (build.rs). Do not edit: run `make header`. */

#include <stddef.h>
#include <stdint.h>

// The most identifiers one call may name (clusters or workgroups).
#define RS_IDC_MAX_IDENTIFIERS 20

// The longest cluster identifier, in characters.
#define RS_IDC_MAX_CLUSTER_ID_LEN 63

// The call succeeded.
#define RS_IDC_OK 0

// An argument or option is invalid: NULL pointer, identifier count outside
// 1..20, a malformed identifier, an unknown or malformed setting, or the
// service rejected a parameter (RedshiftInvalidParameter, ValidationException).
#define RS_IDC_EINVAL -1

// No AWS credentials could be resolved.
#define RS_IDC_ENOCREDS -2

// No AWS region is configured or derivable.
#define RS_IDC_ENOREGION -3

// The service refused the operation (UnsupportedOperation): for example the
// credentials carry no IAM Identity Center identity, or the cluster has no
// Identity Center integration.
#define RS_IDC_EUNSUPPORTED -4

// The cluster or workgroup does not exist (ClusterNotFound,
// ResourceNotFoundException).
#define RS_IDC_ENOTFOUND -5

// The cluster or workgroup is in a state that does not allow the call
// (InvalidClusterState, ConflictException).
#define RS_IDC_ESTATE -6

// The credentials were refused: access denied, unknown or expired key,
// signature mismatch.
#define RS_IDC_EDENIED -7

// The service was still throttling when the retries ran out.
#define RS_IDC_ETHROTTLED -8

// The call's time bound ran out.
#define RS_IDC_ETIMEOUT -9

// DNS, connect, TLS or I/O failure.
#define RS_IDC_ENETWORK -10

// Any other service error (5xx answers, unknown error codes).
#define RS_IDC_ESERVICE -11

// The service answered "success" without a non-empty token and a future
// expiry, or with an answer that cannot be parsed.
#define RS_IDC_EBADRESPONSE -12

// An internal failure: a caught panic, or the runtime could not start.
#define RS_IDC_EINTERNAL -13

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

// Gets an IAM Identity Center auth token for Amazon Redshift provisioned
// clusters, using the process-wide default client.
//
// - `ids`: `n` cluster identifiers, 1 to 20, each 1-63 ASCII letters,
//   digits and hyphens, starting with a letter, not ending with a hyphen,
//   without two hyphens in a row. Case, order and duplicates do not matter.
//   They are checked before any network traffic.
// - `out`: receives a new NUL-terminated token; release it with
//   `rs_idc_free_token()` (plain `free()` also works). Set to NULL on
//   failure.
// - `exp`: receives the token's expiry in Unix seconds (UTC); may be NULL.
//   Left alone on failure.
//
// The default client is built on first use from the environment:
// `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_PROFILE`, the config and
// credentials files and the rest of the AWS credential chain,
// `AWS_ENDPOINT_URL`/`AWS_ENDPOINT_URL_REDSHIFT`, `AWS_MAX_ATTEMPTS`,
// `AWS_RETRY_MODE`, and `RS_IDC_TIMEOUT_MS` (whole call, retries included,
// default 20000), `RS_IDC_CONNECT_TIMEOUT_MS` (default 3000) and
// `RS_IDC_CACHE` (`0` turns the token cache off).
//
// Tokens are cached per endpoint, region, access key and identifier set,
// and served while more than the smaller of five minutes and half their
// lifetime is left; a cached answer costs a copy. Concurrent calls for the
// same set make one request.
//
// Returns `RS_IDC_OK` or a negative `RS_IDC_E*` status; on failure
// `rs_idc_last_error()` says why. Thread-safe; may be called from any
// thread, also after `fork()` in the child.
//
// # Safety
// `ids` must be NULL or point to `n` pointers, each NULL or a C string;
// `out` must be NULL or writable; `exp` must be NULL or writable.
int rs_idc_get_token(const char **ids, size_t n, char **out, int64_t *exp);

// Empties the process-wide token cache; the dropped tokens are wiped.
// The next call for any identifier set asks the service again.
void rs_idc_cache_clear(void);

// Wipes a token returned by this library and frees it. NULL is fine.
//
// # Safety
// `token` must be NULL or a token from this library not yet freed.
void rs_idc_free_token(char *token);

// The static name of a status number, such as `"RS_IDC_ENOTFOUND"`;
// `"RS_IDC_UNKNOWN"` for a number that is not assigned. Never NULL.
const char *rs_idc_status_str(int status);

// A message for the calling thread's last failure: what went wrong, with
// the AWS error code and request id where there is one. Never contains a
// token or a secret. Empty if this thread has had no failure. Never NULL.
//
// The text belongs to the library and stays valid until the next failing
// call on the same thread.
const char *rs_idc_last_error(void);

// The library's version, such as `"0.1.0"`. Never NULL.
const char *rs_idc_version(void);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* RS_IDC_H */
