//! A user's web token: the JWT their identity provider issued, read with
//! a bound, checked for shape and expiry before any network traffic, and
//! wiped when dropped. Its text never appears in a message or a log.

use crate::error::Error;
use crate::files::read_regular_file;
use crate::keyed::{Digest, KeyedHash};
use crate::status::Status;
use crate::values::base64url_decode;
use aws_smithy_json::deserialize::{json_token_iter, Token as Json};
use std::path::Path;
use zeroize::Zeroizing;

/// The longest web token accepted, in bytes.
pub const RS_IDC_MAX_WEB_TOKEN_LEN: usize = 16 * 1024;

/// What a web token claims, read without verifying its signature (the
/// services do that): for reports about a web token before it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebTokenClaims {
    /// The `sub` claim, when it is a string.
    pub subject: Option<String>,
    /// The `exp` claim, Unix seconds.
    pub expires_at: i64,
    /// The token's length in bytes, without surrounding white space.
    pub len: usize,
}

/// The claims of the web token `bytes` (the setting or argument `name` in
/// errors), with the shape checks of every per-user call (`RS_IDC_EINVAL`)
/// but not the expiry.
pub fn web_token_claims(name: &str, bytes: &[u8]) -> Result<WebTokenClaims, Error> {
    checked_claims(name, bytes).map(|(_, claims)| claims)
}

/// As [`web_token_claims`], for the file at `path`, read as the
/// `web_token_file` option reads it.
pub fn web_token_file_claims(name: &str, path: &Path) -> Result<WebTokenClaims, Error> {
    web_token_claims(name, &read_web_token_file(name, path)?)
}

/// A web token whose shape and expiry were checked.
pub(crate) struct WebToken {
    text: Zeroizing<String>,
    expires_at: i64,
    /// A keyed digest of the text: it names the user's session without
    /// keeping the token.
    digest: Digest,
}

