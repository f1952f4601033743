//! The process-wide call and its companions: the token call every program
//! can start with, freeing a token, the thread's last error, status names
//! and the version.

use super::{boundary, identifiers, token_call, LAST_ERROR};
use crate::client::default_client;
use crate::status::status_name;
use crate::token::Api;
use std::ffi::{c_char, c_int};

/// Gets an IAM Identity Center auth token for Amazon Redshift provisioned
/// clusters. The call uses the process-wide client, which reads its
/// settings from the environment on first use.
///
/// ids, n: n cluster identifiers, 1 to RS_IDC_MAX_IDENTIFIERS (20), each 1 to
/// 63 ASCII letters, digits and hyphens, starting with a letter, not
/// ending with a hyphen, without two hyphens in a row. Case, order and
/// duplicates do not matter. They are checked before any network traffic.
/// out: receives a new NUL-terminated token; release it with
/// rs_idc_free_token().
/// exp: receives the token's expiry in Unix seconds (UTC); may be NULL.
///
/// Returns RS_IDC_OK, or a negative RS_IDC_E* status; then *out is NULL,
/// *exp is left alone and rs_idc_last_error() says why.
///
/// Settings, read once: AWS_REGION or AWS_DEFAULT_REGION, AWS_PROFILE, the
/// config and credentials files and the rest of the AWS credential chain,
/// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_REDSHIFT, AWS_MAX_ATTEMPTS,
/// AWS_RETRY_MODE, AWS_CA_BUNDLE, HTTPS_PROXY, HTTP_PROXY, ALL_PROXY,
/// NO_PROXY, RS_IDC_TIMEOUT_MS (whole call, retries included, default
/// 20000), RS_IDC_CONNECT_TIMEOUT_MS (default 3000), RS_IDC_CACHE (0 turns
/// the cache off) and RS_IDC_ALLOW_HTTP. Credentials taken from the
/// environment are read again when they change.
///
/// Cache: tokens are kept per API, region, endpoint, complete credentials
/// (access key id, secret key and session token, through a keyed hash) and
/// identifier set, and served while more than the smaller of five minutes
/// and half their lifetime is left; a cached answer costs a copy.
/// Concurrent calls for the same set and credentials make one request when
/// their time bounds, attempts, proxies and CA certificates match too.
///
/// Threads: any thread, at once, also one owned by another async runtime,
/// and after fork() in the child.
///
/// Pointers: ids must point to n pointers, each a C string; out must be
/// writable; exp NULL or writable. NULL ids, out or ids[i] give
/// RS_IDC_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_get_token(
    ids: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, |hand| {
        let ids = identifiers("ids", ids, n)?;
        default_client()?.read_api_token(Api::Provisioned, ids, |token| hand.write(token))
    })
}

/// Wipes a token returned by this library and frees it.
///
/// token: a token from rs_idc_get_token() or another token call, not yet
/// freed; NULL is fine and does nothing.
///
/// The token's bytes are overwritten before the memory goes back to the
/// allocator (plain free() also works, without the wipe).
///
/// Threads: any thread, also another than the one that got the token.
///
/// Pointers: token must be NULL or a token from this library.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_free_token(token: *mut c_char) {
    boundary((), || {
        if token.is_null() {
            return;
        }
        // explicit_bzero: a wipe the compiler may not drop, at memset speed.
        libc::explicit_bzero(token.cast(), libc::strlen(token));
        libc::free(token.cast());
    })
}

/// What went wrong in the calling thread's last failing call: one line
/// with the AWS error code and request id where there is one. Never holds
/// a token, a secret key, a session token or a password. Empty if this
/// thread has had no failure.
///
/// Returns a string that belongs to the library, never NULL, valid until
/// the next failing call on the same thread.
///
/// Threads: any thread; each thread has its own last error.
#[no_mangle]
pub extern "C" fn rs_idc_last_error() -> *const c_char {
    boundary(c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|slot| slot.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

/// The name of a status number, such as "RS_IDC_ENOTFOUND" for -5.
///
/// status: a status number, such as one a call returned.
///
/// Returns a static string, never NULL: the status's name, or
/// "RS_IDC_UNKNOWN" for a number that is not assigned.
///
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn rs_idc_status_str(status: c_int) -> *const c_char {
    boundary(c"RS_IDC_UNKNOWN".as_ptr(), || status_name(status).as_ptr())
}

/// The library's version, such as "0.1.0". The header's RS_IDC_VERSION is
/// the version it was made for.
///
/// Returns a static string, never NULL.
///
/// Threads: any thread.
#[no_mangle]
pub extern "C" fn rs_idc_version() -> *const c_char {
    boundary(c"".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}
