//! Browser sign-in to IAM Identity Center: SSO-OIDC `RegisterClient` and
//! `CreateToken` (REST-JSON, unsigned), the browser's `GET /authorize`
//! (RFC 6749 4.1, PKCE) and the device authorization grant (RFC 8628).

use super::jwt::{self, b64url};
use super::oidc::{fail, member, object, operation, refresh_subject, respond, Failure, OidcError};
use super::store::random_chars;
use super::{named_user, user_bytes};
use crate::conns::lock;
use crate::http::{self, Request};
use crate::names::op::{
    AUTHORIZE, CODE as CREATE_TOKEN_CODE, DEVICE_CODE as CREATE_TOKEN_DEVICE,
    REFRESH_TOKEN as CREATE_TOKEN_REFRESH, REGISTER_CLIENT, START_DEVICE, VERIFY_DEVICE,
};
use crate::server::State;
use crate::service::{json_string, random_bytes, Reply};
use crate::timefmt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

const AUTHORIZATION_CODE: &str = "authorization_code";
const REFRESH_TOKEN: &str = "refresh_token";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const GRANT_TYPES: [&str; 3] = [AUTHORIZATION_CODE, REFRESH_TOKEN, DEVICE_CODE];
const CODE_TTL_SECS: i64 = 300;
pub(crate) const DEFAULT_USER: &str = "browser-user";
const MAX_LOGIN_HINT: usize = 128;
/// `iss` of the ID tokens of a device client registered without `issuerUrl`.
const DEVICE_ISSUER: &str = "https://identitycenter.amazonaws.com/ssoins-rsidcfake0000";
/// `clientSecretExpiresAt` of a new client, from now: 90 days.
const CLIENT_SECRET_TTL_SECS: i64 = 7_776_000;
const MAX_SCOPE: usize = 256;
/// `code_challenge` and `code_verifier` lengths (RFC 7636, 4.1 and 4.2).
const PKCE_LEN: std::ops::RangeInclusive<usize> = 43..=128;
/// No vowels, nothing that looks like a digit.
const USER_CODE_CHARS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const BAD_CLIENT: &str = "Invalid client provided (unknown client, or a wrong or expired secret)";

#[derive(Clone, Debug)]
struct Client {
    secret: String,
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    issuer_url: String,
}

impl Client {
    fn allows(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }
}

/// What an authorization code stands for.
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    subject: String,
    expires: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Decision {
    Pending,
    Approved(String),
    Denied,
}

/// One device authorization, by its device code.
struct Device {
    client_id: String,
    user_code: String,
    expires: Instant,
    last_poll: Option<Instant>,
    /// Polls still to be answered `SlowDownException` whatever their pace.
    slow_downs: u32,
    decision: Decision,
}

/// What the control API or the verification page does to device
/// authorizations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceAction {
    /// The user signs in: the next poll gets tokens.
    Approve,
    /// The user refuses: polls get `AccessDeniedException`.
    Deny,
    /// The device code expires now: polls get `ExpiredTokenException`.
    Expire,
}

/// The browser sign-in state of one server: registered clients,
/// authorization codes not yet redeemed and device authorizations.
/// Refresh tokens, secrets handed out and the counters are in the identity
/// store beside it.
pub(crate) struct Signin {
    access_token_ttl_secs: i64,
    device_ttl_secs: i64,
    device_interval_secs: i64,
    device_slow_downs: u32,
    clients: Mutex<HashMap<String, Client>>,
    codes: Mutex<HashMap<String, Code>>,
    devices: Mutex<HashMap<String, Device>>,
}

impl Default for Signin {
    fn default() -> Signin {
        Signin::new(&crate::FakeOptions::default())
    }
}

impl Signin {
    pub(crate) fn new(opts: &crate::FakeOptions) -> Signin {
        Signin {
            access_token_ttl_secs: opts.access_token_ttl_secs,
            device_ttl_secs: opts.device_code_ttl_secs,
            device_interval_secs: opts.device_interval_secs,
            device_slow_downs: opts.device_slow_downs,
            clients: Mutex::default(),
            codes: Mutex::default(),
            devices: Mutex::default(),
        }
    }

    fn client(&self, client_id: &str) -> Option<Client> {
        lock(&self.clients).get(client_id).cloned()
    }

