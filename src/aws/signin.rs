//! The SSO-OIDC calls of the sign-ins for people (all unsigned):
//! RegisterClient for a public client (with the authorization-code grant
//! for the browser, the device-code grant for a device),
//! StartDeviceAuthorization, and CreateToken with an authorization code and
//! its PKCE verifier, a device code, or a refresh token. Which calls are
//! made and when is the core's decision (`crate::signin`).

use super::errors::{map_service_error, map_web_token_error};
use super::Service;
use crate::error::Error;
use crate::status::Status;
use crate::token::Answer;
use aws_sdk_ssooidc::operation::create_token::CreateTokenError;
use zeroize::Zeroizing;

/// The scope a Redshift sign-in asks for.
pub(crate) const REDSHIFT_SCOPE: &str = "redshift:connect";

/// A registered public client.
#[derive(Clone)]
pub(crate) struct Registration {
    pub client_id: String,
    pub client_secret: Zeroizing<String>,
    /// Unix seconds after which the client must register again.
    pub expires_at: i64,
}

/// Which grant a client is registered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClientKind {
    /// The authorization code, sent back to this redirect URI.
    Browser { redirect_uri: String },
    /// The device code.
    Device,
}

/// What StartDeviceAuthorization gives: what the person is shown, and
/// what the library polls with.
pub(crate) struct DeviceAuthorization {
    pub device_code: Zeroizing<String>,
    pub user_code: Zeroizing<String>,
    pub verification_uri_complete: String,
    /// Seconds between polls, as the service asks.
    pub interval: u64,
}

/// The device-code grant.
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What CreateToken is given besides the client.
pub(crate) enum CodeGrant {
    /// The authorization code the browser brought back, the redirect URI
    /// it was sent to, and the PKCE verifier of its challenge.
    Code {
        code: Zeroizing<String>,
        redirect_uri: String,
        verifier: Zeroizing<String>,
    },
    /// A refresh token from an earlier CreateToken.
    Refresh(Zeroizing<String>),
    /// A device code from StartDeviceAuthorization.
    Device(Zeroizing<String>),
}

/// What a CreateToken with a device code answered.
pub(crate) enum DevicePoll {
    /// The access token.
    Token(AccessToken),
    /// The person has not finished yet: poll again after the interval.
    Pending,
    /// Polled too fast: poll again after a longer interval.
    SlowDown,
}

/// An access token and what renews it.
pub(crate) struct AccessToken {
    pub answer: Answer,
    pub refresh_token: Option<Zeroizing<String>>,
}

/// The SSO-OIDC client of `region` (the handle's when `None`).
fn oidc(service: &Service, region: Option<&str>) -> aws_sdk_ssooidc::Client {
    match region {
        Some(region) => service.oidc_in(region),
        None => service.oidc().clone(),
    }
}

/// RegisterClient: a public client named `name` of `kind`, for the
/// Identity Center instance of `issuer_url`.
pub(crate) async fn register_client(
    service: &Service,
    region: Option<String>,
    name: String,
    kind: ClientKind,
    issuer_url: String,
) -> Result<Registration, Error> {
    const OPERATION: &str = "RegisterClient";
    let request = oidc(service, region.as_deref())
        .register_client()
        .client_name(name)
        .client_type("public")
        .scopes(REDSHIFT_SCOPE)
        .issuer_url(issuer_url);
    let request = match kind {
        ClientKind::Browser { redirect_uri } => request
            .grant_types("authorization_code")
            .redirect_uris(redirect_uri),
        ClientKind::Device => request.grant_types(DEVICE_CODE_GRANT),
    };
    let mut output = request
        .grant_types("refresh_token")
        .send()
        .await
        .map_err(|err| map_service_error(OPERATION, err, |_| None))?;
    let secret = output.client_secret.take().map(Zeroizing::new);
    match (output.client_id.take(), secret) {
        (Some(client_id), Some(client_secret)) => Ok(Registration {
            client_id,
            client_secret,
            expires_at: output.client_secret_expires_at,
        }),
        _ => Err(Error::new(
            Status::BadResponse,
            format!("{OPERATION}: the answer has no client id or secret"),
        )),
    }
}

/// The text SSO-OIDC sends with a refusal: its `error_description`.
fn description(err: &CreateTokenError) -> Option<&str> {
    use CreateTokenError as E;
    match err {
        E::InvalidGrantException(e) => e.error_description(),
        E::ExpiredTokenException(e) => e.error_description(),
        E::InvalidClientException(e) => e.error_description(),
        E::UnauthorizedClientException(e) => e.error_description(),
        E::InvalidRequestException(e) => e.error_description(),
        E::AccessDeniedException(e) => e.error_description(),
        _ => None,
    }
}

