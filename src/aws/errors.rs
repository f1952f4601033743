//! SDK errors to statuses and readable messages: the AWS error code and
//! request id where there is one, the chain of causes as one sentence,
//! and never a `Debug` dump of an SDK type or a secret.

use crate::error::{without_userinfo, Error};
use crate::status::Status;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_redshift::config::http::HttpResponse;
use aws_sdk_redshift::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_redshift::operation::RequestId;

/// Maps any SDK error onto a status and a message that carries the AWS
/// error code and request id, and nothing secret.
pub(crate) fn map_sdk_error<E>(operation: &str, err: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    map_service_error(operation, err, |_| None)
}

/// As [`map_sdk_error`]; `description` gives a service error's text where
/// the service sends it in its own field instead of `message` (SSO-OIDC's
/// `error_description`).
pub(crate) fn map_service_error<E>(
    operation: &str,
    err: SdkError<E, HttpResponse>,
    description: impl Fn(&E) -> Option<&str>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let Some(creds) = find_source::<CredentialsError>(&err) {
        return Error::new(
            Status::NoCredentials,
            format!("no AWS credentials could be resolved: {}", describe(creds)),
        );
    }
    let request_id = err
        .request_id()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default();
    match &err {
        // A 2xx answer that the SDK could not parse surfaces as a service
        // error without a code: it is a bad answer, not a service failure.
        SdkError::ServiceError(service) if service.raw().status().is_success() => Error::new(
            Status::BadResponse,
            format!("{operation}: the success answer could not be parsed{request_id}"),
        ),
        SdkError::ServiceError(service) => {
            let inner = service.err();
            let code = inner.code().unwrap_or("no error code");
            let message = inner
                .message()
                .or_else(|| description(inner))
                .unwrap_or("no message");
            Error::new(
                status_for_code(inner.code()),
                format!("{operation} failed: {code}: {message}{request_id}"),
            )
        }
        SdkError::TimeoutError(_) => Error::new(
            Status::Timeout,
            format!("{operation} did not finish within its time bound{request_id}"),
        ),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Error::new(
            Status::Timeout,
            format!("{operation}: the connection timed out: {}", describe(&err)),
        ),
        SdkError::DispatchFailure(_) => Error::new(
            Status::Network,
            format!(
                "{operation}: the endpoint could not be reached: {}",
                describe(&err)
            ),
        ),
        SdkError::ResponseError(_) => Error::new(
            Status::BadResponse,
            format!(
                "{operation}: the answer could not be read{request_id}: {}",
                describe(&err)
            ),
        ),
        SdkError::ConstructionFailure(_) => Error::invalid(format!(
            "{operation}: the request could not be built: {}",
            describe(&err)
        )),
        _ => Error::new(
            Status::Service,
            format!("{operation} failed: {}{request_id}", describe(&err)),
        ),
    }
}

/// As [`map_sdk_error`], for a call that presents the user's web token or
/// refresh token: the service's refusals of those are
/// [`Status::Identity`], the status that tells the caller to get a new
/// web token; any other failure maps as usual.
pub(crate) fn map_web_token_error<E>(
    operation: &str,
    err: SdkError<E, HttpResponse>,
    description: impl Fn(&E) -> Option<&str>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let refused = matches!(&err, SdkError::ServiceError(service)
        if is_web_token_refusal(service.err().code()));
    let mapped = map_service_error(operation, err, description);
    if refused {
        Error::new(Status::Identity, mapped.message())
    } else {
        mapped
    }
}

/// Whether AWS STS or SSO-OIDC refused the web token or refresh token
/// itself (expired, bad signature, wrong issuer or audience, or an
/// application that does not take it), not the caller's credentials.
fn is_web_token_refusal(code: Option<&str>) -> bool {
    matches!(
        bare_code(code.unwrap_or("")),
        "InvalidIdentityToken"
            | "IDPRejectedClaim"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidGrantException"
            | "InvalidClientException"
            | "UnauthorizedClientException"
    )
}

