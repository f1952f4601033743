//! The vocabulary every layer shares: which API a call goes to, the answer
//! of a call before it is checked, and the token handed out.

use crate::error::Error;
use crate::status::Status;
use std::fmt;
use zeroize::Zeroizing;

/// Which API mints a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// Redshift provisioned clusters (`redshift:GetIdentityCenterAuthToken`).
    Provisioned,
    /// Redshift Serverless workgroups
    /// (`redshift-serverless:GetIdentityCenterAuthToken`).
    Serverless,
}

impl Api {
    /// A short name for messages and keys.
    pub fn name(self) -> &'static str {
        match self {
            Api::Provisioned => "provisioned",
            Api::Serverless => "serverless",
        }
    }
}

/// What a success answer carried, before [`Token::from_answer`] checks it.
pub(crate) struct Answer {
    /// The token text, wiped when dropped.
    pub token: Option<Zeroizing<String>>,
    /// Expiry in Unix seconds.
    pub expires_at: Option<i64>,
    /// The request id, for messages.
    pub request_id: Option<String>,
}

/// An Identity Center auth token and its expiry.
///
/// The token is wiped from memory when dropped and never shown by `Debug`.
#[derive(Clone)]
pub struct Token {
    secret: Zeroizing<String>,
    expires_at: i64,
}

impl Token {
    /// The token text, to send to Redshift as the subject token.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Expiry in Unix seconds (UTC).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    /// A token kept before (in a token cache folder), with its expiry. It
    /// is served only while its margin lasts, like any kept token.
    pub(crate) fn from_kept(text: &str, expires_at: i64) -> Token {
        Token {
            secret: Zeroizing::new(text.to_owned()),
            expires_at,
        }
    }

    /// Accepts a success answer only with a non-empty token and a future
    /// expiry (`now` in Unix seconds).
    ///
    /// A truncated XML body parses as half a token with no expiry, so a
    /// token without an expiry is never handed out.
    pub(crate) fn from_answer(answer: Answer, now: i64) -> Result<Token, Error> {
        let request_id = answer
            .request_id
            .as_deref()
            .map(|id| format!(" (request id {id})"))
            .unwrap_or_default();
        let bad = |what: &str| {
            Err(Error::new(
                Status::BadResponse,
                format!("the answer {what}{request_id}"),
            ))
        };
        let secret = match answer.token {
            Some(token) if !token.is_empty() => token,
            _ => return bad("has no token"),
        };
        if secret.contains('\0') {
            return bad("has a token with a NUL byte");
        }
        match answer.expires_at {
            None => bad("has a token but no expiry"),
            Some(at) if at <= now => bad("has an expiry that is not in the future"),
            Some(expires_at) => Ok(Token { secret, expires_at }),
        }
    }

    #[cfg(test)]
    pub(crate) fn for_tests(secret: &str, expires_at: i64) -> Token {
        Token {
            secret: Zeroizing::new(secret.to_owned()),
            expires_at,
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("len", &self.secret.len())
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(token: Option<&str>, expires_at: Option<i64>) -> Answer {
        Answer {
            token: token.map(|t| Zeroizing::new(t.to_owned())),
            expires_at,
            request_id: Some("req-1".into()),
        }
    }

    #[test]
    fn a_complete_answer_becomes_a_token() {
        let token = Token::from_answer(answer(Some("abc"), Some(200)), 100).unwrap();
        assert_eq!(token.secret(), "abc");
        assert_eq!(token.expires_at(), 200);
        assert!(!format!("{token:?}").contains("abc"));
    }

    #[test]
    fn incomplete_answers_are_bad_responses() {
        let cases = [
            (answer(None, Some(200)), "no token"),
            (answer(Some(""), Some(200)), "no token"),
            (answer(Some("half-a-tok"), None), "no expiry"),
            (answer(Some("abc"), Some(100)), "not in the future"),
            (answer(Some("abc"), Some(50)), "not in the future"),
        ];
        for (answer, words) in cases {
            let err = Token::from_answer(answer, 100).unwrap_err();
            assert_eq!(err.status(), Status::BadResponse);
            assert!(err.message().contains(words), "{}", err.message());
            assert!(err.message().contains("req-1"));
            assert!(!err.message().contains("half-a-tok"));
        }
    }
}