/// CreateToken for `registration` with `grant`: an access token.
pub(crate) async fn create_token(
    service: &Service,
    region: Option<String>,
    client_id: String,
    client_secret: Zeroizing<String>,
    grant: CodeGrant,
) -> Result<AccessToken, Error> {
    let sent_at = crate::clock::unix_now();
    let output = token_request(service, region, client_id, client_secret, &grant)
        .send()
        .await
        .map_err(|err| map_web_token_error("CreateToken", err, description))?;
    Ok(access_token(output, sent_at))
}

/// CreateToken with a device code: the access token, or that the person
/// has not finished yet (or that the poll came too soon). An expired
/// device code and a refused sign-in are `RS_IDC_EIDENTITY`.
pub(crate) async fn poll_device_token(
    service: &Service,
    region: Option<String>,
    client_id: String,
    client_secret: Zeroizing<String>,
    device_code: Zeroizing<String>,
) -> Result<DevicePoll, Error> {
    use aws_sdk_ssooidc::error::SdkError;
    let sent_at = crate::clock::unix_now();
    let grant = CodeGrant::Device(device_code);
    let answer = token_request(service, region, client_id, client_secret, &grant)
        .send()
        .await;
    let err = match answer {
        Ok(output) => return Ok(DevicePoll::Token(access_token(output, sent_at))),
        Err(err) => err,
    };
    if let SdkError::ServiceError(service_error) = &err {
        let refused = |why: &str| Err(Error::new(Status::Identity, format!("CreateToken: {why}")));
        match service_error.err() {
            CreateTokenError::AuthorizationPendingException(_) => return Ok(DevicePoll::Pending),
            CreateTokenError::SlowDownException(_) => return Ok(DevicePoll::SlowDown),
            CreateTokenError::ExpiredTokenException(_) => {
                return refused("the device code expired before the sign-in was finished")
            }
            CreateTokenError::AccessDeniedException(_) => {
                return refused("the sign-in was refused at the verification page")
            }
            _ => {}
        }
    }
    Err(map_web_token_error("CreateToken", err, description))
}

/// StartDeviceAuthorization for the device client `client_id`.
pub(crate) async fn start_device_authorization(
    service: &Service,
    region: Option<String>,
    client_id: String,
    client_secret: Zeroizing<String>,
    issuer_url: String,
) -> Result<DeviceAuthorization, Error> {
    const OPERATION: &str = "StartDeviceAuthorization";
    let mut output = oidc(service, region.as_deref())
        .start_device_authorization()
        .client_id(client_id)
        .client_secret(client_secret.as_str())
        .start_url(issuer_url)
        .send()
        .await
        .map_err(|err| map_service_error(OPERATION, err, |_| None))?;
    let device_code = output.device_code.take().map(Zeroizing::new);
    let user_code = output.user_code.take().map(Zeroizing::new);
    let uri = output
        .verification_uri_complete
        .take()
        .or_else(|| output.verification_uri.take());
    match (device_code, user_code, uri) {
        (Some(device_code), Some(user_code), Some(verification_uri_complete)) => {
            Ok(DeviceAuthorization {
                device_code,
                user_code,
                verification_uri_complete,
                interval: u64::try_from(output.interval).unwrap_or(0).max(1),
            })
        }
        _ => Err(Error::new(
            Status::BadResponse,
            format!("{OPERATION}: the answer has no device code, user code or URL"),
        )),
    }
}

/// A CreateToken request for `grant`.
fn token_request(
    service: &Service,
    region: Option<String>,
    client_id: String,
    client_secret: Zeroizing<String>,
    grant: &CodeGrant,
) -> aws_sdk_ssooidc::operation::create_token::builders::CreateTokenFluentBuilder {
    let request = oidc(service, region.as_deref())
        .create_token()
        .client_id(client_id)
        .client_secret(client_secret.as_str());
    match grant {
        CodeGrant::Code {
            code,
            redirect_uri,
            verifier,
        } => request
            .grant_type("authorization_code")
            .code(code.as_str())
            .redirect_uri(redirect_uri)
            .code_verifier(verifier.as_str()),
        CodeGrant::Refresh(token) => request
            .grant_type("refresh_token")
            .refresh_token(token.as_str()),
        CodeGrant::Device(code) => request
            .grant_type(DEVICE_CODE_GRANT)
            .device_code(code.as_str()),
    }
}

/// The access token of a CreateToken answer sent at `sent_at`; every
/// secret in it is wiped when dropped.
fn access_token(
    mut output: aws_sdk_ssooidc::operation::create_token::CreateTokenOutput,
    sent_at: i64,
) -> AccessToken {
    let _id_token = output.id_token.take().map(Zeroizing::new);
    let expires_at = (output.expires_in > 0).then(|| sent_at + i64::from(output.expires_in));
    AccessToken {
        answer: Answer {
            token: output.access_token.take().map(Zeroizing::new),
            expires_at,
            request_id: None,
        },
        refresh_token: output.refresh_token.take().map(Zeroizing::new),
    }
}
