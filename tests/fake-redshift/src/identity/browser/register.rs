//! SSO-OIDC `RegisterClient` (`POST /client/register`, REST-JSON,
//! unsigned): a public client of the authorization code grant, sent back
//! to loopback redirect URIs, or of the device authorization grant.

use super::{Client, AUTHORIZATION_CODE, DEVICE_CODE, REFRESH_TOKEN, REGISTER_CLIENT};
use crate::identity::oidc::{fail, member, reply, Failure, OidcError};
use crate::server::State;
use crate::service::{json_string, random_bytes, request_id, Outcome, Reply};
use crate::timefmt;
use serde_json::Value;

/// The grant types a client may register.
const GRANT_TYPES: [&str; 3] = [AUTHORIZATION_CODE, REFRESH_TOKEN, DEVICE_CODE];
/// `iss` of the ID tokens of a device client registered without `issuerUrl`.
const DEVICE_ISSUER: &str = "https://identitycenter.amazonaws.com/ssoins-rsidcfake0000";
/// Longest scope, in bytes.
const MAX_SCOPE: usize = 256;

/// A list of strings, `Ok(empty)` if absent or null.
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

/// Whether `url` is an `https` or `http` URL with a host.
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

/// Checks the request; the client to register and a log summary.
fn check(body: Option<&Value>) -> Result<(Client, String), Failure> {
    let Some(body) = body.filter(|b| b.is_object()) else {
        let message = "The request body is not a JSON object";
        return fail(OidcError::InvalidRequest, message);
    };
    let name = member(body, "clientName")?;
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
    let summary = format!(
        " name={name:?} scopes={scopes:?} grants={grant_types:?} redirects={}",
        redirect_uris.len()
    );
    let client = Client {
        secret: crate::identity::jwt::b64url(&random_bytes(96)),
        secret_expires: 0,
        redirect_uris,
        grant_types,
        issuer_url,
    };
    Ok((client, summary))
}

/// Registers the client; the success body and a log summary.
fn answer(state: &State, body: Option<&Value>) -> Result<(String, String), Failure> {
    let (mut client, summary) = check(body)?;
    let signin = &state.identity.browser;
    let now = timefmt::now_epoch_secs();
    client.secret_expires = now.saturating_add(signin.client_secret_ttl_secs);
    let (secret, expires) = (client.secret.clone(), client.secret_expires);
    let client_id = signin.register(client);
    state.identity.record_secret(&secret);
    let body = format!(
        "{{\"clientId\":{},\"clientSecret\":{},\"clientIdIssuedAt\":{now},\
         \"clientSecretExpiresAt\":{expires}}}",
        json_string(&client_id),
        json_string(&secret)
    );
    Ok((body, format!("200 client {client_id}{summary}")))
}

/// Handles `POST /client/register` (any other method: 400
/// `InvalidRequestException`).
pub(super) fn handle(state: &State, req: &crate::http::Request, close: bool) -> Outcome {
    let rid = request_id();
    let result = if req.method == "POST" {
        answer(state, serde_json::from_slice(&req.body).ok().as_ref())
    } else {
        fail(
            OidcError::InvalidRequest,
            "RegisterClient is POST /client/register",
        )
    };
    let (reply, summary) = reply(&rid, result, close);
    state.identity.count(REGISTER_CLIENT);
    Outcome::new(
        Reply::Bytes(reply),
        format!("sso-oidc {REGISTER_CLIENT} -> {summary}"),
    )
}
