//! Identity contexts, which CreateTokenWithIAM hands out and AssumeRole
//! takes back: `base64url(JSON {sub, app, exp, nonce}) "." base64url(HMAC)`
//! under the server's key.

use super::jwt::{b64url, b64url_decode, valid_subject};
use crate::service::{json_string, random_bytes};
use crate::sigv4;
use serde_json::Value;

pub(crate) const CONTEXT_TTL_SECS: i64 = 3600;
/// Prefix of the signed bytes, so that no other signature made with the
/// same key can pass for a context's.
const DOMAIN: &str = "rs-idc-identity-context.";

fn mac(key: &[u8], payload_b64: &str) -> [u8; 32] {
    sigv4::hmac_sha256(key, format!("{DOMAIN}{payload_b64}").as_bytes())
}

/// A context for `subject`, issued to the application `app` at `now`
/// (epoch seconds), valid for [`CONTEXT_TTL_SECS`].
pub(crate) fn issue(key: &[u8], subject: &str, app: &str, now: i64) -> String {
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

pub(crate) fn verify(key: &[u8], assertion: &str, now: i64) -> Result<String, ContextError> {
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
