//! Who signed a request: the SigV4 check and the credential lookup shared
//! by every signed operation (Redshift, Redshift Serverless, STS and
//! SSO-OIDC), for the fixed test keys and the credentials the server
//! minted.

use crate::http::Request;
use crate::keys::{self, Kind};
use crate::server::State;
use crate::service::Error;
use crate::sigv4;
use crate::timefmt;

const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub kind: Kind,
    /// The user of identity-enhanced credentials minted for one; `None`
    /// for every other caller.
    pub subject: Option<String>,
}

struct Known {
    kind: Kind,
    secret_access_key: String,
    session_token: Option<String>,
    subject: Option<String>,
}

fn lookup(state: &State, access_key_id: &str) -> Option<Known> {
    if let Some((kind, secret, token)) = keys::lookup(access_key_id) {
        return Some(Known {
            kind,
            secret_access_key: secret.to_string(),
            session_token: token.map(str::to_string),
            subject: None,
        });
    }
    let minted = state.identity.minted(access_key_id)?;
    let kind = if minted.expires <= timefmt::now_epoch_secs() {
        Kind::Expired
    } else if minted.subject.is_some() {
        Kind::IdentityEnhanced
    } else {
        Kind::Plain
    };
    Some(Known {
        kind,
        secret_access_key: minted.secret_access_key,
        session_token: Some(minted.session_token),
        subject: minted.subject,
    })
}

pub(crate) fn scope_service(req: &Request) -> Option<String> {
    let auth = sigv4::parse_authorization(req.header("authorization")?).ok()?;
    Some(auth.service)
}

fn amz_date_ok(amz_date: &str) -> bool {
    amz_date.len() == 16
        && amz_date.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'T',
            15 => b == b'Z',
            _ => b.is_ascii_digit(),
        })
}

pub(crate) fn authenticate(
    state: &State,
    req: &Request,
    service: &str,
) -> Result<Caller, (Error, String)> {
    let fail = |e: Error, message: &str| Err((e, message.to_string()));
    let Some(auth) = req.header("authorization") else {
        return fail(
            Error::MissingAuth,
            "Request is missing Authentication Token",
        );
    };
    let auth = sigv4::parse_authorization(auth).map_err(|m| (Error::IncompleteSignature, m))?;
    let amz_date = req.header("x-amz-date").unwrap_or("");
    if !amz_date_ok(amz_date) {
        let message = "Authorization header requires existence of a valid 'X-Amz-Date' header.";
        return fail(Error::IncompleteSignature, message);
    }
    let Some(known) = lookup(state, &auth.access_key_id) else {
        return fail(Error::InvalidClientToken, INVALID_TOKEN);
    };
    if auth.date != amz_date[..8] {
        let message = "Date in Credential scope does not match YYYYMMDD from ISO-8601 version \
                       of date from HTTP.";
        return fail(Error::SignatureMismatch, message);
    }
    if auth.service != service {
        let message = format!("Credential should be scoped to correct service: '{service}'.");
        return fail(Error::SignatureMismatch, &message);
    }
    let payload_hash = req
        .header("x-amz-content-sha256")
        .map_or_else(|| sigv4::sha256_hex(&req.body), str::to_string);
    let canonical = sigv4::canonical_request(&sigv4::RequestParts {
        method: &req.method,
        raw_path: &req.path,
        raw_query: &req.query,
        headers: &req.headers,
        signed_headers: &auth.signed_headers,
        payload_hash: &payload_hash,
    });
    let secret = &known.secret_access_key;
    let expected = sigv4::signature(secret, amz_date, &auth.region, &auth.service, &canonical);
    if !sigv4::constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        let message = "The request signature we calculated does not match the signature you \
                       provided. Check your AWS Secret Access Key and signing method. Consult \
                       the service documentation for details.";
        return fail(Error::SignatureMismatch, message);
    }
    let token_ok = match (&known.session_token, req.header("x-amz-security-token")) {
        (Some(expected), Some(sent)) => {
            sigv4::constant_time_eq(expected.as_bytes(), sent.as_bytes())
        }
        (None, None) => true,
        _ => false,
    };
    if !token_ok {
        return fail(Error::InvalidClientToken, INVALID_TOKEN);
    }
    if known.kind == Kind::Expired {
        let message = "The security token included in the request is expired";
        return fail(Error::ExpiredToken, message);
    }
    Ok(Caller {
        kind: known.kind,
        subject: known.subject,
    })
}