    /// The client `client_id` if `secret` is its secret (constant-time).
    fn authenticate(&self, client_id: &str, secret: &str) -> Result<Client, Failure> {
        self.client(client_id)
            .filter(|c| bool::from(c.secret.as_bytes().ct_eq(secret.as_bytes())))
            .map_or_else(|| fail(OidcError::InvalidClient, BAD_CLIENT), Ok)
    }

    /// Applies `action` to the authorization of `user_code` (any case), or
    /// to every one without a user code; approvals sign `user` in.
    /// Approve and Deny touch pending, unexpired ones only. Returns how
    /// many were changed.
    pub(crate) fn decide_devices(
        &self,
        user_code: Option<&str>,
        action: DeviceAction,
        user: &str,
    ) -> usize {
        let now = Instant::now();
        let mut devices = lock(&self.devices);
        let chosen = devices.values_mut().filter(|d| {
            user_code.is_none_or(|c| d.user_code.eq_ignore_ascii_case(c))
                && (action == DeviceAction::Expire
                    || (d.decision == Decision::Pending && d.expires > now))
        });
        let mut changed = 0;
        for device in chosen {
            match action {
                DeviceAction::Approve => device.decision = Decision::Approved(user.to_string()),
                DeviceAction::Deny => device.decision = Decision::Denied,
                DeviceAction::Expire => device.expires = now,
            }
            changed += 1;
        }
        changed
    }

    /// One poll of `CreateToken` with the device code grant: the user who
    /// approved, or why not (yet). Tokens are handed out once per code.
    fn redeem(&self, code: &str, client_id: &str) -> Result<String, Failure> {
        let now = Instant::now();
        let mut devices = lock(&self.devices);
        let Some(device) = devices.get_mut(code).filter(|d| d.client_id == client_id) else {
            let message = "Invalid device code provided (unknown, used, or another client's)";
            return fail(OidcError::InvalidGrant, message);
        };
        if device.expires <= now {
            return fail(OidcError::ExpiredToken, "The device code has expired");
        }
        let interval = Duration::from_secs(self.device_interval_secs as u64);
        let too_soon = device.last_poll.is_some_and(|t| now < t + interval);
        device.last_poll = Some(now);
        if device.slow_downs > 0 || too_soon {
            device.slow_downs = device.slow_downs.saturating_sub(1);
            return fail(OidcError::SlowDown, "Polled too often: slow down");
        }
        match device.decision.clone() {
            Decision::Pending => {
                let message = "The user has not yet approved the request";
                fail(OidcError::AuthorizationPending, message)
            }
            Decision::Denied => {
                devices.remove(code);
                fail(OidcError::AccessDenied, "The user denied the request")
            }
            Decision::Approved(user) => {
                devices.remove(code);
                Ok(user)
            }
        }
    }
}

/// Answers the browser sign-in requests; `None` for any other request.
pub(crate) fn dispatch(state: &State, req: &Request, close: bool) -> Option<Reply> {
    let (operation, result) = match req.path.as_str() {
        "/client/register" => (REGISTER_CLIENT, register(state, req)),
        "/authorize" => return Some(authorize(state, req, close)),
        "/device_authorization" => (START_DEVICE, start_device(state, req)),
        "/device" => return Some(device_page(state, req, close)),
        "/token" if req.method == "POST" && !req.query.split('&').any(|p| p == "aws_iam=t") => {
            let grants = [
                (AUTHORIZATION_CODE, CREATE_TOKEN_CODE),
                (REFRESH_TOKEN, CREATE_TOKEN_REFRESH),
                (DEVICE_CODE, CREATE_TOKEN_DEVICE),
            ];
            let operation = operation(req, "CreateToken", &grants);
            (operation, create_token(state, req))
        }
        _ => return None,
    };
    Some(respond(state, operation, result, close))
}

/// Whether `hint` may name the user: 1 to 128 ASCII letters, digits and
/// `-_.@`.
pub(crate) fn valid_login_hint(hint: &str) -> bool {
    !hint.is_empty()
        && hint.len() <= MAX_LOGIN_HINT
        && hint
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
}

/// The user an access token of the browser sign-in (SSO-OIDC
/// `CreateToken`) was issued to, read from the token itself (any server's,
/// expired ones too); `None` for any other token or text.
pub fn access_token_subject(token: &str) -> Option<String> {
    let bytes = jwt::b64url_decode(token.trim().strip_prefix("aoa")?)?;
    let subject = named_user(&bytes)?;
    valid_login_hint(subject).then(|| subject.to_string())
}

