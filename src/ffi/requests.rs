//! Non-blocking requests: start, a descriptor to wait on, finish, free.

use super::handles::{client_ref, rs_idc_client};
use super::{boundary, guard, identifiers, output_slot, token_call};
use crate::error::Error;
use crate::requests::Request;
use crate::status::Status;
use crate::token::Api;
use std::ffi::{c_char, c_int};

/// A token call in progress, for event loops (see
/// rs_idc_client_start_token()). Released by rs_idc_request_free().
#[allow(non_camel_case_types)] // the C name
pub struct rs_idc_request {
    request: Request,
}

/// Starts a token call for Redshift provisioned clusters without
/// blocking. It is for event-loop clients (libpq-style connect polling,
/// libuv, nginx, language runtimes): wait until rs_idc_request_fd() is
/// readable, then call rs_idc_request_finish().
///
/// client, ids, n: as for rs_idc_client_get_token(). They are checked here: a
/// bad input fails at once, with no request and no network traffic.
/// out: receives the request; release it with rs_idc_request_free().
///
/// A cached token makes the request ready at once. A call for the same
/// token already in flight takes the request as a listener: any number of
/// requests, one call, no thread. Otherwise the call runs on the library's
/// pool of at most RS_IDC_MAX_WORKER_THREADS threads (more requests wait
/// their turn), sharing the cache and the calls in flight with every other
/// caller, bounded by the handle's time bound from this call on.
///
/// Returns RS_IDC_OK, or a negative status (then *out is NULL).
///
/// Threads: any thread. A request belongs to the process that started it.
/// The handle may be freed before its requests.
///
/// Pointers: client must be NULL or a live handle; ids as for
/// rs_idc_get_token(); out must be writable.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_start_token(
    client: *mut rs_idc_client,
    ids: *mut *const c_char,
    n: usize,
    out: *mut *mut rs_idc_request,
) -> c_int {
    guard(|| {
        let out = output_slot(out)?;
        let client = client_ref(client)?;
        let ids = identifiers("ids", ids, n)?;
        let request = Request::start(client, Api::Provisioned, ids)?;
        *out = Box::into_raw(Box::new(rs_idc_request { request }));
        Ok(())
    })
}

/// The file descriptor of a request: readable (POLLIN) once its outcome is
/// ready, and from then on until the request is freed. Do not read from
/// it or close it.
///
/// request: a request from rs_idc_client_start_token(), or NULL.
///
/// Returns the descriptor, or -1 for NULL.
///
/// Threads: any thread of the process that started the request.
///
/// Pointers: request must be NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_request_fd(request: *const rs_idc_request) -> c_int {
    boundary(-1, || match request.as_ref() {
        Some(request) => request.request.fd(),
        None => -1,
    })
}

/// The outcome of a request, once rs_idc_request_fd() is readable. May be
/// called again; each success hands out a new copy of the token.
///
/// request: a request from rs_idc_client_start_token(); NULL gives
/// RS_IDC_EINVAL.
/// out: receives a new copy of the token; release each with
/// rs_idc_free_token().
/// exp: receives the token's expiry in Unix seconds (UTC); may be NULL.
///
/// Returns RS_IDC_EAGAIN while the request runs (then *out is NULL), else
/// exactly what rs_idc_client_get_token() would return, with the token in
/// *out and its expiry in *exp.
///
/// Threads: any thread of the process that started the request.
///
/// Pointers: request must be NULL (RS_IDC_EINVAL) or a live request; out
/// and exp as for rs_idc_get_token().
#[no_mangle]
pub unsafe extern "C" fn rs_idc_request_finish(
    request: *mut rs_idc_request,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, |hand| {
        let request = request
            .as_ref()
            .ok_or_else(|| Error::invalid("request is NULL"))?;
        request
            .request
            .read_outcome(|token| hand.write(token))
            .unwrap_or_else(|| {
                Err(Error::new(
                    Status::Pending,
                    "the request has not finished yet: wait until its descriptor is readable",
                ))
            })
    })
}

/// Releases a request, finished or not. Freeing an unfinished request
/// drops this caller's interest only: the call it started may still
/// complete and fill the cache for others.
///
/// request: a request from rs_idc_client_start_token(); NULL is fine and
/// does nothing.
///
/// Threads: any thread; no call on the request may be running or follow.
///
/// Pointers: request must be NULL or a live request, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_request_free(request: *mut rs_idc_request) {
    boundary((), || {
        if !request.is_null() {
            drop(Box::from_raw(request));
        }
    })
}
