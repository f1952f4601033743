//! Trusted identity propagation (web tokens, STS, SSO-OIDC
//! `CreateTokenWithIAM`, minted credentials, Redshift tokens that name
//! their user) and the browser sign-in (`browser`).

pub(crate) mod browser;
pub(crate) mod jwt;
mod oidc;
pub(crate) mod store;
mod sts;

pub use browser::access_token_subject;
pub use jwt::WebTokenSpec;
pub(crate) use store::Store;

use crate::http::Request;
use crate::server::State;
use crate::service::{query_params, random_bytes, Reply};
use crate::timefmt;
use crate::FakeServer;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// What the decoded bytes of a token issued to a user start with, before
/// the user and a newline.
const USER_TOKEN_PREFIX: &[u8] = b"rs-idc-user:";

/// `rs-idc-user:<subject>\n`, the start of a token issued to a user.
fn user_bytes(subject: &str) -> Vec<u8> {
    [USER_TOKEN_PREFIX, subject.as_bytes(), b"\n"].concat()
}

/// The user named at the start of a token's bytes, if any.
fn named_user(bytes: &[u8]) -> Option<&str> {
    let rest = bytes.strip_prefix(USER_TOKEN_PREFIX)?;
    std::str::from_utf8(&rest[..rest.iter().position(|&b| b == b'\n')?]).ok()
}

pub(crate) fn b64_standard(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A Redshift token of `len` bytes (standard base64) whose bytes begin with
/// `rs-idc-user:<subject>\n`, then random bytes.
pub(crate) fn user_token(subject: &str, len: usize) -> String {
    let mut bytes = user_bytes(subject);
    let fill = len.saturating_sub(bytes.len());
    bytes.extend(random_bytes(fill));
    b64_standard(&bytes)
}

/// The user a Redshift token was issued to: `Some` for tokens answered to a
/// user's identity-enhanced credentials (minted by AssumeRole with an
/// identity context), `None` for any other token or text.
pub fn token_subject(token: &str) -> Option<String> {
    let bytes = STANDARD.decode(token.trim()).ok()?;
    let subject = named_user(&bytes)?;
    jwt::valid_subject(subject).then(|| subject.to_string())
}

pub(crate) fn dispatch(state: &State, req: &Request, close: bool) -> Option<Reply> {
    if let Some(reply) = browser::dispatch(state, req, close) {
        return Some(reply);
    }
    if req.path == "/token" {
        return Some(oidc::handle(state, req, close));
    }
    sts::handle(state, req, &query_params(req), close)
}

pub(crate) fn web_token(state: &State, spec: &WebTokenSpec) -> String {
    jwt::make(&state.identity.key, spec, timefmt::now_epoch_secs())
}

impl FakeServer {
    /// A web token (JWT) for `subject` that this server trusts, expiring in
    /// `ttl_secs` (negative: already expired).
    pub fn web_token(&self, subject: &str, ttl_secs: i64) -> String {
        self.web_token_with(&WebTokenSpec::new(subject, ttl_secs))
    }

    /// A web token as `spec` describes it: another issuer, audience or key
    /// make tokens that this server refuses.
    pub fn web_token_with(&self, spec: &WebTokenSpec) -> String {
        web_token(self.state(), spec)
    }

    /// Requests answered for one operation of [`crate::names::op`],
    /// whatever their outcome; 0 for any other name.
    pub fn operations(&self, name: &str) -> u64 {
        self.state().identity.operations(name)
    }

    /// Every credential minted by AssumeRole and AssumeRoleWithWebIdentity,
    /// as `(access key ID, secret access key, session token)`, oldest
    /// first (never cleared).
    pub fn minted_credentials(&self) -> Vec<(String, String, String)> {
        self.state().identity.all_minted()
    }

    /// Every secret that SSO-OIDC and `/authorize` handed out (tokens,
    /// identity contexts, client secrets, codes), oldest first (never
    /// cleared).
    pub fn issued_secrets(&self) -> Vec<String> {
        self.state().identity.secrets()
    }
}
