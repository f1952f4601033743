//! The browser's `GET /authorize` (RFC 6749 4.1.1, PKCE): the user is
//! signed in at once and sent back to the redirect URI with a code (or,
//! once client and redirect URI are known good, an error; 4.1.2.1).

use super::{valid_login_hint, Code, AUTHORIZE, CODE_TTL_SECS, DEFAULT_USER};
use crate::http::{self, Request};
use crate::server::State;
use crate::service::Reply;
use crate::timefmt;

const CHALLENGE_LEN: std::ops::RangeInclusive<usize> = 43..=128;

#[derive(Default)]
struct Params {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    challenge: Option<String>,
    method: Option<String>,
    login_hint: Option<String>,
    deny: bool,
}

impl Params {
    fn parse(query: &str) -> Params {
        let mut p = Params::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = Some(value.into_owned());
            match &*name {
                "response_type" => p.response_type = value,
                "client_id" => p.client_id = value,
                "redirect_uri" => p.redirect_uri = value,
                "state" => p.state = value,
                "code_challenge" => p.challenge = value,
                "code_challenge_method" => p.method = value,
                "login_hint" => p.login_hint = value,
                "deny" => p.deny = value.as_deref() == Some("1"),
                _ => {}
            }
        }
        p
    }
}

fn unreserved(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn redirect_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let joiner = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{joiner}{}", query.finish())
}

fn found(location: &str, close: bool) -> Vec<u8> {
    let headers = [
        ("Location", location.to_string()),
        ("Cache-Control", "no-store".to_string()),
        ("Content-Type", "text/plain".to_string()),
    ];
    let body = b"Redirecting to the application.\n";
    http::response(302, &headers, body, close)
}

fn error_redirect(p: &Params, uri: &str, error: &str, description: &str) -> String {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = &p.state {
        pairs.push(("state", s));
    }
    redirect_to(uri, &pairs)
}

/// The redirect, or a page for the user (a client or redirect URI that
/// cannot be trusted with a redirect).
fn answer(state: &State, p: &Params) -> Result<String, String> {
    let signin = &state.identity.browser;
    let client_id = p.client_id.as_deref().unwrap_or("");
    let client = signin
        .client(client_id)
        .ok_or("Unknown or expired client_id: sign-in stopped.")?;
    let uri = p
        .redirect_uri
        .as_deref()
        .filter(|u| client.redirect_uris.iter().any(|r| r == u))
        .ok_or("redirect_uri is missing or not registered for this client: sign-in stopped.")?;
    if p.response_type.as_deref() != Some("code") {
        let message = "response_type must be code";
        return Ok(error_redirect(p, uri, "unsupported_response_type", message));
    }
    if p.method.as_deref() != Some("S256") {
        let message = "code_challenge_method must be S256";
        return Ok(error_redirect(p, uri, "invalid_request", message));
    }
    let challenge = p.challenge.as_deref().unwrap_or("");
    if !CHALLENGE_LEN.contains(&challenge.len()) || !unreserved(challenge) {
        let message = "code_challenge must be 43 to 128 unreserved characters";
        return Ok(error_redirect(p, uri, "invalid_request", message));
    }
    let subject = p.login_hint.as_deref().unwrap_or(DEFAULT_USER);
    if !valid_login_hint(subject) {
        let message = "login_hint must be 1 to 128 letters, digits and -_.@";
        return Ok(error_redirect(p, uri, "invalid_request", message));
    }
    if p.deny {
        let message = "The user denied the request";
        return Ok(error_redirect(p, uri, "access_denied", message));
    }
    let code = signin.new_code(Code {
        client_id: client_id.to_string(),
        redirect_uri: uri.to_string(),
        challenge: challenge.to_string(),
        subject: subject.to_string(),
        expires: timefmt::now_epoch_secs() + CODE_TTL_SECS,
    });
    state.identity.record_secret(&code);
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &p.state {
        pairs.push(("state", s));
    }
    Ok(redirect_to(uri, &pairs))
}

pub(super) fn handle(state: &State, req: &Request, close: bool) -> Reply {
    state.identity.count(AUTHORIZE);
    Reply::Bytes(if req.method != "GET" {
        http::text(405, "The authorization endpoint takes GET\n", close)
    } else {
        match answer(state, &Params::parse(&req.query)) {
            Ok(location) => found(&location, close),
            Err(page) => http::text(400, &format!("{page}\n"), close),
        }
    })
}
