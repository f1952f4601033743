//! The C surface: pointer checks, C strings in and out, status numbers, the
//! thread-local last error and the panic guard. No AWS types here.
//!
//! Every exported body runs inside [`boundary`], so no panic ever crosses
//! into C.

use crate::client::{default_client, Client};
use crate::error::Error;
use crate::hosts::RS_IDC_MAX_HOST_LEN;
use crate::options::{
    settings_from_options, RawOption, RS_IDC_MAX_OPTIONS, RS_IDC_MAX_OPTION_KEY_LEN,
    RS_IDC_MAX_OPTION_VALUE_LEN,
};
use crate::status::{status_name, RS_IDC_EINTERNAL, RS_IDC_OK};
use crate::token::Token;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;
use zeroize::Zeroize;

/// The most bytes read from one identifier string: the longest identifier
/// (64 characters) plus its terminating NUL. A longer string is rejected
/// without reading the rest of it.
const MAX_IDENTIFIER_SCAN: usize = 65;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Runs an exported body; a panic becomes `on_panic`.
fn boundary<T>(on_panic: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        remember_failure("internal error: a panic was caught at the C boundary");
        on_panic
    })
}

/// Runs an exported body that returns a status: errors are recorded as the
/// thread's last error, panics become `RS_IDC_EINTERNAL`.
fn guard(body: impl FnOnce() -> Result<(), Error>) -> c_int {
    boundary(RS_IDC_EINTERNAL, || match body() {
        Ok(()) => RS_IDC_OK,
        Err(err) => {
            remember_failure(err.message());
            err.status().code()
        }
    })
}

fn remember_failure(message: &str) {
    let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // During thread teardown the slot may be gone; there is no one to tell then.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = message);
}

/// The bytes of a C string up to its NUL, reading at most `limit` bytes.
///
/// # Safety
/// `text` must be non-NULL and readable up to its NUL or `limit` bytes,
/// whichever comes first.
unsafe fn bounded_bytes<'a>(text: *const c_char, limit: usize) -> &'a [u8] {
    let mut len = 0;
    while len < limit && *text.add(len) != 0 {
        len += 1;
    }
    std::slice::from_raw_parts(text.cast::<u8>(), len)
}

/// The identifiers of a C array, each read with a bound; `name` is the
/// argument named in messages.
///
/// # Safety
/// `ids` must be NULL or point to `n` readable pointers.
unsafe fn identifiers<'a>(
    name: &str,
    ids: *const *const c_char,
    n: usize,
) -> Result<Vec<&'a [u8]>, Error> {
    if ids.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    crate::ids::check_count(n)?;
    std::slice::from_raw_parts(ids, n)
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            if id.is_null() {
                Err(Error::invalid(format!("{name}[{i}] is NULL")))
            } else {
                Ok(bounded_bytes(id, MAX_IDENTIFIER_SCAN))
            }
        })
        .collect()
}

/// The options of a C array, keys and values each read with a bound (one
/// byte past the longest allowed, so that a longer one is reported).
///
/// # Safety
/// `options` must be NULL or point to `n` readable `rs_idc_option`s.
unsafe fn raw_options<'a>(
    options: *const rs_idc_option,
    n: usize,
) -> Result<Vec<RawOption<'a>>, Error> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if options.is_null() {
        return Err(Error::invalid("options is NULL"));
    }
    if n > RS_IDC_MAX_OPTIONS {
        return Err(Error::invalid(format!(
            "n must be at most {RS_IDC_MAX_OPTIONS} options, got {n}"
        )));
    }
    std::slice::from_raw_parts(options, n)
        .iter()
        .enumerate()
        .map(|(i, option)| {
            if option.key.is_null() {
                return Err(Error::invalid(format!("options[{i}].key is NULL")));
            }
            let value = (!option.value.is_null())
                .then(|| bounded_bytes(option.value, RS_IDC_MAX_OPTION_VALUE_LEN + 1));
            Ok((
                bounded_bytes(option.key, RS_IDC_MAX_OPTION_KEY_LEN + 1),
                value,
            ))
        })
        .collect()
}

/// The client behind a handle, or an error when it is NULL.
///
/// # Safety
/// `client` must be NULL or a live handle from `rs_idc_client_new()`.
unsafe fn client_ref<'a>(client: *mut rs_idc_client) -> Result<&'a Client, Error> {
    client
        .as_ref()
        .map(|handle| &handle.client)
        .ok_or_else(|| Error::invalid("client is NULL"))
}

