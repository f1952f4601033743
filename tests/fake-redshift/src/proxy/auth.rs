//! Basic proxy authentication (RFC 7617 credentials in
//! `Proxy-Authorization`) for a proxy started with a user and password.

use crate::http::Request;
use crate::sigv4::{constant_time_eq, uri_encode};
use std::io;

/// The realm named in `Proxy-Authenticate`.
pub(crate) const REALM: &str = "rs-idc-fake";

/// The credentials a proxy requires. No `Debug`: the password must not end
/// up in a message.
pub(crate) struct ProxyAuth {
    user: String,
    password: String,
    /// `user:password`, what a valid `Basic` token decodes to.
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
    base64_decode(token.trim())
}

/// Standard base64 (RFC 4648, section 4). Padding may be left out; when
/// present it must be right. `None` for anything else.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let data = match bytes.iter().position(|&b| b == b'=') {
        Some(at) => {
            let padding = &bytes[at..];
            if padding.len() > 2
                || padding.iter().any(|&b| b != b'=')
                || !bytes.len().is_multiple_of(4)
            {
                return None;
            }
            &bytes[..at]
        }
        None => bytes,
    };
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in data {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero (canonical encoding).
    if acc != 0 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::base64;

    #[test]
    fn base64_decodes_rfc4648_vectors() {
        for plain in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let encoded = base64(plain.as_bytes());
            assert_eq!(
                base64_decode(&encoded).as_deref(),
                Some(plain.as_bytes()),
                "{encoded}"
            );
            let unpadded = encoded.trim_end_matches('=');
            assert_eq!(
                base64_decode(unpadded).as_deref(),
                Some(plain.as_bytes()),
                "{unpadded}"
            );
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64(&all)), Some(all));
        for bad in [
            "Zg=", "Zg===", "Z", "Zm9v!", "Zm=v", "Zh==", "Zm9=", "=", "Zg==Zg==", "Zm 9v",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad:?} was accepted");
        }
    }

    fn request_with(values: &[&str]) -> Request {
        Request {
            method: "CONNECT".into(),
            path: "127.0.0.1:1".into(),
            query: String::new(),
            minor_version: 1,
            headers: values
                .iter()
                .map(|v| ("Proxy-Authorization".to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn only_matching_basic_credentials_are_accepted() {
        let auth = ProxyAuth::new("user", "p:ss w@rd").expect("valid");
        let good = base64(b"user:p:ss w@rd");
        for value in [
            format!("Basic {good}"),
            format!("basic  {good} "),
            format!("BASIC\t{good}"),
        ] {
            assert!(auth.accepts(&request_with(&[&value])), "{value}");
        }
        assert!(auth.accepts(&request_with(&["Bearer x", &format!("Basic {good}")])));
        for value in [
            String::new(),
            "Basic".to_string(),
            format!("Bearer {good}"),
            format!("Basic {}", base64(b"user:p:ss w@rd ")),
            format!("Basic {}", base64(b"User:p:ss w@rd")),
            format!("Basic {}", base64(b"user:")),
            format!("Basic {good}!"),
        ] {
            assert!(!auth.accepts(&request_with(&[&value])), "{value:?}");
        }
        assert!(!auth.accepts(&request_with(&[])));
    }

    #[test]
    fn bad_users_are_refused_and_urls_are_encoded() {
        for (user, password) in [("", "x"), ("a:b", "x"), ("a\nb", "x"), ("a", "x\r\n")] {
            let err = ProxyAuth::new(user, password)
                .err()
                .expect("must be refused");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(!err.to_string().contains("x\r\n"));
        }
        let auth = ProxyAuth::new("u ser", "p@ss:w/d").expect("valid");
        assert_eq!(
            auth.url(8080),
            "http://u%20ser:p%40ss%3Aw%2Fd@127.0.0.1:8080"
        );
    }
}
