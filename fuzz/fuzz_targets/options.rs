//! Bytes as client options: one `key=value` per line (a line without `=`
//! gives a NULL value), read by settings_from_options.
//!
//! Beyond not panicking: a refusal is an invalid-argument error, and the
//! values of `secret_access_key` and `session_token` never shape a message:
//! the same options with every letter and digit of those values changed
//! give exactly the same result. `ca_file` lines are dropped, so that the
//! target never opens a file named by the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rs_idc::options::{settings_from_options, RawOption};
use rs_idc::Status;

const SECRET_KEYS: [&[u8]; 2] = [b"secret_access_key", b"session_token"];

/// Each ASCII letter and digit moved one place on within its class, so
/// UTF-8 validity, control characters and white space stay as they were.
fn disguise(value: &[u8]) -> Vec<u8> {
    value
        .iter()
        .map(|&b| match b {
            b'a'..=b'y' | b'A'..=b'Y' | b'0'..=b'8' => b + 1,
            b'z' => b'a',
            b'Z' => b'A',
            b'9' => b'0',
            other => other,
        })
        .collect()
}

fuzz_target!(
    init: {
        // The settings read the library's variables too; keep them fixed.
        for name in ["RS_IDC_TIMEOUT_MS", "RS_IDC_CONNECT_TIMEOUT_MS", "RS_IDC_CACHE",
                     "RS_IDC_ALLOW_HTTP", "AWS_CA_BUNDLE"] {
            std::env::remove_var(name);
        }
    },
    |data: &[u8]| {
        let options: Vec<RawOption<'_>> = data
            .split(|b| *b == b'\n')
            .map(|line| match line.iter().position(|b| *b == b'=') {
                Some(at) => (&line[..at], Some(&line[at + 1..])),
                None => (line, None),
            })
            .filter(|(key, _)| !key.eq_ignore_ascii_case(b"ca_file"))
            .collect();
        let first = settings_from_options(&options);
        if let Err(err) = &first {
            assert_eq!(err.status(), Status::InvalidArgument);
            assert!(!err.message().is_empty());
        }

        let disguised: Vec<Option<Vec<u8>>> = options
            .iter()
            .map(|(key, value)| {
                let secret = SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key));
                value.filter(|_| secret).map(disguise)
            })
            .collect();
        if disguised.iter().all(Option::is_none) {
            return;
        }
        let second_options: Vec<RawOption<'_>> = options
            .iter()
            .zip(&disguised)
            .map(|((key, value), other)| (*key, other.as_deref().or(*value)))
            .collect();
        let second = settings_from_options(&second_options);
        assert_eq!(
            first.as_ref().err().map(|e| e.message()),
            second.as_ref().err().map(|e| e.message()),
            "a secret value changed the outcome"
        );
    }
);
