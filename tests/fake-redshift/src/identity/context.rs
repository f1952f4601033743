//! Identity contexts: the opaque assertions that CreateTokenWithIAM hands
//! out and AssumeRole takes back in `ProvidedContexts`. Each is
//! `base64url(JSON {sub, app, exp, nonce}) "." base64url(HMAC-SHA256)`
//! under the server's key (the nonce makes each one different); nothing
//! outside the fake needs to read them.

use super::jwt::{b64url, b64url_decode, valid_subject};
use crate::service::{json_string, random_bytes};
use crate::sigv4;
use serde_json::Value;

/// How long an identity context stays valid.
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

/// Why a context assertion was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContextError {
    /// Not two base64url parts.
    Malformed,
    /// The signature does not verify: not issued by this server, or
    /// altered.
    NotIssued,
    /// Its hour has passed.
    Expired,
}

/// Verifies a context assertion at `now`; the subject it carries.
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"fedcba9876543210fedcba9876543210";
    const APP: &str = crate::keys::APPLICATION_ARN;
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_context_carries_its_subject_for_an_hour() {
        let ctx = issue(KEY, "alice", APP, NOW);
        assert_eq!(verify(KEY, &ctx, NOW).as_deref(), Ok("alice"));
        assert_eq!(
            verify(KEY, &ctx, NOW + CONTEXT_TTL_SECS - 1).as_deref(),
            Ok("alice")
        );
        assert_eq!(
            verify(KEY, &ctx, NOW + CONTEXT_TTL_SECS),
            Err(ContextError::Expired)
        );
    }

    #[test]
    fn tampering_is_refused() {
        let ctx = issue(KEY, "alice", APP, NOW);
        let (payload, signature) = ctx.split_once('.').unwrap();
        // Another server's context.
        let other = issue(b"another key", "alice", APP, NOW);
        assert_eq!(verify(KEY, &other, NOW), Err(ContextError::NotIssued));
        // Another subject under the old signature.
        let mallory = issue(KEY, "mallory", APP, NOW);
        let mallory_payload = mallory.split_once('.').unwrap().0;
        let swapped = format!("{mallory_payload}.{signature}");
        assert_eq!(verify(KEY, &swapped, NOW), Err(ContextError::NotIssued));
        // A later expiry written in by hand.
        let longer = format!(
            "{}.{signature}",
            b64url(format!(r#"{{"sub":"alice","app":"{APP}","exp":{}}}"#, NOW + 99_999).as_bytes())
        );
        assert_eq!(verify(KEY, &longer, NOW), Err(ContextError::NotIssued));
        // One character changed in the payload.
        let mut altered = payload.to_string();
        let first = if altered.starts_with('e') { "f" } else { "e" };
        altered.replace_range(..1, first);
        assert!(verify(KEY, &format!("{altered}.{signature}"), NOW).is_err());
        // A JWT signed with the same key is not a context.
        let jwt =
            super::super::jwt::make(KEY, &super::super::jwt::WebTokenSpec::new("alice", 60), NOW);
        assert!(verify(KEY, &jwt, NOW).is_err());
        for bad in ["", ".", "abc", "abc.", ".abc", "a.b.c", "!!!.???"] {
            assert!(verify(KEY, bad, NOW).is_err(), "{bad:?}");
        }
    }
}
