//! SSO-OIDC `RegisterClient` (`POST /client/register`, REST-JSON,
//! unsigned): a public client of the authorization code grant, sent back
//! to loopback redirect URIs, or of the device authorization grant.

use super::{Client, AUTHORIZATION_CODE, DEVICE_CODE, REFRESH_TOKEN, REGISTER_CLIENT};
use crate::http::Request;
use crate::identity::oidc::{fail, member, object, respond, Failure, OidcError};
use crate::server::State;
use crate::service::{json_string, random_bytes, Reply};
use crate::timefmt;
use serde_json::Value;

const GRANT_TYPES: [&str; 3] = [AUTHORIZATION_CODE, REFRESH_TOKEN, DEVICE_CODE];
const DEVICE_ISSUER: &str = "https://identitycenter.amazonaws.com/ssoins-rsidcfake0000";
const CLIENT_SECRET_TTL_SECS: i64 = 7_776_000;
const MAX_SCOPE: usize = 256;

fn string_list(body: &Value, name: &str) -> Result<Vec<String>, Failure> {
    let message = format!("{name} must be a list of strings");
    match body.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map_or_else(|| fail(OidcError::InvalidRequest, &message), Ok),
        Some(_) => fail(OidcError::InvalidRequest, &message),
    }
}

/// Whether `uri` is a loopback redirect URI: `http://127.0.0.1:PORT`, then
/// nothing, a path or a query; no fragment, spaces or control characters.
pub(super) fn valid_redirect_uri(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://127.0.0.1:") else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let port_ok = (1..=5).contains(&digits)
        && rest[..digits]
            .parse::<u32>()
            .is_ok_and(|p| (1..=65_535).contains(&p));
    let tail = &rest[digits..];
    port_ok
        && (tail.is_empty() || tail.starts_with('/') || tail.starts_with('?'))
        && !tail.bytes().any(|b| b == b'#' || b <= b' ' || b == 0x7f)
}

fn valid_issuer_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !url.bytes().any(|b| b <= b' ' || b == 0x7f)
}

fn check(body: &Value) -> Result<Client, Failure> {
    member(body, "clientName")?;
    if member(body, "clientType")? != "public" {
        let message = "Only public clients can be registered (clientType public)";
        return fail(OidcError::InvalidClientMetadata, message);
    }
    let scopes = string_list(body, "scopes")?;
    let bad_scope =
        |s: &String| s.is_empty() || s.len() > MAX_SCOPE || s.contains(char::is_whitespace);
    if scopes.iter().any(bad_scope) {
        let message = "Each scope must be 1 to 256 characters without spaces";
        return fail(OidcError::InvalidScope, message);
    }
    let grant_types = string_list(body, "grantTypes")?;
    if grant_types
        .iter()
        .any(|g| !GRANT_TYPES.contains(&g.as_str()))
    {
        return fail(OidcError::UnsupportedGrantType, "Unsupported grant type");
    }
    let code_grant = grant_types.iter().any(|g| g == AUTHORIZATION_CODE);
    if !code_grant && !grant_types.iter().any(|g| g == DEVICE_CODE) {
        let message = "grantTypes must include authorization_code or the device_code grant";
        return fail(OidcError::InvalidRequest, message);
    }
    let redirect_uris = string_list(body, "redirectUris")?;
    if code_grant && redirect_uris.is_empty() {
        let message = "The authorization_code grant needs at least one redirect URI";
        return fail(OidcError::InvalidRedirectUri, message);
    }
    if !redirect_uris.iter().all(|u| valid_redirect_uri(u)) {
        let message = "Redirect URIs must be http://127.0.0.1:PORT, optionally with a path";
        return fail(OidcError::InvalidRedirectUri, message);
    }
    let issuer_url = match body.get("issuerUrl") {
        Some(Value::String(url)) if valid_issuer_url(url) => url.clone(),
        None | Some(Value::Null) if !code_grant => DEVICE_ISSUER.to_string(),
        _ => {
            let message = "The authorization_code grant needs an issuerUrl (an https or http URL)";
            return fail(OidcError::InvalidRequest, message);
        }
    };
    Ok(Client {
        secret: crate::identity::jwt::b64url(&random_bytes(96)),
        redirect_uris,
        grant_types,
        issuer_url,
    })
}

fn answer(state: &State, req: &Request) -> Result<String, Failure> {
    if req.method != "POST" {
        return fail(
            OidcError::InvalidRequest,
            "RegisterClient is POST /client/register",
        );
    }
    let client = check(&object(req)?)?;
    let now = timefmt::now_epoch_secs();
    let secret = client.secret.clone();
    let client_id = state.identity.browser.register(client);
    state.identity.record_secret(&secret);
    Ok(format!(
        "{{\"clientId\":{},\"clientSecret\":{},\"clientIdIssuedAt\":{now},\
         \"clientSecretExpiresAt\":{}}}",
        json_string(&client_id),
        json_string(&secret),
        now.saturating_add(CLIENT_SECRET_TTL_SECS)
    ))
}

/// Handles `POST /client/register` (any other method: 400
/// `InvalidRequestException`).
pub(super) fn handle(state: &State, req: &Request, close: bool) -> Reply {
    respond(state, REGISTER_CLIENT, answer(state, req), close)
}
