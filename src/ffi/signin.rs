//! Sign-ins for people: the browser and the device-code calls, and how
//! the library opens a URL or shows a device code.

use super::handles::{client_ref, rs_idc_client};
use super::{boundary, token_call};
use crate::browser::set_open_url;
use crate::device::set_show_device_code;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

/// How the library asks the host to open a URL in the user's browser
/// (see rs_idc_set_open_url_callback()). url is a NUL-terminated https or
/// http URL, valid during the call; userdata is the pointer given with the
/// callback. Return 0 when the browser was asked to open it; any other
/// value fails the sign-in at once. The callback should return promptly:
/// the sign-in waits for the browser only after it returns. It must not
/// throw or longjmp.
#[allow(non_camel_case_types)] // the C name
pub type rs_idc_open_url_fn =
    Option<unsafe extern "C" fn(url: *const c_char, userdata: *mut c_void) -> c_int>;

/// The host's callback and its pointer, handed to the library's threads.
struct OpenUrlCallback {
    call: unsafe extern "C" fn(*const c_char, *mut c_void) -> c_int,
    userdata: *mut c_void,
}

impl OpenUrlCallback {
    fn open(&self, url: &str) -> Result<(), String> {
        let url = CString::new(url).map_err(|_| "the URL has a NUL byte".to_owned())?;
        // SAFETY: the host's callback with a C string valid during the
        // call and the host's own userdata.
        match unsafe { (self.call)(url.as_ptr(), self.userdata) } {
            0 => Ok(()),
            code => Err(format!("the open-URL callback returned {code}")),
        }
    }
}

// SAFETY: the host promises, by installing it, that the callback may be
// called from the thread that asks for a browser token with its userdata.
unsafe impl Send for OpenUrlCallback {}
// SAFETY: as above; the library never touches userdata itself.
unsafe impl Sync for OpenUrlCallback {}

/// Signs a person in through their browser with IAM Identity Center and
/// returns the Identity Center access token. The sign-in is the
/// authorization code flow with PKCE, as the official drivers'
/// BrowserIdcAuthPlugin does it; send the token to Redshift with
/// token_type=ACCESS_TOKEN.
///
/// client: a handle made with the option issuer_url (the Identity Center
/// issuer URL), and optionally idc_region (default: the handle's region;
/// a handle with no region of its own takes this one),
/// listen_port (default 7890), idp_response_timeout_s (default 120) and
/// idc_client_display_name (default rs-idc), token_cache_dir (default
/// none: kept in memory only).
/// out: receives the access token; release it with rs_idc_free_token().
/// exp: receives its expiry in Unix seconds; may be NULL.
///
/// The flow: SSO-OIDC RegisterClient (a public client for the redirect
/// URI http://127.0.0.1:PORT/, kept until its secret expires), a random
/// state and PKCE verifier, a listener on 127.0.0.1:listen_port bound
/// before the browser is opened (through rs_idc_set_open_url_callback()),
/// the authorize URL on the SSO-OIDC endpoint of idc_region, the redirect
/// checked against the state (another state, or none, is refused, logged
/// and never exchanged), CreateToken with the code and the verifier, and a
/// page telling the user they may close the window. The listener reads at
/// most 4 connections at once, each for at most 5 s, on the calling
/// thread, and closes them all when the sign-in ends; a forked child does
/// not keep it. The access token is kept per issuer, region, display
/// name and endpoint until its margin, then renewed with the refresh
/// token without a browser; the browser opens again only when that fails.
/// With token_cache_dir the sign-in is also kept on disk, for the next
/// process: a folder of the user's own (made 0700; refused when another
/// user owns it or others may write to it), one file (0600) per sign-in,
/// a lock file so that racing processes sign in once; a corrupt or
/// foreign file is ignored and replaced. Concurrent callers with the same
/// settings share one sign-in, each within its own
/// idp_response_timeout_s: when a shorter bound ends the shared sign-in,
/// a caller with a longer one signs in again in the time it has left.
/// rs_idc_forget_token() and rs_idc_cache_clear() reach the kept access
/// token, on disk too.
///
/// Returns RS_IDC_OK, or: RS_IDC_EINVAL without issuer_url, or with a
/// token_cache_dir that is refused (the message says why);
/// RS_IDC_ETIMEOUT when nobody signs in within idp_response_timeout_s (the
/// message says how many answers with a wrong or missing state were
/// refused);
/// RS_IDC_ENETWORK when listen_port is in use (the message says so);
/// RS_IDC_EIDENTITY when the callback returns non-zero, the sign-in is
/// refused, or the code is not accepted; the listener is closed on every
/// path. Codes, verifiers and tokens are never in a message or a log.
///
/// Threads: any thread; the call blocks until the sign-in ends.
///
/// Pointers: client must be NULL or a live handle; out and exp as for
/// rs_idc_get_token().
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_browser_token(
    client: *mut rs_idc_client,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, |hand| {
        let client = client_ref(client)?;
        client.read_browser_token(|token| hand.write(token))
    })
}

