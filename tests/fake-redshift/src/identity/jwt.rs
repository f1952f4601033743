//! HS256 web tokens (JWTs): made for tests with the server's key (or a
//! wrong one) and verified as an identity provider's relying party would.

use crate::keys::{WEB_TOKEN_AUDIENCE, WEB_TOKEN_ISSUER};
use crate::service::json_string;
use crate::sigv4;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// `kid` of every web token header.
pub(crate) const KEY_ID: &str = "rs-idc-test";
/// Longest subject accepted, in bytes (so that a user's Redshift token
/// keeps room for random bytes after naming the user).
pub(crate) const MAX_SUBJECT_BYTES: usize = 256;

/// What [`FakeServer::web_token_with`](crate::FakeServer::web_token_with)
/// puts in a web token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebTokenSpec {
    /// The `sub` claim: the user.
    pub subject: String,
    /// Seconds from now to `exp`; negative for a token that has already
    /// expired.
    pub ttl_secs: i64,
    /// The `iss` claim; `None` for [`WEB_TOKEN_ISSUER`].
    pub issuer: Option<String>,
    /// The `aud` claim; `None` for [`WEB_TOKEN_AUDIENCE`].
    pub audience: Option<String>,
    /// Sign with a random key instead of the server's, so that the
    /// signature does not verify.
    pub wrong_key: bool,
}

impl WebTokenSpec {
    /// A token for `subject` expiring in `ttl_secs`, with the test issuer,
    /// audience and the server's key.
    pub fn new(subject: impl Into<String>, ttl_secs: i64) -> WebTokenSpec {
        WebTokenSpec {
            subject: subject.into(),
            ttl_secs,
            issuer: None,
            audience: None,
            wrong_key: false,
        }
    }
}

/// Base64url without padding.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Whether `subject` is one the fake accepts in a token: 1 to 256 bytes
/// of UTF-8, no control characters.
pub(crate) fn valid_subject(subject: &str) -> bool {
    (1..=MAX_SUBJECT_BYTES).contains(&subject.len()) && !subject.chars().any(char::is_control)
}

/// `header.payload.signature` with an HS256 signature under `key`.
pub(crate) fn sign(key: &[u8], payload_json: &str) -> String {
    let header = format!(
        "{{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":{}}}",
        json_string(KEY_ID)
    );
    let signing_input = format!(
        "{}.{}",
        b64url(header.as_bytes()),
        b64url(payload_json.as_bytes())
    );
    let signature = sigv4::hmac_sha256(key, signing_input.as_bytes());
    format!("{signing_input}.{}", b64url(&signature))
}

/// A web token as `spec` describes it, issued at `now` (epoch seconds).
/// `wrong_key` signs with fresh random bytes instead of `key`.
pub(crate) fn make(key: &[u8], spec: &WebTokenSpec, now: i64) -> String {
    let issuer = spec.issuer.as_deref().unwrap_or(WEB_TOKEN_ISSUER);
    let audience = spec.audience.as_deref().unwrap_or(WEB_TOKEN_AUDIENCE);
    let payload = format!(
        "{{\"iss\":{},\"aud\":{},\"sub\":{},\"iat\":{now},\"exp\":{}}}",
        json_string(issuer),
        json_string(audience),
        json_string(&spec.subject),
        now.saturating_add(spec.ttl_secs)
    );
    if spec.wrong_key {
        sign(&crate::service::random_bytes(32), &payload)
    } else {
        sign(key, &payload)
    }
}

/// Why a web token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JwtError {
    /// Not three base64url parts of JSON, not HS256, or a claim missing or
    /// of the wrong type.
    Malformed(&'static str),
    /// The signature does not verify under the server's key.
    Signature,
    /// `iss` is not the test issuer.
    Issuer,
    /// `aud` does not name the test audience.
    Audience,
    /// `exp` has passed.
    Expired,
}