/// The text of a web token without surrounding white space, and its
/// claims; or why it is not one.
fn checked_claims<'a>(name: &str, bytes: &'a [u8]) -> Result<(&'a [u8], WebTokenClaims), Error> {
    let shape = |why: &str| Error::invalid(format!("{name}: {why}"));
    if bytes.len() > RS_IDC_MAX_WEB_TOKEN_LEN {
        return Err(shape(&format!(
            "longer than {RS_IDC_MAX_WEB_TOKEN_LEN} bytes"
        )));
    }
    let text = bytes.trim_ascii();
    if text.is_empty() {
        return Err(shape("is empty"));
    }
    let mut parts = text.split(|&b| b == b'.');
    let (Some(_header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(shape(
            "is not a JSON web token (three parts joined by dots)",
        ));
    };
    let base64url = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    if signature.is_empty() || !text.iter().all(|b| base64url(b) || *b == b'.') {
        return Err(shape(
            "is not a JSON web token (base64url parts with a signature)",
        ));
    }
    let payload =
        base64url_decode(payload).ok_or_else(|| shape("has a payload that is not base64url"))?;
    let (subject, expires_at) =
        claims(&payload).map_err(|why| shape(&format!("has a payload that {why}")))?;
    let claims = WebTokenClaims {
        subject,
        expires_at,
        len: text.len(),
    };
    Ok((text, claims))
}

impl WebToken {
    /// Checks `bytes` (named `name` in errors) at Unix time `now`: three
    /// base64url parts, a JSON object payload with a numeric `exp`
    /// (`RS_IDC_EINVAL` otherwise), and `exp` still ahead
    /// (`RS_IDC_EIDENTITY` otherwise). Surrounding white space, as a file
    /// ends with, is ignored.
    pub(crate) fn parse(name: &str, bytes: &[u8], now: i64) -> Result<WebToken, Error> {
        let (text, WebTokenClaims { expires_at, .. }) = checked_claims(name, bytes)?;
        if expires_at <= now {
            return Err(Error::new(
                Status::Identity,
                format!(
                    "{name}: expired {} s ago (exp {expires_at}); get a new one from the identity provider",
                    now - expires_at
                ),
            ));
        }
        // `text` holds only ASCII, as checked above.
        let text = Zeroizing::new(String::from_utf8_lossy(text).into_owned());
        let digest = web_token_digest(text.as_bytes())?;
        Ok(WebToken {
            text,
            expires_at,
            digest,
        })
    }

    /// Reads and checks the web token in the file at `path` (the setting
    /// `name`): a regular file of at most [`RS_IDC_MAX_WEB_TOKEN_LEN`]
    /// bytes, opened without blocking.
    pub(crate) fn read_file(name: &str, path: &Path, now: i64) -> Result<WebToken, Error> {
        WebToken::parse(name, &read_web_token_file(name, path)?, now)
    }

    /// The token text, to send to AWS.
    pub(crate) fn secret(&self) -> &str {
        &self.text
    }

    /// The `exp` claim, Unix seconds.
    pub(crate) fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// A keyed digest of the token: it names the user's session without
    /// keeping the token.
    pub(crate) fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Whether this token's text is `text` (without surrounding white
    /// space), compared in time that depends on the lengths only.
    pub(crate) fn has_text(&self, text: &[u8]) -> bool {
        same_text(self.text.as_bytes(), text)
    }
}

/// Whether two texts are the same, in time that depends on their lengths
/// only: eight bytes at a time, with no early exit.
fn same_text(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |chunk: &[u8]| u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut diff = a_words
        .remainder()
        .iter()
        .zip(b_words.remainder())
        .fold(0u64, |d, (x, y)| d | u64::from(x ^ y));
    for (x, y) in a_words.zip(b_words) {
        diff |= word(x) ^ word(y);
    }
    std::hint::black_box(diff) == 0
}

/// The bytes of a web token file: a regular file of at most
/// [`RS_IDC_MAX_WEB_TOKEN_LEN`] bytes, read without blocking.
fn read_web_token_file(name: &str, path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    read_regular_file(name, path, RS_IDC_MAX_WEB_TOKEN_LEN as u64)
}

/// A keyed digest of web token text.
pub(crate) fn web_token_digest(text: &[u8]) -> Result<Digest, Error> {
    let mut hash = KeyedHash::new("rs-idc web token")?;
    hash.field(text.trim_ascii());
    Ok(hash.finish())
}

/// The string `sub` and the numeric `exp` members of a JSON object, or
/// why it is not one or has no `exp`.
fn claims(payload: &[u8]) -> Result<(Option<String>, i64), &'static str> {
    let not_json = "is not a JSON object";
    let mut tokens = json_token_iter(payload);
    if !matches!(tokens.next(), Some(Ok(Json::StartObject { .. }))) {
        return Err(not_json);
    }
    let mut depth = 0usize;
    let (mut subject, mut expires_at) = (None, None);
    let mut key = "";
    let mut closed = false;
    for token in tokens.by_ref() {
        match token.map_err(|_| not_json)? {
            Json::ObjectKey { key: name, .. } if depth == 0 => {
                key = name.as_escaped_str();
                continue;
            }
            Json::StartObject { .. } | Json::StartArray { .. } => depth += 1,
            Json::EndObject { .. } | Json::EndArray { .. } if depth == 0 => {
                closed = true;
                break;
            }
            Json::EndObject { .. } | Json::EndArray { .. } => depth -= 1,
            Json::ValueString { value, .. } if depth == 0 && key == "sub" => {
                subject = value.to_unescaped().ok().map(|text| text.into_owned());
            }
            Json::ValueNumber { value, .. } if depth == 0 && key == "exp" => {
                expires_at = Some(match value {
                    aws_smithy_types::Number::PosInt(n) => i64::try_from(n).unwrap_or(i64::MAX),
                    aws_smithy_types::Number::NegInt(n) => n,
                    aws_smithy_types::Number::Float(f) => f as i64,
                });
            }
            _ => {}
        }
        key = "";
    }
    if !closed || tokens.next().is_some() {
        return Err(not_json);
    }
    match expires_at {
        Some(expires_at) => Ok((subject, expires_at)),
        None => Err("has no numeric exp claim"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn b64url(bytes: &[u8]) -> String {
        crate::values::base64url_encode(bytes).to_string()
    }

    /// A JWT with this payload and a fixed signature, for tests here and
    /// in the modules that use web tokens.
    pub(crate) fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64url(br#"{"alg":"HS256","typ":"JWT"}"#),
            b64url(payload.as_bytes())
        )
    }

    #[test]
    fn same_text_sees_every_difference_and_length() {
        let a: Vec<u8> = (0..37u8).collect();
        assert!(same_text(&a, &a.clone()));
        for at in 0..a.len() {
            let mut b = a.clone();
            b[at] ^= 0x40;
            assert!(!same_text(&a, &b), "difference at {at}");
        }
        assert!(!same_text(&a, &a[..36]));
        assert!(same_text(b"", b""));
    }

    #[test]
    fn a_well_formed_token_gives_its_expiry() {
        let text = jwt(r#"{"sub":"alice","nested":{"exp":1},"list":[{"exp":2}],"exp":2000}"#);
        let token = WebToken::parse("web_token", format!("{text}\n").as_bytes(), 1000).unwrap();
        assert_eq!(token.expires_at(), 2000);
        assert_eq!(token.secret(), text);
        assert_eq!(*token.digest(), web_token_digest(text.as_bytes()).unwrap());
        let float = WebToken::parse("t", jwt(r#"{"exp":2000.5}"#).as_bytes(), 1000).unwrap();
        assert_eq!(float.expires_at(), 2000);
        // Claims are read without the expiry check.
        let claims = web_token_claims("t", jwt(r#"{"sub":"al\u0069ce","exp":9}"#).as_bytes());
        let claims = claims.unwrap();
        assert_eq!(claims.subject.as_deref(), Some("alice"));
        assert_eq!(claims.expires_at, 9);
        let no_subject = web_token_claims("t", jwt(r#"{"sub":1,"exp":9}"#).as_bytes());
        assert_eq!(no_subject.unwrap().subject, None);
    }

    #[test]
    fn malformed_tokens_are_invalid_and_never_echoed() {
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "is empty"),
            ("  \n".into(), "is empty"),
            ("only.two".into(), "three parts"),
            ("a.b.c.d".into(), "three parts"),
            (format!("{}.", jwt(r#"{"exp":2000}"#)), "three parts"),
            ("a.b.".into(), "with a signature"),
            ("a.b+c.d".into(), "base64url parts"),
            ("a.b c.d".into(), "base64url parts"),
            ("a.abcde.d".into(), "not base64url"),
            (jwt("not json"), "not a JSON object"),
            (jwt("[1,2]"), "not a JSON object"),
            (jwt(r#"{"exp":2000"#), "not a JSON object"),
            (jwt(r#"{"exp":2000} x"#), "not a JSON object"),
            (jwt(r#"{"sub":"alice"}"#), "no numeric exp"),
            (jwt(r#"{"exp":"2000"}"#), "no numeric exp"),
            ("x".repeat(RS_IDC_MAX_WEB_TOKEN_LEN + 1), "longer than"),
        ];
        for (text, why) in cases {
            let err = WebToken::parse("web_token", text.as_bytes(), 1000)
                .err()
                .unwrap_or_else(|| panic!("accepted {text:?}"));
            assert_eq!(err.status(), Status::InvalidArgument, "{text:?}");
            assert!(err.message().starts_with("web_token: "), "{err}");
            assert!(err.message().contains(why), "{text:?}: {err}");
            if text.trim().len() > 3 {
                assert!(!err.message().contains(text.trim()), "{err}");
            }
        }
    }

    #[test]
    fn an_expired_token_is_an_identity_failure() {
        let err = WebToken::parse("web_token", jwt(r#"{"exp":999}"#).as_bytes(), 1000)
            .err()
            .unwrap();
        assert_eq!(err.status(), Status::Identity);
        assert!(err.message().contains("expired 1 s ago"), "{err}");
        let err = WebToken::parse("t", jwt(r#"{"exp":1000}"#).as_bytes(), 1000).err();
        assert_eq!(err.map(|e| e.status()), Some(Status::Identity));
    }

    #[test]
    fn files_are_read_with_a_bound_and_never_block() {
        let dir = std::env::temp_dir().join(format!("rs-idc-web-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token.jwt");
        std::fs::write(&file, format!("{}\n", jwt(r#"{"exp":5000}"#))).unwrap();
        let token = WebToken::read_file("web_token_file", &file, 1000).unwrap();
        assert_eq!(token.expires_at(), 5000);
        std::fs::write(&file, "x".repeat(RS_IDC_MAX_WEB_TOKEN_LEN + 10)).unwrap();
        let err = WebToken::read_file("web_token_file", &file, 1000)
            .err()
            .unwrap();
        assert!(
            err.message().contains("is larger than 16384 bytes"),
            "{err}"
        );
        let fifo = dir.join("fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let err = WebToken::read_file("web_token_file", &fifo, 1000)
            .err()
            .unwrap();
        assert!(err.message().contains("not a regular file"), "{err}");
        let err = WebToken::read_file("web_token_file", &dir.join("none"), 1000)
            .err()
            .unwrap();
        assert!(err.message().contains("cannot be read"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
