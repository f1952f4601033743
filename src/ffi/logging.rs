//! The log callback and level, as C sets them.

use super::boundary;
use crate::log::{self, LogLevel, LogSink};
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

/// The host's log function and its pointer, as C gave them.
struct CallbackSink {
    callback: unsafe extern "C" fn(c_int, *const c_char, *mut c_void),
    userdata: *mut c_void,
}

// SAFETY: the caller of rs_idc_set_log_callback() promises that the
// callback may be called from any thread with this userdata.
unsafe impl Send for CallbackSink {}
unsafe impl Sync for CallbackSink {}

impl CallbackSink {
    fn write(&self, level: LogLevel, line: &str) {
        let line = CString::new(line.replace('\0', " ")).unwrap_or_default();
        // SAFETY: promised by the caller of rs_idc_set_log_callback().
        unsafe { (self.callback)(level as c_int, line.as_ptr(), self.userdata) };
    }
}

/// Hands every log record, the library's and the AWS SDK's, to a callback
/// instead of writing it to stderr.
///
/// cb: called with the level (RS_IDC_LOG_ERROR to RS_IDC_LOG_TRACE), one
/// NUL-terminated line that is valid only during the call, and userdata;
/// NULL sends records back to stderr.
/// userdata: passed to cb as it is; the library never reads it.
///
/// Which records are made is set by rs_idc_set_log_level() or the RS_IDC_LOG
/// environment variable (error, warn, info, debug, trace); the default is
/// none. Records never hold a token, a secret key, a session token or a
/// password.
///
/// Threads: cb runs on the threads that call into the library, possibly on
/// several at once: a call's records come from the thread that made it,
/// or from the thread driving the calls in flight at that moment, or from
/// a short-lived thread named rs-idc-call (for a call made from a thread
/// of another async runtime).
/// It should return quickly and must not call into rs-idc, except to
/// replace itself with this function. It must not throw a C++ exception or
/// longjmp out of the library. When this function returns, no thread is
/// still inside the previous callback, so its userdata may be released at
/// once; called from inside the previous callback, it waits for the other
/// threads only.
///
/// Pointers: cb must be NULL or a function that may be called from any
/// thread with userdata, until it is replaced.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_set_log_callback(
    cb: Option<unsafe extern "C" fn(level: c_int, msg: *const c_char, userdata: *mut c_void)>,
    userdata: *mut c_void,
) {
    boundary((), || {
        let sink = cb.map(|callback| {
            let host = CallbackSink { callback, userdata };
            let sink: LogSink = Arc::new(move |level, line: &str| host.write(level, line));
            sink
        });
        log::set_sink(sink);
    })
}

/// Sets which log records are made. Overrides the RS_IDC_LOG environment
/// variable.
///
/// level: RS_IDC_LOG_OFF (none) up to RS_IDC_LOG_TRACE (all); numbers
/// outside are clamped.
///
/// Threads: any thread; records already being made may still appear.
#[no_mangle]
pub extern "C" fn rs_idc_set_log_level(level: c_int) {
    boundary((), || log::set_level(LogLevel::from_number(level)))
}
