//! Status codes of the C API.
//!
//! The numbers are part of the ABI and never change: new statuses are
//! appended, retired ones stay reserved. This module is the one place that
//! defines them.

use std::ffi::{c_int, CStr};

/// The call succeeded.
pub const RS_IDC_OK: c_int = 0;
/// An argument or option is invalid: NULL pointer, identifier count outside
/// 1..20, a malformed identifier, an unknown or malformed setting, or the
/// service rejected a parameter (RedshiftInvalidParameter, ValidationException).
pub const RS_IDC_EINVAL: c_int = -1;
/// No AWS credentials could be resolved.
pub const RS_IDC_ENOCREDS: c_int = -2;
/// No AWS region is configured or derivable.
pub const RS_IDC_ENOREGION: c_int = -3;
/// The service refused the operation (UnsupportedOperation): for example the
/// credentials carry no IAM Identity Center identity, or the cluster has no
/// Identity Center integration.
pub const RS_IDC_EUNSUPPORTED: c_int = -4;
/// The cluster or workgroup does not exist (ClusterNotFound,
/// ResourceNotFoundException).
pub const RS_IDC_ENOTFOUND: c_int = -5;
/// The cluster or workgroup is in a state that does not allow the call
/// (InvalidClusterState, ConflictException).
pub const RS_IDC_ESTATE: c_int = -6;
/// The credentials were refused: access denied, unknown or expired key,
/// signature mismatch.
pub const RS_IDC_EDENIED: c_int = -7;
/// The service was still throttling when the retries ran out.
pub const RS_IDC_ETHROTTLED: c_int = -8;
/// The call's time bound ran out.
pub const RS_IDC_ETIMEOUT: c_int = -9;
/// DNS, connect, TLS or I/O failure.
pub const RS_IDC_ENETWORK: c_int = -10;
/// Any other service error (5xx answers, unknown error codes).
pub const RS_IDC_ESERVICE: c_int = -11;
/// The service answered "success" without a non-empty token and a future
/// expiry, or with an answer that cannot be parsed.
pub const RS_IDC_EBADRESPONSE: c_int = -12;
/// An internal failure: a caught panic, or the runtime could not start.
pub const RS_IDC_EINTERNAL: c_int = -13;
/// The user's web token was refused: malformed claims, expired, or turned
/// down by AWS STS (InvalidIdentityToken, IDPRejectedClaim, ExpiredToken)
/// or IAM Identity Center (InvalidGrant, ExpiredToken, InvalidClient,
/// UnauthorizedClient). The message names the service's code.
pub const RS_IDC_EIDENTITY: c_int = -14;
/// A non-blocking request has not finished yet: wait until
/// rs_idc_request_fd() is readable, then finish it again.
pub const RS_IDC_EAGAIN: c_int = -15;

/// The outcome class of a failed call, as the safe Rust API reports it.
///
/// Each variant maps onto one of the `RS_IDC_*` numbers above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Status {
    /// See [`RS_IDC_EINVAL`].
    InvalidArgument = RS_IDC_EINVAL,
    /// See [`RS_IDC_ENOCREDS`].
    NoCredentials = RS_IDC_ENOCREDS,
    /// See [`RS_IDC_ENOREGION`].
    NoRegion = RS_IDC_ENOREGION,
    /// See [`RS_IDC_EUNSUPPORTED`].
    Unsupported = RS_IDC_EUNSUPPORTED,
    /// See [`RS_IDC_ENOTFOUND`].
    NotFound = RS_IDC_ENOTFOUND,
    /// See [`RS_IDC_ESTATE`].
    InvalidState = RS_IDC_ESTATE,
    /// See [`RS_IDC_EDENIED`].
    Denied = RS_IDC_EDENIED,
    /// See [`RS_IDC_ETHROTTLED`].
    Throttled = RS_IDC_ETHROTTLED,
    /// See [`RS_IDC_ETIMEOUT`].
    Timeout = RS_IDC_ETIMEOUT,
    /// See [`RS_IDC_ENETWORK`].
    Network = RS_IDC_ENETWORK,
    /// See [`RS_IDC_ESERVICE`].
    Service = RS_IDC_ESERVICE,
    /// See [`RS_IDC_EBADRESPONSE`].
    BadResponse = RS_IDC_EBADRESPONSE,
    /// See [`RS_IDC_EINTERNAL`].
    Internal = RS_IDC_EINTERNAL,
    /// See [`RS_IDC_EIDENTITY`].
    Identity = RS_IDC_EIDENTITY,
    /// See [`RS_IDC_EAGAIN`].
    Pending = RS_IDC_EAGAIN,
}

impl Status {
    /// The C status number.
    pub fn code(self) -> c_int {
        self as c_int
    }
}

/// The static name of a status number, `"RS_IDC_UNKNOWN"` for a number that
/// is not (yet) assigned.
pub fn status_name(code: c_int) -> &'static CStr {
    match code {
        RS_IDC_OK => c"RS_IDC_OK",
        RS_IDC_EINVAL => c"RS_IDC_EINVAL",
        RS_IDC_ENOCREDS => c"RS_IDC_ENOCREDS",
        RS_IDC_ENOREGION => c"RS_IDC_ENOREGION",
        RS_IDC_EUNSUPPORTED => c"RS_IDC_EUNSUPPORTED",
        RS_IDC_ENOTFOUND => c"RS_IDC_ENOTFOUND",
        RS_IDC_ESTATE => c"RS_IDC_ESTATE",
        RS_IDC_EDENIED => c"RS_IDC_EDENIED",
        RS_IDC_ETHROTTLED => c"RS_IDC_ETHROTTLED",
        RS_IDC_ETIMEOUT => c"RS_IDC_ETIMEOUT",
        RS_IDC_ENETWORK => c"RS_IDC_ENETWORK",
        RS_IDC_ESERVICE => c"RS_IDC_ESERVICE",
        RS_IDC_EBADRESPONSE => c"RS_IDC_EBADRESPONSE",
        RS_IDC_EINTERNAL => c"RS_IDC_EINTERNAL",
        RS_IDC_EIDENTITY => c"RS_IDC_EIDENTITY",
        RS_IDC_EAGAIN => c"RS_IDC_EAGAIN",
        _ => c"RS_IDC_UNKNOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_name_and_number() {
        let all = [
            Status::InvalidArgument,
            Status::NoCredentials,
            Status::NoRegion,
            Status::Unsupported,
            Status::NotFound,
            Status::InvalidState,
            Status::Denied,
            Status::Throttled,
            Status::Timeout,
            Status::Network,
            Status::Service,
            Status::BadResponse,
            Status::Internal,
            Status::Identity,
            Status::Pending,
        ];
        let mut names = std::collections::HashSet::new();
        for (i, status) in all.iter().enumerate() {
            // Numbers are fixed forever: -1, -2, ... in this order.
            assert_eq!(status.code(), -(i as c_int) - 1);
            let name = status_name(status.code()).to_str().unwrap();
            assert!(name.starts_with("RS_IDC_E"), "{name}");
            assert!(names.insert(name));
        }
        assert_eq!(status_name(RS_IDC_OK), c"RS_IDC_OK");
        assert_eq!(status_name(-999), c"RS_IDC_UNKNOWN");
        assert_eq!(status_name(1), c"RS_IDC_UNKNOWN");
    }
}
