//! Basic proxy authentication (RFC 7617 credentials in
//! `Proxy-Authorization`) for a proxy started with a user and password.

use crate::http::Request;
use crate::sigv4::{constant_time_eq, uri_encode};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use std::io;

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub(crate) const REALM: &str = "rs-idc-fake";

/// The credentials a proxy requires. No `Debug`: the password must not end
/// up in a message.
pub(crate) struct ProxyAuth {
    user: String,
    password: String,
    expected: Vec<u8>,
}

impl ProxyAuth {
    /// Checks and keeps `user` and `password`. The user must be non-empty
    /// and hold no `:` (RFC 7617); neither may hold control characters.
    /// The error never holds the password.
    pub(crate) fn new(user: &str, password: &str) -> io::Result<ProxyAuth> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_string());
        if user.is_empty() || user.contains(':') {
            return Err(bad("the proxy user must be non-empty and hold no ':'"));
        }
        if user.chars().chain(password.chars()).any(char::is_control) {
            return Err(bad(
                "the proxy user and password must hold no control characters",
            ));
        }
        Ok(ProxyAuth {
            user: user.to_string(),
            password: password.to_string(),
            expected: format!("{user}:{password}").into_bytes(),
        })
    }

    /// Whether one of the request's `Proxy-Authorization` headers carries
    /// `Basic` credentials equal to the expected ones.
    pub(crate) fn accepts(&self, req: &Request) -> bool {
        req.headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
            .filter_map(|(_, value)| basic_credentials(value))
            .any(|sent| constant_time_eq(&sent, &self.expected))
    }

    /// `http://USER:PASSWORD@127.0.0.1:PORT`, user and password
    /// percent-encoded.
    pub(crate) fn url(&self, port: u16) -> String {
        format!(
            "http://{}:{}@127.0.0.1:{port}",
            uri_encode(&self.user, false),
            uri_encode(&self.password, false)
        )
    }
}

/// The decoded `user:password` bytes of a `Basic` credentials value
/// (scheme in any case); `None` for another scheme or bad base64.
pub(crate) fn basic_credentials(value: &str) -> Option<Vec<u8>> {
    let (scheme, token) = value.trim().split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    BASE64.decode(token.trim()).ok()
}
