//! The control API: `POST /_fake/control` with one JSON [`Control`]
//! request, answered with JSON; and `GET /_fake/credentials`, which the AWS
//! SDKs fetch by URL. Unsigned, and not counted as API requests.

use crate::conns::lock;
use crate::http::{self, Request};
use crate::identity::browser::{valid_login_hint, DeviceAction, DEFAULT_USER};
use crate::identity::{self, jwt, WebTokenSpec};
use crate::keys;
use crate::names;
use crate::server::State;
use crate::timefmt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// Lifetime of the credentials handed out by `/_fake/credentials`.
const CREDENTIALS_TTL_SECS: i64 = 3600;

/// A request of the control API, named by `op` (see [`names::control`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Control {
    /// The counters: answered with [`Stats`].
    Stats,
    /// Zeroes the counters, the `fault-X-N` counts and the linked proxies'
    /// counters: `{}`.
    Reset,
    /// A web token as [`FakeServer::web_token_with`](crate::FakeServer::web_token_with)
    /// makes it: `{"token": ...}`.
    WebToken {
        /// The user: 1 to 256 bytes of UTF-8, no control characters.
        sub: String,
        /// Seconds to `exp` (default 3600; negative: already expired).
        #[serde(default = "hour")]
        ttl: i64,
        /// Another issuer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        iss: Option<String>,
        /// Another audience.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aud: Option<String>,
        /// Signed with a random key.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        wrong_key: bool,
    },
    /// The user a Redshift token names (see [`crate::token_subject`]):
    /// `{"subject": ...}`, or 404.
    TokenSubject {
        /// The token.
        token: String,
    },
    /// The user a browser sign-in access token names (see
    /// [`crate::access_token_subject`]): `{"subject": ...}`, or 404.
    AccessTokenSubject {
        /// The access token.
        token: String,
    },
    /// Acts on the device authorization of `user_code` (any case), or on
    /// every one without it; approvals sign in `user` (default
    /// `browser-user`): `{"changed": N}`, 404 when none changed.
    Device {
        /// Approve, deny or expire.
        action: DeviceAction,
        /// Which authorization.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_code: Option<String>,
        /// Who approves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
    },
    /// Every shared name (see [`names::all`]): `{"SYMBOL": "name", ...}`.
    Names,
}

fn hour() -> i64 {
    3600
}

/// The answer to [`Control::Stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// API requests received, any outcome.
    pub requests: u64,
    /// Answers that handed out a whole token.
    pub tokens: u64,
    /// `GET /_fake/credentials` answers.
    pub credentials: u64,
    /// Requests and tunnels of the linked proxy, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxied: Option<u64>,
    /// The same for the linked proxy with authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_proxied: Option<u64>,
    /// Requests that proxy answered 407.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_refused: Option<u64>,
    /// Answers per operation, by every name of [`names::op`].
    pub operations: BTreeMap<String, u64>,
}

/// The counters of `state`.
pub(crate) fn stats(state: &State) -> Stats {
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::SeqCst);
    let proxy = lock(&state.proxy).as_ref().map(|p| load(&p.requests));
    let auth = lock(&state.auth_proxy)
        .as_ref()
        .map(|p| (load(&p.requests), load(&p.auth_refused)));
    Stats {
        requests: load(&state.requests),
        tokens: load(&state.tokens),
        credentials: load(&state.credentials),
        proxied: proxy,
        auth_proxied: auth.map(|a| a.0),
        auth_refused: auth.map(|a| a.1),
        operations: names::op::ALL
            .iter()
            .map(|(_, n)| (n.to_string(), state.identity.operations(n)))
            .collect(),
    }
}

/// The ECS container credentials format, members in this order.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerCredentials {
    access_key_id: &'static str,
    secret_access_key: &'static str,
    token: &'static str,
    expiration: String,
}

/// A JSON answer.
fn reply(status: u16, body: &impl Serialize, close: bool) -> Vec<u8> {
    let headers = [("Content-Type", "application/json".to_string())];
    let body = serde_json::to_vec(body).unwrap_or_default();
    http::response(status, &headers, &body, close)
}

/// Answers `/_fake/...` requests; `None` for any other path.
pub(crate) fn control(state: &State, req: &Request, close: bool) -> Option<Vec<u8>> {
    if !req.path.starts_with("/_fake/") {
        return None;
    }
    let error = |status, message: &str| reply(status, &json!({ "error": message }), close);
    Some(match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/_fake/credentials") => {
            state.credentials.fetch_add(1, Ordering::SeqCst);
            let expires = timefmt::now_epoch_secs() + CREDENTIALS_TTL_SECS;
            let body = ContainerCredentials {
                access_key_id: keys::IDC_ACCESS_KEY_ID,
                secret_access_key: keys::IDC_SECRET_ACCESS_KEY,
                token: keys::IDC_SESSION_TOKEN,
                expiration: timefmt::rfc3339(expires),
            };
            reply(200, &body, close)
        }
        ("POST", "/_fake/control") => match serde_json::from_slice(&req.body) {
            Ok(request) => {
                let (status, body) = answer(state, request);
                reply(status, &body, close)
            }
            Err(e) => error(400, &format!("bad control request: {e}")),
        },
        (_, "/_fake/credentials" | "/_fake/control") => error(405, "method not allowed"),
        _ => error(404, "no such control endpoint"),
    })
}

/// The status and JSON answer of one control request.
fn answer(state: &State, request: Control) -> (u16, Value) {
    let subject = |found: Option<String>, what: &str| match found {
        Some(subject) => (200, json!({ "subject": subject })),
        None => (404, json!({ "error": format!("the {what} names no user") })),
    };
    match request {
        Control::Stats => (200, json!(stats(state))),
        Control::Reset => {
            state.reset_counters();
            (200, json!({}))
        }
        Control::WebToken {
            sub,
            ttl,
            iss,
            aud,
            wrong_key,
        } => {
            if !jwt::valid_subject(&sub) {
                let message = "sub must be 1 to 256 bytes of UTF-8, no control characters";
                return (400, json!({ "error": message }));
            }
            let spec = WebTokenSpec {
                subject: sub,
                ttl_secs: ttl,
                issuer: iss,
                audience: aud,
                wrong_key,
            };
            let token = identity::web_token(state, &spec);
            (200, json!({ "token": token }))
        }
        Control::TokenSubject { token } => subject(identity::token_subject(&token), "token"),
        Control::AccessTokenSubject { token } => {
            subject(identity::access_token_subject(&token), "access token")
        }
        Control::Device {
            action,
            user_code,
            user,
        } => {
            let user = user.as_deref().unwrap_or(DEFAULT_USER);
            if !valid_login_hint(user) {
                return (400, json!({ "error": "user must be a plain user name" }));
            }
            let signin = &state.identity.browser;
            let n = signin.decide_devices(user_code.as_deref(), action, user);
            (if n == 0 { 404 } else { 200 }, json!({ "changed": n }))
        }
        Control::Names => (
            200,
            Value::Object(
                names::all()
                    .into_iter()
                    .map(|(s, n)| (s, n.into()))
                    .collect(),
            ),
        ),
    }
}
