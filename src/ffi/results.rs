//! What the calls hand back: tokens to free, status names, the thread's
//! last error, the version.

use super::{boundary, LAST_ERROR};
use crate::status::status_name;
use std::ffi::{c_char, c_int};

/// Wipes a token returned by this library and frees it.
///
/// token: a token from rs_idc_get_token() or another token call, not yet
/// freed; NULL is fine and does nothing. The token's bytes are overwritten
/// before the memory goes back to the allocator (plain free() also works,
/// without the wipe).
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

/// The name of a status number, such as "RS_IDC_ENOTFOUND";
/// "RS_IDC_UNKNOWN" for a number that is not assigned.
///
/// Returns a static string, never NULL. Any thread.
#[no_mangle]
pub extern "C" fn rs_idc_status_str(status: c_int) -> *const c_char {
    boundary(c"RS_IDC_UNKNOWN".as_ptr(), || status_name(status).as_ptr())
}

/// What went wrong in the calling thread's last failing call: one line
/// with the AWS error code and request id where there is one. Never holds
/// a token, a secret key, a session token or a password. Empty if this
/// thread has had no failure.
///
/// Returns a string that belongs to the library, never NULL, valid until
/// the next failing call on the same thread. Each thread has its own.
#[no_mangle]
pub extern "C" fn rs_idc_last_error() -> *const c_char {
    boundary(c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|slot| slot.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
}

/// The library's version, such as "0.1.0" (the header's RS_IDC_VERSION is
/// the version it was made for).
///
/// Returns a static string, never NULL. Any thread.
#[no_mangle]
pub extern "C" fn rs_idc_version() -> *const c_char {
    boundary(c"".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}
