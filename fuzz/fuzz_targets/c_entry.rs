//! Bytes as C strings (split at NUL bytes) into the C entry points:
//! rs_idc_get_token, rs_idc_client_new, and the serverless and host-name
//! calls of a client that points at loopback. The first byte chooses.
//!
//! No input reaches the network beyond loopback: the environment set in
//! `init` sends the process-wide client to 127.0.0.1:9, where nothing
//! listens, with static credentials, no metadata lookups, one attempt and
//! a 50 ms bound; the fixed client gets the same settings as options.
//! Clients made from fuzzed options are only made and freed, never used.
//!
//! Checked: no panic crosses the boundary (RS_IDC_EINTERNAL), input that
//! the pure checks refuse gives RS_IDC_EINVAL, `*out` is NULL exactly when
//! the call fails, and `*exp` is left alone on failure.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rs_idc::ffi::{
    rs_idc_client, rs_idc_client_free, rs_idc_client_get_serverless_token,
    rs_idc_client_get_token_for_host, rs_idc_client_new, rs_idc_free_token, rs_idc_get_token,
    rs_idc_option,
};
use rs_idc::hosts::classify_host;
use rs_idc::ids::{normalise_cluster_ids, normalise_workgroups};
use rs_idc::options::{settings_from_options, RawOption};
use rs_idc::status::{RS_IDC_EINTERNAL, RS_IDC_EINVAL, RS_IDC_OK};
use std::ffi::{c_char, CString};
use std::ptr;
use std::sync::OnceLock;

/// How far the C layer reads one identifier, one option key, one option
/// value and one host name.
const ID_SCAN: usize = 65;
const KEY_SCAN: usize = 64 + 1;
const VALUE_SCAN: usize = 16 * 1024 + 1;
const HOST_SCAN: usize = 253 + 1;

/// A client handle shared by every run.
struct Shared(*mut rs_idc_client);
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

static LOOPBACK_CLIENT: OnceLock<Shared> = OnceLock::new();

fn loopback_client() -> *mut rs_idc_client {
    LOOPBACK_CLIENT
        .get_or_init(|| {
            let pairs = [
                (c"region", c"us-east-1"),
                (c"endpoint_url", c"http://127.0.0.1:9"),
                (c"access_key_id", c"ASIAFUZZFUZZFUZZFUZZ"),
                (c"secret_access_key", c"fuzz-secret"),
                (c"session_token", c"fuzz-session"),
                (c"timeout_ms", c"50"),
                (c"connect_timeout_ms", c"50"),
                (c"max_attempts", c"1"),
                (c"cache", c"off"),
            ];
            let options: Vec<rs_idc_option> = pairs
                .iter()
                .map(|(key, value)| rs_idc_option {
                    key: key.as_ptr(),
                    value: value.as_ptr(),
                })
                .collect();
            let mut client = ptr::null_mut();
            let status = unsafe { rs_idc_client_new(options.as_ptr(), options.len(), &mut client) };
            assert_eq!(status, RS_IDC_OK);
            Shared(client)
        })
        .0
}

fn bounded(bytes: &[u8], limit: usize) -> &[u8] {
    &bytes[..bytes.len().min(limit)]
}

/// Checks a token call's outcome: `refused` says whether the pure checks
/// refuse the input.
fn check(status: i32, out: *mut c_char, exp: i64, refused: bool) {
    assert_ne!(status, RS_IDC_EINTERNAL, "internal error at the C boundary");
    if refused {
        assert_eq!(status, RS_IDC_EINVAL);
    }
    if status == RS_IDC_OK {
        assert!(!out.is_null());
        unsafe { rs_idc_free_token(out) };
    } else {
        assert!(out.is_null(), "*out is not NULL after a failure");
        assert_eq!(exp, EXP_UNTOUCHED, "*exp was written on failure");
    }
}

const EXP_UNTOUCHED: i64 = 0x5eed;

