//! HS256 web tokens (JWTs): made for tests with the server's key (or a
//! wrong one) and verified as an identity provider's relying party would.

use crate::keys::{WEB_TOKEN_AUDIENCE, WEB_TOKEN_ISSUER};
use crate::service::{json_string, random_bytes};
use crate::sigv4;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

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

pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Whether `subject` is one the fake accepts in a token: 1 to 256 bytes
/// of UTF-8, no control characters.
pub(crate) fn valid_subject(subject: &str) -> bool {
    (1..=MAX_SUBJECT_BYTES).contains(&subject.len()) && !subject.chars().any(char::is_control)
}

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
        sign(&random_bytes(32), &payload)
    } else {
        sign(key, &payload)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JwtError {
    /// Not three base64url parts of JSON, not HS256, or a claim missing or
    /// of the wrong type.
    Malformed(&'static str),
    Signature,
    Issuer,
    Audience,
    Expired,
}

impl JwtError {
    pub(crate) fn message(self) -> String {
        let message = match self {
            JwtError::Malformed(what) => {
                return format!("The web identity token is malformed: {what}.")
            }
            JwtError::Signature => "The web identity token signature could not be verified.",
            JwtError::Issuer => "The web identity token issuer is not trusted.",
            JwtError::Audience => "Incorrect token audience.",
            JwtError::Expired => "Token expired: current date/time is past the exp claim.",
        };
        message.to_string()
    }
}

fn json_part(part: &str, what: &'static str) -> Result<serde_json::Map<String, Value>, JwtError> {
    let bytes = b64url_decode(part).ok_or(JwtError::Malformed(what))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(members)) => Ok(members),
        _ => Err(JwtError::Malformed(what)),
    }
}

/// Verifies a web token at `now`: structure, HS256 signature under `key`,
/// then issuer, audience and expiry, in that order. The subject.
pub(crate) fn verify(key: &[u8], token: &str, now: i64) -> Result<String, JwtError> {
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
    let payload = json_part(parts[1], "the payload is not base64url JSON")?;
    let subject = match payload.get("sub").and_then(Value::as_str) {
        Some(s) if valid_subject(s) => s.to_string(),
        _ => return Err(JwtError::Malformed("no valid sub claim")),
    };
    if payload.get("iss").and_then(Value::as_str) != Some(WEB_TOKEN_ISSUER) {
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
    Ok(subject)
}

pub(crate) const CONTEXT_TTL_SECS: i64 = 3600;
/// Prefix of the signed bytes, so that no other signature made with the
/// same key can pass for a context's.
const DOMAIN: &str = "rs-idc-identity-context.";

fn mac(key: &[u8], payload_b64: &str) -> [u8; 32] {
    sigv4::hmac_sha256(key, format!("{DOMAIN}{payload_b64}").as_bytes())
}

pub(crate) fn issue_context(key: &[u8], subject: &str, app: &str, now: i64) -> String {
    let payload = format!(
        "{{\"sub\":{},\"app\":{},\"exp\":{},\"nonce\":{}}}",
        json_string(subject),
        json_string(app),
        now.saturating_add(CONTEXT_TTL_SECS),
        json_string(&b64url(&random_bytes(12)))
    );
    let payload_b64 = b64url(payload.as_bytes());
    let signature = b64url(&mac(key, &payload_b64));
    format!("{payload_b64}.{signature}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContextError {
    Malformed,
    /// The signature does not verify: not issued by this server, or
    /// altered.
    NotIssued,
    Expired,
}

pub(crate) fn verify_context(
    key: &[u8],
    assertion: &str,
    now: i64,
) -> Result<String, ContextError> {
    let (payload_b64, signature_b64) = assertion.split_once('.').ok_or(ContextError::Malformed)?;
    let signature = b64url_decode(signature_b64).ok_or(ContextError::Malformed)?;
    if payload_b64.is_empty() || signature.len() != 32 {
        return Err(ContextError::Malformed);
    }
    if !sigv4::constant_time_eq(&mac(key, payload_b64), &signature) {
        return Err(ContextError::NotIssued);
    }
    // Signed by this server, so well formed; checked all the same.
    let payload: Value = b64url_decode(payload_b64)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(ContextError::Malformed)?;
    let subject = payload.get("sub").and_then(Value::as_str);
    let expires = payload.get("exp").and_then(Value::as_i64);
    match (subject, expires) {
        (Some(sub), Some(exp)) if valid_subject(sub) => {
            if exp <= now {
                Err(ContextError::Expired)
            } else {
                Ok(sub.to_string())
            }
        }
        _ => Err(ContextError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn an_audience_list_may_hold_the_test_audience() {
        let payload = format!(
            r#"{{"iss":"{WEB_TOKEN_ISSUER}","aud":["x","{WEB_TOKEN_AUDIENCE}"],"sub":"carol","exp":{}}}"#,
            NOW + 5
        );
        assert_eq!(
            verify(KEY, &sign(KEY, &payload), NOW).as_deref(),
            Ok("carol")
        );
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
