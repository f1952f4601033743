//! The SSO-OIDC calls of the browser sign-in (both unsigned): RegisterClient
//! for a public client with the authorization-code grant, and CreateToken
//! with an authorization code and its PKCE verifier, or a refresh token.
//! Which calls are made and when is the core's decision (`crate::browser`).

use super::errors::{map_service_error, map_web_token_error};
use super::Service;
use crate::error::Error;
use crate::status::Status;
use crate::token::Answer;
use aws_config::Region;
use aws_sdk_ssooidc::operation::create_token::CreateTokenError;
use zeroize::Zeroizing;

/// The scope a Redshift sign-in asks for.
pub(crate) const REDSHIFT_SCOPE: &str = "redshift:connect";

/// A registered public client.
pub(crate) struct Registration {
    pub client_id: String,
    pub client_secret: Zeroizing<String>,
    /// Unix seconds after which the client must register again.
    pub expires_at: i64,
}

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
}

/// An access token and what renews it.
pub(crate) struct AccessToken {
    pub answer: Answer,
    pub refresh_token: Option<Zeroizing<String>>,
}

/// The SSO-OIDC client of `region` (the handle's when `None`).
fn oidc(service: &Service, region: Option<&str>) -> aws_sdk_ssooidc::Client {
    match region {
        Some(region) => aws_sdk_ssooidc::Client::from_conf(
            service
                .oidc
                .config()
                .to_builder()
                .region(Region::new(region.to_owned()))
                .build(),
        ),
        None => service.oidc.clone(),
    }
}

/// RegisterClient: a public client named `name` that may be sent back to
/// `redirect_uri`, for the Identity Center instance of `issuer_url`.
pub(crate) async fn register_client(
    service: &Service,
    region: Option<String>,
    name: String,
    redirect_uri: String,
    issuer_url: String,
) -> Result<Registration, Error> {
    const OPERATION: &str = "RegisterClient";
    let mut output = oidc(service, region.as_deref())
        .register_client()
        .client_name(name)
        .client_type("public")
        .scopes(REDSHIFT_SCOPE)
        .grant_types("authorization_code")
        .grant_types("refresh_token")
        .redirect_uris(redirect_uri)
        .issuer_url(issuer_url)
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
    const OPERATION: &str = "CreateToken";
    let request = oidc(service, region.as_deref())
        .create_token()
        .client_id(client_id)
        .client_secret(client_secret.as_str());
    let request = match &grant {
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
    };
    let sent_at = crate::clock::unix_now();
    let mut output = request
        .send()
        .await
        .map_err(|err| map_web_token_error(OPERATION, err, description))?;
    let _id_token = output.id_token.take().map(Zeroizing::new);
    let expires_at = (output.expires_in > 0).then(|| sent_at + i64::from(output.expires_in));
    Ok(AccessToken {
        answer: Answer {
            token: output.access_token.take().map(Zeroizing::new),
            expires_at,
            request_id: None,
        },
        refresh_token: output.refresh_token.take().map(Zeroizing::new),
    })
}
