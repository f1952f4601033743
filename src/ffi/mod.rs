//! The C surface, thin and mechanical: pointer checks, bounded C strings
//! in, C strings and statuses out, the thread's last error and the panic
//! guard. Every decision is made by the safe core below it.
//!
//! Every exported body runs inside [`boundary`], so no panic ever crosses
//! into C. The exported functions document their contract for C readers
//! (they become the header's comments), pointer rules included, in the
//! paragraph that starts with "Pointers:".

// The pointer contract of each export is written for C readers, in its
// "Pointers:" paragraph, not in a "# Safety" section the header would show.
#![allow(clippy::missing_safety_doc)]

// cbindgen writes the header's functions in the order of these modules, and
// of the functions in each: the order a reader meets them in (build.rs
// checks the groups' order). The comments keep rustfmt from sorting the
// lines.
// The process-wide call, freeing a token, the last error, names, version.
mod process;
// Client handles: options, new, token calls, free, cache clear, forget.
mod handles;
// Per-user tokens.
mod users;
// Non-blocking requests.
mod requests;
// Browser sign-in.
mod signin;
// Logging.
mod logging;

pub use handles::*;
pub use logging::*;
pub use process::*;
pub use requests::*;
pub use signin::*;
pub use users::*;

use crate::error::Error;
use crate::ids::RS_IDC_MAX_WORKGROUP_LEN;
use crate::status::{RS_IDC_EINTERNAL, RS_IDC_OK};
use crate::token::Token;
use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// The most bytes read from one identifier string: the longest identifier
/// plus its terminating NUL. A longer string is rejected without reading
/// the rest of it.
const MAX_IDENTIFIER_SCAN: usize = RS_IDC_MAX_WORKGROUP_LEN + 1;

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
    // The C library's vectorised scan with the same bound: a 1 KB web
    // token costs it tens of nanoseconds, a byte-by-byte loop hundreds.
    let len = libc::strnlen(text, limit);
    std::slice::from_raw_parts(text.cast::<u8>(), len)
}

/// A C string argument read with a bound, or an error naming it when NULL.
///
/// # Safety
/// As [`bounded_bytes`], when `text` is not NULL.
unsafe fn text_argument<'a>(
    name: &str,
    text: *const c_char,
    limit: usize,
) -> Result<&'a [u8], Error> {
    if text.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    Ok(bounded_bytes(text, limit))
}

/// One identifier of a C array, read (with a bound) where it is used: a
/// call copies neither the array nor the strings.
#[repr(transparent)]
struct CIdentifier(*const c_char);

impl AsRef<[u8]> for CIdentifier {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: made only by `identifiers`, from a pointer checked not to
        // be NULL, which the caller keeps readable for the call (every
        // function's pointer rules).
        unsafe { bounded_bytes(self.0, MAX_IDENTIFIER_SCAN) }
    }
}

/// The identifiers of a C array, each to be read with a bound; `name` is
/// the argument named in messages.
///
/// # Safety
/// `ids` must be NULL or point to `n` pointers, each NULL or a readable C
/// string, all kept readable for the call.
unsafe fn identifiers<'a>(
    name: &str,
    ids: *const *const c_char,
    n: usize,
) -> Result<&'a [CIdentifier], Error> {
    if ids.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    crate::ids::check_count(n)?;
    let ids = std::slice::from_raw_parts(ids, n);
    if let Some(i) = ids.iter().position(|id| id.is_null()) {
        return Err(Error::invalid(format!("{name}[{i}] is NULL")));
    }
    // SAFETY: a CIdentifier is its pointer (`repr(transparent)`).
    Ok(&*(ids as *const [*const c_char] as *const [CIdentifier]))
}

/// Clears `*out` and returns the slot for writing, or fails when `out` is
/// NULL. Every `**out` argument goes through here, so that a failing call
/// always leaves NULL behind.
///
/// # Safety
/// `out` must be NULL or point to a writable pointer.
unsafe fn output_slot<'a, T>(out: *mut *mut T) -> Result<&'a mut *mut T, Error> {
    let slot = out.as_mut().ok_or_else(|| Error::invalid("out is NULL"))?;
    *slot = ptr::null_mut();
    Ok(slot)
}

/// Where a token call puts its token: the caller's `*out` and `*exp`.
struct HandOut<'a> {
    out: &'a mut *mut c_char,
    exp: *mut i64,
}

impl HandOut<'_> {
    /// Copies the token into memory from the C allocator and stores its
    /// expiry. A cached token is copied straight from the cache.
    ///
    /// # Safety
    /// `exp` must be NULL or point to a writable `int64_t`.
    unsafe fn write(self, token: &Token) -> Result<(), Error> {
        let bytes = token.secret().as_bytes();
        let copy = libc::malloc(bytes.len() + 1).cast::<u8>();
        if copy.is_null() {
            return Err(Error::internal("out of memory for the token"));
        }
        ptr::copy_nonoverlapping(bytes.as_ptr(), copy, bytes.len());
        *copy.add(bytes.len()) = 0;
        *self.out = copy.cast::<c_char>();
        if let Some(exp) = self.exp.as_mut() {
            *exp = token.expires_at();
        }
        Ok(())
    }
}

/// The shape of every token call: clear `*out`, then `get` finds the token
/// and hands it to the [`HandOut`].
///
/// # Safety
/// `out` must be NULL or point to a writable pointer; `exp` NULL or
/// writable.
unsafe fn token_call(
    out: *mut *mut c_char,
    exp: *mut i64,
    get: impl FnOnce(HandOut<'_>) -> Result<Result<(), Error>, Error>,
) -> c_int {
    guard(|| {
        let out = output_slot(out)?;
        get(HandOut { out, exp })?
    })
}

#[cfg(test)]
mod docs_tests;
#[cfg(test)]
mod tests;