/// The shape of every token call: clear `*out`, get the token, hand it out.
///
/// # Safety
/// `out` and `exp` as for [`hand_out`]; `out` may be NULL.
unsafe fn token_call(
    out: *mut *mut c_char,
    exp: *mut i64,
    get: impl FnOnce() -> Result<Token, Error>,
) -> c_int {
    guard(|| {
        let out = output_slot(out)?;
        let token = get()?;
        hand_out(token, out, exp)
    })
}

/// Clears `*out` and returns it for writing, or fails when `out` is NULL.
///
/// # Safety
/// `out` must be NULL or point to a writable `char *`.
unsafe fn output_slot<'a>(out: *mut *mut c_char) -> Result<&'a mut *mut c_char, Error> {
    let slot = out.as_mut().ok_or_else(|| Error::invalid("out is NULL"))?;
    *slot = ptr::null_mut();
    Ok(slot)
}

/// Copies the token into memory from the C allocator and stores its expiry.
///
/// # Safety
/// `exp` must be NULL or point to a writable `int64_t`.
unsafe fn hand_out(token: Token, out: &mut *mut c_char, exp: *mut i64) -> Result<(), Error> {
    let bytes = token.secret().as_bytes();
    let copy = libc::malloc(bytes.len() + 1).cast::<u8>();
    if copy.is_null() {
        return Err(Error::internal("out of memory for the token"));
    }
    ptr::copy_nonoverlapping(bytes.as_ptr(), copy, bytes.len());
    *copy.add(bytes.len()) = 0;
    *out = copy.cast::<c_char>();
    if let Some(exp) = exp.as_mut() {
        *exp = token.expires_at();
    }
    Ok(())
}

/// Gets an IAM Identity Center auth token for Amazon Redshift provisioned
/// clusters, using the process-wide default client.
///
/// - `ids`: `n` cluster identifiers, 1 to 20, each 1-63 ASCII letters,
///   digits and hyphens, starting with a letter, not ending with a hyphen,
///   without two hyphens in a row. Case, order and duplicates do not matter.
///   They are checked before any network traffic.
/// - `out`: receives a new NUL-terminated token; release it with
///   `rs_idc_free_token()` (plain `free()` also works). Set to NULL on
///   failure.
/// - `exp`: receives the token's expiry in Unix seconds (UTC); may be NULL.
///   Left alone on failure.
///
/// The default client is built on first use from the environment:
/// `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_PROFILE`, the config and
/// credentials files and the rest of the AWS credential chain,
/// `AWS_ENDPOINT_URL`/`AWS_ENDPOINT_URL_REDSHIFT`, `AWS_MAX_ATTEMPTS`,
/// `AWS_RETRY_MODE`, and `RS_IDC_TIMEOUT_MS` (whole call, retries included,
/// default 20000), `RS_IDC_CONNECT_TIMEOUT_MS` (default 3000) and
/// `RS_IDC_CACHE` (`0` turns the token cache off).
///
/// Tokens are cached per API, region, endpoint, complete credentials
/// (access key id, secret key and session token, through a keyed hash)
/// and identifier set, and served while more than the smaller of five
/// minutes and half their lifetime is left; a cached answer costs a copy.
/// Concurrent calls for the same set and credentials make one request
/// when their time bounds, attempts, proxies and CA certificates match too.
///
/// Returns `RS_IDC_OK` or a negative `RS_IDC_E*` status; on failure
/// `rs_idc_last_error()` says why. Thread-safe; may be called from any
/// thread, also after `fork()` in the child.
///
/// # Safety
/// `ids` must be NULL or point to `n` pointers, each NULL or a C string;
/// `out` must be NULL or writable; `exp` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_get_token(
    ids: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, || {
        let ids = identifiers("ids", ids, n)?;
        default_client()?.get_token(&ids)
    })
}

