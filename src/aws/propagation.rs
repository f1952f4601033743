//! The calls of trusted identity propagation: AWS STS
//! AssumeRoleWithWebIdentity and AssumeRole with a provided context, and
//! SSO-OIDC CreateTokenWithIAM. Which calls are made, in which order and
//! with which fallback is the core's decision (`crate::users`); each
//! function here is one call.
//!
//! Web tokens, refresh tokens and identity contexts are secrets: they go
//! to the SDK and come back wiped when dropped, and never into a message.

use super::errors::map_web_token_error;
use super::{Identity, Service};
use crate::error::Error;
use crate::status::Status;
use aws_credential_types::Credentials;
use aws_sdk_ssooidc::operation::create_token_with_iam::CreateTokenWithIAMError;
use aws_sdk_sts::types::ProvidedContext;
use zeroize::Zeroizing;

/// The provider of identity contexts from IAM Identity Center.
const IDENTITY_CENTER_CONTEXT: &str = "arn:aws:iam::aws:contextProvider/IdentityCenter";
/// The OAuth grant that presents the web token.
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The OAuth grant that presents a refresh token.
const REFRESH_TOKEN_GRANT: &str = "refresh_token";

/// What CreateTokenWithIAM is given.
pub(crate) enum Grant {
    /// The user's web token.
    WebToken(Zeroizing<String>),
    /// A refresh token from an earlier CreateTokenWithIAM.
    RefreshToken(Zeroizing<String>),
}

/// What CreateTokenWithIAM gives back: the user's identity context and,
/// usually, a refresh token.
pub(crate) struct IdentityContext {
    pub context: Zeroizing<String>,
    pub refresh_token: Option<Zeroizing<String>>,
}

/// Credentials from an STS answer.
fn identity_from(
    operation: &str,
    credentials: Option<aws_sdk_sts::types::Credentials>,
) -> Result<Identity, Error> {
    let credentials = credentials.ok_or_else(|| {
        Error::new(
            Status::BadResponse,
            format!("{operation}: the answer has no credentials"),
        )
    })?;
    let expiry = std::time::SystemTime::try_from(credentials.expiration).map_err(|_| {
        Error::new(
            Status::BadResponse,
            format!("{operation}: the credentials' expiry is out of range"),
        )
    })?;
    let access_key_id = credentials.access_key_id;
    let secret = Zeroizing::new(credentials.secret_access_key);
    let session_token = Zeroizing::new(credentials.session_token);
    Ok(Identity {
        credentials: Credentials::new(
            access_key_id,
            secret.as_str(),
            Some(session_token.to_string()),
            Some(expiry),
            "rs-idc-user",
        ),
    })
}

/// AssumeRoleWithWebIdentity: the role `role_arn`'s credentials for the
/// holder of `web_token` (an unsigned call).
pub(crate) async fn assume_role_with_web_token(
    service: &Service,
    role_arn: String,
    session_name: String,
    web_token: Zeroizing<String>,
) -> Result<Identity, Error> {
    const OPERATION: &str = "AssumeRoleWithWebIdentity";
    let output = service
        .sts()
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .web_identity_token(web_token.as_str())
        .send()
        .await
        .map_err(|err| map_web_token_error(OPERATION, err, |_| None))?;
    identity_from(OPERATION, output.credentials)
}

/// The text SSO-OIDC sends with a refusal: its `error_description`.
fn oidc_description(err: &CreateTokenWithIAMError) -> Option<&str> {
    use CreateTokenWithIAMError as E;
    match err {
        E::InvalidGrantException(e) => e.error_description(),
        E::ExpiredTokenException(e) => e.error_description(),
        E::InvalidClientException(e) => e.error_description(),
        E::UnauthorizedClientException(e) => e.error_description(),
        E::InvalidRequestException(e) => e.error_description(),
        E::InvalidScopeException(e) => e.error_description(),
        E::UnsupportedGrantTypeException(e) => e.error_description(),
        E::AccessDeniedException(e) => e.error_description(),
        E::InternalServerException(e) => e.error_description(),
        _ => None,
    }
}

/// CreateTokenWithIAM of the application `client_id`, signed by `signer`.
pub(crate) async fn create_token_with_iam(
    service: &Service,
    signer: &Identity,
    client_id: String,
    grant: Grant,
) -> Result<IdentityContext, Error> {
    const OPERATION: &str = "CreateTokenWithIAM";
    let request = service
        .oidc_signed_by(signer)
        .create_token_with_iam()
        .client_id(client_id);
    let request = match &grant {
        Grant::WebToken(token) => request
            .grant_type(JWT_BEARER_GRANT)
            .assertion(token.as_str()),
        Grant::RefreshToken(token) => request
            .grant_type(REFRESH_TOKEN_GRANT)
            .refresh_token(token.as_str()),
    };
    let mut output = request
        .send()
        .await
        .map_err(|err| map_web_token_error(OPERATION, err, oidc_description))?;
    // Everything secret in the answer is taken out, to be wiped.
    let _access_token = output.access_token.take().map(Zeroizing::new);
    let _id_token = output.id_token.take().map(Zeroizing::new);
    let refresh_token = output.refresh_token.take().map(Zeroizing::new);
    let context = output
        .aws_additional_details
        .take()
        .and_then(|details| details.identity_context)
        .filter(|context| !context.is_empty())
        .map(Zeroizing::new)
        .ok_or_else(|| {
            Error::new(
                Status::BadResponse,
                format!(
                    "{OPERATION}: the answer has no identity context \
                     (awsAdditionalDetails.identityContext)"
                ),
            )
        })?;
    Ok(IdentityContext {
        context,
        refresh_token,
    })
}

/// AssumeRole of `role_arn` with the user's identity `context`, signed by
/// `signer`: the user's identity-enhanced credentials.
pub(crate) async fn assume_role_with_context(
    service: &Service,
    signer: &Identity,
    role_arn: String,
    session_name: String,
    context: Zeroizing<String>,
) -> Result<Identity, Error> {
    const OPERATION: &str = "AssumeRole";
    let output = service
        .sts_signed_by(signer)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name)
        .provided_contexts(
            ProvidedContext::builder()
                .provider_arn(IDENTITY_CENTER_CONTEXT)
                .context_assertion(context.as_str())
                .build(),
        )
        .send()
        .await
        .map_err(|err| super::errors::map_sdk_error(OPERATION, err))?;
    identity_from(OPERATION, output.credentials)
}