impl crate::FakeServer {
    /// [`access_token_subject`] for tokens
    /// that this server handed out only.
    pub fn access_token_subject(&self, token: &str) -> Option<String> {
        let token = token.trim();
        let issued = self.state().identity.secrets().iter().any(|s| s == token);
        issued.then(|| access_token_subject(token)).flatten()
    }
}

/// A list of strings, `Ok(empty)` if absent or null.
fn string_list(body: &Value, name: &str) -> Result<Vec<String>, Failure> {
    let list = match body.get(name) {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(_) => None,
    };
    let message = format!("{name} must be a list of strings");
    list.map_or_else(|| fail(OidcError::InvalidRequest, &message), Ok)
}

/// Whether `uri` is a loopback redirect URI: `http://127.0.0.1:PORT`, then
/// nothing, a path or a query; no fragment, spaces or control characters.
fn valid_redirect_uri(uri: &str) -> bool {
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
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest
        .and_then(|r| r.split(['/', '?', '#']).next())
        .unwrap_or("");
    !host.is_empty() && !url.bytes().any(|b| b <= b' ' || b == 0x7f)
}

/// `RegisterClient` (`POST /client/register`): a public client of the
/// authorization code grant, sent back to loopback redirect URIs, or of the
/// device authorization grant.
fn register(state: &State, req: &Request) -> Result<String, Failure> {
    if req.method != "POST" {
        let message = "RegisterClient is POST /client/register";
        return fail(OidcError::InvalidRequest, message);
    }
    let body = &object(req)?;
    member(body, "clientName")?;
    if member(body, "clientType")? != "public" {
        let message = "Only public clients can be registered (clientType public)";
        return fail(OidcError::InvalidClientMetadata, message);
    }
    let bad_scope =
        |s: &String| s.is_empty() || s.len() > MAX_SCOPE || s.contains(char::is_whitespace);
    if string_list(body, "scopes")?.iter().any(bad_scope) {
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
    let secret = b64url(&random_bytes(96));
    let client = Client {
        secret: secret.clone(),
        redirect_uris,
        grant_types,
        issuer_url,
    };
    let client_id = b64url(&random_bytes(18));
    lock(&state.identity.browser.clients).insert(client_id.clone(), client);
    state.identity.record_secret(&secret);
    let now = timefmt::now_epoch_secs();
    Ok(format!(
        "{{\"clientId\":{},\"clientSecret\":{},\"clientIdIssuedAt\":{now},\
         \"clientSecretExpiresAt\":{}}}",
        json_string(&client_id),
        json_string(&secret),
        now.saturating_add(CLIENT_SECRET_TTL_SECS)
    ))
}

/// Whether `text` holds only the unreserved characters of RFC 3986.
fn unreserved(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn redirect_to<'a>(uri: &str, mut pairs: Vec<(&str, &'a str)>, state: Option<&'a str>) -> String {
    pairs.extend(state.map(|s| ("state", s)));
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(pairs);
    let joiner = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{joiner}{}", query.finish())
}

/// The redirect for `GET /authorize` (the user is signed in at once), or,
/// for a client or redirect URI that cannot be trusted with a redirect, a
/// page for the user (RFC 6749 4.1.2.1).
fn authorize_redirect(state: &State, query: &str) -> Result<String, &'static str> {
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| params.get(name).map(String::as_str);
    let client_id = get("client_id").unwrap_or("");
    let client = state
        .identity
        .browser
        .client(client_id)
        .ok_or("Unknown or expired client_id: sign-in stopped.")?;
    let uri = get("redirect_uri")
        .filter(|u| client.redirect_uris.iter().any(|r| r == u))
        .ok_or("redirect_uri is missing or not registered for this client: sign-in stopped.")?;
    let challenge = get("code_challenge").unwrap_or("");
    let subject = get("login_hint").unwrap_or(DEFAULT_USER);
    let refused = if get("response_type") != Some("code") {
        Some(("unsupported_response_type", "response_type must be code"))
    } else if get("code_challenge_method") != Some("S256") {
        Some(("invalid_request", "code_challenge_method must be S256"))
    } else if !PKCE_LEN.contains(&challenge.len()) || !unreserved(challenge) {
        let message = "code_challenge must be 43 to 128 unreserved characters";
        Some(("invalid_request", message))
    } else if !valid_login_hint(subject) {
        let message = "login_hint must be 1 to 128 letters, digits and -_.@";
        Some(("invalid_request", message))
    } else if get("deny") == Some("1") {
        Some(("access_denied", "The user denied the request"))
    } else {
        None
    };
    if let Some((error, description)) = refused {
        let pairs = vec![("error", error), ("error_description", description)];
        return Ok(redirect_to(uri, pairs, get("state")));
    }
    let code = b64url(&random_bytes(48));
    let grant = Code {
        client_id: client_id.to_string(),
        redirect_uri: uri.to_string(),
        challenge: challenge.to_string(),
        subject: subject.to_string(),
        expires: timefmt::now_epoch_secs() + CODE_TTL_SECS,
    };
    lock(&state.identity.browser.codes).insert(code.clone(), grant);
    state.identity.record_secret(&code);
    Ok(redirect_to(uri, vec![("code", &code)], get("state")))
}