impl JwtError {
    /// A message for an error answer (never holding the token).
    pub(crate) fn message(self) -> String {
        match self {
            JwtError::Malformed(what) => format!("The web identity token is malformed: {what}."),
            JwtError::Signature => {
                "The web identity token signature could not be verified.".to_string()
            }
            JwtError::Issuer => "The web identity token issuer is not trusted.".to_string(),
            JwtError::Audience => "Incorrect token audience.".to_string(),
            JwtError::Expired => {
                "Token expired: current date/time is past the exp claim.".to_string()
            }
        }
    }
}

/// The claims of a verified web token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Claims {
    /// `sub`.
    pub subject: String,
    /// The `aud` value that matched.
    pub audience: String,
    /// `iss`.
    pub issuer: String,
    /// `exp`, epoch seconds.
    pub expires: i64,
}

/// Decodes one base64url part holding a JSON object.
fn json_part(part: &str, what: &'static str) -> Result<serde_json::Map<String, Value>, JwtError> {
    let bytes = b64url_decode(part).ok_or(JwtError::Malformed(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(members)) => Ok(members),
        _ => Err(JwtError::Malformed(what)),
    }
}

/// Checks the structure and HS256 signature of `token` under `key`; the
/// payload's members.
pub(crate) fn verify_signature(
    key: &[u8],
    token: &str,
) -> Result<serde_json::Map<String, Value>, JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(JwtError::Malformed("not three dot-separated parts"));
    }
    let header = json_part(parts[0], "the header is not base64url JSON")?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwtError::Malformed("the algorithm is not HS256"));
    }
    let signature =
        b64url_decode(parts[2]).ok_or(JwtError::Malformed("the signature is not base64url"))?;
    let signing_input = format!("{}.{}", parts[0], parts[1]);
    let expected = sigv4::hmac_sha256(key, signing_input.as_bytes());
    if !sigv4::constant_time_eq(&expected, &signature) {
        return Err(JwtError::Signature);
    }
    json_part(parts[1], "the payload is not base64url JSON")
}

