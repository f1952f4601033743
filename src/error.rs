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
