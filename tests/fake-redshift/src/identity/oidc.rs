//! SSO-OIDC `CreateTokenWithIAM` (`POST /token?aws_iam=t`, signed): the
//! JWT bearer and refresh token grants; and the REST-JSON answers and
//! errors that the browser sign-in shares.

use super::jwt::{self, JwtError};
use crate::auth;
use crate::http::{self, Request};
use crate::keys::{UNAUTHORIZED_APPLICATION_ARN, UNKNOWN_APPLICATION_ARN};
use crate::names::op::{IAM_JWT_BEARER, IAM_REFRESH_TOKEN};
use crate::server::State;
use crate::service::MAX_SLOW_MS;
use crate::service::{json_string, random_bytes, request_id, Protocol, Reply};
use crate::timefmt;
use serde_json::Value;
use std::time::Duration;

pub(crate) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub(crate) const REFRESH_TOKEN: &str = "refresh_token";
const SERVICE: &str = "sso-oauth";
const ACCESS_TOKEN_TTL_SECS: i64 = 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OidcError {
    InvalidClient,
    UnauthorizedClient,
    InvalidGrant,
    ExpiredToken,
    UnsupportedGrantType,
    InvalidRequest,
    InvalidClientMetadata,
    InvalidRedirectUri,
    InvalidScope,
    AuthorizationPending,
    SlowDown,
    AccessDenied,
}

impl OidcError {
    /// HTTP status (from the service model), code (`NameException`) and
    /// OAuth `error` (the name in snake case).
    fn parts(self) -> (u16, String, String) {
        let name = format!("{self:?}");
        let mut error = String::new();
        for c in name.chars() {
            if c.is_ascii_uppercase() && !error.is_empty() {
                error.push('_');
            }
            error.push(c.to_ascii_lowercase());
        }
        let status = if self == OidcError::InvalidClient {
            401
        } else {
            400
        };
        (status, format!("{name}Exception"), error)
    }
}

pub(super) struct Failure(pub u16, pub String, pub String);

impl From<(OidcError, &str)> for Failure {
    fn from((e, description): (OidcError, &str)) -> Failure {
        let (status, code, error) = e.parts();
        let body = format!(
            "{{\"error\":{},\"error_description\":{}}}",
            json_string(&error),
            json_string(description)
        );
        Failure(status, code, body)
    }
}

pub(super) fn fail<T>(e: OidcError, description: &str) -> Result<T, Failure> {
    Err(Failure::from((e, description)))
}

pub(super) fn object(req: &Request) -> Result<Value, Failure> {
    match serde_json::from_slice(&req.body) {
        Ok(body @ Value::Object(_)) => Ok(body),
        _ => fail(
            OidcError::InvalidRequest,
            "The request body is not a JSON object",
        ),
    }
}

/// `base:GRANT` for a request whose `grantType` is one of `grants`
/// (`(grantType, counted name)`), else `base`: the name it is counted by.
pub(super) fn operation(
    req: &Request,
    base: &'static str,
    grants: &[(&str, &'static str)],
) -> &'static str {
    let body: Option<Value> = serde_json::from_slice(&req.body).ok();
    let grant = body.as_ref().and_then(|b| b.get("grantType")?.as_str());
    grants
        .iter()
        .find(|(g, _)| Some(*g) == grant)
        .map_or(base, |(_, op)| op)
}

pub(super) fn respond(
    state: &State,
    operation: &str,
    result: Result<String, Failure>,
    close: bool,
) -> Reply {
    state.identity.count(operation);
    let mut headers = vec![
        ("x-amzn-RequestId", request_id()),
        ("Content-Type", "application/json".to_string()),
    ];
    let (status, body) = match result {
        Ok(body) => (200, body),
        Err(Failure(status, code, body)) => {
            headers.push(("x-amzn-ErrorType", code));
            (status, body)
        }
    };
    Reply::Bytes(http::response(status, &headers, body.as_bytes(), close))
}

/// `clientId` checks: an application ARN of the right shape, neither the
/// unknown nor the unauthorized test application.
fn check_client(client_id: &str) -> Result<(), Failure> {
    let shaped = (|| {
        let rest = client_id.strip_prefix("arn:aws:sso::")?;
        let (account, rest) = rest.split_once(":application/ssoins-")?;
        let (instance, app) = rest.split_once("/apl-")?;
        let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
            .then_some(())
            .filter(|()| alnum(instance) && alnum(app))
    })();
    if shaped.is_none() || client_id == UNKNOWN_APPLICATION_ARN {
        return fail(OidcError::InvalidClient, "Invalid client provided");
    }
    if client_id == UNAUTHORIZED_APPLICATION_ARN {
        let message = "The client is not authorized to use this grant type";
        return fail(OidcError::UnauthorizedClient, message);
    }
    Ok(())
}

pub(super) fn member<'a>(body: &'a Value, name: &str) -> Result<&'a str, Failure> {
    match body.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        _ => fail(OidcError::InvalidRequest, &format!("{name} is required")),
    }
}