/// Sets how the browser sign-in opens its URL: fn is called with the URL
/// and userdata on the thread that called
/// rs_idc_client_get_browser_token().
///
/// fn: the callback (see rs_idc_open_url_fn), or NULL to restore the
/// default, which runs xdg-open (open on macOS).
/// userdata: passed to fn as it is; the library never reads it.
///
/// Threads: any thread; a sign-in already opening its URL uses the
/// callback it started with.
///
/// Pointers: fn and userdata are kept until they are replaced and no
/// sign-in is still opening its URL with them; userdata is passed back as
/// is.
#[no_mangle]
pub extern "C" fn rs_idc_set_open_url_callback(r#fn: rs_idc_open_url_fn, userdata: *mut c_void) {
    boundary((), || {
        let Some(call) = r#fn else {
            set_open_url(None);
            return;
        };
        let callback = OpenUrlCallback { call, userdata };
        set_open_url(Some(Arc::new(move |url: &str| callback.open(url))));
    })
}

/// How the library shows the person the device-code sign-in's URL and
/// code (see rs_idc_set_device_code_callback()). verification_uri_complete
/// is the URL to open in a browser on any device (the code is in it);
/// user_code is the code the page asks the person to confirm; both are
/// NUL-terminated and valid during the call; userdata is the pointer given
/// with the callback. Return 0 when they were shown; any other value fails
/// the sign-in at once. The callback should return promptly: the library
/// polls for the sign-in after it returns. It must not throw or longjmp.
#[allow(non_camel_case_types)] // the C name
pub type rs_idc_device_code_fn = Option<
    unsafe extern "C" fn(
        verification_uri_complete: *const c_char,
        user_code: *const c_char,
        userdata: *mut c_void,
    ) -> c_int,
>;

/// The host's device-code callback and its pointer.
struct DeviceCodeCallback {
    call: unsafe extern "C" fn(*const c_char, *const c_char, *mut c_void) -> c_int,
    userdata: *mut c_void,
}

impl DeviceCodeCallback {
    fn show(&self, url: &str, code: &str) -> Result<(), String> {
        let url = CString::new(url).map_err(|_| "the URL has a NUL byte".to_owned())?;
        let code = CString::new(code).map_err(|_| "the code has a NUL byte".to_owned())?;
        // SAFETY: the host's callback with C strings valid during the call
        // and the host's own userdata.
        match unsafe { (self.call)(url.as_ptr(), code.as_ptr(), self.userdata) } {
            0 => Ok(()),
            status => Err(format!("the device-code callback returned {status}")),
        }
    }
}

// SAFETY: as for OpenUrlCallback: installing it promises that it may be
// called from the thread that asks for a device token, with its userdata.
unsafe impl Send for DeviceCodeCallback {}
// SAFETY: as above.
unsafe impl Sync for DeviceCodeCallback {}

/// Signs a person in with a device code, for a machine without a browser
/// (a remote shell), and returns the Identity Center access token: send
/// it to Redshift with token_type=ACCESS_TOKEN.
///
/// client: a handle made with the option issuer_url, and optionally
/// idc_region, idp_response_timeout_s (default 120),
/// idc_client_display_name and token_cache_dir, as for
/// rs_idc_client_get_browser_token().
/// out: receives the access token; release it with rs_idc_free_token().
/// exp: receives its expiry in Unix seconds; may be NULL.
///
/// The flow: SSO-OIDC RegisterClient (a public client with the
/// urn:ietf:params:oauth:grant-type:device_code grant, kept until its
/// secret expires), StartDeviceAuthorization, the verification URL and
/// user code shown through rs_idc_set_device_code_callback() (by default
/// on standard error), then CreateToken with the device code at the
/// interval the service asks for, longer when it says slow_down, until
/// the person has confirmed. The access token is kept and renewed with
/// its refresh token exactly as the browser sign-in's, in memory and with
/// token_cache_dir on disk; both sign-ins share what is kept for the same
/// issuer, region, display name and endpoint.
///
/// Returns RS_IDC_OK, or: RS_IDC_EINVAL without issuer_url or with a
/// refused token_cache_dir; RS_IDC_ETIMEOUT when nobody confirms the code
/// within idp_response_timeout_s; RS_IDC_EIDENTITY when the callback
/// returns non-zero, the person refuses (access_denied), or the device
/// code expires (expired_token). Device codes, user codes, client secrets
/// and tokens are never in a message or a log.
///
/// Threads: any thread; the call blocks until the sign-in ends.
///
/// Pointers: client must be NULL or a live handle; out and exp as for
/// rs_idc_get_token().
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_device_token(
    client: *mut rs_idc_client,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, |hand| {
        let client = client_ref(client)?;
        client.read_device_token(|token| hand.write(token))
    })
}

/// Sets how the device-code sign-in shows its URL and code: fn is called
/// with them and userdata on the thread that called
/// rs_idc_client_get_device_token().
///
/// fn: the callback (see rs_idc_device_code_fn), or NULL to restore the
/// default, which writes the URL and the code to standard error.
/// userdata: passed to fn as it is; the library never reads it.
///
/// Threads: any thread; a sign-in already showing its code uses the
/// callback it started with.
///
/// Pointers: fn and userdata are kept until they are replaced and no
/// sign-in is still showing its code with them; userdata is passed back
/// as is.
#[no_mangle]
pub extern "C" fn rs_idc_set_device_code_callback(
    r#fn: rs_idc_device_code_fn,
    userdata: *mut c_void,
) {
    boundary((), || {
        let Some(call) = r#fn else {
            set_show_device_code(None);
            return;
        };
        let callback = DeviceCodeCallback { call, userdata };
        set_show_device_code(Some(Arc::new(move |url: &str, code: &str| {
            callback.show(url, code)
        })));
    })
}
