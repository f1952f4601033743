//! The device authorization grant (RFC 8628): `StartDeviceAuthorization`,
//! the verification page `GET /device?user_code=...[&deny=1][&login_hint=U]`
//! and the device code polls of `CreateToken` (`redeem`).

use super::{valid_login_hint, Signin, DEFAULT_USER, DEVICE_CODE, START_DEVICE, VERIFY_DEVICE};
use crate::conns::lock;
use crate::http::{self, Request};
use crate::identity::jwt::b64url;
use crate::identity::oidc::{fail, member, object, respond, Failure, OidcError};
use crate::identity::store::random_chars;
use crate::server::State;
use crate::service::{json_string, random_bytes, Reply};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// No vowels, nothing that looks like a digit.
const USER_CODE_CHARS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

#[derive(Clone, Debug, PartialEq, Eq)]
enum Decision {
    Pending,
    Approved(String),
    Denied,
}

struct Device {
    client_id: String,
    user_code: String,
    expires: Instant,
    last_poll: Option<Instant>,
    slow_downs: u32,
    decision: Decision,
}

pub(crate) struct Devices {
    ttl_secs: i64,
    interval_secs: i64,
    slow_downs: u32,
    by_code: Mutex<HashMap<String, Device>>,
}

impl Devices {
    pub(crate) fn new(opts: &crate::FakeOptions) -> Devices {
        Devices {
            ttl_secs: opts.device_code_ttl_secs,
            interval_secs: opts.device_interval_secs,
            slow_downs: opts.device_slow_downs,
            by_code: Mutex::default(),
        }
    }
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

impl Signin {
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
        let mut devices = lock(&self.devices.by_code);
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
}

/// One poll of `CreateToken` with the device code grant: the user who
/// approved, or why not (yet). Tokens are handed out once per code.
pub(super) fn redeem(signin: &Signin, code: &str, client_id: &str) -> Result<String, Failure> {
    let now = Instant::now();
    let mut devices = lock(&signin.devices.by_code);
    let Some(device) = devices.get_mut(code).filter(|d| d.client_id == client_id) else {
        let message = "Invalid device code provided (unknown, used, or another client's)";
        return fail(OidcError::InvalidGrant, message);
    };
    if device.expires <= now {
        return fail(OidcError::ExpiredToken, "The device code has expired");
    }
    let interval = Duration::from_secs(signin.devices.interval_secs as u64);
    let too_soon = device.last_poll.is_some_and(|t| now < t + interval);
    device.last_poll = Some(now);
    if device.slow_downs > 0 || too_soon {
        device.slow_downs = device.slow_downs.saturating_sub(1);
        return fail(OidcError::SlowDown, "Polled too often: slow down");
    }
    match device.decision.clone() {
        Decision::Pending => fail(
            OidcError::AuthorizationPending,
            "The user has not yet approved the request",
        ),
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

fn answer(state: &State, req: &Request) -> Result<String, Failure> {
    if req.method != "POST" {
        let message = "StartDeviceAuthorization is POST /device_authorization";
        return fail(OidcError::InvalidRequest, message);
    }
    let body = object(req)?;
    let client_id = member(&body, "clientId")?;
    let secret = member(&body, "clientSecret")?;
    member(&body, "startUrl")?;
    let signin = &state.identity.browser;
    let Some(client) = signin.authenticate(client_id, secret) else {
        let message = "Invalid client provided (unknown client, or a wrong or expired secret)";
        return fail(OidcError::InvalidClient, message);
    };
    if !client.allows(DEVICE_CODE) {
        let message = "The client is not registered for the device_code grant";
        return fail(OidcError::UnauthorizedClient, message);
    }
    let letters = random_chars(USER_CODE_CHARS, 8);
    let user_code = format!("{}-{}", &letters[..4], &letters[4..]);
    let device_code = b64url(&random_bytes(48));
    let settings = &signin.devices;
    let device = Device {
        client_id: client_id.to_string(),
        user_code: user_code.clone(),
        expires: Instant::now() + Duration::from_secs(settings.ttl_secs as u64),
        last_poll: None,
        slow_downs: settings.slow_downs,
        decision: Decision::Pending,
    };
    lock(&settings.by_code).insert(device_code.clone(), device);
    state.identity.record_secret(&device_code);
    let page = format!("{}/device", state.url.get().map_or("", String::as_str));
    Ok(format!(
        "{{\"deviceCode\":{},\"userCode\":{},\"verificationUri\":{},\
         \"verificationUriComplete\":{},\"expiresIn\":{},\"interval\":{}}}",
        json_string(&device_code),
        json_string(&user_code),
        json_string(&page),
        json_string(&format!("{page}?user_code={user_code}")),
        settings.ttl_secs,
        settings.interval_secs
    ))
}

pub(super) fn start(state: &State, req: &Request, close: bool) -> Reply {
    respond(state, START_DEVICE, answer(state, req), close)
}

/// Handles `GET /device?user_code=CODE[&deny=1][&login_hint=USER]`: a
/// small HTML page; 404 for an unknown, expired or decided code.
pub(super) fn page(state: &State, req: &Request, close: bool) -> Reply {
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
    let (status, text) = match code {
        _ if req.method != "GET" => (405, "The verification page takes GET"),
        None => (400, "user_code is required"),
        Some(_) if !valid_login_hint(&user) => (400, "login_hint is not a plain user name"),
        Some(code)
            if state
                .identity
                .browser
                .decide_devices(Some(&code), action, &user)
                == 0 =>
        {
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