fn grant_subject(state: &State, body: &Value, client_id: &str) -> Result<String, Failure> {
    match member(body, "grantType")? {
        JWT_BEARER => {
            let assertion = member(body, "assertion")?;
            let now = timefmt::now_epoch_secs();
            jwt::verify(&state.identity.key, assertion, now).or_else(|e| match e {
                JwtError::Expired => fail(OidcError::ExpiredToken, &e.message()),
                _ => fail(OidcError::InvalidGrant, &e.message()),
            })
        }
        REFRESH_TOKEN => refresh_subject(state, body, client_id),
        _ => fail(OidcError::UnsupportedGrantType, "Unsupported grant type"),
    }
}

/// The user of a refresh token grant (issued to `client_id`).
pub(super) fn refresh_subject(
    state: &State,
    body: &Value,
    client_id: &str,
) -> Result<String, Failure> {
    match state.identity.refresh_grant(member(body, "refreshToken")?) {
        Some(grant) if grant.client_id == client_id => Ok(grant.subject),
        _ => fail(OidcError::InvalidGrant, "Invalid refresh token provided"),
    }
}

fn slow_ms(subject: &str) -> Option<u64> {
    let rest = subject.strip_prefix("slow-")?;
    let (n, _) = rest.split_once('-')?;
    let ok = !n.is_empty() && n.len() <= 5 && n.bytes().all(|b| b.is_ascii_digit());
    let n: i64 = n.parse().ok().filter(|_| ok)?;
    (1..=MAX_SLOW_MS).contains(&n).then_some(n as u64)
}

fn instance(client_id: &str) -> &str {
    client_id
        .split_once(":application/")
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap_or("ssoins-unknown")
}

fn issue(state: &State, subject: &str, client_id: &str) -> String {
    let store = &state.identity;
    let now = timefmt::now_epoch_secs();
    let access_token = format!("aoaAAAAAG{}", jwt::b64url(&random_bytes(96)));
    let refresh_token = store.new_refresh_token(subject, client_id);
    let identity_context = jwt::issue_context(&store.key, subject, client_id, now);
    let id_payload = format!(
        "{{\"iss\":{},\"aud\":{},\"sub\":{},\"iat\":{now},\"exp\":{},\"sts:identity_context\":{}}}",
        json_string(&format!(
            "https://identitycenter.amazonaws.com/{}",
            instance(client_id)
        )),
        json_string(client_id),
        json_string(subject),
        now + ACCESS_TOKEN_TTL_SECS,
        json_string(&identity_context)
    );
    let id_token = jwt::sign(&store.key, &id_payload);
    for secret in [&refresh_token, &access_token, &identity_context, &id_token] {
        store.record_secret(secret);
    }
    format!(
        "{{\"accessToken\":{},\"tokenType\":\"Bearer\",\"expiresIn\":{ACCESS_TOKEN_TTL_SECS},\
         \"refreshToken\":{},\"idToken\":{},\
         \"issuedTokenType\":\"urn:ietf:params:oauth:token-type:refresh_token\",\
         \"scope\":[\"openid\",\"aws\",\"sts:identity_context\"],\
         \"awsAdditionalDetails\":{{\"identityContext\":{}}}}}",
        json_string(&access_token),
        json_string(&refresh_token),
        json_string(&id_token),
        json_string(&identity_context)
    )
}

fn answer(state: &State, req: &Request) -> Result<String, Failure> {
    if req.method != "POST" || !req.query.split('&').any(|p| p == "aws_iam=t") {
        let message =
            "Only CreateTokenWithIAM (POST /token?aws_iam=t) and CreateToken (POST /token) are served here";
        return fail(OidcError::InvalidRequest, message);
    }
    auth::authenticate(state, req, SERVICE).map_err(|(e, message)| {
        let (status, code) = e.code(Protocol::Json);
        let body = format!("{{\"message\":{}}}", json_string(&message));
        Failure(status, code.to_string(), body)
    })?;
    let body = object(req)?;
    let client_id = member(&body, "clientId")?;
    check_client(client_id)?;
    let subject = grant_subject(state, &body, client_id)?;
    if let Some(ms) = slow_ms(&subject) {
        state.pause(Duration::from_millis(ms));
    }
    Ok(issue(state, &subject, client_id))
}

pub(crate) fn handle(state: &State, req: &Request, close: bool) -> Reply {
    let grants = [
        (JWT_BEARER, IAM_JWT_BEARER),
        (REFRESH_TOKEN, IAM_REFRESH_TOKEN),
    ];
    let operation = operation(req, "CreateTokenWithIAM", &grants);
    respond(state, operation, answer(state, req), close)
}
