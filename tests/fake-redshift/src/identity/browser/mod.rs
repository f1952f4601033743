//! Browser sign-in to IAM Identity Center: SSO-OIDC `RegisterClient` and
//! `CreateToken` (REST-JSON, unsigned), the browser's `GET /authorize` and
//! the device authorization grant.

mod authorize;
pub(crate) mod device;
mod register;
mod token;

use super::jwt::{self, b64url};
use crate::conns::lock;
use crate::http::Request;
use crate::server::State;
use crate::service::{random_bytes, Reply};
use crate::timefmt;
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

pub(crate) use crate::names::op::{
    AUTHORIZE, CODE as CREATE_TOKEN_CODE, DEVICE_CODE as CREATE_TOKEN_DEVICE,
    REFRESH_TOKEN as CREATE_TOKEN_REFRESH, REGISTER_CLIENT, START_DEVICE, VERIFY_DEVICE,
};

const AUTHORIZATION_CODE: &str = "authorization_code";
const REFRESH_TOKEN: &str = "refresh_token";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
const CODE_TTL_SECS: i64 = 300;
pub(crate) const DEFAULT_USER: &str = "browser-user";
const MAX_LOGIN_HINT: usize = 128;
/// What the decoded bytes of an access token start with, before the user
/// and a newline.
const ACCESS_TOKEN_PREFIX: &[u8] = b"rs-idc-user:";

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

#[derive(Clone, Debug)]
struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    subject: String,
    expires: i64,
}

/// The browser sign-in state of one server: registered clients and
/// authorization codes not yet redeemed. Refresh tokens, secrets handed
/// out and the counters are in the identity store beside it.
pub(crate) struct Signin {
    access_token_ttl_secs: i64,
    clients: Mutex<HashMap<String, Client>>,
    codes: Mutex<HashMap<String, Code>>,
    devices: device::Devices,
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
            clients: Mutex::default(),
            codes: Mutex::default(),
            devices: device::Devices::new(opts),
        }
    }

    fn register(&self, client: Client) -> String {
        let client_id = b64url(&random_bytes(18));
        lock(&self.clients).insert(client_id.clone(), client);
        client_id
    }

    fn client(&self, client_id: &str) -> Option<Client> {
        lock(&self.clients).get(client_id).cloned()
    }

    fn authenticate(&self, client_id: &str, secret: &str) -> Option<Client> {
        let client = self.client(client_id)?;
        bool::from(client.secret.as_bytes().ct_eq(secret.as_bytes())).then_some(client)
    }

    fn new_code(&self, code: Code) -> String {
        let text = b64url(&random_bytes(48));
        lock(&self.codes).insert(text.clone(), code);
        text
    }

    /// Takes a code out, so that it is spent whatever happens next;
    /// `None` if unknown, spent or expired.
    fn take_code(&self, code: &str) -> Option<Code> {
        let code = lock(&self.codes).remove(code)?;
        (code.expires > timefmt::now_epoch_secs()).then_some(code)
    }
}

pub(crate) fn dispatch(state: &State, req: &Request, close: bool) -> Option<Reply> {
    match req.path.as_str() {
        "/client/register" => Some(register::handle(state, req, close)),
        "/authorize" => Some(authorize::handle(state, req, close)),
        "/device_authorization" => Some(device::start(state, req, close)),
        "/device" => Some(device::page(state, req, close)),
        "/token" if req.method == "POST" && !req.query.split('&').any(|p| p == "aws_iam=t") => {
            Some(token::handle(state, req, close))
        }
        _ => None,
    }
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

/// An access token for `subject`: `aoa`, then base64url (no padding) of
/// `rs-idc-user:<subject>\n` and 64 random bytes.
fn access_token(subject: &str) -> String {
    let mut bytes = ACCESS_TOKEN_PREFIX.to_vec();
    bytes.extend_from_slice(subject.as_bytes());
    bytes.push(b'\n');
    bytes.extend(random_bytes(64));
    format!("aoa{}", b64url(&bytes))
}

/// The user an access token of the browser sign-in (SSO-OIDC
/// `CreateToken`) was issued to, read from the token itself (any server's,
/// expired ones too); `None` for any other token or text.
pub fn access_token_subject(token: &str) -> Option<String> {
    let bytes = jwt::b64url_decode(token.trim().strip_prefix("aoa")?)?;
    let rest = bytes.strip_prefix(ACCESS_TOKEN_PREFIX)?;
    let end = rest.iter().position(|&b| b == b'\n')?;
    let subject = std::str::from_utf8(&rest[..end]).ok()?;
    valid_login_hint(subject).then(|| subject.to_string())
}

impl crate::FakeServer {
    /// [`access_token_subject`](crate::access_token_subject) for tokens
    /// that this server handed out only.
    pub fn access_token_subject(&self, token: &str) -> Option<String> {
        let token = token.trim();
        let issued = self.state().identity.secrets().iter().any(|s| s == token);
        issued.then(|| access_token_subject(token)).flatten()
    }
}