/// Verifies a web token at `now`: structure, HS256 signature under `key`,
/// then issuer, audience and expiry, in that order.
pub(crate) fn verify(key: &[u8], token: &str, now: i64) -> Result<Claims, JwtError> {
    let payload = verify_signature(key, token)?;
    let subject = match payload.get("sub").and_then(Value::as_str) {
        Some(s) if valid_subject(s) => s.to_string(),
        _ => return Err(JwtError::Malformed("no valid sub claim")),
    };
    let issuer = payload.get("iss").and_then(Value::as_str).unwrap_or("");
    if issuer != WEB_TOKEN_ISSUER {
        return Err(JwtError::Issuer);
    }
    let audience_ok = match payload.get("aud") {
        Some(Value::String(aud)) => aud == WEB_TOKEN_AUDIENCE,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(WEB_TOKEN_AUDIENCE)),
        _ => false,
    };
    if !audience_ok {
        return Err(JwtError::Audience);
    }
    let expires = payload
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(JwtError::Malformed("no numeric exp claim"))?;
    if expires <= now {
        return Err(JwtError::Expired);
    }
    Ok(Claims {
        subject,
        audience: WEB_TOKEN_AUDIENCE.to_string(),
        issuer: issuer.to_string(),
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    fn token(spec: &WebTokenSpec) -> String {
        make(KEY, spec, NOW)
    }

    #[test]
    fn a_good_token_verifies() {
        let claims = verify(KEY, &token(&WebTokenSpec::new("alice", 60)), NOW).expect("valid");
        assert_eq!(claims.subject, "alice");
        assert_eq!(claims.issuer, WEB_TOKEN_ISSUER);
        assert_eq!(claims.audience, WEB_TOKEN_AUDIENCE);
        assert_eq!(claims.expires, NOW + 60);
    }

    #[test]
    fn the_parts_have_the_documented_shape() {
        let t = token(&WebTokenSpec::new("bob", 60));
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert!(!t.contains('='));
        let header = String::from_utf8(b64url_decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, r#"{"alg":"HS256","typ":"JWT","kid":"rs-idc-test"}"#);
        let payload = String::from_utf8(b64url_decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            payload,
            format!(
                r#"{{"iss":"https://idp.rs-idc.test","aud":"rs-idc-test","sub":"bob","iat":{NOW},"exp":{}}}"#,
                NOW + 60
            )
        );
        assert_eq!(b64url_decode(parts[2]).unwrap().len(), 32);
    }

    #[test]
    fn each_failure_is_told_apart() {
        let spec = |f: fn(&mut WebTokenSpec)| {
            let mut s = WebTokenSpec::new("alice", 60);
            f(&mut s);
            token(&s)
        };
        let check = |t: &str| verify(KEY, t, NOW).map(|_| ());
        assert_eq!(
            check(&spec(|s| s.wrong_key = true)),
            Err(JwtError::Signature)
        );
        let other_issuer = spec(|s| s.issuer = Some("https://evil.test".into()));
        assert_eq!(check(&other_issuer), Err(JwtError::Issuer));
        let other_audience = spec(|s| s.audience = Some("someone-else".into()));
        assert_eq!(check(&other_audience), Err(JwtError::Audience));
        assert_eq!(check(&spec(|s| s.ttl_secs = -1)), Err(JwtError::Expired));
        // exp == now has expired too.
        assert_eq!(check(&spec(|s| s.ttl_secs = 0)), Err(JwtError::Expired));
        for bad in ["", "a.b", "a.b.c.d", "..", "!!.!!.!!", "e30.e30."] {
            assert!(
                matches!(check(bad), Err(JwtError::Malformed(_))),
                "{bad:?} is malformed"
            );
        }
        let empty_subject = spec(|s| s.subject = String::new());
        assert!(matches!(check(&empty_subject), Err(JwtError::Malformed(_))));
        let newline_subject = spec(|s| s.subject = "a\nb".into());
        assert!(matches!(
            check(&newline_subject),
            Err(JwtError::Malformed(_))
        ));
    }

    #[test]
    fn altered_tokens_do_not_verify() {
        let t = token(&WebTokenSpec::new("alice", 60));
        let parts: Vec<&str> = t.split('.').collect();
        // Another subject under the old signature.
        let forged = make(b"another key", &WebTokenSpec::new("mallory", 60), NOW);
        let forged_payload = forged.split('.').nth(1).unwrap();
        let swapped = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
        assert_eq!(verify(KEY, &swapped, NOW), Err(JwtError::Signature));
        // alg none, unsigned.
        let none = b64url(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none}.{}.{}", parts[1], parts[2]);
        assert!(matches!(
            verify(KEY, &unsigned, NOW),
            Err(JwtError::Malformed(_))
        ));
        // A flipped signature character.
        let mut sig = parts[2].to_string();
        let last = if sig.ends_with('A') { "B" } else { "A" };
        sig.replace_range(sig.len() - 1.., last);
        let flipped = format!("{}.{}.{sig}", parts[0], parts[1]);
        assert!(verify(KEY, &flipped, NOW).is_err());
    }

    #[test]
    fn an_audience_list_may_hold_the_test_audience() {
        let payload = format!(
            r#"{{"iss":"{WEB_TOKEN_ISSUER}","aud":["x","{WEB_TOKEN_AUDIENCE}"],"sub":"carol","exp":{}}}"#,
            NOW + 5
        );
        let claims = verify(KEY, &sign(KEY, &payload), NOW).expect("valid");
        assert_eq!(claims.subject, "carol");
        let payload = format!(
            r#"{{"iss":"{WEB_TOKEN_ISSUER}","aud":["x"],"sub":"carol","exp":{}}}"#,
            NOW + 5
        );
        assert_eq!(
            verify(KEY, &sign(KEY, &payload), NOW),
            Err(JwtError::Audience)
        );
    }
}
