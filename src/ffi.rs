//! The C surface: pointer checks, C strings in and out, status numbers, the
//! thread-local last error and the panic guard. No AWS types here.
//!
//! Every exported body runs inside [`boundary`], so no panic ever crosses
//! into C.

use crate::client::{default_client, Token};
use crate::error::Error;
use crate::status::{status_name, RS_IDC_EINTERNAL, RS_IDC_OK};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
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

/// The identifiers of a C array, each read with a bound.
///
/// # Safety
/// `ids` must be NULL or point to `n` readable pointers.
unsafe fn identifiers<'a>(ids: *const *const c_char, n: usize) -> Result<Vec<&'a [u8]>, Error> {
    if ids.is_null() {
        return Err(Error::invalid("ids is NULL"));
    }
    crate::ids::check_count(n)?;
    std::slice::from_raw_parts(ids, n)
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            if id.is_null() {
                Err(Error::invalid(format!("ids[{i}] is NULL")))
            } else {
                Ok(bounded_bytes(id, MAX_IDENTIFIER_SCAN))
            }
        })
        .collect()
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
/// Tokens are cached per endpoint, region, access key and identifier set,
/// and served while more than the smaller of five minutes and half their
/// lifetime is left; a cached answer costs a copy. Concurrent calls for the
/// same set make one request.
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
    guard(|| {
        let out = output_slot(out)?;
        let ids = identifiers(ids, n)?;
        let token = default_client()?.get_token(&ids)?;
        hand_out(token, out, exp)
    })
}

/// Empties the process-wide token cache; the dropped tokens are wiped.
/// The next call for any identifier set asks the service again.
#[no_mangle]
pub extern "C" fn rs_idc_cache_clear() {
    boundary((), crate::client::clear_cache)
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
