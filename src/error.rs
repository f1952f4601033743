//! The error type of the safe API: a status plus a message for people.

use crate::status::Status;
use std::fmt;

/// Why a call failed: a [`Status`] and a message that explains it.
///
/// Messages carry the AWS error code and request id where there is one and
/// never contain a token, a secret key or a session token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
}

impl Error {
    /// An error with the given status and message.
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        Error {
            status,
            message: message.into(),
        }
    }

    /// Shorthand for an [`Status::InvalidArgument`] error.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(Status::InvalidArgument, message)
    }

    /// Shorthand for an [`Status::Internal`] error.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(Status::Internal, message)
    }

    /// The status class of this error.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// `text` with the user name and password of every URL in it cut out
/// (`http://user:pw@host` becomes `http://<redacted>@host`): a proxy URL
/// may carry a password, and messages and logs never show one.
pub(crate) fn without_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace() || c == '"')
            .unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(userinfo_end) => {
                out.push_str("<redacted>");
                rest = &after[userinfo_end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_cut_out_of_every_url() {
        assert_eq!(
            without_userinfo("proxy http://user:pw@10.0.0.1:3128/x failed"),
            "proxy http://<redacted>@10.0.0.1:3128/x failed"
        );
        assert_eq!(
            without_userinfo("a https://u@h b http://p:q@r:1"),
            "a https://<redacted>@h b http://<redacted>@r:1"
        );
        assert_eq!(without_userinfo("no url here"), "no url here");
        assert_eq!(
            without_userinfo("mail a@b then http://host/p@x"),
            "mail a@b then http://host/p@x"
        );
        assert_eq!(without_userinfo("ends with http://"), "ends with http://");
    }
}