/// One setting for `rs_idc_client_new()`: a key and its value, both
/// NUL-terminated. Keys are case-insensitive:
///
/// | key | value | environment equivalent |
/// | --- | --- | --- |
/// | `region` | region name of an AWS partition, e.g. `us-east-1` | `AWS_REGION` |
/// | `profile` | profile name | `AWS_PROFILE` |
/// | `endpoint_url` | `https://...` (plain `http://` only to loopback, or with `allow_http`) | `AWS_ENDPOINT_URL` |
/// | `access_key_id`, `secret_access_key`, `session_token` | identity-enhanced credentials: all three or none | `AWS_ACCESS_KEY_ID`, ... |
/// | `ca_file` | path of a PEM file of extra trusted CAs: a regular file of at most 4 MiB, every block a certificate | `AWS_CA_BUNDLE` |
/// | `proxy` | `http://[user:password@]host:port` for `https://` calls | `HTTPS_PROXY`, `ALL_PROXY` |
/// | `http_proxy` | the same for plain `http://` calls | `HTTP_PROXY`, `ALL_PROXY` |
/// | `no_proxy` | comma-separated hosts that bypass the proxies; loopback and link-local ones always do | `NO_PROXY` |
/// | `connect_timeout_ms` | 1 to 3600000 | `RS_IDC_CONNECT_TIMEOUT_MS` |
/// | `timeout_ms` | whole call, retries included: 1 to 3600000 | `RS_IDC_TIMEOUT_MS` |
/// | `max_attempts` | 1 to 10 | `AWS_MAX_ATTEMPTS` |
/// | `cache` | `on`/`off` (also `1`/`0`, `true`/`false`, `yes`/`no`) | `RS_IDC_CACHE` |
/// | `refresh_margin_s` | seconds before expiry a cached token is refreshed, 0 to 3600 | |
/// | `allow_http` | `on`/`off`: allow plain `http://` off loopback | `RS_IDC_ALLOW_HTTP` |
#[repr(C)]
#[allow(non_camel_case_types)] // the C name
pub struct rs_idc_option {
    /// The option's key.
    pub key: *const c_char,
    /// The option's value.
    pub value: *const c_char,
}

/// A client handle: settings, SDK clients and an HTTP connection pool. Made
/// by `rs_idc_client_new()`, released by `rs_idc_client_free()`; may be used
/// from many threads at once.
#[allow(non_camel_case_types)] // the C name
pub struct rs_idc_client {
    client: Client,
}

/// Makes a client handle from `n` options (see `rs_idc_option`; `options`
/// may be NULL when `n` is 0). Settings not given come from the
/// environment, as for `rs_idc_get_token()`.
///
/// Every option is checked here: an unknown key, a key given twice, a
/// malformed value, credentials without all three parts or an unreadable
/// CA file give `RS_IDC_EINVAL` and a last error naming the key (never a
/// secret value). Nothing is contacted until the first token call. On
/// failure `*out` is NULL.
///
/// # Safety
/// `options` must be NULL or point to `n` options whose strings are NULL or
/// NUL-terminated; `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_new(
    options: *const rs_idc_option,
    n: usize,
    out: *mut *mut rs_idc_client,
) -> c_int {
    guard(|| {
        let out = out.as_mut().ok_or_else(|| Error::invalid("out is NULL"))?;
        *out = ptr::null_mut();
        let settings = settings_from_options(&raw_options(options, n)?)?;
        *out = Box::into_raw(Box::new(rs_idc_client {
            client: Client::new(settings),
        }));
        Ok(())
    })
}

/// As `rs_idc_get_token()`, with the settings of `client`.
///
/// # Safety
/// `client` must be NULL or a live handle; the other arguments as for
/// `rs_idc_get_token()`.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_token(
    client: *mut rs_idc_client,
    ids: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, || {
        let client = client_ref(client)?;
        client.get_token(&identifiers("ids", ids, n)?)
    })
}

/// Gets a token for Redshift Serverless workgroups (API
/// `redshift-serverless:GetIdentityCenterAuthToken`): `n` names, 1 to 20,
/// each 3-64 lower-case ASCII letters, digits and hyphens. Otherwise as
/// `rs_idc_client_get_token()`.
///
/// # Safety
/// As `rs_idc_client_get_token()`, with `workgroups` for `ids`.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_serverless_token(
    client: *mut rs_idc_client,
    workgroups: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, || {
        let client = client_ref(client)?;
        client.get_serverless_token(&identifiers("workgroups", workgroups, n)?)
    })
}

/// Gets a token for the cluster or workgroup a Redshift host name names,
/// as the official drivers read it:
/// `CLUSTER.ID.REGION.redshift.amazonaws.com` or
/// `WORKGROUP.ACCOUNT.REGION.redshift-serverless.amazonaws.com` (also under
/// `amazonaws.com.cn`). The host's region is used unless the handle has a
/// `region` option. Any other host (a custom domain, an IP address, a port
/// or scheme glued on) gives `RS_IDC_EINVAL`: pass the identifier instead.
///
/// # Safety
/// `client` must be NULL or a live handle; `host` NULL or a C string;
/// `out` and `exp` as for `rs_idc_get_token()`.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_token_for_host(
    client: *mut rs_idc_client,
    host: *const c_char,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, || {
        let client = client_ref(client)?;
        if host.is_null() {
            return Err(Error::invalid("host is NULL"));
        }
        client.get_token_for_host(bounded_bytes(host, RS_IDC_MAX_HOST_LEN + 1))
    })
}

