//! SSO-OIDC `CreateToken` (`POST /token`) for registered clients: the
//! authorization code grant with PKCE, the device code and refresh grants.

use super::{
    access_token, device, Client, AUTHORIZATION_CODE, CREATE_TOKEN_CODE, CREATE_TOKEN_DEVICE,
    CREATE_TOKEN_REFRESH, DEVICE_CODE, REFRESH_TOKEN,
};
use crate::http::Request;
use crate::identity::jwt::{self, b64url};
use crate::identity::oidc::{fail, member, object, operation, respond, Failure, OidcError};
use crate::server::State;
use crate::service::{json_string, Reply};
use crate::timefmt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const VERIFIER_LEN: std::ops::RangeInclusive<usize> = 43..=128;

/// Whether `verifier` hashes to `challenge`: BASE64URL-NOPAD(SHA-256),
/// compared in constant time.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = VERIFIER_LEN.contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let hashed = b64url(&Sha256::digest(verifier.as_bytes()));
    well_formed && bool::from(hashed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// The user of an authorization code grant, or why it is refused. The
/// code is spent by this request whatever the outcome.
fn code_subject(state: &State, body: &Value, client_id: &str) -> Result<String, Failure> {
    let code = member(body, "code")?;
    let redirect_uri = member(body, "redirectUri")?;
    let verifier = member(body, "codeVerifier")?;
    let Some(grant) = state.identity.browser.take_code(code) else {
        let message = "Invalid authorization code provided (unknown, used or expired)";
        return fail(OidcError::InvalidGrant, message);
    };
    if grant.client_id != client_id {
        let message = "The authorization code was issued to another client";
        return fail(OidcError::InvalidGrant, message);
    }
    if grant.redirect_uri != redirect_uri {
        let message = "redirectUri does not match the authorization request";
        return fail(OidcError::InvalidGrant, message);
    }
    if !pkce_matches(verifier, &grant.challenge) {
        let message = "codeVerifier does not match the code challenge";
        return fail(OidcError::InvalidGrant, message);
    }
    Ok(grant.subject)
}

/// The success body: an access token, a refresh token (if the client
/// registered that grant) and an ID token for `subject`.
fn issue(state: &State, client_id: &str, client: &Client, subject: &str) -> String {
    let store = &state.identity;
    let ttl = store.browser.access_token_ttl_secs;
    let now = timefmt::now_epoch_secs();
    let access = access_token(subject);
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
    format!(
        "{{\"accessToken\":{},\"tokenType\":\"Bearer\",\"expiresIn\":{ttl}{refresh},\"idToken\":{}}}",
        json_string(&access),
        json_string(&id_token)
    )
}

fn answer(state: &State, req: &Request) -> Result<String, Failure> {
    let body = &object(req)?;
    let client_id = member(body, "clientId")?;
    let secret = member(body, "clientSecret")?;
    let grant = member(body, "grantType")?;
    let Some(client) = state.identity.browser.authenticate(client_id, secret) else {
        let message = "Invalid client provided (unknown client, or a wrong or expired secret)";
        return fail(OidcError::InvalidClient, message);
    };
    if ![AUTHORIZATION_CODE, REFRESH_TOKEN, DEVICE_CODE].contains(&grant) {
        return fail(OidcError::UnsupportedGrantType, "Unsupported grant type");
    }
    if !client.allows(grant) {
        let message = "The client is not registered for this grant type";
        return fail(OidcError::UnauthorizedClient, message);
    }
    let subject = if grant == AUTHORIZATION_CODE {
        code_subject(state, body, client_id)?
    } else if grant == DEVICE_CODE {
        let code = member(body, "deviceCode")?;
        device::redeem(&state.identity.browser, code, client_id)?
    } else {
        let token = member(body, "refreshToken")?;
        match state.identity.refresh_grant(token) {
            Some(g) if g.client_id == client_id => g.subject,
            _ => return fail(OidcError::InvalidGrant, "Invalid refresh token provided"),
        }
    };
    Ok(issue(state, client_id, &client, &subject))
}

pub(super) fn handle(state: &State, req: &Request, close: bool) -> Reply {
    let grants = [
        (AUTHORIZATION_CODE, CREATE_TOKEN_CODE),
        (REFRESH_TOKEN, CREATE_TOKEN_REFRESH),
        (DEVICE_CODE, CREATE_TOKEN_DEVICE),
    ];
    let operation = operation(req, "CreateToken", &grants);
    respond(state, operation, answer(state, req), close)
}