fn authorize(state: &State, req: &Request, close: bool) -> Reply {
    state.identity.count(AUTHORIZE);
    Reply::Bytes(if req.method != "GET" {
        http::text(405, "The authorization endpoint takes GET\n", close)
    } else {
        match authorize_redirect(state, &req.query) {
            Ok(location) => {
                let headers = [
                    ("Location", location),
                    ("Cache-Control", "no-store".to_string()),
                    ("Content-Type", "text/plain".to_string()),
                ];
                let body = b"Redirecting to the application.\n";
                http::response(302, &headers, body, close)
            }
            Err(page) => http::text(400, &format!("{page}\n"), close),
        }
    })
}

/// Whether `verifier` hashes to `challenge`: BASE64URL-NOPAD(SHA-256),
/// compared in constant time.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let hashed = b64url(&Sha256::digest(verifier.as_bytes()));
    PKCE_LEN.contains(&verifier.len())
        && unreserved(verifier)
        && bool::from(hashed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// The user of an authorization code grant, or why it is refused. The
/// code is spent by this request whatever the outcome.
fn code_subject(state: &State, body: &Value, client_id: &str) -> Result<String, Failure> {
    let code = member(body, "code")?;
    let redirect_uri = member(body, "redirectUri")?;
    let verifier = member(body, "codeVerifier")?;
    let grant = lock(&state.identity.browser.codes).remove(code);
    let Some(grant) = grant.filter(|c| c.expires > timefmt::now_epoch_secs()) else {
        let message = "Invalid authorization code provided (unknown, used or expired)";
        return fail(OidcError::InvalidGrant, message);
    };
    let message = if grant.client_id != client_id {
        "The authorization code was issued to another client"
    } else if grant.redirect_uri != redirect_uri {
        "redirectUri does not match the authorization request"
    } else if !pkce_matches(verifier, &grant.challenge) {
        "codeVerifier does not match the code challenge"
    } else {
        return Ok(grant.subject);
    };
    fail(OidcError::InvalidGrant, message)
}

/// `CreateToken` (`POST /token`) for registered clients: an access token
/// (`aoa`, then base64url of `rs-idc-user:<subject>\n` and random bytes), a
/// refresh token (if the client registered that grant) and an ID token.
fn create_token(state: &State, req: &Request) -> Result<String, Failure> {
    let body = &object(req)?;
    let client_id = member(body, "clientId")?;
    let secret = member(body, "clientSecret")?;
    let grant = member(body, "grantType")?;
    let store = &state.identity;
    let client = store.browser.authenticate(client_id, secret)?;
    if !GRANT_TYPES.contains(&grant) {
        return fail(OidcError::UnsupportedGrantType, "Unsupported grant type");
    }
    if !client.allows(grant) {
        let message = "The client is not registered for this grant type";
        return fail(OidcError::UnauthorizedClient, message);
    }
    let subject = match grant {
        AUTHORIZATION_CODE => code_subject(state, body, client_id)?,
        DEVICE_CODE => store
            .browser
            .redeem(member(body, "deviceCode")?, client_id)?,
        _ => refresh_subject(state, body, client_id)?,
    };
    let subject = &subject;
    let ttl = store.browser.access_token_ttl_secs;
    let now = timefmt::now_epoch_secs();
    let mut bytes = user_bytes(subject);
    bytes.extend(random_bytes(64));
    let access = format!("aoa{}", b64url(&bytes));
    let id_payload = format!(
        "{{\"iss\":{},\"aud\":{},\"sub\":{},\"iat\":{now},\"exp\":{}}}",
        json_string(&client.issuer_url),
        json_string(client_id),
        json_string(subject),
        now.saturating_add(ttl)
    );
    let id_token = jwt::sign(&store.key, &id_payload);
    let refresh = client
        .allows(REFRESH_TOKEN)
        .then(|| store.new_refresh_token(subject, client_id));
    for secret in [Some(&access), refresh.as_ref(), Some(&id_token)]
        .into_iter()
        .flatten()
    {
        store.record_secret(secret);
    }
    let refresh = refresh
        .map(|r| format!(",\"refreshToken\":{}", json_string(&r)))
        .unwrap_or_default();
    Ok(format!(
        "{{\"accessToken\":{},\"tokenType\":\"Bearer\",\"expiresIn\":{ttl}{refresh},\"idToken\":{}}}",
        json_string(&access),
        json_string(&id_token)
    ))
}

/// `StartDeviceAuthorization` (`POST /device_authorization`).
fn start_device(state: &State, req: &Request) -> Result<String, Failure> {
    if req.method != "POST" {
        let message = "StartDeviceAuthorization is POST /device_authorization";
        return fail(OidcError::InvalidRequest, message);
    }
    let body = &object(req)?;
    let client_id = member(body, "clientId")?;
    let secret = member(body, "clientSecret")?;
    member(body, "startUrl")?;
    let signin = &state.identity.browser;
    if !signin.authenticate(client_id, secret)?.allows(DEVICE_CODE) {
        let message = "The client is not registered for the device_code grant";
        return fail(OidcError::UnauthorizedClient, message);
    }
    let letters = random_chars(USER_CODE_CHARS, 8);
    let user_code = format!("{}-{}", &letters[..4], &letters[4..]);
    let device_code = b64url(&random_bytes(48));
    let device = Device {
        client_id: client_id.to_string(),
        user_code: user_code.clone(),
        expires: Instant::now() + Duration::from_secs(signin.device_ttl_secs as u64),
        last_poll: None,
        slow_downs: signin.device_slow_downs,
        decision: Decision::Pending,
    };
    lock(&signin.devices).insert(device_code.clone(), device);
    state.identity.record_secret(&device_code);
    let page = format!("{}/device", state.url.get().map_or("", String::as_str));
    Ok(format!(
        "{{\"deviceCode\":{},\"userCode\":{},\"verificationUri\":{},\
         \"verificationUriComplete\":{},\"expiresIn\":{},\"interval\":{}}}",
        json_string(&device_code),
        json_string(&user_code),
        json_string(&page),
        json_string(&format!("{page}?user_code={user_code}")),
        signin.device_ttl_secs,
        signin.device_interval_secs
    ))
}

/// The verification page, `GET /device?user_code=CODE[&deny=1][&login_hint=USER]`:
/// a small HTML page; 404 for an unknown, expired or decided code.
fn device_page(state: &State, req: &Request, close: bool) -> Reply {
    let (mut code, mut deny, mut user) = (None, false, DEFAULT_USER.to_string());
    for (name, value) in form_urlencoded::parse(req.query.as_bytes()) {
        match &*name {
            "user_code" => code = Some(value.into_owned()),
            "deny" => deny = value == "1",
            "login_hint" => user = value.into_owned(),
            _ => {}
        }
    }
    let action = if deny {
        DeviceAction::Deny
    } else {
        DeviceAction::Approve
    };
    let signin = &state.identity.browser;
    let (status, text) = match code {
        _ if req.method != "GET" => (405, "The verification page takes GET"),
        None => (400, "user_code is required"),
        Some(_) if !valid_login_hint(&user) => (400, "login_hint is not a plain user name"),
        Some(code) if signin.decide_devices(Some(&code), action, &user) == 0 => {
            (404, "Unknown, expired or already decided code")
        }
        Some(_) if deny => (200, "Request denied. You can close this window."),
        Some(_) => (200, "Device approved. You can close this window."),
    };
    let html = format!("<!DOCTYPE html>\n<html><body><p>{text}</p></body></html>\n");
    let headers = [("Content-Type", "text/html; charset=utf-8".to_string())];
    state.identity.count(VERIFY_DEVICE);
    Reply::Bytes(http::response(status, &headers, html.as_bytes(), close))
}