/// The status of a service error code. One table for both APIs.
pub(crate) fn status_for_code(code: Option<&str>) -> Status {
    match bare_code(code.unwrap_or("")) {
        "ClusterNotFound" | "ResourceNotFoundException" => Status::NotFound,
        "InvalidClusterState" | "ConflictException" => Status::InvalidState,
        "UnsupportedOperation" | "UnsupportedOperationException" => Status::Unsupported,
        "RedshiftInvalidParameter"
        | "ValidationException"
        | "InvalidParameterValue"
        | "InvalidParameterCombination"
        | "MissingParameter" => Status::InvalidArgument,
        "AccessDenied"
        | "AccessDeniedException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "InvalidSignatureException"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "UnrecognizedClient"
        | "UnrecognizedClientException"
        | "AuthFailure" => Status::Denied,
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "SlowDown" => Status::Throttled,
        // A dry run answers without a token; rs-idc never asks for one.
        "DryRunException" | "DryRunOperation" => Status::BadResponse,
        _ => Status::Service,
    }
}

/// An error code without a namespace (`aws.protocols#ThrottlingException`)
/// or a trailing URI (`ValidationException:http://internal.amazon.com/`),
/// as some protocols send them.
fn bare_code(code: &str) -> &str {
    let code = code.rsplit_once('#').map_or(code, |(_, bare)| bare);
    code.split_once(':').map_or(code, |(bare, _)| bare).trim()
}

/// An error and its causes as one readable chain, `what: why: why`, each
/// part said once, without any user name or password of a URL.
///
/// The SDK's `DisplayErrorContext` ends with a `Debug` dump of the whole
/// error, which is neither readable nor safe to show.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = one_line(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|said| said.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    without_userinfo(&parts.join(": "))
}

/// A multi-line text (the SDK lists the credential providers it tried one
/// per line) as one line: `Attempted: A: why; B: why`.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for part in text.lines().map(str::trim).filter(|part| !part.is_empty()) {
        if !line.is_empty() {
            line.push_str(if line.ends_with(':') { " " } else { "; " });
        }
        line.push_str(part);
    }
    line
}

/// The first error of type `T` in the source chain of `err`.
fn find_source<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_map_onto_the_documented_statuses() {
        let cases = [
            ("ClusterNotFound", Status::NotFound),
            ("ResourceNotFoundException", Status::NotFound),
            ("InvalidClusterState", Status::InvalidState),
            ("ConflictException", Status::InvalidState),
            ("UnsupportedOperation", Status::Unsupported),
            ("RedshiftInvalidParameter", Status::InvalidArgument),
            ("ValidationException", Status::InvalidArgument),
            ("AccessDenied", Status::Denied),
            ("AccessDeniedException", Status::Denied),
            ("InvalidClientTokenId", Status::Denied),
            ("SignatureDoesNotMatch", Status::Denied),
            ("ExpiredToken", Status::Denied),
            ("UnrecognizedClientException", Status::Denied),
            ("Throttling", Status::Throttled),
            ("DryRunException", Status::BadResponse),
            (
                "com.amazonaws.redshiftserverless#ValidationException",
                Status::InvalidArgument,
            ),
            ("aws.protocols#ThrottlingException", Status::Throttled),
            (
                "UnrecognizedClientException:http://internal.amazon.com/",
                Status::Denied,
            ),
            ("ThrottlingException", Status::Throttled),
            ("InternalFailure", Status::Service),
            ("SomethingUnexpected", Status::Service),
        ];
        for (code, status) in cases {
            assert_eq!(status_for_code(Some(code)), status, "{code}");
        }
        assert_eq!(status_for_code(None), Status::Service);
    }

    #[test]
    fn chains_read_as_one_sentence_without_debug_dumps() {
        let err = CredentialsError::not_loaded("no providers in chain provided credentials");
        let text = describe(&err);
        assert!(
            text.contains("no providers in chain provided credentials"),
            "{text}"
        );
        assert!(!text.contains("CredentialsNotLoaded"), "{text}");
        assert!(!text.contains('{'), "{text}");
        let listed = std::io::Error::other("tried:\n  A: no\n  B: no\n");
        assert_eq!(describe(&listed), "tried: A: no; B: no");
        let io = std::io::Error::other("connect to http://user:hidden-pw@10.0.0.1:3128 failed");
        let text = describe(&io);
        assert!(!text.contains("hidden-pw"), "{text}");
        assert!(text.contains("10.0.0.1:3128"), "{text}");
    }

    #[test]
    fn finds_a_credentials_error_deep_in_a_chain() {
        #[derive(Debug)]
        struct Outer(CredentialsError);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("outer")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(CredentialsError::not_loaded("nothing in the chain"));
        assert!(find_source::<CredentialsError>(&err).is_some());
        assert!(find_source::<std::io::Error>(&err).is_none());
    }
}
