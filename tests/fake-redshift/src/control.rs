//! The control endpoint: `/_fake/stats`, `/_fake/reset`,
//! `/_fake/credentials`, `/_fake/web-token`, `/_fake/token-subject` and
//! `/_fake/access-token-subject`.
//! Unsigned, and not counted as API requests.

use crate::conns::lock;
use crate::http::{self, Request};
use crate::identity::browser::{device::DeviceAction, valid_login_hint, DEFAULT_USER};
use crate::identity::{self, jwt, store::OPERATIONS, WebTokenSpec};
use crate::keys;
use crate::server::State;
use crate::service::json_string;
use crate::timefmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Lifetime of the credentials handed out by `/_fake/credentials`.
const CREDENTIALS_TTL_SECS: i64 = 3600;

/// Answers `/_fake/...` requests; `None` for any other path.
pub(crate) fn control(state: &State, req: &Request, close: bool) -> Option<Vec<u8>> {
    if !req.path.starts_with("/_fake/") {
        return None;
    }
    Some(match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/_fake/stats") => http::text(200, &stats(state), close),
        ("POST", "/_fake/reset") => {
            state.reset_counters();
            http::text(200, "ok\n", close)
        }
        ("GET", "/_fake/credentials") => {
            state.credentials.fetch_add(1, Ordering::SeqCst);
            state.log(&format!(
                "GET /_fake/credentials -> 200 credentials for {}",
                keys::IDC_ACCESS_KEY_ID
            ));
            let body = credentials_body(timefmt::now_epoch_secs() + CREDENTIALS_TTL_SECS);
            let headers = [("Content-Type", "application/json".to_string())];
            http::response(200, &headers, body.as_bytes(), close)
        }
        ("GET", "/_fake/web-token") => web_token(state, &req.query, close),
        ("POST", "/_fake/control") => command(state, &req.body, close),
        ("POST", "/_fake/token-subject") => {
            let token = String::from_utf8_lossy(&req.body);
            match identity::token_subject(&token) {
                Some(subject) => http::text(200, &subject, close),
                None => http::text(404, "the token names no user\n", close),
            }
        }
        ("POST", "/_fake/access-token-subject") => {
            let token = String::from_utf8_lossy(&req.body);
            match identity::access_token_subject(&token) {
                Some(subject) => http::text(200, &subject, close),
                None => http::text(404, "the access token names no user\n", close),
            }
        }
        (
            _,
            "/_fake/stats"
            | "/_fake/reset"
            | "/_fake/credentials"
            | "/_fake/web-token"
            | "/_fake/token-subject"
            | "/_fake/access-token-subject"
            | "/_fake/control",
        ) => http::text(405, "method not allowed\n", close),
        _ => http::text(404, "no such control endpoint\n", close),
    })
}

/// The text of `GET /_fake/stats`: newer lines come last, so that readers
/// of the first lines keep working.
fn stats(state: &State) -> String {
    let load = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
    let mut body = format!(
        "requests {}\ntokens {}\n",
        load(&state.requests),
        load(&state.tokens)
    );
    if let Some(proxy) = lock(&state.proxy).as_ref() {
        body += &format!("proxied {}\n", load(&proxy.requests));
    }
    body += &format!("credentials {}\n", load(&state.credentials));
    if let Some(proxy) = lock(&state.auth_proxy).as_ref() {
        let (requests, refused) = (load(&proxy.requests), load(&proxy.auth_refused));
        body += &format!("auth_proxied {requests}\nauth_refused {refused}\n");
    }
    for name in OPERATIONS {
        body += &format!("operation {name} {}\n", state.identity.operations(name));
    }
    body
}

/// `GET /_fake/web-token?sub=NAME&ttl=SECS[&iss=X][&aud=Y][&key=wrong]`: a
/// web token as plain text (no newline); 400 without a valid `sub` or
/// with a `ttl` that is not a whole number.
fn web_token(state: &State, query: &str, close: bool) -> Vec<u8> {
    let mut spec = WebTokenSpec::new(String::new(), 3600);
    let mut subject = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*name {
            "sub" => subject = Some(value.into_owned()),
            "ttl" => match value.parse() {
                Ok(ttl) => spec.ttl_secs = ttl,
                Err(_) => return http::text(400, "ttl must be a whole number of seconds\n", close),
            },
            "iss" => spec.issuer = Some(value.into_owned()),
            "aud" => spec.audience = Some(value.into_owned()),
            "key" => spec.wrong_key = value == "wrong",
            _ => {}
        }
    }
    let Some(subject) = subject.filter(|s| jwt::valid_subject(s)) else {
        let message = "sub is required: 1 to 256 bytes of UTF-8, no control characters\n";
        return http::text(400, message, close);
    };
    spec.subject = subject;
    let token = identity::web_token(state, &spec);
    state.log(&format!(
        "GET /_fake/web-token -> 200 web token for {:?} ({} chars, ttl {} s{})",
        spec.subject,
        token.len(),
        spec.ttl_secs,
        if spec.wrong_key { ", wrong key" } else { "" }
    ));
    http::text(200, &token, close)
}

/// The `IDC_*` identity in the format of the ECS container credentials
/// endpoint, expiring at `expires` (epoch seconds).
fn credentials_body(expires: i64) -> String {
    format!(
        "{{\"AccessKeyId\":{},\"SecretAccessKey\":{},\"Token\":{},\"Expiration\":{}}}",
        json_string(keys::IDC_ACCESS_KEY_ID),
        json_string(keys::IDC_SECRET_ACCESS_KEY),
        json_string(keys::IDC_SESSION_TOKEN),
        json_string(&timefmt::rfc3339(expires))
    )
}

/// A request of `POST /_fake/control`: a JSON object named by `op`.
#[derive(serde::Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
enum Command {
    /// `{"op":"device","action":"approve"|"deny"|"expire"[,"user_code":"ABCD-EFGH"][,"user":"alice"]}`:
    /// acts on the device authorization of that user code, or on every
    /// one without it; approvals sign in `user` (default `browser-user`).
    Device {
        action: DeviceAction,
        user_code: Option<String>,
        user: Option<String>,
    },
}

/// Answers `POST /_fake/control`: 200 with what was done, 404 when
/// nothing matched, 400 for a request that does not parse.
fn command(state: &State, body: &[u8], close: bool) -> Vec<u8> {
    let command: Command = match serde_json::from_slice(body) {
        Ok(c) => c,
        Err(e) => return http::text(400, &format!("bad control request: {e}\n"), close),
    };
    match command {
        Command::Device {
            action,
            user_code,
            user,
        } => {
            let user = user.as_deref().unwrap_or(DEFAULT_USER);
            if !valid_login_hint(user) {
                return http::text(400, "user must be a plain user name\n", close);
            }
            let signin = &state.identity.browser;
            let n = signin.decide_devices(user_code.as_deref(), action, user);
            state.log(&format!("POST /_fake/control -> device {action:?}: {n}"));
            let status = if n == 0 { 404 } else { 200 };
            http::text(status, &format!("{n}\n"), close)
        }
    }
}