fuzz_target!(
    init: {
        for (name, value) in [
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "ASIAFUZZFUZZFUZZFUZZ"),
            ("AWS_SECRET_ACCESS_KEY", "fuzz-secret"),
            ("AWS_SESSION_TOKEN", "fuzz-session"),
            ("AWS_CONFIG_FILE", "/nonexistent/rs-idc-fuzz/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/rs-idc-fuzz/credentials"),
            ("AWS_MAX_ATTEMPTS", "1"),
            ("RS_IDC_TIMEOUT_MS", "50"),
            ("RS_IDC_CONNECT_TIMEOUT_MS", "50"),
            ("RS_IDC_CACHE", "0"),
        ] {
            std::env::set_var(name, value);
        }
        for name in [
            "AWS_PROFILE", "AWS_ENDPOINT_URL_REDSHIFT", "AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS",
            "AWS_CA_BUNDLE", "RS_IDC_ALLOW_HTTP", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY",
            "http_proxy", "ALL_PROXY", "all_proxy",
        ] {
            std::env::remove_var(name);
        }
        loopback_client();
    },
    |data: &[u8]| {
        let Some((&mode, rest)) = data.split_first() else {
            return;
        };
        // NUL-free pieces, each made into a C string.
        let pieces: Vec<&[u8]> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split(|b| *b == 0).collect()
        };
        let strings: Vec<CString> = pieces
            .iter()
            .map(|p| CString::new(*p).expect("split at NUL"))
            .collect();
        match mode % 4 {
            0 | 1 => {
                let mut ids: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
                // n as given, but never more than there are pointers.
                let n = ids.len();
                let seen: Vec<&[u8]> = pieces.iter().map(|p| bounded(p, ID_SCAN)).collect();
                let mut out: *mut c_char = ptr::NonNull::dangling().as_ptr();
                let mut exp = EXP_UNTOUCHED;
                let ids_ptr = if ids.is_empty() {
                    ptr::NonNull::dangling().as_ptr()
                } else {
                    ids.as_mut_ptr()
                };
                let (status, refused) = if mode % 4 == 0 {
                    let refused = normalise_cluster_ids(&seen).is_err();
                    (unsafe { rs_idc_get_token(ids_ptr, n, &mut out, &mut exp) }, refused)
                } else {
                    let refused = normalise_workgroups(&seen).is_err();
                    let status = unsafe {
                        rs_idc_client_get_serverless_token(
                            loopback_client(),
                            ids_ptr,
                            n,
                            &mut out,
                            &mut exp,
                        )
                    };
                    (status, refused)
                };
                check(status, out, exp, refused);
            }
            2 => {
                let Some(host) = strings.first() else { return };
                let refused = classify_host(bounded(pieces[0], HOST_SCAN)).is_err();
                let mut out: *mut c_char = ptr::NonNull::dangling().as_ptr();
                let mut exp = EXP_UNTOUCHED;
                let status = unsafe {
                    rs_idc_client_get_token_for_host(
                        loopback_client(),
                        host.as_ptr(),
                        &mut out,
                        &mut exp,
                    )
                };
                check(status, out, exp, refused);
            }
            _ => {
                // Pairs of strings as key and value; a last key alone has a
                // NULL value. No file is opened for `ca_file`.
                if pieces
                    .iter()
                    .step_by(2)
                    .any(|key| bounded(key, KEY_SCAN).eq_ignore_ascii_case(b"ca_file"))
                {
                    return;
                }
                let options: Vec<rs_idc_option> = strings
                    .chunks(2)
                    .map(|pair| rs_idc_option {
                        key: pair[0].as_ptr(),
                        value: pair.get(1).map_or(ptr::null(), |v| v.as_ptr()),
                    })
                    .collect();
                let raw: Vec<RawOption<'_>> = pieces
                    .chunks(2)
                    .map(|pair| {
                        (
                            bounded(pair[0], KEY_SCAN),
                            pair.get(1).map(|v| bounded(v, VALUE_SCAN)),
                        )
                    })
                    .collect();
                let expected = settings_from_options(&raw);
                let mut client: *mut rs_idc_client = ptr::NonNull::dangling().as_ptr();
                let options_ptr = if options.is_empty() {
                    ptr::null()
                } else {
                    options.as_ptr()
                };
                let status = unsafe { rs_idc_client_new(options_ptr, options.len(), &mut client) };
                assert_ne!(status, RS_IDC_EINTERNAL, "internal error at the C boundary");
                match expected {
                    Ok(_) => {
                        assert_eq!(status, RS_IDC_OK);
                        assert!(!client.is_null());
                        // Made and freed, never used: its settings are fuzzed.
                        unsafe { rs_idc_client_free(client) };
                    }
                    Err(_) => {
                        assert_eq!(status, RS_IDC_EINVAL);
                        assert!(client.is_null());
                    }
                }
            }
        }
    }
);
