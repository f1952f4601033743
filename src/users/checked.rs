//! Web tokens checked before: a driver passes the same user's web token
//! on every call, and a hit must not parse and hash it each time. A web
//! token checked in this process and not yet expired is recognised by its
//! whole text, compared in time that depends on its length only; a
//! different text never matches, so it never reaches another user's
//! session. A miss (or a new token) is checked in full.

use crate::error::Error;
use crate::kept::{Due, Keepable, Kept, KeyHasher};
use crate::keyed::random_bytes;
use crate::web_token::{WebToken, RS_IDC_MAX_WEB_TOKEN_LEN};
use std::sync::{Arc, LazyLock};

/// Web tokens checked in this process, until they expire: at most 1024.
pub(crate) static CHECKED_WEB_TOKENS: LazyLock<Kept<TextKey, Arc<WebToken>, KeyHasher>> =
    LazyLock::new(|| Kept::new("checked web tokens", 16, 64));

impl Keepable for Arc<WebToken> {}

/// Where a checked web token is looked up: its length and its last eight
/// bytes (its signature's, which differ between any two tokens), mixed
/// with a number drawn once per process so that the key holds none of the
/// token. Two texts may share one; [`WebToken::has_text`] tells them
/// apart.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TextKey {
    tail: u64,
    len: usize,
}

impl TextKey {
    fn of(text: &[u8]) -> TextKey {
        static SEED: LazyLock<u64> =
            LazyLock::new(|| random_bytes::<8>().map_or(0, |bytes| u64::from_le_bytes(*bytes)));
        let mut last = [0u8; 8];
        let tail = &text[text.len().saturating_sub(8)..];
        last[..tail.len()].copy_from_slice(tail);
        TextKey {
            tail: u64::from_le_bytes(last) ^ *SEED,
            len: text.len(),
        }
    }
}

/// As [`WebToken::parse`], for a call: the token kept from an earlier
/// check when `bytes` holds the same text and it has not expired at `now`,
/// else the token checked in full (and kept).
pub(crate) fn checked_web_token(
    name: &str,
    bytes: &[u8],
    now: i64,
) -> Result<Arc<WebToken>, Error> {
    let text = bytes.trim_ascii();
    let key = TextKey::of(text);
    if bytes.len() <= RS_IDC_MAX_WEB_TOKEN_LEN {
        let known = CHECKED_WEB_TOKENS.fresh(&key, now);
        if let Some(token) = known.filter(|token| token.has_text(text)) {
            return Ok(token);
        }
    }
    let token = Arc::new(WebToken::parse(name, bytes, now)?);
    CHECKED_WEB_TOKENS.keep(key, Arc::clone(&token), Due::until(token.expires_at()));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::unix_now;
    use crate::status::Status;
    use crate::web_token::tests::jwt;

    #[test]
    fn a_web_token_checked_before_is_recognised_by_its_whole_text() {
        let now = unix_now();
        let text = jwt(&format!(r#"{{"sub":"recognised-a","exp":{}}}"#, now + 600));
        let first = checked_web_token("web_token", text.as_bytes(), now).unwrap();
        let again = checked_web_token("web_token", format!("{text}\n").as_bytes(), now).unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "the same text was checked again"
        );

        // Same length and same signature, so the same place in the store:
        // another user all the same.
        let other = jwt(&format!(r#"{{"sub":"recognised-b","exp":{}}}"#, now + 600));
        assert!(TextKey::of(other.as_bytes()) == TextKey::of(text.as_bytes()));
        let second = checked_web_token("web_token", other.as_bytes(), now).unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert!(!second.digest().same_as(first.digest()));
        assert_eq!(second.secret(), other);
        // The first, pushed out of its place, is checked again in full.
        let third = checked_web_token("web_token", text.as_bytes(), now).unwrap();
        assert!(third.digest().same_as(first.digest()));
        assert_eq!(third.secret(), text);
    }

    #[test]
    fn a_recognised_web_token_still_expires() {
        let now = unix_now();
        let text = jwt(&format!(r#"{{"sub":"recognised-exp","exp":{}}}"#, now + 5));
        checked_web_token("web_token", text.as_bytes(), now).unwrap();
        let err = checked_web_token("web_token", text.as_bytes(), now + 5)
            .err()
            .unwrap();
        assert_eq!(err.status(), Status::Identity, "{err}");
        let padded = format!("{text}{}", " ".repeat(RS_IDC_MAX_WEB_TOKEN_LEN));
        let err = checked_web_token("web_token", padded.as_bytes(), now)
            .err()
            .unwrap();
        assert_eq!(err.status(), Status::InvalidArgument, "{err}");
    }
}