/// Releases a client handle and wipes its secret settings. NULL is fine.
/// No call on the handle may be running or follow.
///
/// # Safety
/// `client` must be NULL or a live handle from `rs_idc_client_new()`.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_free(client: *mut rs_idc_client) {
    boundary((), || {
        if !client.is_null() {
            drop(Box::from_raw(client));
        }
    })
}

/// Empties the process-wide token cache; the dropped tokens are wiped.
/// The next call for any identifier set asks the service again.
#[no_mangle]
pub extern "C" fn rs_idc_cache_clear() {
    boundary((), crate::client::clear_cache)
}

/// Log level: nothing is logged (the default unless `RS_IDC_LOG` is set).
pub const RS_IDC_LOG_OFF: c_int = 0;
/// Log level: failures.
pub const RS_IDC_LOG_ERROR: c_int = 1;
/// Log level: conditions worth a look.
pub const RS_IDC_LOG_WARN: c_int = 2;
/// Log level: one line per call to the service.
pub const RS_IDC_LOG_INFO: c_int = 3;
/// Log level: cache decisions and the AWS SDK's progress.
pub const RS_IDC_LOG_DEBUG: c_int = 4;
/// Log level: everything, the AWS SDK's internals included.
pub const RS_IDC_LOG_TRACE: c_int = 5;

/// The host's log sink and its pointer, as C gave them.
struct CallbackSink {
    callback: unsafe extern "C" fn(c_int, *const c_char, *mut c_void),
    userdata: *mut c_void,
}

// SAFETY: the caller of rs_idc_set_log_callback() promises that the
// callback may be called from any thread with this userdata.
unsafe impl Send for CallbackSink {}
unsafe impl Sync for CallbackSink {}

impl CallbackSink {
    fn write(&self, level: crate::log::LogLevel, line: &str) {
        let line = CString::new(line.replace('\0', " ")).unwrap_or_default();
        // SAFETY: promised by the caller of rs_idc_set_log_callback().
        unsafe { (self.callback)(level as c_int, line.as_ptr(), self.userdata) };
    }
}

/// Routes every log record (the library's and the AWS SDK's) to `cb`
/// instead of stderr; NULL sends them back to stderr. `cb` gets the level
/// (`RS_IDC_LOG_ERROR` .. `RS_IDC_LOG_TRACE`), a NUL-terminated line valid
/// only during the call, and `userdata`.
///
/// Which records are produced is set by `rs_idc_set_log_level()` or
/// `RS_IDC_LOG` (`error`, `warn`, `info`, `debug`, `trace`); the default is
/// none. Records never contain a token, secret key or session token.
///
/// Threads: `cb` runs on the thread that called into the library for the
/// library's own records, and on the library's worker threads (named
/// `rs-idc-worker`) for the AWS SDK's, possibly on several threads at
/// once. It should return quickly and must not call into rs-idc, except to
/// replace itself with this function. It must not throw a C++ exception
/// or `longjmp` out: either would cross Rust frames.
///
/// When this function returns, no thread is still inside the previous
/// callback (it waits for running deliveries to end), so the previous
/// callback and its userdata may be released at once. Called from inside
/// the previous callback, it waits for the other threads only.
///
/// # Safety
/// `cb` must be NULL or a function that may be called from any thread with
/// `userdata`, until it is replaced.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_set_log_callback(
    cb: Option<unsafe extern "C" fn(level: c_int, msg: *const c_char, userdata: *mut c_void)>,
    userdata: *mut c_void,
) {
    boundary((), || {
        let sink = cb.map(|callback| {
            let host = CallbackSink { callback, userdata };
            let sink: crate::log::LogSink =
                Arc::new(move |level, line: &str| host.write(level, line));
            sink
        });
        crate::log::set_sink(sink);
    })
}

/// Sets which records are logged: `RS_IDC_LOG_OFF` (none) up to
/// `RS_IDC_LOG_TRACE` (all); numbers outside are clamped. Overrides
/// `RS_IDC_LOG`.
#[no_mangle]
pub extern "C" fn rs_idc_set_log_level(level: c_int) {
    boundary((), || {
        crate::log::set_level(crate::log::LogLevel::from_number(level))
    })
}

/// Wipes a token returned by this library and frees it. NULL is fine.
///
/// # Safety
/// `token` must be NULL or a token from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_free_token(token: *mut c_char) {
    boundary((), || {
        if token.is_null() {
            return;
        }
        let len = libc::strlen(token);
        std::slice::from_raw_parts_mut(token.cast::<u8>(), len).zeroize();
        libc::free(token.cast());
    })
}

/// The static name of a status number, such as `"RS_IDC_ENOTFOUND"`;
/// `"RS_IDC_UNKNOWN"` for a number that is not assigned. Never NULL.
#[no_mangle]
pub extern "C" fn rs_idc_status_str(status: c_int) -> *const c_char {
    boundary(c"RS_IDC_UNKNOWN".as_ptr(), || status_name(status).as_ptr())
}

/// A message for the calling thread's last failure: what went wrong, with
/// the AWS error code and request id where there is one. Never contains a
/// token or a secret. Empty if this thread has had no failure. Never NULL.
///
/// The text belongs to the library and stays valid until the next failing
/// call on the same thread.
#[no_mangle]
pub extern "C" fn rs_idc_last_error() -> *const c_char {
    boundary(c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|slot| slot.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

/// The library's version, such as `"0.1.0"`. Never NULL.
#[no_mangle]
pub extern "C" fn rs_idc_version() -> *const c_char {
    boundary(c"".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{RS_IDC_EINVAL, RS_IDC_OK};
    use std::ffi::CStr;

    fn last_error() -> String {
        unsafe { CStr::from_ptr(rs_idc_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn committed_header_matches_a_fresh_one() {
        let fresh = include_str!(concat!(env!("OUT_DIR"), "/rs_idc.h"));
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/rs_idc.h");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == fresh,
            "include/rs_idc.h is stale: run `make header` and commit it"
        );
    }

    #[test]
    fn every_name_in_the_header_has_the_prefix() {
        let header = include_str!(concat!(env!("OUT_DIR"), "/rs_idc.h"));
        for line in header.lines() {
            if let Some(name) = line.strip_prefix("#define ") {
                assert!(name.starts_with("RS_IDC_"), "{line}");
            }
            if let Some((_, rest)) = line.split_once(" rs_") {
                assert!(
                    rest.starts_with("idc_") || rest.starts_with("idc.h"),
                    "{line}"
                );
            }
            if line.starts_with("int ") || line.starts_with("void ") {
                assert!(line.contains(" rs_idc_"), "{line}");
            }
        }
    }

    #[test]
    fn a_panic_becomes_an_internal_status_with_a_message() {
        assert_eq!(guard(|| panic!("boom")), RS_IDC_EINTERNAL);
        assert!(last_error().contains("panic"));
        assert_eq!(guard(|| Ok(())), RS_IDC_OK);
    }

    #[test]
    fn reads_at_most_the_bound() {
        let long = vec![b'a'; 4096];
        // No NUL anywhere: only the bound stops the scan.
        let got = unsafe { bounded_bytes(long.as_ptr().cast(), MAX_IDENTIFIER_SCAN) };
        assert_eq!(got.len(), MAX_IDENTIFIER_SCAN);
        let short = c"abc";
        assert_eq!(unsafe { bounded_bytes(short.as_ptr(), 65) }, b"abc");
    }

    #[test]
    fn null_pointers_are_invalid_arguments() {
        let id = c"cluster";
        let mut ids = [id.as_ptr()];
        let status =
            unsafe { rs_idc_get_token(ids.as_mut_ptr(), 1, ptr::null_mut(), ptr::null_mut()) };
        assert_eq!(status, RS_IDC_EINVAL);
        assert_eq!(last_error(), "out is NULL");

        let mut out: *mut c_char = c"sentinel".as_ptr().cast_mut();
        let status = unsafe { rs_idc_get_token(ptr::null_mut(), 1, &mut out, ptr::null_mut()) };
        assert_eq!(status, RS_IDC_EINVAL);
        assert!(out.is_null());
        assert_eq!(last_error(), "ids is NULL");

        let mut with_null = [id.as_ptr(), ptr::null()];
        let status =
            unsafe { rs_idc_get_token(with_null.as_mut_ptr(), 2, &mut out, ptr::null_mut()) };
        assert_eq!(status, RS_IDC_EINVAL);
        assert_eq!(last_error(), "ids[1] is NULL");
    }

    #[test]
    fn free_accepts_null_and_library_tokens() {
        unsafe { rs_idc_free_token(ptr::null_mut()) };
        let token = Token::for_tests("abc", 1);
        let mut out = ptr::null_mut();
        unsafe { hand_out(token, &mut out, ptr::null_mut()) }.unwrap();
        assert_eq!(unsafe { CStr::from_ptr(out) }, c"abc");
        unsafe { rs_idc_free_token(out) };
    }

    #[test]
    fn names_and_version_are_static_strings() {
        assert_eq!(
            unsafe { CStr::from_ptr(rs_idc_status_str(-5)) },
            c"RS_IDC_ENOTFOUND"
        );
        let version = unsafe { CStr::from_ptr(rs_idc_version()) };
        assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
